"""Time tensor-network diagrams: any einsum of up to 12 operands must draw in under 100 ms.

Each case is checked first (the SVG parses and has one node per operand),
then timed: the median of repeated draws, networkx already imported.

    python benchmarks/bench_diagram.py
"""

from __future__ import annotations

import statistics
import sys
import time
import xml.etree.ElementTree as ET

from indexnet import parse
from indexnet.render import diagram

TARGET_S = 0.100


def _chain(n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ",".join(letters[k] + letters[k + 1] for k in range(n)) + f"->a{letters[n]}"


def _ring(n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ",".join(letters[k] + letters[(k + 1) % n] for k in range(n)) + "->"


def _star(n: int) -> str:
    letters = "bcdefghijklmnopqrstuvwxyz"
    return "a" + letters[:n - 1] + "," + ",".join(letters[k] + "z" for k in range(n - 1)) + "->z"


def cases() -> list[tuple[str, object, int]]:
    with open("examples/seed.ix", encoding="utf-8") as handle:
        seed = parse(handle.read())
    out: list[tuple[str, object, int]] = [
        (f"{kind} of {n}", make(n), n) for n in (2, 6, 12)
        for kind, make in (("chain", _chain), ("ring", _ring), ("star", _star))]
    out += [(f"seed: {eq}"[:60], eq, 0) for eq in seed.equations[:3]]
    return out


def main() -> int:
    worst = 0.0
    print("| diagram | median ms |\n|---|---:|")
    for name, subject, operands in cases():
        svg = diagram(subject)  # type: ignore[arg-type]
        root = ET.fromstring(svg)
        if operands:
            tensors = [e for e in root.iter() if "tensor" in e.get("class", "").split()]
            assert len(tensors) == operands, name
        times = []
        for _ in range(15):
            start = time.perf_counter()
            diagram(subject)  # type: ignore[arg-type]
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        worst = max(worst, median)
        print(f"| {name} | {median * 1e3:.2f} |")
    print(f"\nslowest {worst * 1e3:.1f} ms (target {TARGET_S * 1e3:.0f} ms)")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
