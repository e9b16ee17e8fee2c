"""docs/tutorial.md is real: its sessions run as doctests, its commands print what it shows."""

from __future__ import annotations

import doctest
import pathlib
import shlex

from test_readme import SHELL, _matches

TUTORIAL = pathlib.Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"


def test_tutorial_sessions_run() -> None:
    result = doctest.testfile(str(TUTORIAL), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8 and result.failed == 0


def test_tutorial_commands_print_what_it_shows(capsys, monkeypatch) -> None:
    from indexnet.cli.main import main

    monkeypatch.chdir(TUTORIAL.parent.parent)
    blocks = SHELL.findall(TUTORIAL.read_text(encoding="utf-8"))
    assert {command for command, _, _ in blocks} == {"derive", "check"}
    for command, args, expected in blocks:
        main([command, *shlex.split(args)])
        real = capsys.readouterr().out.splitlines()
        shown = expected.splitlines()
        assert len(real) == len(shown), (command, args, real)
        for shown_line, real_line in zip(shown, real):
            assert _matches(shown_line, real_line), (command, shown_line, real_line)
