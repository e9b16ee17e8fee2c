"""One training step of the seed's network on torch tensors (CPU, one thread).

Issue 12, item 2: ``Network(..., backend="torch")`` trains on torch tensors,
and its step is at most 1.05× the same step written by hand in torch with no
autograd. Candidates, from identical initial weights on the same batch:

* ``torch by hand`` (the baseline): the seed's step written directly in torch,
  as a person would: ``x @ W1 + b1``, ``torch.sigmoid``, a softmax by
  ``amax``/``exp_``/row sums, the mean cross-entropy as one flat dot product,
  the seed's L2 term (λ = 1e-4, as the seed has it) and its gradient ``λW``,
  ``δ = (ŷ − y)/N``, ``xᵀδ``, ``Σₙ δ``, ``δWᵀ ⊙ s(1−s)``, then in-place SGD
  (``W.sub_(gW, alpha=lr)``), the loss read back with ``.item()`` and checked;
* ``indexnet torch``: :meth:`indexnet.Network.train_step` on a network made
  with ``backend="torch", device="cpu"``: every product is a seed formula
  planned by indexnet and lowered to torch;
* ``torch autograd``: the idiomatic torch version (``cross_entropy``,
  ``backward()``), for reference.

Before timing, one step of each must give the hand-written step's loss and
updated weights (rtol 1e-9 in float64, 1e-4 in float32), or the benchmark
stops. torch is pinned to one thread (``torch.set_num_threads(1)``, by the
harness). Without torch the script says so and exits 0.

Run ``python benchmarks/bench_train_torch.py [--quick]``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from _harness import (
    Candidate,
    Case,
    CaseResult,
    cell,
    check_close,
    markdown_table,
    optional_torch,
    run_case,
    script_main,
)
from bench_train_step import DTYPES, L2, LR, PARAMS, RTOL, _batch

from indexnet import Network

SIZES = {
    "digits": {"layers": (64, 128, 10), "batch": 128},
    "mnist": {"layers": (784, 256, 10), "batch": 256},
}
#: Ratio to the hand-written torch step that indexnet's torch step must not exceed.
TARGET = 1.05
FULL = (61, 0.01)
QUICK = (5, 0.002)


class TorchByHand:
    """The seed's step written by hand in torch, no autograd (the baseline)."""

    def __init__(self, torch: Any, params: dict[str, np.ndarray], l2: float) -> None:
        self.torch = torch
        self.W1, self.b1, self.W2, self.b2 = (torch.tensor(params[k]) for k in PARAMS)
        self.l2 = l2

    def parameters(self) -> dict[str, Any]:
        return {"W1": self.W1, "b1": self.b1, "W2": self.W2, "b2": self.b2}

    def train_step(self, x: Any, y: Any, lr: float) -> float:
        torch = self.torch
        W1, b1, W2, b2, l2 = self.W1, self.b1, self.W2, self.b2, self.l2
        n = x.shape[0]
        s = x @ W1
        s += b1
        s = torch.sigmoid(s)
        p = s @ W2
        p += b2
        p -= p.amax(1, keepdim=True)
        p.exp_()
        p /= p.sum(1, keepdim=True)
        tiny = torch.finfo(p.dtype).tiny
        loss = (y.reshape(-1) @ torch.log(p.clamp_min(tiny)).reshape(-1)) * (-1.0 / n)
        if l2:
            loss = loss + 0.5 * l2 * (W1.reshape(-1) @ W1.reshape(-1)
                                      + W2.reshape(-1) @ W2.reshape(-1))
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(f"loss is {value}")
        d2 = (p - y) * (1.0 / n)
        gW2 = s.T @ d2
        gb2 = d2.sum(0)
        d1 = (d2 @ W2.T) * (s * (1.0 - s))
        gW1 = x.T @ d1
        gb1 = d1.sum(0)
        if l2:
            gW1 += l2 * W1
            gW2 += l2 * W2
        W1.sub_(gW1, alpha=lr)
        b1.sub_(gb1, alpha=lr)
        W2.sub_(gW2, alpha=lr)
        b2.sub_(gb2, alpha=lr)
        return value


