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
from indexnet.cli import main as cli_main  # the package's main()
from indexnet.cli.commands import COMMANDS
from indexnet.cli.help import terminal_columns, top_level_help
from indexnet.cli.parser import LightHelpFormatter, build_parser


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
    assert not any(m.startswith("indexnet.cli.")
                   and m not in ("indexnet.cli.main", "indexnet.cli.commands", "indexnet.cli.help")
                   for m in loaded)


def test_help_at_80_columns_imports_no_argparse() -> None:
    code = ("import contextlib, io, os\nos.environ['COLUMNS'] = '80'\n"
            "from indexnet.cli.main import main\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['--help'])")
    loaded = loaded_after(code)
    assert not {"argparse", "gettext", "locale", "indexnet.cli.parser"} & loaded


def _argparse_help(width: int) -> str:
    parser = build_parser("")
    parser.formatter_class = functools.partial(  # type: ignore[assignment]
        argparse.HelpFormatter, width=width)
    return parser.format_help()


@pytest.mark.parametrize("columns", [*range(10, 130), 200, 400, 1000])
def test_the_quick_help_is_argparse_page_wherever_it_answers(columns: int) -> None:
    quick = top_level_help(columns)
    if columns >= 80:  # a usual terminal is answered without argparse
        assert quick is not None
    if quick is not None:
        assert quick == _argparse_help(columns - 2)


@pytest.mark.parametrize("columns", ["80", "45"])
@pytest.mark.parametrize("flag", ["-h", "--help", "--he"])
def test_main_help_prints_the_same_page_either_way(
        columns: str, flag: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """80 columns: the quick page (``--he`` is argparse's abbreviation); 45: argparse wraps."""
    monkeypatch.setenv("COLUMNS", columns)
    with pytest.raises(SystemExit) as stop:
        cli_main([flag])
    assert stop.value.code == 0
    assert capsys.readouterr().out == _argparse_help(int(columns) - 2)


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
        if parser.formatter_class is not LightHelpFormatter:
            pytest.skip("this command chose its own formatter")
        parser.formatter_class = functools.partial(formatter, width=width)  # type: ignore[assignment]
        return parser.format_help()

    assert help_text(LightHelpFormatter) == help_text(argparse.HelpFormatter)


def test_the_light_help_width_is_shutils(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    for columns in ("", "0", "abc", "37", "200"):
        monkeypatch.setenv("COLUMNS", columns)
        assert terminal_columns() == shutil.get_terminal_size().columns, columns
