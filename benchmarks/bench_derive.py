"""Benchmark deriving and checking the seed's network (examples/seed.ix).

1. ``indexnet derive examples/seed.ix``: the work after start-up (read the
   file, parse, derive, simplify, render every derivative with its einsum
   strings), through the command's own function (target: under 50 ms).
2. ``indexnet check`` of the seed's six claims at mnist sizes (n=256, d=784,
   h=256, k=10): three draws, the exact derivatives, the finite-difference
   confirmation (target: under 1 s).

Each result is checked before it is timed (the derivative of a_ℓ is
ŷ − y; every claim holds). Times are wall-clock medians.

    python benchmarks/bench_derive.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexnet.cli import derive as derive_cli  # noqa: E402
from indexnet.program import parse  # noqa: E402

SEED = ROOT / "examples" / "seed.ix"
MNIST = {"n": 256, "d": 784, "h": 256, "k": 10}


def _derive_once() -> str:
    parser = argparse.ArgumentParser(prog="indexnet")
    derive_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["derive", str(SEED)])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = args.func(args)
    assert status == 0
    return out.getvalue()


def _check_once() -> bool:
    program = parse(SEED.read_text(encoding="utf-8"))
    return program.check(MNIST).ok


def _median(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    text = _derive_once()  # check first (and warm the imports)
    assert text.splitlines()[0] == "∂L/∂^n(a_ℓ)_k = ^n(ŷ)_k − ^n(y)_k", text
    assert _check_once()
    derive_s = _median(_derive_once, args.repeats)
    check_s = _median(_check_once, args.repeats)
    print("| benchmark | median | target |")
    print("| --- | --- | --- |")
    print(f"| derive examples/seed.ix (after start-up) | {derive_s * 1e3:.1f} ms | < 50 ms |")
    print(f"| check examples/seed.ix at n=256, d=784, h=256, k=10 | {check_s * 1e3:.0f} ms "
          "| < 1000 ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
