"""Options several subcommands share (``--sizes``, ``--optimize``, ``--json``), and their reading.

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_sizes_option(parser)
>>> add_optimize_option(parser)
>>> add_json_option(parser)
>>> args = parser.parse_args(["--sizes", "n=2,d=3", "--json"])
>>> sizes_of(args), args.optimize, args.json
({'n': 2, 'd': 3}, 'auto', True)
>>> operand_shapes(["nd", "d"], sizes_of(args))
[(2, 3), (3,)]
"""

from __future__ import annotations

import argparse

from ..einsum.subscripts import operand_shapes
from ..typing import OPTIMIZERS
from .argtypes import parse_sizes

__all__ = [
    "add_json_option",
    "add_optimize_option",
    "add_sizes_option",
    "operand_shapes",
    "sizes_of",
]

SIZES_HELP = "index sizes, e.g. n=256,d=784,h=256,k=10"


def add_sizes_option(
    parser: argparse.ArgumentParser, help: str = SIZES_HELP, *, required: bool = False
) -> None:
    """Add ``--sizes SIZES`` (index sizes as ``n=256,d=784``, read by :func:`sizes_of`)."""
    parser.add_argument("--sizes", metavar="SIZES", required=required, help=help)


def add_optimize_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--optimize NAME``: the contraction path optimizer, one of ``OPTIMIZERS``."""
    parser.add_argument("--optimize", default="auto", choices=OPTIMIZERS,
                        help="path optimizer (default: auto)")


def add_json_option(parser: argparse.ArgumentParser, help: str = "print one JSON object") -> None:
    """Add ``--json``: print machine-readable output instead of text."""
    parser.add_argument("--json", action="store_true", help=help)


def sizes_of(args: argparse.Namespace) -> dict[str, int] | None:
    """The index sizes of ``--sizes``, or None when it was not given (or empty)."""
    return parse_sizes(args.sizes) if args.sizes else None
