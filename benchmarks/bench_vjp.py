"""Forward pass plus every gradient: indexnet's reverse accumulation vs torch autograd vs JAX.

Issue 11, item 4 ("gradients that reuse the forward pass"). Each case times
the value of an einsum and the gradients of ⟨g, value⟩ for all operands:

* ``indexnet value_and_grad``: one forward pass keeping its intermediates,
  then reverse accumulation through the same contraction tree;
* ``contract + vjp``: the value, then :func:`indexnet.vjp` on its own (which
  reruns the forward pass below its last step);
* ``before: contract + per-operand``: the value, then one planned einsum per
  gradient (``per_operand_vjp``: how vjp worked before);
* ``torch autograd``: ``torch.einsum`` then ``torch.autograd.grad`` (baseline);
* ``JAX jit(vjp)``: ``jax.jit`` of ``jax.vjp`` of ``jnp.einsum`` and its pullback;
* ``NumPy by hand``: the same matrix products written with ``@`` (the BLAS alone);
* ``torch by hand``: those products on torch tensors, no autograd (torch's BLAS
  alone). Set beside ``NumPy by hand``, it separates what each library's BLAS
  costs from what autograd and indexnet add;
* ``indexnet on tensors``: ``value_and_grad`` on the same torch tensors (the same
  reverse accumulation, each step on torch's backend): indexnet and torch
  autograd on one BLAS.

Everything runs in this one process on one thread: BLAS pinned by threadpoolctl,
torch by ``torch.set_num_threads(1)``, XLA by ``XLA_FLAGS`` set before JAX is
imported. Results are checked against each other before anything is timed.
The report adds each case's FLOPs (forward alone, forward and gradients, the
per-operand way) and, for the NumPy candidates, the peak memory one call
allocates (``tracemalloc``).

Targets: forward and gradients in no more FLOPs than torch's autograd (which
differentiates the same pairwise path), time ≤ 1.0× torch and ≤ 1.5× JAX.

Run ``python benchmarks/bench_vjp.py [--quick] [--size small]`` (``small``:
the cases at reduced sizes, for a run in seconds).
"""

from __future__ import annotations

import argparse
import os
import sys
import tracemalloc
from typing import Any

# one thread for XLA: must be set before jax is imported
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                           " intra_op_parallelism_threads=1").strip()

import numpy as np
from _harness import (
    CLOCKS,
    Candidate,
    Case,
    CaseResult,
    fmt_us,
    machine_header,
    markdown_table,
    optional_torch,
    run_case,
)

from indexnet import contract, vjp
from indexnet.einsum.backprop import gradient_flops, value_and_grad
from indexnet.einsum.vjp import per_operand_vjp

#: (repeats, seconds per sample) of a full and of a quick run.
FULL = (7, 0.3)
QUICK = (3, 0.1)

#: name -> (subscripts, full shapes, small shapes)
CASES: dict[str, tuple[str, list[tuple[int, ...]], list[tuple[int, ...]]]] = {
    "chain": ("ij,jk,kl->il", [(1024, 1024)] * 3, [(256, 256)] * 3),
    "ring": ("abcd,cdef,efab->", [(24,) * 4] * 3, [(12,) * 4] * 3),
    "batched": ("bij,bjk->bik", [(16, 256, 256)] * 2, [(8, 128, 128)] * 2),
    "seed layer": ("nd,dh->nh", [(256, 784), (784, 256)], [(128, 64), (64, 128)]),
}


def optional_jax() -> Any:
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    return jax


def flat(value: Any, grads: Any) -> np.ndarray:
    """Value and gradients as one flat NumPy vector, for the checks."""
    parts = [value, *grads]
    out = []
    for p in parts:
        if hasattr(p, "detach"):
            p = p.detach().numpy()
        out.append(np.asarray(p, dtype=np.float64).ravel())
    return np.concatenate(out)


def _inner(x: Any, y: Any) -> Any:
    """Σ x ∘ y: NumPy's BLAS dot, or the library's own multiply and sum."""
    return np.vdot(x, y) if isinstance(x, np.ndarray) else (x * y).sum()


def _chain(a: Any, b: Any, c: Any, g: Any) -> Any:
    t = a @ b
    gt = g @ c.T
    return t @ c, (gt @ b.T, a.T @ gt, t.T @ g)


