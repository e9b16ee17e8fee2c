"""Where indexnet's training step spends the time that hand-written NumPy does not.

Splits one step into stages and times each stage of
:meth:`indexnet.Network.train_step` against the same stage of the
hand-written NumPy network of :mod:`bench_train_step` (interleaved, one
thread, CPU clock, as every benchmark here), then prices the per-call
overhead of every plan the step calls, and lists the Python functions the
step calls (cProfile call counts per step).

Run ``python benchmarks/profile_train_step.py [--size digits|mnist] [--dtype float64|float32]``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from typing import Any

import numpy as np
from _harness import CLOCKS, Candidate, Case, fmt_us, markdown_table, run_case
from bench_seed_formulas import USES
from bench_train_step import LR, SIZES, build_case

from indexnet import SEED


def _hand_forward(h: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a1 = x @ h.W1
    a1 += h.b1
    s = 0.5 * (1.0 + np.tanh(0.5 * a1))
    p = s @ h.W2
    p += h.b2
    p -= p.max(axis=1, keepdims=True)
    np.exp(p, out=p)
    p /= p.sum(axis=1, keepdims=True)
    return s, p


def _hand_loss(p: np.ndarray, y: np.ndarray) -> float:
    loss = -float(np.vdot(y, np.log(np.maximum(p, np.finfo(p.dtype).tiny)))) / y.shape[0]
    if not np.isfinite(loss):
        raise FloatingPointError(f"loss is {loss}")
    return loss


def _hand_backward(h: Any, x: np.ndarray, s: np.ndarray, p: np.ndarray, y: np.ndarray) -> tuple:
    d2 = (p - y) * (1.0 / x.shape[0])
    gW2 = s.T @ d2
    gb2 = d2.sum(axis=0)
    d1 = (d2 @ h.W2.T) * (s * (1.0 - s))
    return x.T @ d1, d1.sum(axis=0), gW2, gb2


def _hand_update(h: Any, grads: tuple, lr: float) -> None:
    gW1, gb1, gW2, gb2 = grads
    h.W1 -= lr * gW1
    h.b1 -= lr * gb1
    h.W2 -= lr * gW2
    h.b2 -= lr * gb2


def stage_table(size: str, dtype: str, repeats: int, sample_s: float, clock: str) -> str:
    base = build_case(size, dtype)
    ns = dict(base.namespace)
    net, hand, x, y = ns["net"], ns["hand"], ns["x"], ns["y"]
    n = x.shape[0]
    s, p = _hand_forward(hand, x)
    xs = net._forward(x)
    ns.update(
        xs=xs, s=s, p=p, n=n, grads=_hand_backward(hand, x, s, p, y),
        fwd=_hand_forward, lss=_hand_loss, bwd=_hand_backward, upd=_hand_update,
    )
    stages = [
        ("argument checks", "None", "net._inputs(x), net._targets(y, n)"),
        ("forward (1.1)–(1.2)", "fwd(hand, x)", "net._forward(x)"),
        ("loss (1.3)", "lss(p, y)", "net._loss(xs, y)"),
        ("backward (1.4)–(1.9)", "bwd(hand, x, s, p, y)", "net._backward(xs, y)"),
        ("forward+loss+backward", "lss(fwd(hand, x)[1], y)", "net.loss_and_gradients(x, y)"),
        ("whole step", "hand.train_step(x, y, lr)", "net.train_step(x, y, lr)"),
    ]
    rows = []
    for name, hand_stmt, net_stmt in stages:
        if name == "forward+loss+backward":
            hand_stmt = "sp = fwd(hand, x); lss(sp[1], y); bwd(hand, x, sp[0], sp[1], y)"
        case = Case(
            label=name,
            candidates=[Candidate("NumPy", hand_stmt), Candidate("indexnet", net_stmt)],
            namespace=ns,
            custom_check=lambda: None,  # the train-step benchmark checks the results
        )
        res = run_case(case, repeats=repeats, sample_s=sample_s, clock=clock)
        rows.append(
            [
                name,
                f"`{hand_stmt}`",
                f"`{net_stmt}`",
                fmt_us(res.medians_s["NumPy"]),
                fmt_us(res.medians_s["indexnet"]),
                f"{res.excess_s['indexnet'] * 1e6:+.1f}",
            ]
        )
    headers = ["stage", "NumPy", "indexnet", "NumPy µs", "indexnet µs", "indexnet − NumPy µs"]
    return markdown_table(headers, rows)


def plan_overhead_table(size: str, dtype: str, repeats: int, sample_s: float, clock: str) -> str:
    """Per-call cost of each plan the step calls, split into kernel and ``Plan.__call__``.

    Three candidates per plan: the hand-written NumPy call, the plan's compiled
    kernel called bare (``plan._run``), and the plan itself.
    """
    case = build_case(size, dtype)
    net, x, y = case.namespace["net"], case.namespace["x"], case.namespace["y"]
    net.train_step(x, y, LR)  # makes the plans
    batch = net._plans[x.shape[0]]
    plans: list[tuple[str, Any]] = []
    for i, layer in enumerate(batch.layers, start=1):
        for field in ("forward", "weight_gradient", "bias_gradient", "backprop", "hadamard"):
            plan = getattr(layer, field)
            if plan is not None:
                plans.append((f"layer {i} {field}", plan))
    plans += [("softmax_sum", batch.softmax_sum), ("loss", batch.loss)]
    numpy_call = {SEED[u.key].einsum: u.numpy for u in USES}
    rng = np.random.default_rng(0)
    rows = []
    totals = [0.0, 0.0, 0.0]
    for name, plan in plans:
        ops = [rng.standard_normal(sh).astype(dtype) for sh in plan.shapes]
        names = ["a", "b"][: len(ops)]
        args = ", ".join(names)
        ns = {"np": np, "p": plan, "run": plan._run, **dict(zip(names, ops))}
        res = run_case(
            Case(
                label=name,
                candidates=[
                    Candidate("NumPy", numpy_call[str(plan.subscripts)]),
                    Candidate("kernel", f"run({args})"),
                    Candidate("plan", f"p({args})"),
                ],
                namespace=ns,
                rtol=1e-4 if dtype == "float32" else 1e-9,
            ),
            repeats=repeats,
            sample_s=sample_s,
            clock=clock,
        )
        kernel = res.excess_s["kernel"]
        call = res.excess_s["plan"] - kernel
        total = res.excess_s["plan"]
        for j, v in enumerate((kernel, call, total)):
            totals[j] += v
        steps = "; ".join(str(st) for st in plan.steps)
        rows.append(
            [name, f"`{numpy_call[str(plan.subscripts)]}`", steps,
             fmt_us(res.medians_s["NumPy"]),
             f"{kernel * 1e6:+.2f}", f"{call * 1e6:+.2f}", f"{total * 1e6:+.2f}"]
        )
    rows.append(["**sum per step**", "", "", ""] + [f"**{t * 1e6:+.2f}**" for t in totals])
    headers = ["plan", "NumPy call", "compiled steps", "NumPy µs", "kernel − NumPy µs",
               "`__call__` − kernel µs", "plan − NumPy µs"]
    return markdown_table(headers, rows)


def call_counts(size: str, dtype: str, steps: int = 200, top: int = 25) -> str:
    """cProfile of ``steps`` steps: calls per step and own time per step (cProfile-inflated)."""
    case = build_case(size, dtype)
    net, x, y = case.namespace["net"], case.namespace["x"], case.namespace["y"]
    net.train_step(x, y, LR)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        net.train_step(x, y, LR)
    prof.disable()
    stats = pstats.Stats(prof)
    rows = []
    entries = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])  # type: ignore[attr-defined]
    for (filename, line, func), (_cc, ncalls, tottime, _ct, _callers) in entries[:top]:
        where = f"{filename.rsplit('/', 1)[-1]}:{line}" if line else "(builtin)"
        rows.append([f"`{func}`", where, f"{ncalls / steps:g}", f"{tottime / steps * 1e6:.2f}"])
    headers = ["function", "where", "calls / step", "own µs / step (profiled)"]
    return markdown_table(headers, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="digits")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--repeats", type=int, default=41)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    args = parser.parse_args(argv)
    from _harness import single_thread

    with single_thread():
        print(f"## Stages, {args.size} {args.dtype}\n")
        print(stage_table(args.size, args.dtype, args.repeats, 0.002, args.clock))
        print(f"\n## Plan call overhead, {args.size} {args.dtype}\n")
        print(plan_overhead_table(args.size, args.dtype, args.repeats, 0.002, args.clock))
        print(f"\n## Python calls per step (cProfile), {args.size} {args.dtype}\n")
        print(call_counts(args.size, args.dtype))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
