"""``indexnet report FILE -o PAGE.html``: a program's report, one self-contained HTML page.

The page holds the program in rendered mathematics (MathML), each equation
with its einsum strings, matrix form, loop nest and tensor-network diagram,
the derivatives step by step (as ``derive --steps``) and the verdict on every
claim with its diagnosis (as ``check``). It loads no script, font or image,
so it opens anywhere, offline. A part that does not apply to the program (it
makes no claims, or defines no scalar to differentiate) says why in its place.

The output path is checked before any work, and the page is written to a
temporary file that is renamed over it: a path that cannot be written is an
error (exit status 2) and leaves nothing half-written. Exit status 0 when the
page is written, whatever the claims' verdicts (``indexnet check`` exits 1
when one fails).

>>> import argparse, os, tempfile
>>> parser = argparse.ArgumentParser(prog="indexnet")
>>> register(parser.add_subparsers(dest="command"))
>>> out = os.path.join(tempfile.mkdtemp(), "seed.html")
>>> args = parser.parse_args(["report", "examples/seed.ix", "-o", out])
>>> args.func(args)  # doctest: +ELLIPSIS
wrote ...seed.html (... kB): 7 equations, 6 of 6 claims hold, 6 derivatives
0
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..fileio import check_output_path
from ..render import spelling
from ..report.facts import gather
from ..report.page import load_program, render_page, summary, write_page
from .argtypes import non_negative_int, positive_int
from .options import add_sizes_option, sizes_of
from .parser import ExamplesHelpFormatter

__all__ = ["register", "run_report"]

_EXAMPLE = """example:
  indexnet report examples/seed.ix -o seed.html
  indexnet report examples/mistakes.ix -o mistakes.html --sizes n=4 --draws 5

Open the page in any browser; it needs no network."""


def register(subparsers: Any) -> None:
    """Add the ``report`` subcommand to an argparse ``subparsers``."""
    p = subparsers.add_parser(
        "report",
        help="write a program's report: one self-contained HTML page",
        description="Write one self-contained HTML page about FILE: the program in rendered "
        "mathematics (MathML), each equation with its einsum strings, matrix form, loop nest "
        "and tensor-network diagram, the derivatives step by step (derive --steps) and the "
        "verdict on every claim with its diagnosis (check). Exit 0 when the page is written; "
        "2 when FILE cannot be read or parsed, or the page cannot be written.",
        epilog=_EXAMPLE,
        formatter_class=ExamplesHelpFormatter,
    )
    p.add_argument("file", help="a program, e.g. examples/seed.ix")
    p.add_argument("-o", "--output", required=True, metavar="PAGE.html",
                   help="the page to write (replaced atomically if it exists)")
    add_sizes_option(p, help="index sizes for the diagrams, FLOP counts and checks, e.g. "
                     "n=8,d=6 (default: the program's size lines)")
    p.add_argument("--wrt", action="append", metavar="NAME",
                   help="show the derivative with respect to this tensor (repeatable; "
                   "default: every param)")
    p.add_argument("--of", metavar="SCALAR", help="the scalar to differentiate (default: the "
                   "last one defined)")
    p.add_argument("--draws", type=positive_int, default=3,
                   help="random draws of the check, >= 1 (default 3)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the check's first draw, >= 0 (default 0)")
    p.set_defaults(func=run_report, show_source=True)


def run_report(args: argparse.Namespace) -> int:
    """The ``report`` subcommand."""
    check_output_path(args.output, "-o", ".html")  # refused before any work
    program, name = load_program(args.file)
    with spelling(program):  # a warning spells each tensor as derive and check do
        for warning in program.warnings:
            print(f"{args.file}: {warning}", file=sys.stderr)
    facts = gather(program, name, sizes_of(args), of=args.of, wrt=args.wrt,
                   draws=args.draws, seed=args.seed)
    size = write_page(args.output, render_page(facts), "-o")
    print(f"wrote {args.output} ({size / 1000:.0f} kB): {summary(facts)}")
    return 0
