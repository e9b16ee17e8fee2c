"""Every seed formula: the cached indexnet Plan vs hand-written NumPy vs einsum/opt_einsum.

Each einsum of :data:`indexnet.SEED` is timed where the seed's network uses
it, at the two sizes of the issue (digits: n=128, d=64, h=128, k=10; mnist:
n=256, d=784, h=256, k=10), in float64 and float32. Candidates:

* ``NumPy``: the best hand-written call (``a @ b``, ``a.T @ b``, ``a.sum(0)``,
  ``np.vdot(a, b)``, …) — the baseline every ratio divides by;
* ``indexnet``: the cached :class:`indexnet.Plan`, built before timing;
* ``np.einsum``: ``np.einsum(s, …, optimize=True)`` per call, as users call it;
* ``oe.contract``: ``opt_einsum.contract(s, …)`` per call, as users call it;
* ``oe expr``: a prebuilt ``opt_einsum.contract_expression``.

Run ``python benchmarks/bench_seed_formulas.py [--quick]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import opt_einsum as oe
from _harness import (
    Candidate,
    Case,
    CaseResult,
    cell,
    markdown_table,
    run_case,
    script_main,
)

import indexnet
from indexnet import SEED

SIZES = {
    "digits": {"n": 128, "d": 64, "h": 128, "k": 10},
    "mnist": {"n": 256, "d": 784, "h": 256, "k": 10},
}
DTYPES = ("float64", "float32")
CANDIDATES = ("NumPy", "indexnet", "np.einsum", "oe.contract", "oe expr")
RTOL = {"float64": 1e-9, "float32": 1e-4}
#: (repeats, seconds per sample) of a full and of a quick run.
FULL = (51, 0.002)
QUICK = (5, 0.001)


@dataclass(frozen=True)
class Use:
    """One place the network uses a seed formula: operand shapes and the NumPy call."""

    key: str  # SEED key
    where: str
    shapes: tuple[tuple[str, ...], ...]  # operand shapes as size letters of SIZES
    numpy: str  # the hand-written statement on operands a (and b)


#: Every use of a seed einsum in the 2-layer network (d → h → k), layer by layer.
USES = (
    Use("forward", "layer 1: x W₁", (("n", "d"), ("d", "h")), "a @ b"),
    Use("forward", "layer 2: s W₂", (("n", "h"), ("h", "k")), "a @ b"),
    Use("weight_gradient", "layer 1: xᵀ δ₁", (("n", "d"), ("n", "h")), "a.T @ b"),
    Use("weight_gradient", "layer 2: sᵀ δ₂", (("n", "h"), ("n", "k")), "a.T @ b"),
    Use("backprop", "δ₂ W₂ᵀ", (("n", "k"), ("h", "k")), "a @ b.T"),
    Use("bias_gradient", "layer 1: Σₙ δ₁", (("n", "h"),), "a.sum(0)"),
    Use("bias_gradient", "layer 2: Σₙ δ₂", (("n", "k"),), "a.sum(0)"),
    Use("hidden_error", "s(1−s) ⊙ e", (("n", "h"), ("n", "h")), "a * b"),
    Use("softmax", "softmax row sums", (("n", "k"),), "a.sum(1)"),
    Use("loss", "⟨Y, log Ŷ⟩", (("n", "k"), ("n", "k")), "np.vdot(a, b)"),
    Use("l2_loss", "‖W₁‖²", (("d", "h"), ("d", "h")), "np.vdot(a, b)"),
    Use("l2_loss", "‖W₂‖²", (("h", "k"), ("h", "k")), "np.vdot(a, b)"),
)


def _covered() -> None:
    """Every seed formula with an einsum has at least one use here."""
    with_einsum = {f.einsum for f in SEED.values() if f.einsum}
    missing = with_einsum - {SEED[u.key].einsum for u in USES}
    if missing:
        raise AssertionError(f"seed formulas without a benchmark: {sorted(missing)}")


def build_case(use: Use, size: str, dtype: str, seed: int = 0) -> Case:
    dims = SIZES[size]
    subscripts = SEED[use.key].einsum
    assert subscripts is not None
    rng = np.random.default_rng(seed)
    shapes = [tuple(dims[c] for c in shape) for shape in use.shapes]
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    names = ["a", "b"][: len(arrays)]
    args = ", ".join(names)
    ns = {
        "np": np,
        "oe": oe,
        "s": subscripts,
        "p": indexnet.plan(subscripts, *arrays),  # planned here, once
        "expr": oe.contract_expression(subscripts, *shapes),  # parsed here, once
        **dict(zip(names, arrays)),
    }
    candidates = [
        Candidate("NumPy", use.numpy),
        Candidate("indexnet", f"p({args})"),
        Candidate("np.einsum", f"np.einsum(s, {args}, optimize=True)"),
        Candidate("oe.contract", f"oe.contract(s, {args})"),
        Candidate("oe expr", f"expr({args})"),
    ]
    shape_text = " · ".join("×".join(map(str, s)) for s in shapes)
    return Case(
        label=f"{subscripts} {use.where} [{size} {dtype}]",
        candidates=candidates,
        namespace=ns,
        info={
            "formula": f"{SEED[use.key].equation} `{subscripts}`",
            "use": use.where,
            "shapes": shape_text,
            "numpy": f"`{use.numpy}`",
            "size": size,
            "dtype": dtype,
        },
        rtol=RTOL[dtype],
    )


def run(
    repeats: int, sample_s: float, clock: str = "cpu", progress: bool = True
) -> tuple[str, list[CaseResult]]:
    """Run every (size, dtype, use); return the markdown section and the results."""
    _covered()
    sections = []
    results = []
    for size in SIZES:
        for dtype in DTYPES:
            rows = []
            for use in USES:
                case = build_case(use, size, dtype)
                if progress:
                    print(f"  {case.label}", flush=True)
                res = run_case(case, repeats=repeats, sample_s=sample_s, clock=clock)
                results.append(res)
                i = res.info
                rows.append(
                    [i["formula"], i["use"], i["shapes"], i["numpy"]]
                    + [cell(res, name) for name in CANDIDATES]
                )
            dims = ", ".join(f"{k}={v}" for k, v in SIZES[size].items())
            headers = ["formula", "use", "shapes", "NumPy call", *CANDIDATES]
            sections.append(f"### {size} ({dims}), {dtype}\n\n" + markdown_table(headers, rows))
    return "\n\n".join(sections), results


def main(argv: list[str] | None = None) -> int:
    return script_main(__doc__ or "", run, FULL, QUICK, argv)


if __name__ == "__main__":
    raise SystemExit(main())
