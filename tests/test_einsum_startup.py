"""Start-up: ``import indexnet`` and ``indexnet --help`` load only what they need.

No timing here (speed is measured in ``benchmarks/bench_startup.py``): these
tests check *what* is imported, in a fresh interpreter each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import indexnet
from indexnet.cli import main as cli_main_module  # noqa: F401 - the package's main()
from indexnet.cli.main import COMMANDS, build_parser


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
