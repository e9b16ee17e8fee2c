"""The seed network's full-batch gradient on a Dask LocalCluster of 2 workers, against NumPy.

Issue 12, item 3, targets:

* **data that fits**: the full-batch loss and gradients of a 64-128-10 network
  (the digits network) over ``--rows`` rows (default 500,000), on a
  ``LocalCluster`` of 2 worker processes (1 thread each), within 1.5× of
  NumPy's time for ``Network.loss_and_gradients`` on the same rows held in
  memory (NumPy with its default threads). Dask is timed twice: on chunks
  persisted in the workers' memory, and streamed (each chunk drawn again on
  its worker for every gradient, as data that do not fit must be);
* **data 4× larger than the workers' memory**: the same gradient over data
  four times the memory limit given to the two workers together
  (``--memory-limit`` each, default 300 MiB), streamed; it must complete,
  and its loss and gradients must equal NumPy's computed here chunk by chunk.

Before timing, the Dask gradient must equal NumPy's (rtol 1e-10). Times are
wall clock (several processes work at once), medians of ``--repeats`` runs;
the load average is printed, since a busy machine slows both sides.

Run ``python benchmarks/bench_dask_train.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
if (_ROOT / "indexnet").is_dir() and str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from indexnet import Network  # noqa: E402
from indexnet.seednet.distributed import (  # noqa: E402
    ClusterGradient,
    NetworkSpec,
    chunk_sums,
    local_cluster,
    synthetic_chunks,
)

LAYERS = (64, 128, 10)
TARGET = 1.5
MIB = 2**20


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def _timed(fn: Any, repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def _check(what: str, got: tuple[float, dict[str, np.ndarray]],
           expected: tuple[float, dict[str, np.ndarray]]) -> None:
    if not np.isclose(got[0], expected[0], rtol=1e-10, atol=0):
        raise AssertionError(f"{what}: loss {got[0]} != NumPy's {expected[0]}")
    for name, value in expected[1].items():
        if not np.allclose(got[1][name], value, rtol=1e-10, atol=1e-13):
            raise AssertionError(f"{what}: gradient {name} differs from NumPy's")


def fits(rows: int, chunk_rows: int, repeats: int) -> list[str]:
    """The data-that-fits case: NumPy in memory vs Dask persisted and streamed."""
    import dask
    from distributed import Client

    net = Network(LAYERS, seed=0, l2=1e-4)
    x, y = synthetic_chunks(rows, d=LAYERS[0], k=LAYERS[-1], chunk_rows=chunk_rows, seed=1)
    X, Y = dask.compute(x, y, scheduler="threads")
    default_s, expected = _timed(lambda: net.loss_and_gradients(X, Y), repeats)
    with threadpool_limits(1):
        single_s, _ = _timed(lambda: net.loss_and_gradients(X, Y), repeats)
    numpy_s = min(default_s, single_s)  # NumPy at its best on this machine
    with local_cluster(workers=2) as cluster, Client(cluster, set_as_default=False) as client:
        persisted = ClusterGradient(client, x, y, persist=True)
        streamed = ClusterGradient(client, x, y)
        _check("persisted", persisted.loss_and_gradients(net)[:2], expected)  # also warms up
        _check("streamed", streamed.loss_and_gradients(net)[:2], expected)
        persisted_s, _ = _timed(lambda: persisted.loss_and_gradients(net), repeats)
        streamed_s, _ = _timed(lambda: streamed.loss_and_gradients(net), repeats)
    ratio = persisted_s / numpy_s
    mib = (X.nbytes + Y.nbytes) / MIB
    return [f"fits: {rows:,} rows ({mib:,.0f} MiB)", f"{persisted.chunks} × {chunk_rows:,}",
            "auto", f"{default_s:.2f} / {single_s:.2f}", f"{persisted_s:.2f} ({ratio:.2f}×)",
            f"{streamed_s:.2f} ({streamed_s / numpy_s:.2f}×)", f"≤ {TARGET}×",
            "met" if ratio <= TARGET else "**missed**"]


def _chunked(x: Any, y: Any, net: Network, chunks: int) -> np.ndarray:
    """NumPy here, one chunk at a time: the sums of :func:`chunk_sums` over every chunk."""
    spec, total = NetworkSpec.of(net), None
    for i in range(chunks):
        xb, yb = x.blocks[i].compute(scheduler="sync"), y.blocks[i].compute(scheduler="sync")
        part = chunk_sums(xb, yb, net.parameters(), spec)[0]
        total = part if total is None else total + part
    assert total is not None
    return total


def _slice(total: np.ndarray, net: Network, name: str) -> np.ndarray:
    """The part of a sums vector that is ``name``'s gradient."""
    at = 3
    for key, value in net.parameters().items():
        if key == name:
            return total[at:at + value.size].reshape(value.shape)
        at += value.size
    raise KeyError(name)


