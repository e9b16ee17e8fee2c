"""Two source trees of indexnet side by side: the cost of a cached 2×2 plan and of ``contract``.

    git worktree add /tmp/old <commit>
    python benchmarks/ab_call_overhead.py /tmp/old . --pairs 3

Each pair runs one process per tree, one after the other, so both see the
same machine; each process times ``a @ b``, a held ``Plan`` and
``indexnet.contract`` interleaved (201 rounds of 200 calls, BLAS on one
thread) and prints the medians of plan and contract minus ``a @ b`` in µs.
A shared machine moves all of them together; compare within a pair.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import statistics, sys, time
import numpy as np
from threadpoolctl import threadpool_limits
sys.path.insert(0, sys.argv[1])
import indexnet
assert indexnet.__file__.startswith(sys.argv[1]), indexnet.__file__
parts = []
with threadpool_limits(1):
    for dtype in ("float64", "float32"):
        a = np.ones((2, 2), dtype)
        b = np.ones((2, 2), dtype)
        p = indexnet.plan("ij,jk->ik", a, b)
        assert np.array_equal(p(a, b), a @ b)
        held, direct = [], []
        for _ in range(201):
            t0 = time.perf_counter()
            for _ in range(200):
                a @ b
            t1 = time.perf_counter()
            for _ in range(200):
                p(a, b)
            t2 = time.perf_counter()
            for _ in range(200):
                indexnet.contract("ij,jk->ik", a, b)
            t3 = time.perf_counter()
            held.append(((t2 - t1) - (t1 - t0)) / 200 * 1e6)
            direct.append(((t3 - t2) - (t1 - t0)) / 200 * 1e6)
        parts.append(f"{dtype} plan +{statistics.median(held):.2f} us, "
                     f"contract +{statistics.median(direct):.2f} us")
print("; ".join(parts))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs=2, type=Path, help="two source trees (repository roots)")
    parser.add_argument("--pairs", type=int, default=3, help="alternating pairs of runs")
    args = parser.parse_args(argv)
    for pair in range(1, args.pairs + 1):
        for tree in args.trees:
            root = str(tree.resolve()) + "/"
            line = subprocess.run([sys.executable, "-c", _CHILD, root], check=True,
                                  capture_output=True, text=True).stdout.strip()
            print(f"pair {pair}  {tree}: {line} above a @ b")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
