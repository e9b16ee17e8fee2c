"""Start-up: ``import indexnet`` and ``indexnet --help`` load only what they need.

No timing here (speed is measured in ``benchmarks/bench_startup.py``): these
tests check *what* is imported, in a fresh interpreter each.
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys

import pytest

import indexnet
from indexnet.cli import main as cli_main_module  # noqa: F401 - the package's main()
from indexnet.cli.main import COMMANDS, _LightHelpFormatter, _terminal_columns, build_parser


def loaded_after(code: str) -> set[str]:
    """The modules loaded in a fresh interpreter after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_import_indexnet_loads_neither_numpy_nor_the_language() -> None:
    loaded = loaded_after("import indexnet")
    assert "indexnet.errors" in loaded
    for heavy in ("numpy", "opt_einsum", "indexnet.program", "indexnet.bench",
                  "indexnet.einsum.plan"):
        assert heavy not in loaded, heavy


def test_help_loads_no_subcommand_module() -> None:
    code = ("import contextlib, io\nfrom indexnet.cli.main import main\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['--help'])")
    loaded = loaded_after(code)
    assert "numpy" not in loaded
    assert not any(m.startswith("indexnet.cli.") and m != "indexnet.cli.main" for m in loaded)


def test_every_public_name_loads_on_first_use() -> None:
    for name in indexnet.__all__:
        assert getattr(indexnet, name) is not None, name
    assert set(indexnet.__all__) <= set(dir(indexnet))


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    try:
        indexnet.no_such_name  # noqa: B018
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:
        raise AssertionError("indexnet.no_such_name did not raise")


def _help_lines(parser: argparse.ArgumentParser) -> dict[str, str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {c.dest: str(c.help) for c in sub._choices_actions}


def test_the_help_table_is_what_each_command_registers() -> None:
    """--help lists COMMANDS' lines; each must be the line its module registers."""
    full = _help_lines(build_parser())
    assert full == {name: line for name, (_, line) in COMMANDS.items()}
    assert list(full) == list(COMMANDS)
    for name in COMMANDS:  # one command loaded, the rest listed: same lines, same order
        assert _help_lines(build_parser(name)) == full


def test_help_at_80_columns_loads_neither_shutil_nor_textwrap() -> None:
    code = ("import contextlib, io, os\nos.environ['COLUMNS'] = '80'\n"
            "from indexnet.cli.main import main\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['--help'])")
    loaded = loaded_after(code)
    assert "shutil" not in loaded and "textwrap" not in loaded


@pytest.mark.parametrize("width", [12, 30, 50, 79, 80, 120, 400])
@pytest.mark.parametrize("command", ["", "plan", "derive", "train"])
def test_the_light_help_layout_is_argparse_own(width: int, command: str) -> None:
    """The start-up formatter lays help out exactly as argparse's HelpFormatter does."""

    def help_text(formatter: type[argparse.HelpFormatter]) -> str:
        parser = build_parser(command or "")
        if command:
            sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
            parser = sub.choices[command]
        if parser.formatter_class is not _LightHelpFormatter:
            pytest.skip("this command chose its own formatter")
        parser.formatter_class = functools.partial(formatter, width=width)  # type: ignore[assignment]
        return parser.format_help()

    assert help_text(_LightHelpFormatter) == help_text(argparse.HelpFormatter)


def test_the_light_help_width_is_shutils(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    for columns in ("", "0", "abc", "37", "200"):
        monkeypatch.setenv("COLUMNS", columns)
        assert _terminal_columns() == shutil.get_terminal_size().columns, columns
