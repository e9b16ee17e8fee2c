"""How often ``check`` names the planted mistake of a wrong claim, per category.

Runs the corpus of tests/diagnosis_corpus.py (wrong claims over realistic
programs, each with its planted mistake) and prints, per category, the
cases, how many diagnoses name the planted mistake, how many say that no
simple correction fits, and how many name a different mistake (which must be
none); batch 2 of the corpus was written after the diagnosis code and is
reported apart. ``--misses`` lists the cases not named, with their diagnoses.
``--corpus heldout`` runs instead the held-out corpus of
tests/diagnosis_heldout.py (other programs, written apart from the diagnosis
code).

    python benchmarks/diagnosis_rate.py [--corpus main|heldout] [--misses]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from diagnosis_corpus import CATEGORIES, diagnose_all, names_mistake, rates  # noqa: E402
from diagnosis_heldout import diagnose_heldout  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Print the figure per category; exit 1 when a diagnosis names a wrong mistake."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the cases not named")
    parser.add_argument("--corpus", choices=("main", "heldout"), default="main",
                        help="the corpus to run: tests/diagnosis_corpus.py (main, the default) "
                             "or tests/diagnosis_heldout.py (heldout)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = diagnose_heldout() if args.corpus == "heldout" else diagnose_all()
    seconds = time.perf_counter() - start
    table = rates(results)
    print(f"{'category':<20} {'cases':>5} {'named':>6} {'rate':>6} {'unsure':>6} {'wrong':>5}")
    for key in [*CATEGORIES, "all"]:
        if key not in table:
            continue
        n, k, w = table[key]
        print(f"{key:<20} {n:>5} {k:>6} {k / n:>6.1%} {n - k - w:>6} {w:>5}")
    for batch in sorted({c.batch for c, _, _ in results}):
        n, k, w = rates([r for r in results if r[0].batch == batch])["all"]
        print(f"batch {batch:<14} {n:>5} {k:>6} {k / n:>6.1%} {n - k - w:>6} {w:>5}")
    print(f"({len(results)} wrong claims over {len({c.program for c, _, _ in results})} "
          f"programs, {seconds:.1f} s)")
    if args.misses:
        for case, failed, diagnosis in results:
            if not names_mistake(case, diagnosis):
                print(f"\n[{case.category}] {case.program}: {case.wrong}\n  -> "
                      f"{diagnosis if failed else 'PASSED'}")
    return 1 if table["all"][2] else 0


if __name__ == "__main__":
    sys.exit(main())