def too_big(memory_limit_mib: int, chunk_rows: int) -> list[str]:
    """Data 4× the two workers' memory limit together, streamed; checked chunk by chunk."""
    from distributed import Client

    net = Network(LAYERS, seed=0, l2=1e-4)
    row_bytes = (LAYERS[0] + LAYERS[-1]) * 8
    rows = -(-4 * 2 * memory_limit_mib * MIB // row_bytes)
    x, y = synthetic_chunks(rows, d=LAYERS[0], k=LAYERS[-1], chunk_rows=chunk_rows, seed=2)
    with local_cluster(workers=2, memory_limit=f"{memory_limit_mib}MiB") as cluster, \
            Client(cluster, set_as_default=False) as client:
        gradient = ClusterGradient(client, x, y)
        start = time.perf_counter()
        got = gradient.loss_and_gradients(net)
        dask_s = time.perf_counter() - start
    start = time.perf_counter()
    with threadpool_limits(1):  # BLAS on one thread, as the workers'
        total = _chunked(x, y, net, gradient.chunks)
    numpy_s = time.perf_counter() - start
    penalty = 0.5 * net.l2 * sum(float(np.vdot(w, w)) for name, w in net.parameters().items()
                                 if name.startswith("W"))
    if not np.isclose(got[0] - penalty, total[0] / rows, rtol=1e-10):
        raise AssertionError("too big: the cluster's loss differs from NumPy's chunked loss")
    for name, value in got[1].items():
        expected = _slice(total, net, name) / rows
        if name.startswith("W"):
            expected = expected + net.l2 * net.parameters()[name]
        if not np.allclose(value, expected, rtol=1e-10, atol=1e-13):
            raise AssertionError(f"too big: the cluster's gradient {name} differs from NumPy's")
    data_mib = rows * row_bytes / MIB
    return [f"4× memory: {rows:,} rows ({data_mib:,.0f} MiB)",
            f"{gradient.chunks} × {chunk_rows:,}",
            f"2 × {memory_limit_mib} MiB", f"{numpy_s:.2f} (chunked, here)", "—",
            f"{dask_s:.2f} ({dask_s / numpy_s:.2f}×)", "completes", "met"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--chunk-rows", type=int, default=65_536)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-limit", type=int, default=300, metavar="MIB")
    parser.add_argument("--skip-too-big", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeats, args.memory_limit = 100_000, 1, 250
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)
    print(f"- cores: {os.cpu_count()}; load average at the start: {_load()}")
    rows = [fits(args.rows, args.chunk_rows, args.repeats)]
    if not args.skip_too_big:
        rows.append(too_big(args.memory_limit, min(args.chunk_rows, 16_384)))
    headers = ["case", "chunks", "worker memory", "NumPy (s): default threads / 1 thread",
               "Dask persisted (s)",
               "Dask streamed (s)", "target", "verdict"]
    print(f"- network {'-'.join(map(str, LAYERS))}, float64, LocalCluster of 2 processes × 1 "
          "thread; wall clock, medians")
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"- load average at the end: {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
