"""Contraction paths: every optimizer's path, FLOPs against measured time.

The standard suite of ``indexnet bench``: the seed's formulas and its chain
``nd,dh,hk->nk``, expressions from opt_einsum's own tests, random networks
of 10 and 20 tensors (opt_einsum's ``rand_equation``), and shapes from ML and
physics (a bilinear layer, attention scores with their projections, the
overlap of two matrix-product states). Each expression runs through
:func:`indexnet.bench.paths.bench_paths`: every path's result is checked
against the first path's before anything is timed; times are medians of
interleaved rounds, BLAS pinned to one thread, on the process CPU clock.

Then ``optimize="measured"`` is checked on the issue's network
(``rand_equation(10, 4, seed=1)``, sizes 4-12): its choice, made afresh
several times, is timed against every candidate path with the benchmark
protocol, and must be within 1.05× of the fastest.

Run ``python benchmarks/bench_paths.py [--quick] [--plot docs/paths.png]
[--out FILE]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from _harness import (
    CLOCKS,
    BenchmarkMismatch,
    loadavg,
    machine_header,
    markdown_table,
    single_thread,
)

from indexnet import SEED
from indexnet.bench import BenchReport, bench_paths, plot_reports, random_equation
from indexnet.einsum.compiled import cached_plan as _cached_plan
from indexnet.einsum.measured import CACHE_ENV, measured_path
from indexnet.einsum.timing import backend_runner, random_arrays, time_paths

#: (repeats, budget in seconds) of a full and of a quick run.
FULL = (9, 10.0)
QUICK = (3, 2.0)
#: The measured planner's choice must run within this factor of the fastest candidate.
TARGET_MEASURED = 1.05
#: Fresh ``measured`` choices checked (full, quick).
MEASURED_TRIALS = (5, 2)

MNIST = {"n": 256, "d": 784, "h": 256, "k": 10}
#: opt_einsum's test sizes (``opt_einsum.testing._default_dim_dict``), times 3
_OE_DIMS = dict(zip("abcdefghijklmopq", [6, 9, 12, 15, 12, 9, 6, 18, 15, 12, 9, 6, 15, 21,
                                          12, 9]))


@dataclass
class Expression:
    """One benchmark expression: a label, the einsum string and its index sizes."""

    label: str
    kind: str
    subscripts: str
    sizes: dict[str, int] = field(default_factory=dict)
    shapes: list[tuple[int, ...]] | None = None


def _oe(subscripts: str) -> dict[str, int]:
    return {c: _OE_DIMS[c] for c in dict.fromkeys(subscripts) if c.isalpha()}


def _mps_overlap(sites: int, bond: int, phys: int) -> Expression:
    """⟨ψ|φ⟩ of two open-boundary MPS: ψ's tensors a-bonds, φ's b-bonds, shared physical p."""
    letters = iter("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    p = [next(letters) for _ in range(sites)]
    a = [next(letters) for _ in range(sites - 1)]
    b = [next(letters) for _ in range(sites - 1)]

    def chain(bonds: list[str]) -> list[str]:
        terms = [p[0] + bonds[0]]
        terms += [bonds[i - 1] + p[i] + bonds[i] for i in range(1, sites - 1)]
        return [*terms, bonds[-1] + p[-1]]

    subscripts = ",".join(chain(a) + chain(b)) + "->"
    sizes = {c: phys for c in p} | {c: bond for c in a + b}
    return Expression(f"MPS overlap, {sites} sites, χ={bond}", "physics", subscripts, sizes)


def suite(quick: bool = False) -> list[Expression]:
    """The expressions, in report order (a quick run keeps one of each kind)."""
    einsums = {f.einsum: f for f in reversed(SEED.values()) if f.einsum is not None}
    seed_formulas = [
        Expression(f"seed {f.equation} {f.title}", "seed", einsum,
                   {c: MNIST[c] for c in einsum if c.isalpha()})
        for einsum, f in reversed(einsums.items())
    ]
    eq10, shapes10, _ = random_equation(10, 4, d_min=4, d_max=12, seed=1)
    eq20, shapes20, _ = random_equation(20, 4, d_min=2, d_max=6, seed=1)
    cases = [
        *seed_formulas,
        Expression("seed chain x W₁ W₂ (mnist sizes)", "seed", "nd,dh,hk->nk", dict(MNIST)),
        Expression("opt_einsum: 4-index transformation", "opt_einsum", "ea,fb,abcd,gc,hd->efgh",
                   _oe("ea,fb,abcd,gc,hd->efgh")),
        Expression("opt_einsum: complex contraction", "opt_einsum",
                   "chd,bde,agbc,hiad,bdi,cgh,agdb->", _oe("chd,bde,agbc,hiad,bdi,cgh,agdb")),
        Expression("opt_einsum: collapse", "opt_einsum", "ab,ab,cd,cd,ef,ef->",
                   _oe("ab,ab,cd,cd,ef,ef")),
        Expression("rand_equation(10, 4, seed=1), sizes 4-12", "random", eq10, shapes=shapes10),
        Expression("rand_equation(20, 4, seed=1), sizes 2-6", "random", eq20, shapes=shapes20),
        Expression("bilinear layer y = x₁ᵀ W x₂", "ML", "ni,oij,nj->no",
                   {"n": 256, "i": 64, "j": 64, "o": 32}),
        Expression("attention scores (X W_q)(X W_k)ᵀ", "ML", "bqe,ehd,bkf,fhd->bhqk",
                   {"b": 4, "q": 128, "k": 128, "e": 256, "f": 256, "h": 8, "d": 32}),
        _mps_overlap(8, 32, 2),
    ]
    if quick:
        keep = {"seed chain x W₁ W₂ (mnist sizes)", "opt_einsum: 4-index transformation",
                "rand_equation(10, 4, seed=1), sizes 4-12", "bilinear layer y = x₁ᵀ W x₂"}
        cases = [c for c in cases if c.label in keep]
    return cases


def run(
    repeats: int, budget: float, quick: bool = False, progress: bool = True
) -> tuple[str, list[BenchReport]]:
    """Benchmark every expression; return the markdown section and the reports.

    Raises :class:`BenchmarkMismatch` when a path's result disagrees with the
    others' (``bench_paths`` reports such a row as skipped, never timed).
    """
    parts = []
    reports = []
    summary = []
    for case in suite(quick=quick):
        if progress:
            print(f"  {case.label}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        report = bench_paths(
            case.subscripts, case.sizes or None, shapes=case.shapes, repeats=repeats,
            budget=budget,
        )
        took = time.perf_counter() - start
        for row in report.results:
            if row.skipped and "disagrees" in row.skipped:
                raise BenchmarkMismatch(f"{case.label}: {row.optimizer}: {row.skipped}")
        reports.append(report)
        fastest = report.fastest
        auto = report.result("auto")
        distinct = len({tuple(r.path) for r in report.results if r.path is not None})
        summary.append([
            case.label, f"`{_short(report.expression)}`",
            str(distinct),
            "(one path)" if distinct == 1 else f"{fastest}" if fastest else "—",
            f"{report.flops_ratio(report.result(fastest)):.2f}×" if fastest else "—",
            f"{report.time_ratio(auto):.2f}×" if report.time_ratio(auto) else "—",
            f"{report.time_ratio(report.result('greedy')):.2f}×"
            if report.time_ratio(report.result("greedy")) else "—",
        ])
        if distinct > 1 or case.kind != "seed":
            sizes = ", ".join(f"{k}={v}" for k, v in report.sizes.items())
            parts += [
                f"\n### {case.label}\n",
                f"`{report.expression}` with {sizes} ({took:.1f} s)\n",
                report.markdown(),
            ]
    head = [
        "Each expression, every optimizer (`indexnet bench`): FLOPs (opt_einsum's count) and "
        "their ratio to the fewest, the largest intermediate (elements), the optimizer's search "
        "time, and one call's median time with its ratio to the fastest. Optimizers that find "
        "the same path share one measurement. Bold: the fastest.\n",
        markdown_table(
            ["expression", "einsum", "distinct paths", "fastest", "its FLOPs ratio",
             "auto's time ratio", "greedy's time ratio"],
            summary,
        ),
    ]
    return "\n".join(head + parts), reports


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def measured_check(trials: int, rounds: int = 15) -> tuple[str, list[float]]:
    """Time ``measured``'s fresh choices against every candidate on the issue's network.

    Choices and timings run under the same conditions (BLAS on one thread);
    the candidates are timed with the benchmark protocol (interleaved rounds,
    process CPU clock) and the ratio is the chosen path's median over the
    fastest candidate's.
    """
    eq, shapes, _ = random_equation(10, 4, d_min=4, d_max=12, seed=1)
    ratios: list[float] = []
    rows = []
    cache = os.environ.pop(CACHE_ENV, None)  # every trial measures afresh
    try:
        with single_thread():
            for trial in range(trials):
                start = time.perf_counter()
                choice = measured_path(eq, shapes)
                took = time.perf_counter() - start
                plans = [_cached_plan(eq, tuple(shapes), "float64", c.path, None)
                         for c in choice.candidates]
                arrays = random_arrays(shapes, seed=trial)
                times = time_paths([backend_runner(p, arrays) for p in plans], rounds=rounds,
                                   clock=CLOCKS["cpu"], sample_s=0.002)
                best = min(t for t in times if t is not None)
                chosen = next(t for c, t in zip(choice.candidates, times)
                              if c.path == choice.path)
                assert chosen is not None
                ratios.append(chosen / best)
                cells = "; ".join(
                    f"{'/'.join(c.optimizers)}: {c.flops:.3g} FLOPs, {t * 1e3:.1f} ms"
                    + (" ←" if c.path == choice.path else "")
                    for c, t in zip(choice.candidates, times) if t is not None
                )
                rows.append([str(trial + 1), "/".join(choice.optimizers), f"{took:.2f}",
                             f"{chosen * 1e3:.1f}", f"{best * 1e3:.1f}",
                             f"{chosen / best:.3f}×", cells])
    finally:
        if cache is not None:
            os.environ[CACHE_ENV] = cache
    table = markdown_table(
        ["trial", "measured chose", "planning (s)", "chosen (ms)", "fastest (ms)", "ratio",
         "candidates (← chosen)"],
        rows,
    )
    worst = max(ratios)
    text = (
        f"`optimize=\"measured\"` on `rand_equation(10, 4, seed=1)` (sizes 4-12): {trials} "
        f"fresh choices, each then timed against every candidate ({rounds} interleaved rounds, "
        f"one BLAS thread, CPU clock):\n\n{table}\n\n"
        f"- {'MET' if worst <= TARGET_MEASURED else '**MISSED**'}: the measured choice ran "
        f"within {worst:.3f}× of the fastest candidate at worst (median "
        f"{statistics.median(ratios):.3f}×; target ≤ {TARGET_MEASURED}×)"
    )
    return text, ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="four expressions, short budget")
    parser.add_argument("--plot", metavar="FILE.png", help="save FLOPs against time here")
    parser.add_argument("--out", type=Path, help="also write the markdown report here")
    args = parser.parse_args(argv)
    repeats, budget = QUICK if args.quick else FULL
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    header = machine_header("cpu")
    start = time.perf_counter()
    try:
        text, reports = run(repeats, budget, quick=args.quick)
    except BenchmarkMismatch as err:
        print(f"BENCHMARK FAILED: {err}", file=sys.stderr)
        return 1
    check, _ = measured_check(MEASURED_TRIALS[1] if args.quick else MEASURED_TRIALS[0])
    report = "\n".join([
        "# Contraction paths\n",
        f"Run: `python benchmarks/bench_paths.py{' --quick' if args.quick else ''}`, {started}, "
        f"{repeats} rounds, budget {budget:g} s\n",
        header,
        "",
        text,
        '\n## `optimize="measured"` against its candidates\n',
        check,
        f"\nTotal run time {time.perf_counter() - start:.0f} s; load average at the end: "
        f"{loadavg()}.",
    ]) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    if args.plot:
        # panels with at least two distinct timed paths
        panels = [r for r in reports
                  if len({(x.flops, x.run_seconds) for x in r.results if x.run_seconds}) > 1]
        plot_reports(panels, args.plot, title="FLOPs (predicted) against measured time, "
                     "one point per distinct path; red: the fastest")
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
