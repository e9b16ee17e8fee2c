"""Run every benchmark and print one markdown report: machine, tables, verdicts.

    python benchmarks/run_all.py                  # full run (a few minutes)
    python benchmarks/run_all.py --quick          # smoke run (seconds)
    python benchmarks/run_all.py --out benchmarks/results.md
    python benchmarks/run_all.py --only paths      # one section (repeatable)

Every benchmark checks its candidates' results against hand-written NumPy
before timing them and stops with exit status 1 when they disagree.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import bench_micro
import bench_paths
import bench_seed_formulas
import bench_train_step
import profile_train_step
from _harness import CLOCKS, BenchmarkMismatch, loadavg, machine_header, optional_torch

SECTIONS = ("micro", "train", "formulas", "paths")


def _verdicts(micro: list, train: list) -> list[str]:
    lines = []
    for res in train:
        key = (res.info["size"], res.info["dtype"])
        target = bench_train_step.TARGETS[key]
        ratio = res.ratios["indexnet"]
        ok = ratio <= target
        lines.append(
            f"- {'MET' if ok else '**MISSED**'}: train step {key[0]} {key[1]}: indexnet "
            f"{ratio:.3f}× hand-written NumPy (target ≤ {target:.2f}×)"
        )
    for res in micro:
        excess = res.excess_s["indexnet plan"]
        ok = excess <= bench_micro.TARGET_EXCESS_S
        lines.append(
            f"- {'MET' if ok else '**MISSED**'}: 2×2 plan {res.info['dtype']}: "
            f"{excess * 1e6:+.2f} µs above `a @ b` "
            f"(target ≤ {bench_micro.TARGET_EXCESS_S * 1e6:.0f} µs)"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few repeats")
    parser.add_argument("--out", type=Path, help="also write the markdown report here")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="cpu",
        help="cpu: process CPU time (default; robust on a shared machine); wall: perf_counter",
    )
    parser.add_argument(
        "--only", choices=SECTIONS, action="append",
        help="run only this section (repeatable); default: all",
    )
    args = parser.parse_args(argv)
    only = args.only or list(SECTIONS)
    optional_torch()  # loaded up front so the header names its version and libraries
    mode = "quick" if args.quick else "full"

    def params(module: object) -> tuple[int, float]:
        return getattr(module, "QUICK" if args.quick else "FULL")

    start = time.perf_counter()
    parts = [
        "# indexnet benchmarks\n",
        f"Run: `python benchmarks/run_all.py{' --quick' if args.quick else ''}` ({mode}), "
        f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n",
        machine_header(args.clock),
        "\nEach cell: median time in µs (ratio to hand-written NumPy: median over "
        "interleaved rounds of the paired ratio).",
    ]
    micro: list = []
    train: list = []
    measured: list[float] = []
    try:
        if "micro" in only:
            print("micro benchmark …", file=sys.stderr, flush=True)
            repeats, sample = params(bench_micro)
            text, micro = bench_micro.run(repeats, sample, args.clock)
            parts += [
                f"\n## Call overhead: 2×2 plan vs `a @ b` ({repeats} rounds)\n",
                text,
            ]
        if "train" in only:
            print("training step …", file=sys.stderr, flush=True)
            repeats, sample = params(bench_train_step)
            text, train = bench_train_step.run(repeats, sample, args.clock)
            parts += [
                f"\n## Training step: forward, loss, backward, SGD update ({repeats} rounds)\n",
                text,
            ]
        if "formulas" in only:
            print("seed formulas …", file=sys.stderr, flush=True)
            repeats, sample = params(bench_seed_formulas)
            text, _ = bench_seed_formulas.run(repeats, sample, args.clock)
            parts += [f"\n## Seed formulas ({repeats} rounds)\n", text]
        if "paths" in only:
            print("contraction paths …", file=sys.stderr, flush=True)
            repeats, budget = params(bench_paths)
            text, _ = bench_paths.run(repeats, budget, quick=args.quick)
            trials = bench_paths.MEASURED_TRIALS[1 if args.quick else 0]
            check, measured = bench_paths.measured_check(trials)
            parts += [
                f"\n## Contraction paths: every optimizer ({repeats} rounds, budget "
                f"{budget:g} s)\n",
                text,
                '\n### `optimize="measured"` against its candidates\n',
                check,
            ]
    except BenchmarkMismatch as err:
        print(f"BENCHMARK FAILED: {err}", file=sys.stderr)
        return 1
    verdicts = _verdicts(micro, train)
    if measured:
        worst = max(measured)
        ok = worst <= bench_paths.TARGET_MEASURED
        verdicts.append(
            f"- {'MET' if ok else '**MISSED**'}: `optimize=\"measured\"` on rand_equation(10, 4): "
            f"chosen path {worst:.3f}× the fastest candidate at worst "
            f"(target ≤ {bench_paths.TARGET_MEASURED}×)"
        )
    if verdicts:
        parts += ["\n## Targets\n", "\n".join(verdicts)]
    missed = [
        (r.info["size"], r.info["dtype"])
        for r in train
        if r.ratios["indexnet"] > bench_train_step.TARGETS[(r.info["size"], r.info["dtype"])]
    ]
    for size, dtype in missed:
        print(f"profiling the missed target {size} {dtype} …", file=sys.stderr, flush=True)
        repeats = 21 if args.quick else 41
        parts += [
            f"\n## Where the time goes: train step {size} {dtype} (missed its target)\n",
            "Stages of `Network.train_step` vs the same stages of the hand-written step "
            "(`profile_train_step.py`):\n",
            profile_train_step.stage_table(size, dtype, repeats, 0.002, args.clock),
            "\nEach plan the step calls, vs the NumPy call it replaces: the compiled "
            "kernel's own extra cost, then `Plan.__call__`'s (argument checks, dispatch):\n",
            profile_train_step.plan_overhead_table(size, dtype, repeats, 0.002, args.clock),
        ]
    parts.append(
        f"\nTotal run time {time.perf_counter() - start:.0f} s; load average at the end: "
        f"{loadavg()}."
    )
    report = "\n".join(parts) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
