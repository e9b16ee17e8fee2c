"""The README's examples are real: each script block prints the output block after it."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
# A ```python block that is a script (not a >>> session), then a plain ``` block.
PAIR = re.compile(r"```python\n(?!>>>)(.*?)```\n\n```\n(.*?)```", re.S)


def test_readme_script_outputs_are_what_the_scripts_print():
    pairs = PAIR.findall(README.read_text(encoding="utf-8"))
    assert pairs, "no script/output pair found in README.md"
    for script, expected in pairs:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(script, "README.md", "exec"), {})
        assert out.getvalue() == expected


# ```\n$ indexnet CMD ...\nOUTPUT``` blocks whose output holds no timings.
SHELL = re.compile(r"```\n\$ indexnet (explain|derive|check|plan) (.*?)\n(.*?)```", re.S)


# a relative error at rounding level (below 1e-12) depends on the BLAS and the CPU
# that summed it: the README's figure and the real one need only both be that small
_ROUNDING = re.compile(r"\b\d\.\d\de-(1[2-9]|[2-9]\d)\b")


def _matches(shown: str, real: str) -> bool:
    """A README line abridged with '…' matches every real line that starts the same."""
    if "…" in shown:
        return real.startswith(shown.split("…")[0])
    return _ROUNDING.sub("ε", shown) == _ROUNDING.sub("ε", real)


def test_readme_command_outputs_are_what_the_commands_print(capsys, monkeypatch):
    import shlex

    from indexnet.cli.main import main

    monkeypatch.chdir(README.parent)
    blocks = SHELL.findall(README.read_text(encoding="utf-8"))
    assert {command for command, _, _ in blocks} >= {"explain", "derive", "check"}
    for command, args, expected in blocks:
        main([command, *shlex.split(args)])
        real = capsys.readouterr().out.splitlines()
        shown = expected.splitlines()
        assert len(real) == len(shown), (command, args)
        for shown_line, real_line in zip(shown, real):
            assert _matches(shown_line, real_line), (command, shown_line, real_line)