def _ring(a: Any, b: Any, c: Any, g: Any) -> Any:
    n = a.shape[0]
    am, bm, cm = a.reshape(n * n, n * n), b.reshape(n * n, n * n), c.reshape(n * n, n * n)
    t = am @ bm  # (ab, ef)
    gt = g * cm.T
    grads = (gt @ bm.T, am.T @ gt, g * t.T)
    return _inner(t.T, cm), tuple(x.reshape(a.shape) for x in grads)


def _batched(a: Any, b: Any, g: Any) -> Any:
    return a @ b, (g @ b.swapaxes(1, 2), a.swapaxes(1, 2) @ g)


def _layer(x: Any, w: Any, g: Any) -> Any:
    return x @ w, (g @ w.T, x.T @ g)


#: The same matrix products written with ``@``: what the BLAS alone costs (NumPy or torch).
BY_HAND = {"chain": _chain, "ring": _ring, "batched": _batched, "seed layer": _layer}


def make_case(name: str, subscripts: str, shapes: list[tuple[int, ...]], dtype: str) -> Case:
    rng = np.random.default_rng(0)
    ops = [rng.standard_normal(s).astype(dtype) for s in shapes]
    g = np.asarray(rng.standard_normal(np.shape(contract(subscripts, *ops)))).astype(dtype)
    ns: dict[str, Any] = {"s": subscripts, "ops": ops, "g": g, "flat": flat,
                          "value_and_grad": value_and_grad, "contract": contract, "vjp": vjp,
                          "per_operand_vjp": per_operand_vjp}
    candidates = []
    torch = optional_torch()
    if torch is not None:
        tops = [torch.tensor(a, requires_grad=True) for a in ops]
        tg = torch.tensor(g)

        def torch_run() -> Any:
            out = torch.einsum(subscripts, *tops)
            return out, torch.autograd.grad(out, tops, tg)

        ns["torch_run"] = torch_run
        candidates.append(Candidate("torch autograd", "torch_run()", check="flat(*torch_run())"))
        ns["tplain"] = [torch.tensor(a) for a in (*ops, g)]
        candidates.append(Candidate("torch by hand", "by_hand(*tplain)",
                                    check="flat(*by_hand(*tplain))"))
        candidates.append(Candidate(
            "indexnet on tensors", "value_and_grad(s, *tplain[:-1], cotangent=tplain[-1])",
            check="flat(*value_and_grad(s, *tplain[:-1], cotangent=tplain[-1]))"))
    ns["by_hand"] = BY_HAND[name]
    candidates += [
        Candidate("indexnet value_and_grad", "value_and_grad(s, *ops, cotangent=g)",
                  check="flat(*value_and_grad(s, *ops, cotangent=g))"),
        Candidate("contract + vjp", "contract(s, *ops), vjp(s, *ops, cotangent=g)",
                  check="flat(contract(s, *ops), vjp(s, *ops, cotangent=g))"),
        Candidate("before: contract + per-operand",
                  "contract(s, *ops), per_operand_vjp(s, *ops, cotangent=g)",
                  check="flat(contract(s, *ops), per_operand_vjp(s, *ops, cotangent=g))"),
        Candidate("NumPy by hand", "by_hand(*ops, g)", check="flat(*by_hand(*ops, g))"),
    ]
    jax = optional_jax()
    if jax is not None:
        import jax.numpy as jnp

        def forward_and_back(cot: Any, *arrays: Any) -> Any:
            out, pullback = jax.vjp(lambda *xs: jnp.einsum(subscripts, *xs), *arrays)
            return out, pullback(cot)

        jitted = jax.jit(forward_and_back)
        jops = [jnp.asarray(a) for a in ops]
        jg = jnp.asarray(g)

        def jax_run() -> Any:
            return jax.block_until_ready(jitted(jg, *jops))

        ns["jax_run"] = jax_run
        candidates.append(Candidate("JAX jit(vjp)", "jax_run()", check="flat(*jax_run())"))
    rtol = 1e-9 if dtype == "float64" else 1e-4
    sizes = " × ".join("×".join(map(str, s)) for s in shapes)
    return Case(f"{name}: `{subscripts}` ({sizes})", candidates, ns, rtol=rtol,
                info={"subscripts": subscripts, "dtype": dtype})


def peak_bytes(stmt: str, ns: dict[str, Any]) -> int:
    """The most memory one call of ``stmt`` allocates beyond what was live before (NumPy)."""
    eval(stmt, ns)  # warm: compiled outside the measurement
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        result = eval(stmt, ns)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak - before


