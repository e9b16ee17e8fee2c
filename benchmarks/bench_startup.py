"""Start-up: ``import indexnet`` against ``import numpy``, and ``indexnet --help`` against both.

Each command runs in a fresh interpreter (``python -c ...``), the three
interleaved round by round; the table gives each one's median wall time and
its ratio to ``import numpy`` and to ``import indexnet`` in the same round
(median of the paired ratios). Targets (issue 11): ``import indexnet`` within
1.3× ``import numpy``; ``indexnet --help`` within 1.1× ``import indexnet``.
The wall clock counts waiting for a core: on a busy machine every figure
grows, the ratios less so.

Run ``python benchmarks/bench_startup.py [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from _harness import _ROOT, machine_header, markdown_table

COMMANDS = {
    "python (nothing)": "pass",
    "import numpy": "import numpy",
    "import indexnet": "import indexnet",
    "indexnet --help": "import sys; sys.argv = ['indexnet', '--help']\n"
                       "from indexnet.cli import main\n"
                       "try:\n    main()\nexcept SystemExit:\n    pass",
}


def once(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=_ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def run(rounds: int) -> str:
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    names = list(COMMANDS)
    for r in range(rounds):
        for j in range(len(names)):
            name = names[(r + j) % len(names)]
            samples[name].append(once(COMMANDS[name]))
    rows = []
    for name in names:
        over_numpy = statistics.median(
            x / y for x, y in zip(samples[name], samples["import numpy"]))
        over_indexnet = statistics.median(
            x / y for x, y in zip(samples[name], samples["import indexnet"]))
        rows.append([name, f"{statistics.median(samples[name]) * 1e3:.0f}",
                     f"{over_numpy:.2f}×", f"{over_indexnet:.2f}×"])
    return markdown_table(["command", "median ms", "/ import numpy", "/ import indexnet"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds instead of 21")
    args = parser.parse_args(argv)
    print(machine_header(clock="wall"))
    print()
    print(run(5 if args.quick else 21))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
