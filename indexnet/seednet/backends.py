"""The seed's network on torch, JAX or CuPy: the same formulas, the caller's library and device.

``Network(..., backend="torch")`` keeps its weights as tensors of that
library, on its device (a CUDA device when there is one, unless ``device``
says otherwise), and runs every step there: nothing goes back to NumPy but
the loss, a Python float. The products are still the seed's einsum
formulas, planned by indexnet once per batch size; each planned step is
lowered here to the library's own call (``a @ b``, ``a.T @ b``,
``a.sum(0)``, a flat inner product), as :mod:`indexnet.einsum.kernels`
lowers it to NumPy's; a step that fits none of these runs through the
plan's opt_einsum expression, which dispatches to the library. The
libraries themselves are :mod:`indexnet.seednet.libraries`.

Libraries whose arrays can change in place (torch, CuPy) are updated in
place; JAX's arrays cannot, so each step binds new ones (in a step that
``jax.jit`` compiles once per batch size).

>>> import numpy as np
>>> from indexnet.einsum.plan import plan
>>> lower(plan("nd,hd->nh", (2, 3), (4, 3)))(np.ones((2, 3)), np.ones((4, 3))).shape
(2, 4)
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..einsum.plan import Plan, plan
from ..errors import NonFiniteError, SizeMismatchError
from ..validate import in_range, require
from .libraries import BACKENDS, Library, to_numpy
from .seed import SEED
from .sgd import update_in_place


class NetworkShape(Protocol):
    """What an :class:`ArrayEngine` reads of its :class:`~indexnet.seednet.nn.Network`.

    A protocol rather than the class, so that this module, which ``nn``
    imports, does not import ``nn`` back.
    """

    @property
    def layer_sizes(self) -> Sequence[int]: ...
    @property
    def activation(self) -> str: ...
    @property
    def output(self) -> str: ...
    @property
    def l2(self) -> float: ...
    @property
    def dtype(self) -> np.dtype[Any]: ...
    @property
    def _names(self) -> Sequence[tuple[str, str]]: ...

__all__ = ["BACKENDS", "ArrayEngine", "Library", "lower", "lower_accumulating", "to_numpy"]

Kernel = Callable[..., Any]


# -- the seed's formulas, lowered to a library -----------------------------------------------


def lower(compiled: Plan) -> Kernel:
    """The library-neutral call of a one-step seed plan, or the plan itself.

    The call uses only operators and methods that torch, JAX and CuPy
    arrays share (``@``, ``.T``, ``*``, ``.sum(axis)``, ``.reshape``).

    >>> from indexnet.einsum.plan import plan
    >>> import numpy as np
    >>> lower(plan("nd,nh->dh", (2, 3), (2, 4)))(np.ones((2, 3)), np.ones((2, 4))).shape
    (3, 4)
    """
    if len(compiled.steps) != 1:
        return compiled
    step = compiled.steps[0]
    inputs, _, output = step.subscripts.partition("->")
    terms = inputs.split(",")
    if step.kind == "sum" and len(terms[0]) == 2 and len(output) == 1:
        return operator.methodcaller("sum", terms[0].index(output) ^ 1)  # a.sum(axis)
    if step.kind == "dot":
        return lambda a, b: a.reshape(-1) @ b.reshape(-1)
    if step.kind == "multiply" and terms[0] == terms[1] == output:
        return operator.mul
    form = _matrix_product(step.kind, terms, output)
    if form is None:
        return compiled
    swap, a_t, b_t = form
    product = _TRANSPOSED[a_t, b_t]
    return (lambda a, b: product(b, a)) if swap else product


def lower_accumulating(compiled: Plan) -> Callable[[Any, Any, Any, float], Any] | None:
    """torch: ``acc(out, a, b, beta)`` sets ``out ← beta·out − (the plan's product)`` in place.

    One GEMM (``addmm_``) with no array for the product itself; None when the
    plan is not a single 2-D matrix product.

    >>> from indexnet.einsum.plan import plan
    >>> lower_accumulating(plan("nh->h", (2, 3))) is None
    True
    """
    if len(compiled.steps) != 1:
        return None
    step = compiled.steps[0]
    inputs, _, output = step.subscripts.partition("->")
    form = _matrix_product(step.kind, inputs.split(","), output)
    if form is None:
        return None
    swap, a_t, b_t = form

    def acc(out: Any, a: Any, b: Any, beta: float) -> Any:
        if swap:
            a, b = b, a
        return out.addmm_(a.T if a_t else a, b.T if b_t else b, beta=beta, alpha=-1.0)

    return acc


_TRANSPOSED: dict[tuple[bool, bool], Kernel] = {
    (False, False): operator.matmul,
    (True, False): lambda a, b: a.T @ b,
    (False, True): lambda a, b: a @ b.T,
    (True, True): lambda a, b: a.T @ b.T,
}


def _matrix_product(kind: str, terms: list[str], out: str) -> tuple[bool, bool, bool] | None:
    """``(swap, a_t, b_t)`` when ``terms->out`` is one 2-D matrix product, else None.

    The product is ``op(a) @ op(b)`` (operands swapped first when ``swap``),
    ``op`` transposing where ``a_t``/``b_t`` say.
    """
    if kind != "matmul" or len(terms) != 2 or any(len(set(t)) != 2 for t in (*terms, out)):
        return None
    ta, tb = terms
    shared = set(ta) & set(tb)
    if len(shared) != 1 or shared <= set(out):
        return None
    (k,) = shared
    left, right = ta.replace(k, ""), tb.replace(k, "")
    if out == left + right:
        return False, ta[0] == k, tb[1] == k  # a held as (k, m), b as (n, k)
    if out == right + left:  # (a b)ᵀ = bᵀ aᵀ: the same product, operands swapped
        return True, tb[0] == k, ta[1] == k
    return None


@dataclass(frozen=True)
class _Layer:
    forward: Kernel  # "nd,dh->nh"
    weight_gradient: Kernel  # "nd,nh->dh"
    bias_gradient: Kernel  # "nh->h"
    backprop: Kernel | None  # "nd,hd->nh" (None for the first layer)
    hadamard: Kernel | None  # "nh,nh->nh"
    l2: Kernel  # "dh,dh->"
    # torch: W ← beta·W − xᵀδ in one GEMM (the weight gradient, accumulated); else None
    accumulate: Callable[[Any, Any, Any, float], Any] | None


@dataclass(frozen=True)
class _Plans:
    layers: tuple[_Layer, ...]
    softmax_sum: Kernel  # "nh->n", its result kept as a column
    loss: Kernel  # "nh,nh->"
    inv_n: float
    fused: bool  # every layer has ``accumulate``: the torch step updates by addmm_


class ArrayEngine:
    """A :class:`~indexnet.seednet.nn.Network`'s steps on another array library.

    It holds the network's parameters (as that library's arrays) and answers
    the network's public calls; see the module docstring.
    """

    def __init__(self, network: NetworkShape, backend: str, device: Any = None) -> None:
        self.net = network
        self.lib = Library.resolve(backend, network.dtype, device)
        self._f, self._f_prime = self.lib.activations()[network.activation]
        self._plans: dict[int, _Plans] = {}
        self.params: dict[str, Any] = {}
        self.velocity: dict[str, Any] = {}
        self._jitted: dict[tuple[int, float, bool], Callable[..., Any]] = {}

    # -- parameters -------------------------------------------------------------------------

    def load(self, params: Mapping[str, np.ndarray]) -> None:
        """Take NumPy parameters (already validated) onto the library's device."""
        # copies: the engine's arrays never share memory with the caller's
        self.params = {name: self.lib.asarray(np.array(value)) for name, value in params.items()}
        self.velocity = {}

    def numpy_parameters(self) -> dict[str, np.ndarray]:
        """The parameters as NumPy arrays (copies when they live on another device)."""
        return {name: to_numpy(value) for name, value in self.params.items()}

    # -- the network's calls ----------------------------------------------------------------

    def inputs(self, x: Any) -> Any:
        """``x`` as a batch of this library: shape (n, d), the network's dtype and device."""
        x = self.lib.asarray(x, "x")
        d = self.net.layer_sizes[0]
        if x.ndim != 2 or x.shape[1] != d:
            raise SizeMismatchError(
                f"x has shape {tuple(x.shape)}; the network takes a batch of shape (n, {d}): "
                f"index d has size {d} in W1 (axis 0)")
        return x

    def targets(self, y: Any, n: int) -> Any:
        """``y`` as this library's array of shape (n, k)."""
        y = self.lib.asarray(y, "y")
        k = self.net.layer_sizes[-1]
        if tuple(y.shape) != (n, k):
            raise SizeMismatchError(
                f"y has shape {tuple(y.shape)} but the output has shape ({n}, {k}); y must be "
                "one-hot (use indexnet.seednet.data.one_hot) or real targets of that shape")
        return y

    def forward(self, x: Any) -> Any:
        """The network's output on ``x``, an array of the library."""
        x = self.inputs(x)
        return self._forward(x, self._batch_plans(x.shape[0]))[-1]

    def predict(self, x: Any) -> Any:
        """Predicted class of every row (the library's integer array)."""
        return self.lib.argmax(self.forward(x))

    def loss(self, x: Any, y: Any) -> float:
        """The loss of :meth:`Network.loss <indexnet.seednet.nn.Network.loss>`."""
        x = self.inputs(x)
        y = self.targets(y, x.shape[0])
        plans = self._batch_plans(x.shape[0])
        return float(self._loss(self._forward(x, plans), y, plans))

    def loss_and_gradients(self, x: Any, y: Any) -> tuple[float, dict[str, Any]]:
        """Loss and every gradient (arrays of the library) from one forward and backward pass."""
        x = self.inputs(x)
        y = self.targets(y, x.shape[0])
        plans = self._batch_plans(x.shape[0])
        xs = self._forward(x, plans)
        grads = self._backward(xs, y, plans, 1.0, with_l2=True)
        return float(self._loss(xs, y, plans)), {name: grads[name] for name in self.params}

    def train_step(self, x: Any, y: Any, lr: float, momentum: float) -> float:
        """One SGD step in place, as :meth:`Network.train_step <indexnet.Network.train_step>`."""
        if not (in_range(lr, 0.0, math.inf, low_open=True) and in_range(momentum, 0.0, 1.0)):
            require(in_range(lr, 0.0, math.inf, low_open=True), "lr", lr, "a finite number > 0")
            require(False, "momentum", momentum, "a number in [0, 1)")
        x = self.inputs(x)
        y = self.targets(y, x.shape[0])
        if self.lib.name == "jax":
            return self._jax_train_step(x, y, float(lr), float(momentum))
        plans = self._batch_plans(x.shape[0])
        xs = self._forward(x, plans)
        loss = float(self._loss(xs, y, plans))
        if not math.isfinite(loss):
            raise NonFiniteError(f"loss is {loss}; the weights were left unchanged")
        decay = lr * self.net.l2
        if plans.fused:
            self._backward_and_update(xs, y, plans, lr, momentum, decay)
            return loss
        steps = self._backward(xs, y, plans, lr, with_l2=False)  # lr·∂L/∂θ of the data term
        if self.lib.mutable:
            self._update_in_place(steps, momentum, decay)
        else:
            self._update(steps, momentum, decay)
        return loss

    def _jax_train_step(self, x: Any, y: Any, lr: float, momentum: float) -> float:
        """JAX: the same step, compiled by ``jax.jit`` once per batch size and momentum."""
        key = (x.shape[0], momentum, bool(self.velocity))
        step = self._jitted.get(key)
        if step is None:
            step = self._jitted[key] = self._compile_step(x.shape[0], momentum)
        loss, params, velocity = step(self.params, self.velocity, x, y, lr)
        value = float(loss)
        if not math.isfinite(value):
            raise NonFiniteError(f"loss is {value}; the weights were left unchanged")
        self.params, self.velocity = params, velocity
        return value

    def _compile_step(self, n: int, momentum: float) -> Callable[..., Any]:
        import jax  # deferred: optional

        def step(params: dict[str, Any], velocity: dict[str, Any], x: Any, y: Any,
                 lr: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
            kept = self.params, self.velocity
            self.params, self.velocity = dict(params), dict(velocity)
            try:  # the engine's own equations, traced once with the arrays in place
                plans = self._batch_plans(n)
                xs = self._forward(x, plans)
                loss = self._loss(xs, y, plans)
                steps = self._backward(xs, y, plans, lr, with_l2=False)
                self._update(steps, momentum, lr * self.net.l2)
                return loss, self.params, self.velocity
            finally:
                self.params, self.velocity = kept

        return jax.jit(step)

    # -- the seed's equations ---------------------------------------------------------------

    def _forward(self, x: Any, plans: _Plans) -> list[Any]:
        xs = [x]
        params, f = self.params, self._f
        names = self.net._names
        last = len(plans.layers) - 1
        for i, (layer, (w_name, b_name)) in enumerate(zip(plans.layers, names)):
            a = layer.forward(x, params[w_name])
            a += params[b_name]
            if i < last:
                x = f(a)
            elif self.net.output == "softmax":
                a -= self.lib.row_max(a)
                a = self.lib.exp_(a)
                a /= plans.softmax_sum(a)  # (kept as a column: the row sums of "nh->n")
                x = a
            else:
                x = a
            xs.append(x)
        return xs

    def _loss(self, xs: list[Any], y: Any, plans: _Plans) -> Any:
        """(1.3) plus λ/2 Σ‖W‖², as a 0-d array of the library (one sync when made a float)."""
        out = xs[-1]
        if self.net.output == "softmax":
            loss = plans.loss(y, self.lib.safe_log(out)) * -plans.inv_n
        else:
            diff = out - y
            loss = plans.loss(diff, diff) * (0.5 * plans.inv_n)
        l2 = self.net.l2
        if l2:
            params = self.params
            terms = [layer.l2(params[w_name], params[w_name])
                     for layer, (w_name, _) in zip(plans.layers, self.net._names)]
            penalty = terms[0]
            for term in terms[1:]:
                penalty = penalty + term
            loss = loss + (0.5 * l2) * penalty
        return loss

    def _backward(self, xs: list[Any], y: Any, plans: _Plans, scale: float,
                  with_l2: bool) -> dict[str, Any]:
        delta = (xs[-1] - y) * (plans.inv_n * scale)
        grads: dict[str, Any] = {}
        params, f_prime = self.params, self._f_prime
        l2 = self.net.l2 * scale if with_l2 else 0.0
        i = len(plans.layers)
        for layer, (w_name, b_name) in zip(reversed(plans.layers), reversed(self.net._names)):
            w = params[w_name]
            gw = layer.weight_gradient(xs[i - 1], delta)
            if l2:
                gw = gw + l2 * w
            grads[w_name] = gw
            grads[b_name] = layer.bias_gradient(delta)
            if layer.backprop is not None and layer.hadamard is not None:
                e = layer.backprop(delta, w)
                delta = e if f_prime is None else layer.hadamard(f_prime(xs[i - 1]), e)
            i -= 1
        return grads

    def _backward_and_update(self, xs: list[Any], y: Any, plans: _Plans, lr: float,
                             momentum: float, decay: float) -> None:
        """The backward pass and the update at once (torch).

        Each layer's weight step ``xᵀ(lr·δ)`` goes straight into W (or its
        velocity) by one ``addmm_``, after the error it sends back has been
        computed with the old W.
        """
        delta = (xs[-1] - y) * (plans.inv_n * lr)
        params, velocity, f_prime = self.params, self.velocity, self._f_prime
        i = len(plans.layers)
        for layer, (w_name, b_name) in zip(reversed(plans.layers), reversed(self.net._names)):
            w, b = params[w_name], params[b_name]
            e = None if layer.backprop is None else layer.backprop(delta, w)
            accumulate = layer.accumulate
            assert accumulate is not None
            if momentum:
                vw, vb = velocity.get(w_name), velocity.get(b_name)
                if vw is None or vb is None:
                    vw = velocity[w_name] = self.lib.zeros_like(w)
                    vb = velocity[b_name] = self.lib.zeros_like(b)
                accumulate(vw, xs[i - 1], delta, momentum)  # v ← m·v − lr·xᵀδ
                if decay:
                    vw -= decay * w
                w += vw
                vb *= momentum
                vb -= layer.bias_gradient(delta)
                b += vb
            else:
                accumulate(w, xs[i - 1], delta, 1.0 - decay)  # W ← (1 − lr·λ)W − lr·xᵀδ
                b -= layer.bias_gradient(delta)
            if e is not None and layer.hadamard is not None:
                delta = e if f_prime is None else layer.hadamard(f_prime(xs[i - 1]), e)
            i -= 1

    def _update_in_place(self, steps: dict[str, Any], momentum: float, decay: float) -> None:
        update_in_place(self.params, self.velocity, steps, self.net._names, momentum, decay,
                        self.lib.zeros_like)

    def _update(self, steps: dict[str, Any], momentum: float, decay: float) -> None:
        params = self.params
        for w_name, b_name in self.net._names:
            for name in (w_name, b_name):
                p = params[name]
                if momentum:
                    v = self.velocity.get(name)
                    v = -steps[name] if v is None else momentum * v - steps[name]
                    if self.net.l2 and name is w_name:  # (decay may be traced by jax.jit)
                        v = v - decay * p
                    self.velocity[name] = v
                    params[name] = p + v
                else:
                    if self.net.l2 and name is w_name:
                        p = p * (1.0 - decay)
                    params[name] = p - steps[name]

    def _batch_plans(self, n: int) -> _Plans:
        plans = self._plans.get(n)
        if plans is None:
            plans = self._plans[n] = self._make_plans(n)
        return plans

    def _make_plans(self, n: int) -> _Plans:
        dt = self.net.dtype

        def seed_plan(key: str, *shapes: tuple[int, ...]) -> Kernel:
            return lower(plan(SEED[key].einsum or "", *shapes, dtype=dt))

        fused = self.lib.name == "torch"
        sizes = self.net.layer_sizes
        layers = []
        for i, (d, h) in enumerate(itertools.pairwise(sizes)):
            first = i == 0
            weight_gradient = plan(SEED["weight_gradient"].einsum or "", (n, d), (n, h), dtype=dt)
            layers.append(_Layer(
                forward=seed_plan("forward", (n, d), (d, h)),
                weight_gradient=lower(weight_gradient),
                bias_gradient=seed_plan("bias_gradient", (n, h)),
                backprop=None if first else seed_plan("backprop", (n, h), (d, h)),
                hadamard=None if first else seed_plan("hidden_error", (n, d), (n, d)),
                l2=seed_plan("l2_loss", (d, h), (d, h)),
                accumulate=lower_accumulating(weight_gradient) if fused else None,
            ))
        k = sizes[-1]
        softmax = plan(SEED["softmax"].einsum or "", (n, k), dtype=dt)
        return _Plans(tuple(layers), self.lib.keep_dims(softmax),
                      seed_plan("loss", (n, k), (n, k)), 1.0 / max(n, 1),
                      fused=all(layer.accumulate is not None for layer in layers))