class TorchAutograd:
    """torch autograd, idiomatically (for reference)."""

    def __init__(self, torch: Any, params: dict[str, np.ndarray], l2: float) -> None:
        self.torch = torch
        self.params = [torch.tensor(params[k], requires_grad=True) for k in PARAMS]
        self.l2 = l2

    def parameters(self) -> dict[str, Any]:
        return {k: p.detach() for k, p in zip(PARAMS, self.params)}

    def train_step(self, x: Any, labels: Any, lr: float) -> float:
        torch = self.torch
        W1, b1, W2, b2 = self.params
        s = torch.sigmoid(x @ W1 + b1)
        loss = torch.nn.functional.cross_entropy(s @ W2 + b2, labels)
        if self.l2:
            loss = loss + 0.5 * self.l2 * ((W1 * W1).sum() + (W2 * W2).sum())
        loss.backward()
        with torch.no_grad():
            for p in self.params:
                p.sub_(p.grad, alpha=lr)
                p.grad = None
        return loss.item()


def build_case(torch: Any, size: str, dtype: str, l2: float = L2) -> Case:
    layers, n = SIZES[size]["layers"], SIZES[size]["batch"]
    x, y, labels = _batch(layers, n, dtype)
    net = Network(layers, seed=0, dtype=dtype, l2=l2, backend="torch", device="cpu")
    initial = {k: v.numpy().copy() for k, v in net.parameters().items()}
    hand = TorchByHand(torch, initial, l2)
    auto = TorchAutograd(torch, initial, l2)
    tx, ty, tl = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(labels)
    ns = {"net": net, "hand": hand, "auto": auto, "tx": tx, "ty": ty, "tl": tl, "lr": LR}
    label = f"torch train step {size} {'-'.join(map(str, layers))} batch {n} {dtype} L2 {l2:g}"
    rtol = RTOL[dtype]

    def check() -> None:
        expected = hand.train_step(tx, ty, LR)
        after = {k: v.numpy() for k, v in hand.parameters().items()}
        for who, loss, params in (
            ("indexnet torch", net.train_step(tx, ty, LR), net.parameters()),
            ("torch autograd", auto.train_step(tx, tl, LR), auto.parameters()),
        ):
            check_close(f"{label}: {who} loss", loss, expected, rtol)
            for k in PARAMS:
                got = params[k].numpy()
                check_close(f"{label}: {who} updated {k}", got, after[k], rtol)
                check_close(f"{label}: {who} update of {k}", (got - initial[k]) / LR,
                            (after[k] - initial[k]) / LR, 100 * rtol)

    return Case(
        label=label,
        candidates=[
            Candidate("torch by hand", "hand.train_step(tx, ty, lr)"),
            Candidate("indexnet torch", "net.train_step(tx, ty, lr)"),
            Candidate("torch autograd", "auto.train_step(tx, tl, lr)"),
        ],
        namespace=ns,
        info={"size": size, "layers": "-".join(map(str, layers)), "batch": str(n),
              "dtype": dtype, "l2": f"{l2:g}"},
        rtol=rtol,
        custom_check=check,
    )


def run(repeats: int, sample_s: float, clock: str = "cpu",
        progress: bool = True) -> tuple[str, list[CaseResult]]:
    torch = optional_torch()
    if torch is None:
        return "torch is not installed: nothing to time (`pip install torch`).", []
    results, rows = [], []
    names = ["torch by hand", "indexnet torch", "torch autograd"]
    for size in SIZES:
        for dtype in DTYPES:
            case = build_case(torch, size, dtype)
            if progress:
                print(f"  {case.label}", flush=True)
            res = run_case(case, repeats=repeats, sample_s=sample_s, clock=clock)
            results.append(res)
            ratio = res.ratios["indexnet torch"]
            rows.append(
                [size, res.info["layers"], res.info["batch"], dtype, res.info["l2"]]
                + [cell(res, name) for name in names]
                + [f"{res.excess_s['indexnet torch'] * 1e6:+.1f}",
                   f"{100 * res.spread['indexnet torch']:.1f}%", f"≤ {TARGET:.2f}×",
                   "met" if ratio <= TARGET else "**missed**"]
            )
    headers = ["size", "layers", "batch", "dtype", "L2", "torch by hand (µs)", "indexnet torch",
               "torch autograd", "indexnet − hand (µs)", "indexnet IQR", "target", "verdict"]
    return markdown_table(headers, rows), results


def main(argv: list[str] | None = None) -> int:
    return script_main(__doc__ or "", run, FULL, QUICK, argv)


if __name__ == "__main__":
    raise SystemExit(main())
