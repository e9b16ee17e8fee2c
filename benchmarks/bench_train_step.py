"""One training step (forward, loss, backward, SGD update) of the seed's network.

Sizes from the issue: digits (64-128-10, batch 128) and mnist (784-256-10,
batch 256), in float64 and float32. Candidates:

* ``NumPy``: the same network hand-written with ``@`` — the baseline. The
  math is :mod:`indexnet.seednet.nn`'s: sigmoid hidden layer as ``0.5*(1+tanh(a/2))``,
  softmax output, mean cross-entropy, ``δ = (ŷ − y)/N``, gradients ``xᵀδ``,
  ``Σₙ δ``, ``δWᵀ ⊙ s(1−s)``, plain SGD; with the seed's L2 term
  ``λ/2 (‖W₁‖² + ‖W₂‖²)`` in the loss and ``λW`` in the weight gradients
  (λ = 1e-4), as a person writes it: ``gW += λ W``;
* ``indexnet``: :meth:`indexnet.Network.train_step`, every product through
  the seed's cached plans;
* ``oe expr``: the NumPy network with every seed einsum through a prebuilt
  ``opt_einsum.contract_expression`` (for reference);
* ``torch``: PyTorch CPU autograd (``sigmoid``, ``cross_entropy``,
  ``backward``, in-place SGD), when torch is importable.

Before timing, one step of every candidate from identical initial weights
on the same batch must give the same updated weights (and the same loss) as
the hand-written NumPy step, or the benchmark stops.

Run ``python benchmarks/bench_train_step.py [--quick]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import opt_einsum as oe
from _harness import (
    BenchmarkMismatch,
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

from indexnet import SEED, Network

#: The seed's L2 term λ/2 Σ‖W‖² is on, as in the seed (issue 11 item 6); one more
#: size, mnist with L2 off, shows what the term costs.
L2 = 1e-4
SIZES = {
    "digits": {"layers": (64, 128, 10), "batch": 128, "l2": L2},
    "mnist": {"layers": (784, 256, 10), "batch": 256, "l2": L2},
    "mnist-noL2": {"layers": (784, 256, 10), "batch": 256, "l2": 0.0},
}
DTYPES = ("float64", "float32")
#: (size, dtype): every case the benchmark times, in order.
CASES = [(size, dtype) for size in ("digits", "mnist") for dtype in DTYPES] + [
    ("mnist-noL2", "float64")]
#: Ratio to hand-written NumPy that indexnet's step must not exceed.
TARGETS = {
    ("mnist", "float64"): 1.02,  # with L2: issue 11 item 6
    ("mnist", "float32"): 1.10,
    ("digits", "float64"): 1.15,
    ("digits", "float32"): 1.15,
    ("mnist-noL2", "float64"): 1.05,
}
RTOL = {"float64": 1e-9, "float32": 1e-4}
#: A small rate: thousands of timed steps on one batch must not drive the
#: softmax into underflow (subnormal arithmetic would distort the timings).
LR = 1e-3
PARAMS = ("W1", "b1", "W2", "b2")
#: (repeats, seconds per sample) of a full and of a quick run.
FULL = (101, 0.01)
QUICK = (5, 0.002)


class NumpyNet:
    """The seed's 2-layer network written by hand with ``@`` (the baseline), with its L2 term."""

    def __init__(self, params: dict[str, np.ndarray], l2: float = 0.0) -> None:
        self.W1, self.b1, self.W2, self.b2 = (params[k].copy() for k in PARAMS)
        self.l2 = l2

    def parameters(self) -> dict[str, np.ndarray]:
        return {"W1": self.W1, "b1": self.b1, "W2": self.W2, "b2": self.b2}

    def train_step(self, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        W1, b1, W2, b2 = self.W1, self.b1, self.W2, self.b2
        n = x.shape[0]
        a1 = x @ W1
        a1 += b1
        s = 0.5 * (1.0 + np.tanh(0.5 * a1))
        p = s @ W2
        p += b2
        p -= p.max(axis=1, keepdims=True)
        np.exp(p, out=p)
        p /= p.sum(axis=1, keepdims=True)
        loss = -float(np.vdot(y, np.log(np.maximum(p, np.finfo(p.dtype).tiny)))) / n
        l2 = self.l2
        if l2:  # the seed's λ/2 (‖W₁‖² + ‖W₂‖²) and its gradient λW
            loss += 0.5 * l2 * float(np.vdot(W1, W1) + np.vdot(W2, W2))
        if not np.isfinite(loss):
            raise FloatingPointError(f"loss is {loss}")
        d2 = (p - y) * (1.0 / n)
        gW2 = s.T @ d2
        gb2 = d2.sum(axis=0)
        d1 = (d2 @ W2.T) * (s * (1.0 - s))
        gW1 = x.T @ d1
        gb1 = d1.sum(axis=0)
        if l2:
            gW1 += l2 * W1
            gW2 += l2 * W2
        W1 -= lr * gW1
        b1 -= lr * gb1
        W2 -= lr * gW2
        b2 -= lr * gb2
        return loss


class OptEinsumNet(NumpyNet):
    """The same network with every seed einsum through a prebuilt opt_einsum expression."""

    def __init__(self, params: dict[str, np.ndarray], n: int, l2: float = 0.0) -> None:
        super().__init__(params, l2)
        (d, h), k = self.W1.shape, self.W2.shape[1]

        def expr(key: str, *shapes: tuple[int, ...]) -> Any:
            return oe.contract_expression(SEED[key].einsum, *shapes)

        self.fwd1 = expr("forward", (n, d), (d, h))
        self.fwd2 = expr("forward", (n, h), (h, k))
        self.row_sum = expr("softmax", (n, k))
        self.loss = expr("loss", (n, k), (n, k))
        self.gw1 = expr("weight_gradient", (n, d), (n, h))
        self.gw2 = expr("weight_gradient", (n, h), (n, k))
        self.gb1 = expr("bias_gradient", (n, h))
        self.gb2 = expr("bias_gradient", (n, k))
        self.back = expr("backprop", (n, k), (h, k))
        self.hadamard = expr("hidden_error", (n, h), (n, h))
        self.l2_1 = expr("l2_loss", (d, h), (d, h))
        self.l2_2 = expr("l2_loss", (h, k), (h, k))

    def train_step(self, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        W1, b1, W2, b2 = self.W1, self.b1, self.W2, self.b2
        n = x.shape[0]
        a1 = self.fwd1(x, W1)
        a1 += b1
        s = 0.5 * (1.0 + np.tanh(0.5 * a1))
        p = self.fwd2(s, W2)
        p += b2
        p -= p.max(axis=1, keepdims=True)
        np.exp(p, out=p)
        p /= self.row_sum(p)[:, None]
        loss = -float(self.loss(y, np.log(np.maximum(p, np.finfo(p.dtype).tiny)))) / n
        l2 = self.l2
        if l2:
            loss += 0.5 * l2 * float(self.l2_1(W1, W1) + self.l2_2(W2, W2))
        if not np.isfinite(loss):
            raise FloatingPointError(f"loss is {loss}")
        d2 = (p - y) * (1.0 / n)
        gW2 = self.gw2(s, d2)
        gb2 = self.gb2(d2)
        d1 = self.hadamard(s * (1.0 - s), self.back(d2, W2))
        gW1 = self.gw1(x, d1)
        gb1 = self.gb1(d1)
        if l2:
            gW1 += l2 * W1
            gW2 += l2 * W2
        W1 -= lr * gW1
        b1 -= lr * gb1
        W2 -= lr * gW2
        b2 -= lr * gb2
        return loss


class TorchNet:
    """PyTorch CPU autograd: the idiomatic version of the same network."""

    def __init__(self, torch: Any, params: dict[str, np.ndarray], l2: float = 0.0) -> None:
        self.torch = torch
        self.l2 = l2
        self.cross_entropy = torch.nn.functional.cross_entropy
        self.params = [torch.tensor(params[k], requires_grad=True) for k in PARAMS]

    def parameters(self) -> dict[str, np.ndarray]:
        return {k: p.detach().numpy() for k, p in zip(PARAMS, self.params)}

    def train_step(self, x: Any, labels: Any, lr: float) -> float:
        W1, b1, W2, b2 = self.params
        s = self.torch.sigmoid(x @ W1 + b1)
        loss = self.cross_entropy(s @ W2 + b2, labels)
        if self.l2:
            loss = loss + 0.5 * self.l2 * ((W1 * W1).sum() + (W2 * W2).sum())
        loss.backward()
        with self.torch.no_grad():
            for p in self.params:
                p.sub_(p.grad, alpha=lr)
                p.grad = None
        return loss.item()


def _batch(layers: tuple[int, ...], n: int, dtype: str, seed: int = 1) -> tuple[Any, Any, Any]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, layers[0])).astype(dtype)
    labels = rng.integers(0, layers[-1], size=n)
    y = np.eye(layers[-1], dtype=dtype)[labels]
    return x, y, labels


