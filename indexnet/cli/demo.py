"""``indexnet demo``: the seed's two-layer network, formula by formula.

1. Every formula of the seed: its index notation, einsum string, matrix form
   and plan, computed through the plan and checked against the matrix form
   written directly in NumPy.
2. The einsum derivative rule on the seed's product and on a trace, checked
   against central finite differences.
3. The seed's hand-derived backprop (1.4)–(1.9) checked, entry by entry,
   against central finite differences on real digits.
4. The network trained on the 8×8 handwritten digits that scikit-learn ships.

Nothing is downloaded and no file is needed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..check.gradcheck import gradcheck
from ..einsum.plan import plan
from ..einsum.subscripts import parse
from ..einsum.vjp import derivative, vjp
from ..errors import DataError
from ..seednet.data import load_dataset, one_hot
from ..seednet.nn import Network
from ..seednet.seed import seed_formulas
from ..seednet.train import accuracy, train
from .argtypes import non_negative_int, positive_int
from .options import operand_shapes

__all__ = ["register", "run"]

_SIZES = {"n": 32, "d": 64, "h": 16}

# The matrix form of each seed product, written directly in NumPy: the reference.
_MATRIX_FORMS: dict[str, Callable[..., Any]] = {
    "forward": lambda x, w: x @ w,
    "softmax": lambda a: a.sum(axis=1),
    "loss": lambda y, p: np.sum(y * p),
    "weight_gradient": lambda x, d: x.T @ d,
    "weight_gradient_hidden": lambda x, d: x.T @ d,
    "output_error": lambda a, b: a * b,
    "backprop": lambda d, w: d @ w.T,
    "hidden_error": lambda a, b: a * b,
    "bias_gradient": lambda d: d.sum(axis=0),
    "l2_loss": lambda w, v: np.sum(w * v),
}


def _say(text: str = "") -> None:
    print(text, flush=True)


def _formulas(rng: np.random.Generator) -> bool:
    sizes = ", ".join(f"{k}={v}" for k, v in _SIZES.items())
    _say(f"1. The seed's formulas, each planned once and checked against its matrix form ({sizes})")
    ok = True
    for formula in seed_formulas():
        _say(f"  {formula.equation:<12}{formula.title}")
        _say(f"  {'':12}index   {formula.notation}")
        if formula.einsum is None:
            _say(f"  {'':12}matrix  {formula.matrix}   ({formula.elementwise}; no product)")
            continue
        parsed = parse(formula.einsum)
        arrays = [rng.standard_normal(shape) for shape in operand_shapes(parsed.inputs, _SIZES)]
        compiled = plan(formula.einsum, *arrays)
        got = np.asarray(compiled(*arrays))
        want = np.asarray(_MATRIX_FORMS[formula.key](*arrays))
        diff = float(np.max(np.abs(got - want))) if got.size else 0.0
        good = got.shape == want.shape and diff <= 1e-9 * max(1.0, float(np.max(np.abs(want))))
        ok &= good
        kinds = "+".join(step.kind for step in compiled.steps)
        _say(f"  {'':12}einsum  {formula.einsum:<12} matrix  {formula.matrix}")
        _say(
            f"  {'':12}plan    {kinds}, {compiled.flops:,} FLOPs; "
            f"max |einsum − matrix form| = {diff:.1e}  {'ok' if good else 'MISMATCH'}"
        )
    return ok


def _derivative_rule(rng: np.random.Generator) -> bool:
    _say("\n2. The einsum derivative rule: exchange the operand and the output")
    ok = True
    x = rng.standard_normal((5, 4))
    w = rng.standard_normal((4, 3))
    g = rng.standard_normal((5, 3))
    cases = [
        ("nd,dh->nh", [x, w], g, "gradient of XW"),
        ("ii->", [rng.standard_normal((4, 4))], np.array(1.0), "trace: a Kronecker delta"),
        ("nh->h", [g], rng.standard_normal(3), "bias sum: a broadcast"),
    ]
    for subscripts, operands, cotangent, title in cases:
        grads = vjp(subscripts, *operands, cotangent=cotangent)

        def f(params: dict[str, np.ndarray], s: str = subscripts, c: Any = cotangent) -> float:
            ops = [params[f"op{k}"] for k in range(len(params))]
            return float(np.sum(c * np.einsum(s, *ops)))

        params = {f"op{k}": op for k, op in enumerate(operands)}
        report = gradcheck(f, params, {f"op{k}": gk for k, gk in enumerate(grads)}, mode="full")
        ok &= bool(report)
        for k in range(len(operands)):
            rule = derivative(subscripts, wrt=k)
            error = report.entries[k].max_rel_error
            _say(
                f"  d/d(operand {k}) of {subscripts:<10} = {rule!s:<12} ({title}); "
                f"vs finite differences: rel. error {error:.1e}"
            )
    return ok


def _backprop(x: np.ndarray, y: np.ndarray) -> bool:
    _say("\n3. The seed's backprop (1.4)–(1.9) against central finite differences, every entry")
    net = Network((x.shape[1], 16, y.shape[1]), activation="sigmoid", l2=1e-3, seed=1)
    x, y = x[:32], y[:32]

    def loss(params: dict[str, np.ndarray]) -> float:
        trial = Network(net.layer_sizes, activation=net.activation, l2=net.l2)
        trial.set_parameters(params)
        return trial.loss(x, y)

    report = gradcheck(loss, net.parameters(), net.gradients(x, y), mode="full")
    _say(f"  network {net!r}, a batch of {len(x)} digits")
    for line in str(report).splitlines():
        _say(f"  {line}")
    return bool(report)


def _train(args: argparse.Namespace) -> bool:
    try:
        train_set, val_set, test_set = load_dataset("digits", seed=args.seed)
    except DataError as err:
        _say(f"\n4. Training skipped: {err}")
        return True
    net = Network((train_set.x.shape[1], 128, train_set.n_classes), seed=args.seed)
    _say(
        f"\n4. Training {net!r} on {len(train_set.x)} of scikit-learn's 8×8 digits "
        f"({len(val_set.x)} validation, {len(test_set.x)} test)"
    )
    kwargs = {} if args.epochs is None else {"epochs": args.epochs}
    result = train(net, train_set, val_set, seed=args.seed, progress=not args.no_progress, **kwargs)
    test_accuracy = accuracy(net, test_set)
    _say(
        f"  {result.epochs} epochs in {result.seconds:.1f} s: final training loss "
        f"{result.train_loss:.4f}, test accuracy {test_accuracy:.1%}"
    )
    return True


def run(args: argparse.Namespace) -> int:
    """Run the demo; exit status 1 if any check failed."""
    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    _say("indexnet demo: the seed's two-layer network, formula by formula\n")
    ok = _formulas(rng)
    ok &= _derivative_rule(rng)
    x, y = _digits_batch(rng)
    ok &= _backprop(x, y)
    if not args.no_train:
        _train(args)
    verdict = "every check passed" if ok else "SOME CHECKS FAILED"
    _say(f"\n{verdict} ({time.perf_counter() - start:.1f} s)")
    return 0 if ok else 1


def _digits_batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    try:
        dataset = load_dataset("digits")[0]
    except DataError:
        dataset = load_dataset("synthetic")[0]
    rows = rng.permutation(len(dataset.x))[:64]
    return dataset.x[rows], one_hot(dataset.labels[rows], dataset.n_classes)


def register(subparsers: Any) -> None:
    """Add the ``demo`` subcommand."""
    p = subparsers.add_parser(
        "demo",
        help="the seed's network step by step: formulas, checks, training",
        description="Show every formula of the seed as index notation, einsum string and matrix "
        "form; check the derivative rule and the hand-derived backprop against finite "
        "differences; then train the network on the 8x8 digits that scikit-learn ships.",
    )
    p.add_argument("--epochs", type=positive_int, default=None,
                   help="training epochs (default: the trainer's default)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default: 0)")
    p.add_argument("--no-train", action="store_true", help="skip the training part")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)
