"""Derived programs: the contractions their products share, computed once, against none shared.

Issue 11, item 4 ("the derived programs of the index language ... reusing the
forward intermediates"). A program ``y = M₁ M₂ … Mₖ``, ``L = Σ G ∘ y`` is
derived (``Program.derive``) and evaluated whole: the forward pass and every
dL/dMᵢ. The candidates:

* ``NumPy by hand``: the forward pass (y and L) and reverse accumulation written
  with ``@``, left to right (the baseline: each forward prefix kept, each gradient
  one product more);
* ``derived, shared``: the compiled derived program as ``evaluate`` runs it, the
  pairs of tensors that several products contract the same way done once a call
  (:mod:`indexnet.evaluate.shared`);
* ``derived, unshared``: the same program compiled with ``share=False``, every
  product planned on its own (how it ran before);
* ``indexnet value_and_grad``: the einsum of y and its vjp by reverse accumulation
  (y only, not L; its path may differ from the left-to-right one).

All candidates are checked against the baseline before timing. The report adds each
compiled program's FLOPs.

Run ``python benchmarks/bench_shared.py [--quick]``.
"""

from __future__ import annotations

import numpy as np
from _harness import Candidate, Case, CaseResult, fmt_us, markdown_table, run_case, script_main

import indexnet
from indexnet.evaluate.execute import Compiled

#: (repeats, seconds per sample) of a full and of a quick run.
FULL = (21, 0.05)
QUICK = (5, 0.02)

#: Each case: a label and the sizes along the chain (k matrices take k + 1 sizes).
CASES = [
    ("3 matrices, 300·400·500·600", [300, 400, 500, 600]),
    ("4 matrices, 256·512·128·512·256", [256, 512, 128, 512, 256]),
]


def chain_program(k: int) -> str:
    """``y = M0 M1 … M(k-1)``, ``L = Σ G ∘ y`` in the index language."""
    letters = "abcdefgh"[:k + 1]
    decls = "".join(f"param M{m}^{letters[m]}_{letters[m + 1]}\n" for m in range(k))
    factors = " ".join(f"M{m}^{letters[m]}_{letters[m + 1]}" for m in range(k))
    first, last = letters[0], letters[k]
    return (f"input G^{first}_{last}\n{decls}y^{first}_{last} = {factors}\n"
            f"L = sum_{{{first}{last}}} G^{first}_{last} y^{first}_{last}")


def by_hand(mats: list[np.ndarray], g: np.ndarray) -> list[np.ndarray]:
    """The forward pass (y and L) keeping its prefixes, then reverse accumulation, with ``@``."""
    prefixes = [mats[0]]
    for m in mats[1:-1]:
        prefixes.append(prefixes[-1] @ m)
    y = prefixes[-1] @ mats[-1]
    np.vdot(g, y)  # L, as the program computes it
    grads = [np.empty(0)] * len(mats)
    back = g  # dL/d(prefix · M_last …)
    for m in range(len(mats) - 1, 0, -1):
        grads[m] = prefixes[m - 1].T @ back
        back = back @ mats[m].T
    grads[0] = back
    return grads


def cases() -> tuple[list[Case], list[list[str]]]:
    rng = np.random.default_rng(0)
    out, flops = [], []
    for label, sizes in CASES:
        k = len(sizes) - 1
        program = indexnet.parse(chain_program(k)).derive()
        mats = [rng.standard_normal((sizes[m], sizes[m + 1])) for m in range(k)]
        g = rng.standard_normal((sizes[0], sizes[-1]))
        env = {"G": g, **{f"M{m}": mats[m] for m in range(k)}}
        index = dict(zip("abcdefgh", sizes))
        shared = Compiled(program, index, "float64")  # what evaluate() compiles
        alone = Compiled(program, index, "float64", share=False)
        names = [f"dL/dM{m}" for m in range(k)]
        eq = ",".join(f"{'abcdefgh'[m]}{'abcdefgh'[m + 1]}" for m in range(k)) + \
            f"->a{'abcdefgh'[k]}"
        ns = {"np": np, "ix": indexnet, "env": env, "mats": mats, "g": g, "by_hand": by_hand,
              "shared": shared, "alone": alone, "names": names, "eq": eq}
        check = "np.concatenate([x.ravel() for x in {}])"
        out.append(Case(label, [
            Candidate("NumPy by hand", "by_hand(mats, g)", check=check.format("by_hand(mats, g)")),
            Candidate("derived, shared", "shared(env)",
                      check=check.format("[shared(env)[n] for n in names]")),
            Candidate("derived, unshared", "alone(env)",
                      check=check.format("[alone(env)[n] for n in names]")),
            Candidate("indexnet value_and_grad", "ix.value_and_grad(eq, *mats, cotangent=g)",
                      check=check.format("ix.value_and_grad(eq, *mats, cotangent=g)[1]")),
        ], ns, rtol=1e-8))
        flops.append([label, f"{sum(p.flops for p in shared.plans):.3e}",
                      f"{sum(p.flops for p in alone.plans):.3e}"])
    return out, flops


def run(
    repeats: int, sample_s: float, clock: str = "cpu", progress: bool = True
) -> tuple[str, list[CaseResult]]:
    all_cases, flops = cases()
    rows, results = [], []
    for case in all_cases:
        if progress:
            print(f"  {case.label}", flush=True)
        res = run_case(case, repeats=repeats, sample_s=sample_s, clock=clock)
        results.append(res)
        for cand in case.candidates:
            rows.append([case.label, cand.name, fmt_us(res.medians_s[cand.name]),
                         f"{res.ratios[cand.name]:.2f}×"])
    table = markdown_table(["case", "candidate", "median (µs)", "ratio to by hand"], rows)
    flops_table = markdown_table(["case", "FLOPs, shared", "FLOPs, unshared"], flops)
    return f"{table}\n\n{flops_table}", results


def main(argv: list[str] | None = None) -> int:
    return script_main(__doc__ or "", run, FULL, QUICK, argv)


if __name__ == "__main__":
    raise SystemExit(main())
