"""``indexnet --help`` without argparse: the top-level help, laid out as argparse lays it out.

The top-level help is the one page most often asked for, and it only lists
:data:`~.commands.COMMANDS`. Importing argparse (with ``gettext`` and
``locale``) and building a parser made ``indexnet --help`` take 1.21× the time
of ``import indexnet``; :func:`top_level_help` writes the same text directly,
and it takes 1.04× (``benchmarks/bench_startup.py``). It covers the common
case, a terminal wide enough that no line wraps; for a narrower one it returns
None and the caller asks argparse, which wraps. A test holds the two texts
equal at every width where this one answers.

>>> print(top_level_help(columns=100).splitlines()[0])
usage: indexnet [-h] COMMAND ...
>>> top_level_help(columns=40) is None
True
"""

from __future__ import annotations

import os
import sys

from .commands import COMMANDS, DESCRIPTION

__all__ = ["terminal_columns", "top_level_help"]

_USAGE = "usage: indexnet [-h] COMMAND ..."
_METAVAR = "COMMAND"
_HELP_OPTION = ("-h, --help", "show this help message and exit")


def terminal_columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size().columns`` gives it (80 if unknown).

    Found without importing ``shutil``, which brings ``bz2`` and ``lzma``.
    """
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def top_level_help(columns: int | None = None) -> str | None:
    """The text of ``indexnet --help`` at ``columns`` (the terminal's by default), or None.

    None when some line would have to wrap: argparse then lays the page out.
    The layout is argparse's ``HelpFormatter`` (width ``columns - 2``, help
    column at most 24, two spaces per level of indent).
    """
    width = (terminal_columns() if columns is None else columns) - 2
    flag, flag_help = _HELP_OPTION
    invocations = [(2, _METAVAR), (2, flag), *((4, name) for name in COMMANDS)]
    max_help_position = min(24, max(width - 20, 4))
    help_position = min(max(indent + len(text) for indent, text in invocations) + 2,
                         max_help_position)
    lines = [_USAGE, "", DESCRIPTION, "", "positional arguments:", f"  {_METAVAR}"]
    lines += [_item(4, name, help_line, help_position)
              for name, (_, help_line) in COMMANDS.items()]
    lines += ["", "options:", _item(2, flag, flag_help, help_position)]
    fits = all(len(line) <= width for line in lines)
    # argparse puts an invocation longer than its column on a line of its own
    aligned = all(indent + len(text) + 2 <= help_position for indent, text in invocations[1:])
    return "\n".join(lines) + "\n" if fits and aligned else None


def _item(indent: int, invocation: str, help_line: str, help_position: int) -> str:
    """One line of a section: the invocation at ``indent``, its help at ``help_position``."""
    return f"{' ' * indent}{invocation:<{help_position - indent}}{help_line}"