def build_case(size: str, dtype: str, torch: Any = None) -> Case:
    layers, n, l2 = SIZES[size]["layers"], SIZES[size]["batch"], SIZES[size]["l2"]
    x, y, labels = _batch(layers, n, dtype)
    net = Network(layers, seed=0, dtype=dtype, l2=l2)
    initial = {k: v.copy() for k, v in net.parameters().items()}
    hand = NumpyNet(initial, l2)
    oenet = OptEinsumNet(initial, n, l2)
    ns: dict[str, Any] = {"net": net, "hand": hand, "oenet": oenet, "x": x, "y": y, "lr": LR}
    candidates = [
        Candidate("NumPy", "hand.train_step(x, y, lr)"),
        Candidate("indexnet", "net.train_step(x, y, lr)"),
        Candidate("oe expr", "oenet.train_step(x, y, lr)"),
    ]
    if torch is not None:
        ns["tnet"] = TorchNet(torch, initial, l2)
        ns["tx"], ns["tlabels"] = torch.from_numpy(x), torch.from_numpy(labels)
        candidates.append(Candidate("torch", "tnet.train_step(tx, tlabels, lr)"))
    rtol = RTOL[dtype]
    label = (f"train step {size} {'-'.join(map(str, layers))} batch {n} {dtype} "
             f"L2 {l2:g}")

    def check() -> None:
        """One step each from the same initial weights: same loss, same updated weights."""
        expected_loss = hand.train_step(x, y, LR)
        after = hand.parameters()
        steps = {
            "indexnet": (net.train_step(x, y, LR), net.parameters()),
            "oe expr": (oenet.train_step(x, y, LR), oenet.parameters()),
        }
        if "tnet" in ns:
            steps["torch"] = (ns["tnet"].train_step(ns["tx"], ns["tlabels"], LR),
                              ns["tnet"].parameters())
        for who, (loss, params) in steps.items():
            check_close(f"{label}: {who} loss", loss, expected_loss, rtol)
            for k in PARAMS:
                check_close(f"{label}: {who} updated {k}", params[k], after[k], rtol)
                # The update itself (≈ −lr·gradient), which the weights alone would dwarf.
                check_close(
                    f"{label}: {who} update of {k}",
                    (params[k] - initial[k]) / LR,
                    (after[k] - initial[k]) / LR,
                    100 * rtol,
                )
        if not np.isfinite(expected_loss):
            raise BenchmarkMismatch(f"{label}: loss {expected_loss}")

    return Case(
        label=label,
        candidates=candidates,
        namespace=ns,
        info={"size": size, "layers": "-".join(map(str, layers)), "batch": str(n),
              "dtype": dtype, "l2": f"{l2:g}" if l2 else "off"},
        rtol=rtol,
        custom_check=check,
    )


