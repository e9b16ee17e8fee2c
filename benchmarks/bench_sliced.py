"""Sliced contractions: plans that meet a memory limit no unsliced path meets, and their cost.

For each case, a memory limit below the smallest largest intermediate any
unsliced path reaches: the plan sliced to meet it (``auto``'s path sliced by
cotengra, and ``optimize="cotengra"``), its slices, the FLOPs overhead over the
same path unsliced, one slice's largest intermediate, the planning time and
the median time of a call, locally (one slice in memory at a time) and, with
``--dask``, on a LocalCluster of two single-threaded worker processes; the
unsliced plan's time beside it. Every sliced result is checked against the
unsliced one before anything is timed (``indexnet bench --memory-limit``).
A call on the cluster includes sending the operands to the workers (each
call scatters them afresh) and the tree sum of the batches' results.

Run ``python benchmarks/bench_sliced.py [--quick] [--dask]``; needs cotengra
(and dask.distributed for ``--dask``).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

from _harness import machine_header, markdown_table
from opt_einsum.testing import rand_equation

from indexnet.bench.paths import bench_sliced
from indexnet.bench.report import SlicedReport
from indexnet.einsum.memory import smallest_intermediate

#: (label, expression, shapes, limit as a fraction of the smallest unsliced largest intermediate)
CASES: list[tuple[str, str, list[tuple[int, ...]], float]] = [
    ("seed chain XW1W2", "nd,dh,hk->nk", [(256, 784), (784, 256), (256, 10)], 0.33),
    ("matrix chain, wide middle", "ab,bc,cd->ad", [(64, 1000), (1000, 1000), (1000, 64)], 0.1),
    ("random network, 12 tensors", *rand_equation(12, 3, seed=3, d_min=6, d_max=12)[:2], 0.1),
    ("random network, 20 tensors", *rand_equation(20, 3, seed=1, d_min=4, d_max=10)[:2], 0.1),
]


@contextlib.contextmanager
def local_cluster(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def run(quick: bool = False, dask: bool = False) -> str:
    rows = []
    cases = CASES[:2] if quick else CASES
    with local_cluster(dask) as client:
        for label, eq, shapes, fraction in cases:
            smallest, _ = smallest_intermediate(eq, shapes)
            limit = max(1, int(smallest * fraction))
            report: SlicedReport = bench_sliced(eq, shapes=shapes, memory_limit=limit,
                                                client=client, repeats=3 if quick else 7,
                                                budget=5.0)
            ref = report.reference
            for r in report.results:
                rows.append([
                    label, f"{limit:,} (smallest unsliced {smallest:,})", r.optimizer,
                    f"{r.slices:,}" if r.slices else "—", r.sliced or "—",
                    f"{r.overhead:.2f}×" if r.overhead else "—",
                    f"{r.largest_intermediate:,}" if r.largest_intermediate else "—",
                    f"{r.plan_seconds * 1e3:.0f}" if r.plan_seconds is not None else "—",
                    f"{r.run_seconds * 1e3:.2f}" if r.run_seconds is not None else
                    (r.skipped or "—"),
                    f"{ref.run_seconds * 1e3:.2f}" if ref.run_seconds is not None else "—",
                    f"{r.max_rel_diff:.1e}" if r.max_rel_diff is not None else "—",
                ])
            print(f"  {label} done", flush=True)
    where = "on a LocalCluster (2 workers × 1 thread)" if dask else "locally"
    headers = ["case", "memory limit", "optimizer", "slices", "sliced (size/chunk)",
               "FLOPs overhead", "largest (a slice)", "plan ms", f"run ms ({where})",
               "unsliced run ms (local)", "max rel. diff"]
    return markdown_table(headers, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two cases, three runs each")
    parser.add_argument("--dask", action="store_true",
                        help="run the slices on a LocalCluster of two worker processes")
    args = parser.parse_args(argv)
    print(machine_header(clock="wall"))
    print()
    print(run(args.quick, args.dask))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
