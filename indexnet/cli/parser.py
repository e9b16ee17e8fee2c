"""The argparse parser of ``indexnet``: one-line usage errors, a light help layout, lazy commands.

>>> parser = build_parser("plan")
>>> parser.parse_args(["plan", "ij,jk->ik", "--sizes", "i=2,j=3,k=4"]).command
'plan'
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any, NoReturn

from .commands import COMMANDS, DESCRIPTION
from .help import terminal_columns

__all__ = ["ExamplesHelpFormatter", "LightHelpFormatter", "OneLineParser", "build_parser"]


class LightHelpFormatter(argparse.HelpFormatter):
    """argparse's help layout without its imports of ``shutil`` and ``textwrap``.

    The width is found as ``shutil.get_terminal_size`` finds it
    (:func:`~.help.terminal_columns`); a line that fits is not wrapped, and
    only one that does not loads ``textwrap``.
    """

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         terminal_columns() - 2 if width is None else width)

    def _split_lines(self, text: str, width: int) -> list[str]:
        one_line = " ".join(text.split())
        if len(one_line) <= width:
            return [one_line]
        return super()._split_lines(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        one_line = " ".join(text.split())
        if len(indent) + len(one_line) <= width:
            return indent + one_line
        return super()._fill_text(text, width, indent)


class ExamplesHelpFormatter(LightHelpFormatter):
    """A description or epilog with line breaks (a block of examples) kept as written.

    Text without one (prose) is filled to the terminal's width, as
    :class:`LightHelpFormatter` fills it; argparse's ``RawDescriptionHelpFormatter``
    kept prose as one line however long (``indexnet report --help`` printed a
    389-character line).
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class OneLineParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line on stderr, exit status 2.

    Its help (and, unless a command asks for another, each command's) is laid
    out by :class:`LightHelpFormatter`, without the colours Python 3.14's
    argparse adds on a terminal.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", LightHelpFormatter)
        if sys.version_info >= (3, 14):  # plain, as the quick top-level page (help.py) is
            kwargs.setdefault("color", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Print ``indexnet: error: MESSAGE (see indexnet --help)`` on stderr; exit with 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of the ``indexnet`` command.

    With ``only`` (a command's name), that command's module alone is loaded and
    registers its arguments; every other command is listed by its help line
    (:data:`~.commands.COMMANDS`), which is all ``indexnet --help`` shows
    (``only=""``: none loaded). Without ``only``, every command is registered.
    """
    parser = OneLineParser(prog="indexnet", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    modules = {m for m, _ in COMMANDS.values()}
    if only is not None:
        modules = {COMMANDS[only][0]} if only in COMMANDS else set()
    registered: set[str] = set()
    for name, (module_name, help_line) in COMMANDS.items():  # the order of --help
        if module_name not in modules:
            sub.add_parser(name, help=help_line, add_help=False)  # listed, never parsed
        elif module_name not in registered:  # it registers all of its commands
            # loaded here, not at the top: --help must not pay for every command's imports
            importlib.import_module(f".{module_name}", __package__).register(sub)
            registered.add(module_name)
    return parser
