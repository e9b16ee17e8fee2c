"""The ``indexnet`` command: its parser, and the one error policy of every subcommand.

Subcommands (``demo``, ``train``, ``explain``, ``eval``, ``derive``,
``check``, ``bench``, ``plan``; one module each) only raise; :func:`main`
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
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..errors import IndexnetError
from . import bench, demo, derive, explain, plan, train

__all__ = ["build_parser", "main", "run_command"]


class _OneLineParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``indexnet`` command."""
    parser = _OneLineParser(
        prog="indexnet",
        description="Tensor-index notation as planned einsum formulas, and the seed's network.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (demo, train, explain, derive, bench, plan):  # the order of --help
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    return run_command(build_parser().parse_args(argv))


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
