"""The ``indexnet`` command: its parser, and the one error policy of every subcommand.

Subcommands (``demo``, ``train``, ``explain``, ``eval``, ``derive``,
``check``, ``bench``, ``plan``, ``report``; one module each) only raise; :func:`main`
runs them through :func:`run_command`, which turns what they raise into an
exit status and at most one line on stderr, never a traceback:

* an :class:`~indexnet.IndexnetError`: ``indexnet COMMAND: error: MESSAGE``,
  status 2. The commands that read the index language (``set_defaults(show_source=True)``)
  print the offending source line and a caret under it on the next lines;
* ``MemoryError``: the same line, saying the sizes are too large; status 2;
* ``KeyboardInterrupt``: ``indexnet COMMAND: interrupted``, status 130;
* a closed pipe (``indexnet demo | head``): nothing, status 1;
* any other ``OSError`` (stdout on a full disk): ``cannot use ...``, status 2;
* anything else is a defect of indexnet:
  ``indexnet COMMAND: internal error, please report: TYPE: MESSAGE``, status 2.

Usage errors are argparse's, on one line with status 2.

>>> main(["plan", "nd,dh->nh", "--sizes", "n=2,d=3,h=4"])
nd,dh->nh  shapes (2, 3), (3, 4)
  FLOPs 48 (naive 48, 1x), largest intermediate 8 elements
  step 0: (0, 1): nd,dh->nh [matmul]
0
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from ..errors import IndexnetError

__all__ = ["COMMANDS", "build_parser", "main", "run_command"]

#: Every subcommand, in the order of ``--help``: its module (which registers it,
#: with the full arguments) and its one-line help. ``indexnet --help`` reads only
#: this table, so it starts without loading NumPy or the language; a command
#: loads its own module alone.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "the seed's network step by step: formulas, checks, training"),
    "train": ("train", "train the seed's network on digits, MNIST or synthetic data"),
    "explain": ("explain", "explain an einsum string or an equation of the index language"),
    "eval": ("explain", "evaluate a program of the index language"),
    "derive": ("derive", "print the exact derivatives of a program, simplified"),
    "check": ("derive", "judge the claims of a program against the exact derivative"),
    "bench": ("bench", "benchmark every optimizer's path: FLOPs against measured time"),
    "plan": ("plan", "show the contraction plan of an einsum string"),
    "report": ("report", "write a program's report: one self-contained HTML page"),
}


class _LightHelpFormatter(argparse.HelpFormatter):
    """argparse's help layout without its imports of ``shutil`` and ``textwrap``.

    ``indexnet --help`` loads nothing else, so those two imports (``shutil``
    brings ``bz2`` and ``lzma``) were a large part of its start-up. The width
    is found as ``shutil.get_terminal_size`` finds it; a line that fits is not
    wrapped, and only one that does not loads ``textwrap``.
    """

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _terminal_columns() - 2 if width is None else width)

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


def _terminal_columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size().columns`` gives it (80 if unknown)."""
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


class _OneLineParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line on stderr, exit status 2.

    Its help (and, unless a command asks for another, each command's) is laid
    out by :class:`_LightHelpFormatter`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _LightHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of the ``indexnet`` command.

    With ``only`` (a command's name), that command's module alone is loaded and
    registers its arguments; every other command is listed by its help line
    (:data:`COMMANDS`), which is all ``indexnet --help`` shows (``only=""``:
    none loaded). Without ``only``, every command is registered.
    """
    parser = _OneLineParser(
        prog="indexnet",
        description="Tensor-index notation as planned einsum formulas, and the seed's network.",
    )
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    command = next((w for w in words if not w.startswith("-")), "")  # "": none, list them all
    return run_command(build_parser(command).parse_args(words))


def run_command(args: argparse.Namespace) -> int:
    """Run the subcommand ``args.func(args)`` under the error policy (see the module docstring).

    ``args`` comes from a parser whose subparsers were added with
    ``dest="command"``; the subcommand's module set ``func`` (and perhaps
    ``show_source``) with ``set_defaults``.
    """
    command = args.command
    try:
        status: int = args.func(args)
    except IndexnetError as err:
        if getattr(args, "show_source", False):
            return _fail(command, *str(err).split("\n"))
        return _fail(command, _one_line(str(err)))
    except MemoryError:
        return _fail(command, "out of memory: the sizes asked for are too large for this machine")
    except KeyboardInterrupt:
        print(f"indexnet {command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Python flushes stdout at exit; point it at devnull so that fails quietly too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as err:  # stdout on a full disk, a file the library did not wrap
        where = err.filename if err.filename is not None else "the output"
        return _fail(command, f"cannot use {where}: {err.strerror or err}")
    except Exception as err:  # a defect of indexnet: one line to report, not a traceback
        print(f"indexnet {command}: internal error, please report: {type(err).__name__}: "
              f"{_one_line(str(err))}", file=sys.stderr)
        return 2
    return status


def _one_line(text: str) -> str:
    """The first line of a message of several lines; a one-line message with its spaces tidied."""
    return text.splitlines()[0] if "\n" in text else " ".join(text.split())


def _fail(command: str, message: str, *more: str) -> int:
    """Print ``indexnet COMMAND: error: MESSAGE`` (and the lines ``more``) on stderr; return 2."""
    print(f"indexnet {command}: error: {message}", file=sys.stderr)
    for line in more:
        print(line, file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
