"""Reading and evaluating one very long line: the cost per term must not grow with the line.

The audit of issue 10 found a 400,000-term line taking 163 s in ``eval``
(a queue kept as a list, ``list.pop(0)``, made reading quadratic). This
prints, for lines of 10,000, 40,000 and 160,000 terms ``k x``, the time to
read the program (parse, lower, lint) and to evaluate it, per term; a linear
reader keeps the per-term figure flat.

    python benchmarks/bench_long_lines.py [--terms 10000 40000 160000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexnet import parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--terms", type=int, nargs="+", default=[10_000, 40_000, 160_000])
    args = parser.parse_args()
    print("| terms | read (s) | read per term (µs) | evaluate (s) | evaluate per term (µs) |")
    print("|---|---|---|---|---|")
    for n in args.terms:
        text = "input x\ny = " + " + ".join(f"{k} x" for k in range(1, n + 1))
        start = time.perf_counter()
        program = parse(text)
        assert not program.warnings
        read = time.perf_counter() - start
        start = time.perf_counter()
        value = float(program.evaluate(x=np.array(1.0))["y"])
        run = time.perf_counter() - start
        assert value == n * (n + 1) / 2
        print(f"| {n:,} | {read:.2f} | {read / n * 1e6:.0f} | {run:.2f} | {run / n * 1e6:.0f} |")


if __name__ == "__main__":
    main()