def run(repeats: int, sample_s: float, clock: str = "cpu", size: str = "full",
        dtype: str = "float64", only: list[str] | None = None,
        progress: bool = True) -> tuple[str, list[CaseResult]]:
    results = []
    time_rows, cost_rows = [], []
    for name, (subscripts, full, small) in CASES.items():
        if only and name not in only:
            continue
        shapes = full if size == "full" else small
        case = make_case(name, subscripts, shapes, dtype)
        if progress:
            print(f"  {case.label}", flush=True, file=sys.stderr)
        res = run_case(case, repeats=repeats, sample_s=sample_s, clock=clock)
        results.append(res)
        names = [c.name for c in case.candidates]
        ix = res.medians_s["indexnet value_and_grad"]
        vs_torch = ix / res.medians_s["torch autograd"] if "torch autograd" in names else None
        vs_jax = ix / res.medians_s["JAX jit(vjp)"] if "JAX jit(vjp)" in names else None
        row = [case.label]
        for cand in ("indexnet value_and_grad", "torch autograd", "JAX jit(vjp)",
                     "contract + vjp", "before: contract + per-operand", "NumPy by hand",
                     "torch by hand", "indexnet on tensors"):
            row.append(f"{fmt_us(res.medians_s[cand])}" if cand in names else "skipped")
        row.append("—" if vs_torch is None else f"{vs_torch:.2f}×")
        row.append("—" if vs_jax is None else f"{vs_jax:.2f}×")
        row.append(f"{ix / res.medians_s['NumPy by hand']:.2f}×")
        blas = (res.medians_s["NumPy by hand"] / res.medians_s["torch by hand"]
                if "torch by hand" in names else None)
        row.append("—" if blas is None else f"{blas:.2f}×")
        on_tensors = (res.medians_s["indexnet on tensors"] / res.medians_s["torch autograd"]
                      if "indexnet on tensors" in names else None)
        row.append("—" if on_tensors is None else f"{on_tensors:.2f}×")
        time_rows.append(row)
        flops = gradient_flops(subscripts, *shapes)
        ns = case.namespace
        mem_new = peak_bytes("value_and_grad(s, *ops, cotangent=g)", ns)
        mem_old = peak_bytes("(contract(s, *ops), per_operand_vjp(s, *ops, cotangent=g))", ns)
        cost_rows.append([
            case.label, f"{flops.forward:.3g}", f"{flops.value_and_grad:.3g}",
            f"{flops.value_and_grad / flops.forward:.2f}×",
            f"{flops.forward + flops.per_operand:.3g}",
            f"{flops.vjp:.3g}", f"{mem_new / 2**20:.1f}", f"{mem_old / 2**20:.1f}",
        ])
    text = "\n\n".join([
        f"## Forward and all gradients ({size} sizes, {dtype}, one thread)",
        machine_header(clock),
        "Median time per call in µs over interleaved rounds. The ratio columns: indexnet "
        "value_and_grad over torch autograd and over JAX jit(vjp) (targets ≤ 1.0×, ≤ 1.5×); "
        "over the same matrix products written with `@` on NumPy arrays (NumPy by hand: "
        "indexnet's own overhead); and NumPy by hand over the same products on torch "
        "tensors without autograd (torch by hand: NumPy's BLAS against torch's, no indexnet "
        "and no autograd in either); and indexnet value_and_grad on the same torch tensors "
        "over torch autograd (one BLAS for both).",
        markdown_table(["case", "indexnet value_and_grad", "torch autograd", "JAX jit(vjp)",
                        "contract + vjp", "before: contract + per-operand", "NumPy by hand",
                        "torch by hand", "indexnet on tensors", "÷ torch", "÷ JAX",
                        "÷ NumPy by hand", "NumPy by hand ÷ torch by hand",
                        "on tensors ÷ torch"], time_rows),
        "FLOPs as plans count them (a multiply-add is 2), and the peak memory one call "
        "allocates (tracemalloc, MiB; operands and cotangent not counted).",
        markdown_table(["case", "forward", "forward + gradients (reverse)", "÷ forward",
                        "before: forward + per-operand", "vjp alone (reverse)",
                        "peak MiB value_and_grad", "peak MiB before"], cost_rows),
    ])
    return text, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, short samples")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    parser.add_argument("--size", choices=["full", "small"], default="full")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--only", action="append", choices=sorted(CASES),
                        help="run only this case (repeatable)")
    args = parser.parse_args(argv)
    repeats, sample_s = QUICK if args.quick else FULL
    text, _ = run(repeats, sample_s, clock=args.clock, size=args.size, dtype=args.dtype,
                  only=args.only)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