def run(
    repeats: int, sample_s: float, clock: str = "cpu", progress: bool = True
) -> tuple[str, list[CaseResult]]:
    torch = optional_torch()
    results = []
    rows = []
    names = ["NumPy", "indexnet", "oe expr", "torch"]
    for size, dtype in CASES:
        case = build_case(size, dtype, torch)
        if progress:
            print(f"  {case.label}", flush=True)
        res = run_case(case, repeats=repeats, sample_s=sample_s, clock=clock)
        results.append(res)
        target = TARGETS[(size, dtype)]
        ratio = res.ratios["indexnet"]
        verdict = "met" if ratio <= target else "**missed**"
        spread = res.spread["indexnet"]
        rows.append(
            [size, res.info["layers"], res.info["batch"], dtype, res.info["l2"]]
            + [cell(res, name) if name in res.medians_s else "skipped" for name in names]
            + [f"{res.excess_s['indexnet'] * 1e6:+.1f}", f"{100 * spread:.1f}%",
               f"≤ {target:.2f}×", verdict]
        )
    headers = ["size", "layers", "batch", "dtype", "L2", "NumPy (@)", "indexnet", "oe expr",
               "torch", "indexnet − NumPy (µs)", "indexnet IQR", "target", "verdict"]
    text = markdown_table(headers, rows)
    if torch is None:
        text += "\n\ntorch is not installed: its column was skipped (`pip install torch`)."
    return text, results


def main(argv: list[str] | None = None) -> int:
    return script_main(__doc__ or "", run, FULL, QUICK, argv)


if __name__ == "__main__":
    raise SystemExit(main())
