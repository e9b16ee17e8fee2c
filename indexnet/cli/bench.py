"""``indexnet bench``: every contraction path of an expression, predicted against measured.

Registered by :func:`register`; the work is :func:`indexnet.bench.bench_paths`.

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="indexnet")
>>> _ = register(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["bench", "nd,dh->nh", "--sizes", "n=2,d=3,h=4"])
>>> args.repeats, args.budget, args.threads
(7, 10.0, 1)
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..bench import (
    BENCH_OPTIMIZERS,
    BUDGET_S,
    BenchReport,
    bench_paths,
    ix_terms,
    plot_reports,
    random_equation,
)
from ..errors import InvalidArgumentError
from ..fileio import check_output_path, read_text
from .argtypes import non_negative_int, positive_float, positive_int
from .options import add_json_option, add_sizes_option, json_text, sizes_of

__all__ = ["register", "run"]

_EPILOG = """\
examples:
  indexnet bench 'nd,dh,hk->nk' --sizes n=256,d=784,h=256,k=10
  indexnet bench --random 10 --seed 1 --json
  indexnet bench --random 12 --optimizers greedy,optimal --budget 2
  indexnet bench examples/seed.ix --sizes n=128 --plot paths.png

Every row: the optimizer's path, its FLOPs (opt_einsum's count) and ratio to the
fewest, its largest intermediate (elements), the time the optimizer took to find
it, and one call's measured time (median of interleaved rounds after a warm-up)
with its ratio to the fastest. Optimizers that find the same path share one
measurement. A search that exceeds --budget is stopped and its row reads
"skipped"; so is a path whose predicted time of one call exceeds --budget (its
FLOPs are still shown). --json prints one object per expression: expression,
sizes, results (optimizer, flops, largest_intermediate, plan_seconds,
run_seconds, skipped) and fastest; for an .ix file, a list of such objects.
"""


def _dims(text: str) -> tuple[int, int]:
    lo, sep, hi = text.partition("-")
    try:
        low, high = (int(lo), int(hi)) if sep else (int(lo), int(lo))
    except ValueError:
        raise InvalidArgumentError(
            f"bad --dims {text!r}: write LOW-HIGH, as in 4-12"
        ) from None
    return low, high


def _expressions(args: argparse.Namespace) -> tuple[list[tuple[str, Any, Any]], bool]:
    """(expression, sizes, shapes) triples to benchmark, and whether the input was a program."""
    if (args.expr is None) == (args.random is None):
        raise InvalidArgumentError(
            "give an einsum string, an .ix file, or --random N (exactly one of them)"
        )
    if args.random is not None:
        if args.sizes:
            raise InvalidArgumentError("--sizes does not apply to --random (see --dims)")
        low, high = _dims(args.dims)
        eq, shapes, _ = random_equation(
            args.random, args.regularity, n_out=args.output_indices, d_min=low, d_max=high,
            seed=args.seed,
        )
        return [(eq, None, shapes)], False
    expr: str = args.expr
    if expr.endswith(".ix") or (
        os.path.exists(expr) and "," not in expr and "->" not in expr
    ):
        source = read_text(expr, "program")
        terms = ix_terms(source, sizes_of(args) or {}, origin=expr)
        return [(eq, None, shapes) for eq, shapes in terms], True
    if not args.sizes:
        raise InvalidArgumentError(
            f"--sizes must give every index of {expr!r}, as in --sizes n=256,d=784"
        )
    return [(expr, sizes_of(args) or {}, None)], False


def run(args: argparse.Namespace) -> int:
    """The ``bench`` command: benchmark, then print a table or JSON, and plot."""
    if args.plot:
        try:  # matplotlib is optional (indexnet[plot]): only --plot needs it
            import matplotlib  # noqa: F401
        except ImportError:
            raise InvalidArgumentError(
                "--plot needs matplotlib: pip install matplotlib (or indexnet[plot])"
            ) from None
        # Checked before benchmarking, so a bad path cannot throw the measurements away.
        check_output_path(args.plot, "--plot", ".png")
    optimizers = [o.strip() for o in args.optimizers.split(",") if o.strip()] \
        if args.optimizers else None
    jobs, program = _expressions(args)
    threads = None if args.threads == 0 else args.threads
    verbose = not args.json and sys.stderr.isatty()

    def progress(message: str) -> None:
        if verbose:
            print(f"  {message} …", file=sys.stderr, flush=True)

    reports: list[BenchReport] = []
    for expr, sizes, shapes in jobs:
        report = bench_paths(
            expr, sizes, shapes=shapes, optimizers=optimizers, repeats=args.repeats,
            budget=args.budget, threads=threads, backend=args.backend, dtype=args.dtype,
            clock=args.clock, seed=args.seed, progress=progress,
        )
        reports.append(report)
        if not args.json:
            if len(reports) > 1:
                print()
            print(report.table(), flush=True)
    if args.json:
        objects = [r.as_dict() for r in reports]
        print(json_text(objects if program else objects[0]))
    if args.plot:
        plot_reports(reports, args.plot)
        if not args.json:
            print(f"wrote {args.plot}")
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bench`` subcommand to an argparse subparsers object; returns its parser."""
    p = subparsers.add_parser(
        "bench",
        help="benchmark every optimizer's contraction path: FLOPs against measured time",
        description=(
            "Plan an einsum expression with every optimizer (naive one-step einsum, "
            "left-to-right, greedy, optimal, dp, branch-1/2/all, random-greedy, auto, "
            "auto-hq, and cotengra's hyper-optimizer when cotengra is installed), run each "
            "distinct path on random arrays, and report FLOPs, largest intermediate, "
            "planning time and measured time side by side. FLOP counts alone rank paths "
            "wrongly; this shows by how much."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "expr", nargs="?", metavar="EXPR",
        help="an einsum string such as 'nd,dh,hk->nk' (with --sizes), or an .ix file of the "
        "index language (every product term in it is benchmarked)",
    )
    add_sizes_option(p, help="index sizes, e.g. n=256,d=784,h=256,k=10 (every index of EXPR; "
                     "for an .ix file, those its size lines leave out)")
    p.add_argument("--random", type=positive_int, metavar="N",
                   help="instead of EXPR: a random network of N >= 2 tensors, as "
                   "opt_einsum.testing.rand_equation draws it")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of --random's network and of the arrays, >= 0 "
                   "(default: %(default)s)")
    p.add_argument("--regularity", type=positive_int, default=4, metavar="R",
                   help="--random: indices per tensor, each shared by two (default: %(default)s)")
    p.add_argument("--dims", default="4-12", metavar="LOW-HIGH",
                   help="--random: range of index sizes (default: %(default)s)")
    p.add_argument("--output-indices", type=non_negative_int, default=0, metavar="K",
                   help="--random: indices left in the output (default: %(default)s)")
    p.add_argument("--optimizers", metavar="LIST",
                   help="comma-separated optimizers to compare (default: all of "
                   f"{', '.join(BENCH_OPTIMIZERS)}; also random-greedy-128, measured)")
    p.add_argument("--repeats", type=positive_int, default=7, metavar="N",
                   help="timed rounds per path after a warm-up; the median counts "
                   "(default: %(default)s)")
    p.add_argument("--budget", type=positive_float, default=BUDGET_S, metavar="SECONDS",
                   help="time allowed to each optimizer's path search, and to each path's "
                   "runs; longer searches are stopped and longer paths are reported by "
                   "predicted cost, not run (default: %(default)s)")
    p.add_argument("--threads", type=non_negative_int, default=1, metavar="N",
                   help="BLAS threads while timing; 0 leaves the libraries' defaults "
                   "(default: %(default)s)")
    p.add_argument("--backend", default="numpy", metavar="NAME",
                   help="array library to run on: numpy, dask, torch, jax, cupy, tensorflow "
                   "(installed ones; default: %(default)s)")
    p.add_argument("--dtype", default="float64", help="array dtype (default: %(default)s)")
    p.add_argument("--clock", choices=("cpu", "wall"),
                   help="cpu: process CPU time (robust on a shared machine; the default with "
                   "one thread on NumPy); wall: elapsed time (the default otherwise)")
    add_json_option(p, help="print one JSON object (a list of them for an .ix file)")
    p.add_argument("--plot", metavar="FILE.png",
                   help="save FLOPs against measured time, one point per optimizer, as a "
                   "PNG written atomically; its folder must exist (needs matplotlib)")
    p.set_defaults(func=run)
    return p
