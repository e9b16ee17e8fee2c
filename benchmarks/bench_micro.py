"""Fixed cost of a call: a cached two-operand plan on 2×2 arrays vs ``a @ b``.

On 2×2 arrays the arithmetic is nothing, so the difference between the
cached :class:`indexnet.Plan` and ``a @ b`` is the plan's per-call overhead
(argument checks, dispatch to the compiled kernel). A prebuilt opt_einsum
expression, ``np.matmul`` and per-call ``np.einsum`` are shown beside it.

Run ``python benchmarks/bench_micro.py [--quick]``.
"""

from __future__ import annotations

import numpy as np
import opt_einsum as oe
from _harness import (
    Candidate,
    Case,
    CaseResult,
    fmt_us,
    markdown_table,
    run_case,
    script_main,
)

import indexnet
from indexnet import SEED

#: A plan may cost at most this much more than ``a @ b`` per call (seconds).
TARGET_EXCESS_S = 2e-6
DTYPES = ("float64", "float32")
#: (repeats, seconds per sample) of a full and of a quick run.
FULL = (101, 0.002)
QUICK = (7, 0.001)


def build_case(dtype: str) -> Case:
    subscripts = SEED["forward"].einsum  # "nd,dh->nh"
    assert subscripts is not None
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((2, 2)).astype(dtype) for _ in range(2))
    ns = {
        "np": np,
        "a": a,
        "b": b,
        "s": subscripts,
        "p": indexnet.plan(subscripts, a, b),
        "expr": oe.contract_expression(subscripts, a.shape, b.shape),
    }
    return Case(
        label=f"2×2 `{subscripts}` {dtype}",
        candidates=[
            Candidate("a @ b", "a @ b"),
            Candidate("indexnet plan", "p(a, b)"),
            Candidate("oe expr", "expr(a, b)"),
            Candidate("np.matmul", "np.matmul(a, b)"),
            Candidate("np.einsum", "np.einsum(s, a, b)"),
        ],
        namespace=ns,
        info={"dtype": dtype},
        rtol=1e-6 if dtype == "float32" else 1e-12,
    )


def run(
    repeats: int, sample_s: float, clock: str = "cpu", progress: bool = True
) -> tuple[str, list[CaseResult]]:
    results = []
    rows = []
    for dtype in DTYPES:
        case = build_case(dtype)
        if progress:
            print(f"  {case.label}", flush=True)
        res = run_case(case, repeats=repeats, sample_s=sample_s, clock=clock)
        results.append(res)
        for c in case.candidates:
            excess = res.excess_s[c.name]
            rows.append(
                [
                    dtype,
                    c.name,
                    f"`{c.stmt}`",
                    fmt_us(res.medians_s[c.name]),
                    f"{res.ratios[c.name]:.2f}×",
                    "—" if c.name == res.baseline else f"{excess * 1e6:+.2f}",
                ]
            )
    headers = ["dtype", "candidate", "call", "median (µs)", "ratio", "above `a @ b` (µs)"]
    text = markdown_table(headers, rows)
    return text, results


def main(argv: list[str] | None = None) -> int:
    return script_main(__doc__ or "", run, FULL, QUICK, argv)


if __name__ == "__main__":
    raise SystemExit(main())
