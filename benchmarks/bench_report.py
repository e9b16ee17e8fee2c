"""Time the report of the seed's network: built in under 2 s, and under 1 MB.

Three figures, each checked first (the page is self-contained and holds every
part):

* ``first build``: :func:`indexnet.report.build_report` in a fresh process,
  imports (NumPy, networkx, the language) included;
* ``warm build``: the median of repeated builds in one process;
* ``command``: ``indexnet report examples/seed.ix -o PAGE`` end to end, the
  median of a few runs (Python's start-up included).

    python benchmarks/bench_report.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

SEED = ROOT / "examples" / "seed.ix"
TARGET_S = 2.0
TARGET_BYTES = 1_000_000

_FIRST = """
import sys, time
start = time.perf_counter()
from indexnet.report import build_report
page = build_report(sys.argv[1])
print(time.perf_counter() - start)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}


def first_build() -> float:
    """Seconds of the first build in a fresh process, imports included."""
    out = subprocess.run([sys.executable, "-c", _FIRST, str(SEED)], capture_output=True,
                         text=True, check=True, env=_env())
    return float(out.stdout.strip())


def command(folder: str) -> float:
    """Seconds of ``indexnet report`` end to end."""
    page = os.path.join(folder, "seed.html")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "indexnet", "report", str(SEED), "-o", page],
                   capture_output=True, check=True, env=_env())
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="three repeats")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else max(args.repeats, 1)

    from indexnet.report import build_report

    page = build_report(SEED)  # the check, and the warm-up
    size = len(page.encode("utf-8"))
    assert page.count('<article class="card"') == 13, "the seed has 13 equations and claims"
    assert "<script" not in page and "6 of 6 claims hold" in page

    warm = []
    for _ in range(repeats):
        start = time.perf_counter()
        build_report(SEED)
        warm.append(time.perf_counter() - start)
    first = statistics.median(first_build() for _ in range(min(repeats, 3)))
    with tempfile.TemporaryDirectory() as folder:
        end_to_end = statistics.median(command(folder) for _ in range(min(repeats, 3)))

    print("| report of examples/seed.ix | median s |\n|---|---:|")
    print(f"| warm build (`build_report`, {repeats} runs) | {statistics.median(warm):.3f} |")
    print(f"| first build in a fresh process, imports included | {first:.3f} |")
    print(f"| `indexnet report` end to end | {end_to_end:.3f} |")
    print(f"\npage size {size / 1000:.0f} kB (target under {TARGET_BYTES / 1e6:.0f} MB); "
          f"slowest {max(first, end_to_end):.2f} s (target under {TARGET_S:.0f} s)")
    met = size < TARGET_BYTES and max(first, end_to_end, *warm) < TARGET_S
    print("targets met" if met else "TARGET MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
