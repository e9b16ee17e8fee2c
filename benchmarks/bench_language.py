"""Benchmark the index language on the seed's network (examples/seed.ix).

1. Parsing and lowering examples/seed.ix (target: under 5 ms).
2. Evaluating it at mnist sizes (n=256, d=784, h=256, k=10) against the
   hand-written ``indexnet.Network``'s forward pass plus loss (``Network.loss``
   does both), with the same weights and data (target: at most 1.10×).

Both sides run with BLAS pinned to one thread (threadpoolctl); the timings
are interleaved, and the table reports medians. The results are checked
against each other before anything is timed.

    python benchmarks/bench_language.py [--repeats 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexnet import Network  # noqa: E402
from indexnet.program import parse  # noqa: E402

SIZES = {"n": 256, "d": 784, "h": 256, "k": 10}
L2 = 0.01  # the seed.ix constant λ


def _time(fn: Callable[[], object], inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="interleaved rounds (default 30)")
    parser.add_argument("--inner", type=int, default=5, help="calls per timing (default 5)")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    text = (ROOT / "examples" / "seed.ix").read_text(encoding="utf-8")
    n, d, h, k = (SIZES[c] for c in "ndhk")
    rng = np.random.default_rng(0)
    net = Network((d, h, k), activation="sigmoid", l2=L2, seed=0)
    x = rng.random((n, d))
    y = np.eye(k)[rng.integers(0, k, n)]
    params = net.parameters()
    arrays = {"x_ℓ-1": x, "y": y, "w_ℓ-1": params["W1"], "b_ℓ-1": params["b1"],
              "w_ℓ": params["W2"], "b_ℓ": params["b2"]}

    with threadpool_limits(limits=1):
        program = parse(text)
        program.evaluate(**arrays)  # compile (plan) once
        # check before timing: the same probabilities, and the loss up to the batch mean
        out = program.evaluate(**arrays)
        np.testing.assert_allclose(out["ŷ"], net.forward(x), rtol=1e-10, atol=1e-12)
        penalty = 0.5 * L2 * sum(float(np.sum(params[w] ** 2)) for w in ("W1", "W2"))
        np.testing.assert_allclose((float(out["L"]) - penalty) / n, net.loss(x, y) - penalty,
                                   rtol=1e-10)

        parse_times = [_time(lambda: parse(text), 1) for _ in range(max(args.repeats, 20))]
        ours, theirs = [], []
        for _ in range(args.repeats):
            ours.append(_time(lambda: program.evaluate(**arrays), args.inner))
            theirs.append(_time(lambda: net.loss(x, y), args.inner))
    parse_ms = statistics.median(parse_times) * 1e3
    ours_ms = statistics.median(ours) * 1e3
    theirs_ms = statistics.median(theirs) * 1e3
    ratio = ours_ms / theirs_ms
    sizes = ", ".join(f"{c}={v}" for c, v in SIZES.items())
    print(f"examples/seed.ix, {sizes}, BLAS on 1 thread, median of {args.repeats} "
          f"interleaved rounds of {args.inner} calls\n")
    print("| measurement | median | target | ratio |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| parse + lower seed.ix | {parse_ms:.2f} ms | < 5 ms | |")
    print(f"| Network.loss (forward + loss) | {theirs_ms:.3f} ms | | 1.00 |")
    print(f"| Program.evaluate (seed.ix) | {ours_ms:.3f} ms | ≤ 1.10× | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
