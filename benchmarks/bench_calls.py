"""Per-call cost of the entry points people call: ``contract`` and ``vjp`` on a warm cache.

On 2×2 arrays the arithmetic is nothing, so each column's excess over the
hand-written call is that entry point's fixed overhead: ``indexnet.contract``
(a dict lookup on subscripts, shapes and dtypes, then the compiled kernel)
against ``a @ b``, a held ``Plan`` and ``np.einsum``; three operands against
``a @ b @ c`` and ``np.einsum``; ``indexnet.vjp`` against the two hand-written
gradient products; ``Program.evaluate`` of a one-line program against
``a @ b``. Targets (issue 11): ``contract`` at most +1 µs over ``a @ b``, and
at most ``np.einsum``'s own excess with three operands; "the same for
``vjp`` and ``Program.evaluate``".

The ``cache check alone`` rows are a floor: the same call written by hand
with nothing but what a warm cache must do before it may run the kernels
unchecked (one dict lookup keyed on every array's class, shape and dtype,
as indexnet's key is, and for ``evaluate`` the keyword arrays and the
returned dict). Whatever indexnet costs above that row is its own overhead.

Run ``python benchmarks/bench_calls.py [--quick]``.
"""

from __future__ import annotations

import numpy as np
from _harness import Candidate, Case, CaseResult, fmt_us, markdown_table, run_case, script_main

import indexnet
from indexnet.program import parse

#: (repeats, seconds per sample) of a full and of a quick run.
FULL = (61, 0.002)
QUICK = (9, 0.001)


def checked_vjp(subscripts: str, *operands: np.ndarray, cotangent: np.ndarray,
                optimize: str = "auto", wrt: None = None) -> list[np.ndarray]:
    """The two gradient products behind the key vjp builds: the floor of a checked cache."""
    a, b = operands
    _KNOWN[(subscripts, optimize.__class__, optimize, wrt.__class__, wrt, cotangent.__class__,
            cotangent.shape, cotangent.dtype, a.__class__, a.shape, a.dtype, b.__class__,
            b.shape, b.dtype)]
    return [cotangent @ b.T, a.T @ cotangent]


def checked_evaluate(*, optimize: str = "auto", **arrays: np.ndarray) -> dict[str, np.ndarray]:
    """``y = A @ B`` behind the key Program.evaluate builds: the floor of a checked cache."""
    (first, a), (second, b) = arrays.items()
    _KNOWN[(optimize.__class__, optimize, first, a.__class__, a.shape, a.dtype,
            second, b.__class__, b.shape, b.dtype)]
    return {"y": a @ b}


#: The keys the floors look up, filled by :func:`cases`.
_KNOWN: dict[tuple[object, ...], bool] = {}


def cases() -> list[Case]:
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal((2, 2)) for _ in range(3))
    f64 = a.dtype
    _KNOWN[("ij,jk->ik", str, "auto", type(None), None, *(np.ndarray, (2, 2), f64) * 3)] = True
    _KNOWN[(str, "auto", "A", np.ndarray, (2, 2), f64, "B", np.ndarray, (2, 2), f64)] = True
    ns = {"np": np, "ix": indexnet, "a": a, "b": b, "c": c,
          "p2": indexnet.plan("ij,jk->ik", a, b), "p3": indexnet.plan("ij,jk,kl->il", a, b, c),
          "program": parse("y^i_k = A^i_j B^j_k"), "checked_vjp": checked_vjp,
          "checked_evaluate": checked_evaluate}
    two = Case("2 operands, 2×2 `ij,jk->ik`", [
        Candidate("a @ b", "a @ b"),
        Candidate("indexnet.contract", "ix.contract('ij,jk->ik', a, b)"),
        Candidate("held Plan", "p2(a, b)"),
        Candidate("np.einsum", "np.einsum('ij,jk->ik', a, b)"),
    ], ns, rtol=1e-12)
    three = Case("3 operands, 2×2 `ij,jk,kl->il`", [
        Candidate("a @ b @ c", "a @ b @ c"),
        Candidate("indexnet.contract", "ix.contract('ij,jk,kl->il', a, b, c)"),
        Candidate("held Plan", "p3(a, b, c)"),
        Candidate("np.einsum", "np.einsum('ij,jk,kl->il', a, b, c)"),
    ], ns, rtol=1e-12)
    grads = Case("vjp of `ij,jk->ik`, 2×2", [
        Candidate("c @ b.T, a.T @ c", "(c @ b.T, a.T @ c)", check="np.stack((c @ b.T, a.T @ c))"),
        Candidate("cache check alone", "checked_vjp('ij,jk->ik', a, b, cotangent=c)",
                  check="np.stack(checked_vjp('ij,jk->ik', a, b, cotangent=c))"),
        Candidate("indexnet.vjp", "ix.vjp('ij,jk->ik', a, b, cotangent=c)",
                  check="np.stack(ix.vjp('ij,jk->ik', a, b, cotangent=c))"),
    ], ns, rtol=1e-12)
    evaluate = Case("Program.evaluate of `y^i_k = A^i_j B^j_k`, 2×2", [
        Candidate("a @ b", "a @ b"),
        Candidate("cache check alone", "checked_evaluate(A=a, B=b)",
                  check="checked_evaluate(A=a, B=b)['y']"),
        Candidate("Program.evaluate", "program.evaluate(A=a, B=b)",
                  check="program.evaluate(A=a, B=b)['y']"),
    ], ns, rtol=1e-12)
    return [two, three, grads, evaluate]


def run(
    repeats: int, sample_s: float, clock: str = "cpu", progress: bool = True
) -> tuple[str, list[CaseResult]]:
    rows, results = [], []
    for case in cases():
        if progress:
            print(f"  {case.label}", flush=True)
        res = run_case(case, repeats=repeats, sample_s=sample_s, clock=clock)
        results.append(res)
        for cand in case.candidates:
            excess = "—" if cand.name == res.baseline else f"{res.excess_s[cand.name] * 1e6:+.2f}"
            rows.append([case.label, cand.name, fmt_us(res.medians_s[cand.name]),
                         f"{res.ratios[cand.name]:.2f}×", excess])
    headers = ["case", "candidate", "median (µs)", "ratio", "above the hand-written call (µs)"]
    return markdown_table(headers, rows), results


def main(argv: list[str] | None = None) -> int:
    return script_main(__doc__ or "", run, FULL, QUICK, argv)


if __name__ == "__main__":
    raise SystemExit(main())
