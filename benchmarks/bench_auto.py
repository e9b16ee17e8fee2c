"""The default path: ``optimize="auto"`` against opt_einsum's plain auto and the best found.

On opt_einsum's ``rand_equation(n, regularity, seed)`` for n = 10, 20, 30, 40,
regularity 3 and 4, seeds 0-4, every contender plans the same network; the
table gives each one's FLOPs over the fewest any contender found, and its
planning time (median over seeds, wall clock). Contenders: indexnet's
``auto`` (dp within a planning budget, then greedy/random-greedy), opt_einsum's
``auto`` (``oe-auto`` in indexnet), ``greedy``, ``random-greedy-128`` and, up
to 20 operands, an unbounded ``dp`` (exact among paths without outer
products). cotengra's hyper-optimizer (5 s a network) joins when installed,
and then indexnet's auto searches with cotengra too: random-greedy starts
refined by subtree reconfiguration (``indexnet.einsum.subtrees``) and
restarted (the starts compiled with cotengrust installed). The
one-off import of cotengra (about 0.1 s a process, not charged to a plan's
budget) is paid before the timing starts.
Targets (issue 11): FLOPs within 1.1× of the best, planning under 50 ms for
n ≤ 20 and under 1 s for n ≤ 50.

"Best" is the fewest FLOPs among the contenders of this run only; beyond 20
operands no exact search finishes here, so it may not be the optimum.

Run ``python benchmarks/bench_auto.py [--quick] [--seeds 10] [--n 20 ...]`` (quick:
seeds 0-1, n ≤ 30).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import opt_einsum
from _harness import machine_header, markdown_table, single_thread
from opt_einsum.testing import rand_equation

from indexnet.einsum.search import auto_budget, auto_path


def contenders(n: int) -> dict[str, Any]:
    found: dict[str, Any] = {
        "indexnet auto": None,  # auto_path
        "oe-auto": "auto",
        "greedy": "greedy",
        "random-greedy-128": opt_einsum.RandomGreedy(max_repeats=128),
    }
    if n <= 20:
        found["dp (unbounded)"] = "dp"
    try:
        import cotengra  # optional: the anchor when installed

        from indexnet.einsum.cotengra_paths import _methods

        # a stateful searcher: a fresh one for each network (plan_once calls the factory)
        found["cotengra"] = lambda: cotengra.HyperOptimizer(
            methods=_methods(), max_time=5.0, parallel=False, progbar=False)
    except ImportError:
        pass
    return found


def plan_once(name: str, optimizer: Any, eq: str, shapes: list[Any]) -> tuple[float, float]:
    start = time.perf_counter()
    if optimizer is None:
        _, info, _ = auto_path(eq, shapes, None, auto_budget(len(shapes)))
    else:
        if callable(optimizer) and not hasattr(optimizer, "best"):  # a factory
            optimizer = optimizer()
        _, info = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=optimizer)
    return float(info.opt_cost), time.perf_counter() - start


def run(ns: list[int], seeds: list[int]) -> str:
    rows = []
    for n in ns:
        for regularity in (3, 4):
            flops_ratio: dict[str, list[float]] = {}
            seconds: dict[str, list[float]] = {}
            for seed in seeds:
                eq, shapes = rand_equation(n, regularity, seed=seed)[:2]
                got = {}
                for name, optimizer in contenders(n).items():
                    if name == "random-greedy-128":
                        optimizer = opt_einsum.RandomGreedy(max_repeats=128)
                    got[name] = plan_once(name, optimizer, eq, shapes)
                best = min(f for f, _ in got.values())
                for name, (f, s) in got.items():
                    flops_ratio.setdefault(name, []).append(f / best)
                    seconds.setdefault(name, []).append(s)
            for name in flops_ratio:
                rows.append([str(n), str(regularity), name,
                             f"{statistics.median(flops_ratio[name]):.2f}×",
                             f"{max(flops_ratio[name]):.2f}×",
                             f"{statistics.median(seconds[name]) * 1e3:.0f}",
                             f"{max(seconds[name]) * 1e3:.0f}"])
            print(f"  n={n} regularity={regularity} done", flush=True)
    headers = ["n", "reg.", "optimizer", "FLOPs / best (median)", "FLOPs / best (worst)",
               "planning ms (median)", "planning ms (worst)"]
    return markdown_table(headers, rows)


def _positive(text: str) -> int:
    """A whole number of at least 1, for ``--seeds`` and ``--n``."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seeds 0-1, n up to 30")
    parser.add_argument("--seeds", type=_positive, help="seeds 0 to SEEDS-1 (default 5; 2 quick)")
    parser.add_argument("--n", type=_positive, action="append", dest="ns",
                        help="numbers of operands (repeatable; default 10, 20, 30, 40)")
    args = parser.parse_args(argv)
    ns = args.ns or ([10, 20, 30] if args.quick else [10, 20, 30, 40])
    seeds = list(range(args.seeds or (2 if args.quick else 5)))
    print(machine_header(clock="wall"))
    print()
    with single_thread():
        # a plan that reaches cotengra, so that its one-off import is not in any figure
        auto_path(*rand_equation(20, 4, seed=100)[:2], None, auto_budget(20))
        print(run(ns, seeds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
