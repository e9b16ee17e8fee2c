"""The ``indexnet`` command: its entry point, and the one error policy of every subcommand.

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

Usage errors are argparse's (:mod:`.parser`), on one line with status 2.
``indexnet --help`` itself is written without argparse where it fits the
terminal (:mod:`.help`).

>>> main(["plan", "nd,dh->nh", "--sizes", "n=2,d=3,h=4"])
nd,dh->nh  shapes (2, 3), (3, 4)
  FLOPs 48 (naive 48, 1x), largest intermediate 8 elements
  step 0: (0, 1): nd,dh->nh [matmul]
0
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import IndexnetError
from .commands import COMMANDS
from .help import top_level_help

if TYPE_CHECKING:
    import argparse

__all__ = ["COMMANDS", "main", "run_command"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words in (["-h"], ["--help"]):  # the page asked for most: no argparse if it fits
        text = top_level_help()
        if text is not None:
            sys.stdout.write(text)
            raise SystemExit(0)  # as argparse's --help does
    from .parser import build_parser  # here: the quick help above must not import argparse

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
