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
from ..bench.paths import SLICED_OPTIMIZERS, bench_sliced
from ..einsum.plan import plan
from ..errors import InvalidArgumentError
from ..fileio import atomic_write_bytes, check_output_path, read_text
from ..render import side_by_side
from .argtypes import non_negative_int, positive_float, positive_int
from .options import add_json_option, add_sizes_option, json_text, sizes_of
from .parser import ExamplesHelpFormatter
from .plan import memory_limit_arg

__all__ = ["register", "run"]

_EPILOG = """\
examples:
  indexnet bench 'nd,dh,hk->nk' --sizes n=256,d=784,h=256,k=10
  indexnet bench --random 10 --seed 1 --json
  indexnet bench --random 12 --optimizers greedy,optimal --budget 2
  indexnet bench examples/seed.ix --sizes n=128 --plot paths.png
  indexnet bench 'nd,dh,hk->nk' --sizes n=256,d=784,h=256,k=10 \\
      --memory-limit 2560
  indexnet bench --random 20 --memory-limit 500 --dask tcp://scheduler:8786

Every row: the optimizer's path, its FLOPs (opt_einsum's count) and ratio to the
fewest, its largest intermediate (elements), the time the optimizer took to find
it, and one call's measured time (median of interleaved rounds after a warm-up)
with its ratio to the fastest. Optimizers that find the same path share one
measurement. A search that exceeds --budget is stopped and its row reads
"skipped"; so is a path whose predicted time of one call exceeds --budget (its
FLOPs are still shown). --json prints one object per expression: expression,
sizes, results (optimizer, flops, largest_intermediate, plan_seconds,
run_seconds, skipped) and fastest; for an .ix file, a list of such objects.

With --memory-limit (elements, or max_input: the largest operand's size) or
--dask ADDRESS, bench plans under that limit instead: where no path keeps every
intermediate within it, the contraction runs in slices (cotengra's slicing,
with cotengra installed), summed. Every row: the slices and the indices cut
("d 784/196": size 784 in chunks of 196), the FLOPs and their overhead over
the same path unsliced, the largest intermediate of one slice, the planning
time, the median time of a call and the largest difference from the unsliced
plan's result over its largest magnitude (run locally when it fits in
memory). With --dask the slices run in batches on the Dask cluster whose
scheduler is at ADDRESS (its workers need indexnet installed); a scheduler
that cannot be reached is an error naming it.
--json prints: expression, sizes, memory_limit, where, unsliced, results
(optimizer, flops, unsliced_flops, overhead, slices, sliced,
largest_intermediate, plan_seconds, run_seconds, max_rel_diff, skipped, note).
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


def _run_sliced(args: argparse.Namespace) -> int:
    """``bench --memory-limit`` / ``--dask``: sliced plans against the unsliced one."""
    if args.plot:
        raise InvalidArgumentError("--plot does not apply to --memory-limit or --dask")
    if args.backend != "numpy":
        raise InvalidArgumentError("--memory-limit and --dask run NumPy arrays: leave out "
                                   f"--backend {args.backend}")
    optimizers = [o.strip() for o in args.optimizers.split(",") if o.strip()] \
        if args.optimizers else None
    jobs, program = _expressions(args)
    limit = "max_input" if args.memory_limit is None else args.memory_limit
    verbose = not args.json and sys.stderr.isatty()

    def progress(message: str) -> None:
        if verbose:
            print(f"  {message} …", file=sys.stderr, flush=True)

    client = None
    if args.dask is not None:
        # dask.distributed is imported only for --dask; an unreachable scheduler is an error
        from ..einsum.distributed import connect

        progress(f"connecting to {args.dask}")
        client = connect(args.dask)
    try:
        objects = []
        for k, (expr, sizes, shapes) in enumerate(jobs):
            report = bench_sliced(
                expr, sizes, shapes=shapes, memory_limit=limit, optimizers=optimizers,
                client=client, repeats=args.repeats, budget=args.budget, dtype=args.dtype,
                seed=args.seed, progress=progress,
            )
            objects.append(report.as_dict())
            if not args.json:
                print(("\n" if k else "") + report.table(), flush=True)
    finally:
        if client is not None:
            client.close()
    if args.json:
        print(json_text(objects if program else objects[0]))
    return 0


def run(args: argparse.Namespace) -> int:
    """The ``bench`` command: benchmark, then print a table or JSON, and plot."""
    if args.memory_limit is not None or args.dask is not None:
        return _run_sliced(args)
    _check_outputs(args)
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
    if args.svg:
        _write_trees(reports[0], args.svg)
        if not args.json:
            print(f"wrote {args.svg}")
    return 0


def _check_outputs(args: argparse.Namespace) -> None:
    """Check --plot and --svg before benchmarking, so a bad path cannot waste the measurements."""
    if args.plot:
        try:  # matplotlib is optional (indexnet[plot]): only --plot needs it
            import matplotlib  # noqa: F401
        except ImportError:
            raise InvalidArgumentError(
                "--plot needs matplotlib: pip install matplotlib (or indexnet[plot])"
            ) from None
        check_output_path(args.plot, "--plot", ".png")
    if args.svg:
        check_output_path(args.svg, "--svg", ".svg")


def _write_trees(report: BenchReport, path: str) -> None:
    """Draw greedy's contraction tree (or the costliest) beside the fewest-FLOPs one, as SVG."""
    drawn = [r for r in report.results if r.path is not None and r.flops is not None]
    if len(drawn) < 2:
        raise InvalidArgumentError("--svg draws two optimizers' paths side by side; "
                                   f"only {len(drawn)} optimizer found a path")
    worst = next((r for r in drawn if r.optimizer == "greedy"),
                 max(drawn, key=lambda r: r.flops or 0))
    best = min(drawn, key=lambda r: r.flops or 0)
    inputs = report.expression.split("->")[0].split(",")
    shapes = [tuple(report.sizes[c] for c in term) for term in inputs]
    plans = [plan(report.expression, *shapes, dtype=report.dtype,
                  optimize=[tuple(step) for step in r.path or []]) for r in (worst, best)]
    svg = side_by_side(plans[0], plans[1], titles=(worst.optimizer, best.optimizer))
    atomic_write_bytes(path, lambda handle: handle.write(svg.encode("utf-8")), "--svg")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bench`` subcommand to an argparse subparsers object; returns its parser."""
    p = subparsers.add_parser(
        "bench",
        help="benchmark every optimizer's path: FLOPs against measured time",
        description=(
            "Plan an einsum expression with every optimizer (naive one-step einsum, "
            "left-to-right, greedy, optimal, dp, branch-1/2/all, random-greedy, auto, "
            "auto-hq, and cotengra's hyper-optimizer when cotengra is installed), run each "
            "distinct path on random arrays, and report FLOPs, largest intermediate, "
            "planning time and measured time side by side. FLOP counts alone rank paths "
            "wrongly; this shows by how much."
        ),
        epilog=_EPILOG,
        formatter_class=ExamplesHelpFormatter,
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
    p.add_argument("--memory-limit", type=memory_limit_arg, metavar="ELEMENTS",
                   help="plan within this largest intermediate (elements, or max_input: the "
                   "largest operand's size), in slices where no path fits it (needs cotengra), "
                   "and compare with the unsliced plan (optimizers: "
                   f"{', '.join(SLICED_OPTIMIZERS)} by default)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run the sliced plans' slices on the Dask cluster whose scheduler is at "
                   "ADDRESS, e.g. tcp://10.0.0.5:8786 (--memory-limit defaults to max_input)")
    p.add_argument("--plot", metavar="FILE.png",
                   help="save FLOPs against measured time, one point per optimizer, as a "
                   "PNG written atomically; its folder must exist (needs matplotlib)")
    p.add_argument("--svg", metavar="FILE.svg",
                   help="also draw greedy's contraction tree beside the fewest-FLOPs one, with "
                   "each step's FLOPs and the largest intermediate marked, as SVG written "
                   "atomically (for an .ix file, its first product)")
    p.set_defaults(func=run)
    return p
