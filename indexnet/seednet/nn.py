"""The seed's fully connected network, every product through the seed's einsum formulas.

Forward (1.1)–(1.3): ``a = x W + b`` as ``"nd,dh->nh"``, ``x' = f(a)``, a
softmax output and the cross-entropy loss. Backward (1.4)–(1.9): the output
error ``δ = ŷ − y``, the weight gradient ``xᵀδ`` as ``"nd,nh->dh"``, the bias
gradient ``Σ_n δ`` as ``"nh->h"``, the error sent back ``δWᵀ`` as
``"nd,hd->nh"`` and the Hadamard product with ``f'``. Each einsum is planned
once per batch size and dtype; the hot loop only calls the compiled plans.

The loss is averaged over the batch, ``L = −(1/N) Σ_n Σ_h y log ŷ + λ/2 Σ_ℓ ‖W_ℓ‖²``
(the seed sums over n; the mean keeps one learning rate good for every batch
size). Biases are not regularised, as in the seed.

>>> net = Network((4, 3, 2), seed=0)
>>> net
Network(4-3-2, activation='sigmoid', output='softmax', l2=0.0, dtype='float64')
>>> sorted(net.parameters())
['W1', 'W2', 'b1', 'b2']
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..einsum.plan import Plan, plan
from ..errors import (
    CheckpointError,
    IndexnetError,
    InvalidArgumentError,
    NonFiniteError,
    SizeMismatchError,
)
from ..validate import (
    in_range,
    is_integer,
    non_negative_int,
    non_negative_real,
    one_of,
    real_array,
    require,
)
from .backends import BACKENDS, ArrayEngine, to_numpy
from .checkpoint import Header, read_checkpoint, write_checkpoint
from .seed import SEED
from .sgd import update_in_place

__all__ = [
    "ACTIVATIONS",
    "BACKENDS",
    "MAX_WEIGHT_ELEMENTS",
    "OUTPUTS",
    "Network",
    "load_network",
    "save_network",
]

#: Hidden-layer activations: the function and its derivative written in terms
#: of the activation's *output* (σ' = σ(1−σ), tanh' = 1−tanh², relu' = [x>0]).
ACTIVATIONS: Mapping[str, tuple[Callable[[Any], Any], Callable[[Any], Any] | None]] = {
    "sigmoid": (lambda a: 0.5 * (1.0 + np.tanh(0.5 * a)), lambda s: s * (1.0 - s)),
    "tanh": (np.tanh, lambda t: 1.0 - t * t),
    "relu": (lambda a: np.maximum(a, 0.0), lambda r: (r > 0).astype(r.dtype)),
    "identity": (lambda a: a, None),
}

#: Largest weight matrix a network may hold (elements), so a typo cannot exhaust memory.
MAX_WEIGHT_ELEMENTS = 2**31

#: Output layers and their losses: softmax with cross-entropy, identity with squared error.
OUTPUTS = ("softmax", "identity")

_REAL_VALUED = "the network is real-valued"


Kernel = Callable[..., Any]


@dataclass(frozen=True)
class _LayerPlans:
    """A layer's compiled seed formulas (``Plan.kernel``: no argument checks in the hot loop)."""

    forward: Kernel  # "nd,dh->nh"
    weight_gradient: Kernel  # "nd,nh->dh"
    bias_gradient: Kernel  # "nh->h"
    backprop: Kernel | None  # "nd,hd->nh" (None for the first layer)
    hadamard: Kernel | None  # "nh,nh->nh" on the layer's input side
    l2: Kernel  # "dh,dh->"


@dataclass(frozen=True)
class _BatchPlans:
    layers: tuple[_LayerPlans, ...]
    softmax_sum: Kernel  # "nh->n"
    loss: Kernel  # "nh,nh->"
    inv_n: float  # 1/N of the batch mean
    hidden: tuple[_LayerPlans, ...]  # layers[:-1]
    last: _LayerPlans  # layers[-1]
    plans: tuple[Plan, ...]  # every Plan behind the kernels, for inspection


class Network:
    """A fully connected network as the seed writes it.

    Args:
        layer_sizes: input size, hidden sizes, output size (at least two).
        activation: ``sigmoid`` (the seed's), ``tanh``, ``relu`` or ``identity``.
        output: ``softmax`` (cross-entropy loss) or ``identity`` (squared error).
        l2: λ of the seed's L2 term.
        seed: seeds the weight initialisation (the same weights on every backend).
        dtype: ``float64`` or ``float32``.
        backend: the array library the network computes in: ``numpy`` (the default),
            ``torch``, ``jax`` or ``cupy`` (:mod:`indexnet.seednet.backends`). Its
            parameters, outputs and gradients are that library's arrays; inputs may
            be NumPy arrays or the library's own.
        device: where a torch, JAX or CuPy network lives (``"cpu"``, ``"cuda"``,
            ``"cuda:1"``, ``"gpu"``...); by default a CUDA device when there is one.

    >>> import numpy as np
    >>> net = Network((3, 5, 2))
    >>> x, y = np.ones((4, 3)), np.eye(2)[[0, 1, 1, 0]]
    >>> net.forward(x).shape, sorted(net.gradients(x, y))
    ((4, 2), ['W1', 'W2', 'b1', 'b2'])
    """

    def __init__(
        self,
        layer_sizes: Sequence[int] = (64, 128, 10),
        activation: str = "sigmoid",
        output: str = "softmax",
        l2: float = 0.0,
        seed: int = 0,
        dtype: Any = "float64",
        backend: str = "numpy",
        device: Any = None,
    ) -> None:
        sizes = _validate_sizes(layer_sizes)
        self.activation: str = one_of("activation", activation, ACTIVATIONS)
        self.output: str = one_of("output", output, OUTPUTS)
        self.l2 = non_negative_real("l2", l2)
        self.seed = non_negative_int("seed", seed)
        self.dtype = _float_dtype(dtype)
        self.backend: str = one_of("backend", backend, BACKENDS)
        if backend == "numpy" and device not in (None, "cpu"):
            raise InvalidArgumentError(f"a NumPy network lives on the CPU, got device {device!r}")
        self.layer_sizes = sizes
        self._f, self._f_prime = ACTIVATIONS[activation]
        rng = np.random.default_rng(seed)
        gain = 2.0 if activation == "relu" else 1.0
        self._params: dict[str, np.ndarray] = {}
        for i, (d, h) in enumerate(itertools.pairwise(sizes), start=1):
            self._params[f"W{i}"] = (rng.standard_normal((d, h)) * np.sqrt(gain / d)).astype(
                self.dtype
            )
            self._params[f"b{i}"] = np.zeros(h, dtype=self.dtype)
        self._names = [(f"W{i}", f"b{i}") for i in range(1, len(sizes))]
        self._velocity: dict[str, np.ndarray] = {}
        self._plans: dict[int, _BatchPlans] = {}
        self._engine: ArrayEngine | None = None
        if backend != "numpy":
            self._engine = ArrayEngine(self, backend, device)
            self._engine.load(self._params)

    # -- public API -------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Number of weight layers."""
        return len(self.layer_sizes) - 1

    @property
    def device(self) -> str:
        """Where the parameters live: ``cpu`` for NumPy, else the library's device."""
        return "cpu" if self._engine is None else str(self._engine.lib.device)

    def parameters(self) -> dict[str, Any]:
        """The live parameter arrays by name (``W1``, ``b1``, ``W2``, …), of the backend."""
        return self._params if self._engine is None else self._engine.params

    def as_rows(self, rows: np.ndarray) -> Any:
        """Row indices (NumPy integers) to gather batches of :meth:`as_dataset`'s arrays with."""
        return rows if self._engine is None else self._engine.lib.index(rows)

    def as_dataset(self, value: Any) -> Any:
        """A whole data set as training keeps it: in the network's dtype, on its device.

        On the device where the library gathers batches fast (torch, CuPy); JAX's
        stay on the host, since a NumPy gather and one transfer a batch beat JAX's
        own eager gather.
        """
        if self._engine is not None and self._engine.lib.name != "jax":
            return self._engine.lib.asarray(value)
        return np.ascontiguousarray(to_numpy(value), dtype=self.dtype)

    def asarray(self, value: Any) -> Any:
        """``value`` as an array of the network's backend, dtype and device (no copy if it is)."""
        if self._engine is None:
            return np.ascontiguousarray(value, dtype=self.dtype)
        return self._engine.lib.asarray(value)

    def set_parameters(self, params: Mapping[str, Any]) -> None:
        """Replace every parameter, checking names, shapes and finiteness."""
        expected = {name: p.shape for name, p in self._params.items()}
        if set(params) != set(expected):
            raise InvalidArgumentError(
                f"parameters must be exactly {sorted(expected)}, got {sorted(params)}"
            )
        new = {}
        for name, shape in expected.items():
            given = params[name] if self._engine is None else to_numpy(params[name])
            value = real_array(name, given, self.dtype, reason=_REAL_VALUED)
            if value.shape != shape:
                raise SizeMismatchError(f"{name} has shape {value.shape}, expected {shape}")
            if not np.all(np.isfinite(value)):
                raise NonFiniteError(f"{name} holds non-finite values")
            new[name] = value.copy()
        self._params = new
        self._velocity = {}
        if self._engine is not None:
            self._engine.load(new)

    def forward(self, x: Any) -> np.ndarray:
        """Output of the network: class probabilities for softmax, values for identity."""
        if self._engine is not None:
            return self._engine.forward(x)
        x = self._inputs(x)
        return self._forward(x, self._batch_plans(x.shape[0]))[-1]

    def predict(self, x: Any) -> np.ndarray:
        """Predicted class of every row of ``x`` (argmax of the output)."""
        if self._engine is not None:
            return self._engine.predict(x)
        return np.argmax(self.forward(x), axis=1)

    def loss(self, x: Any, y: Any) -> float:
        """The loss of the seed's (1.3) plus the L2 term, averaged over the batch."""
        if self._engine is not None:
            return self._engine.loss(x, y)
        x = self._inputs(x)
        y = self._targets(y, x.shape[0])
        plans = self._batch_plans(x.shape[0])
        return self._loss(self._forward(x, plans), y, plans)

    def gradients(self, x: Any, y: Any) -> dict[str, np.ndarray]:
        """Exact gradients of :meth:`loss` for every parameter, by the seed's backprop."""
        return self.loss_and_gradients(x, y)[1]

    def loss_and_gradients(self, x: Any, y: Any) -> tuple[float, dict[str, np.ndarray]]:
        """Loss and gradients from one forward and one backward pass."""
        if self._engine is not None:
            return self._engine.loss_and_gradients(x, y)
        x = self._inputs(x)
        y = self._targets(y, x.shape[0])
        plans = self._batch_plans(x.shape[0])
        xs = self._forward(x, plans)
        grads = self._backward(xs, y, plans)
        return self._loss(xs, y, plans), {name: grads[name] for name in self._params}

    def train_step(self, x: Any, y: Any, lr: float, momentum: float = 0.0) -> float:
        """One SGD step in place (with optional momentum); returns the loss before it.

        Raises :class:`~indexnet.NonFiniteError` without touching the weights
        when the loss or a gradient is not finite.
        """
        if self._engine is not None:
            return self._engine.train_step(x, y, lr, momentum)
        # in_range, not is_real: these run every step, so they are kept cheap
        require(in_range(lr, 0.0, math.inf, low_open=True), "lr", lr, "a finite number > 0")
        require(in_range(momentum, 0.0, 1.0), "momentum", momentum, "a number in [0, 1)")
        x = self._inputs(x)
        y = self._targets(y, x.shape[0])
        plans = self._batch_plans(x.shape[0])
        xs = self._forward(x, plans)
        loss = self._loss(xs, y, plans)
        if not np.isfinite(loss):
            raise NonFiniteError(f"loss is {loss}; the weights were left unchanged")
        # The backward pass runs on δ·lr, so it yields lr·∂L/∂θ (the data term) directly;
        # the L2 term's lr·λW is folded into the update: W ← (1 − lr·λ) W − lr·∂L/∂W.
        steps = self._backward(xs, y, plans, lr, with_l2=False)
        update_in_place(self._params, self._velocity, steps, self._names, momentum,
                        lr * self.l2, np.zeros_like)
        return loss

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save atomically (temporary file, then rename); see :mod:`indexnet.seednet.checkpoint`."""
        header = Header(
            layer_sizes=self.layer_sizes,
            activation=self.activation,
            output=self.output,
            l2=self.l2,
            seed=self.seed,
            dtype=str(self.dtype),
        )
        params = self._params if self._engine is None else self._engine.numpy_parameters()
        write_checkpoint(path, header, params)

    @classmethod
    def load(cls, path: str | os.PathLike[str], backend: str = "numpy",
             device: Any = None) -> Network:
        """Load a network saved by :meth:`save`, validating shapes and values.

        ``backend`` and ``device`` place it as the constructor's do.

        Every fault of the file (truncated, foreign, a header the weights do
        not match, non-finite weights) is a :class:`~indexnet.CheckpointError`.
        """
        saved = read_checkpoint(path)
        h = saved.header
        try:
            network = cls(h.layer_sizes, activation=h.activation, output=h.output, l2=h.l2,
                          seed=h.seed, dtype=h.dtype)
        except (ValueError, TypeError, IndexnetError) as err:
            raise CheckpointError(f"{saved.path}: bad header: {err}") from None
        network.set_parameters(saved.parameters())
        if backend != "numpy":  # the header is good: place the checked weights
            moved = cls(h.layer_sizes, activation=h.activation, output=h.output, l2=h.l2,
                        seed=h.seed, dtype=h.dtype, backend=backend, device=device)
            moved.set_parameters(network.parameters())
            return moved
        return network

    def __repr__(self) -> str:
        sizes = "-".join(map(str, self.layer_sizes))
        where = ("" if self._engine is None else
                 f", backend={self.backend!r}, device={self.device!r}")
        return (
            f"Network({sizes}, activation={self.activation!r}, output={self.output!r}, "
            f"l2={self.l2!r}, dtype={str(self.dtype)!r}{where})"
        )

    # -- the seed's equations ------------------------------------------------------------

    def _forward(self, x: np.ndarray, plans: _BatchPlans) -> list[np.ndarray]:
        """(1.1)–(1.2): every layer's input, then the output."""
        xs = [x]
        params = self._params
        f = self._f
        for layer, (w_name, b_name) in zip(plans.hidden, self._names):
            a = layer.forward(x, params[w_name])
            a += params[b_name]
            x = f(a)
            xs.append(x)
        w_name, b_name = self._names[-1]
        a = plans.last.forward(x, params[w_name])
        a += params[b_name]
        if self.output == "softmax":
            a -= a.max(axis=1, keepdims=True)
            np.exp(a, out=a)
            a /= plans.softmax_sum(a)[:, None]
        xs.append(a)
        return xs

    def _loss(self, xs: list[np.ndarray], y: np.ndarray, plans: _BatchPlans) -> float:
        """(1.3) plus λ/2 Σ‖W‖²."""
        out = xs[-1]
        if self.output == "softmax":
            tiny = np.finfo(out.dtype).tiny
            data = -float(plans.loss(y, np.log(np.maximum(out, tiny)))) * plans.inv_n
        else:
            diff = out - y
            data = 0.5 * float(plans.loss(diff, diff)) * plans.inv_n
        if self.l2:
            params = self._params
            penalty = sum(
                float(layer.l2(params[w_name], params[w_name]))
                for layer, (w_name, _) in zip(plans.layers, self._names)
            )
            data += 0.5 * self.l2 * penalty
        return data

    def _backward(
        self, xs: list[np.ndarray], y: np.ndarray, plans: _BatchPlans, scale: float = 1.0,
        with_l2: bool = True,
    ) -> dict[str, np.ndarray]:
        """(1.4)–(1.9): δ = (ŷ − y)/N, then xᵀδ, Σ_n δ, δWᵀ ⊙ f' layer by layer.

        Every gradient comes out times ``scale`` (δ is scaled once, the rest is
        linear in it); ``with_l2`` adds the L2 term's ``λW`` (times ``scale``).
        """
        delta = xs[-1] - y
        delta *= plans.inv_n * scale  # (1.8): softmax + cross-entropy, identity + squares
        grads: dict[str, np.ndarray] = {}
        params = self._params
        l2 = self.l2 * scale if with_l2 else 0.0
        f_prime = self._f_prime
        i = len(plans.layers)
        for layer, (w_name, b_name) in zip(reversed(plans.layers), reversed(self._names)):
            w = params[w_name]
            gw = layer.weight_gradient(xs[i - 1], delta)  # (1.4)/(1.7)
            if l2:
                gw += l2 * w
            grads[w_name] = gw
            grads[b_name] = layer.bias_gradient(delta)
            if layer.backprop is not None and layer.hadamard is not None:
                e = layer.backprop(delta, w)  # (1.9): Σ_d δ^n_d (wᵀ)^d_h
                delta = e if f_prime is None else layer.hadamard(f_prime(xs[i - 1]), e)
            i -= 1
        return grads

    def _batch_plans(self, n: int) -> _BatchPlans:
        plans = self._plans.get(n)
        if plans is None:
            plans = self._plans[n] = self._make_plans(n)
        return plans

    def _make_plans(self, n: int) -> _BatchPlans:
        dt = self.dtype
        made: list[Plan] = []

        def seed_plan(key: str, *shapes: tuple[int, ...]) -> Kernel:
            compiled = plan(SEED[key].einsum or "", *shapes, dtype=dt)
            made.append(compiled)
            return compiled.kernel

        layers = []
        for i, (d, h) in enumerate(itertools.pairwise(self.layer_sizes)):
            first = i == 0
            layers.append(
                _LayerPlans(
                    forward=seed_plan("forward", (n, d), (d, h)),
                    weight_gradient=seed_plan("weight_gradient", (n, d), (n, h)),
                    bias_gradient=seed_plan("bias_gradient", (n, h)),
                    backprop=None if first else seed_plan("backprop", (n, h), (d, h)),
                    hadamard=None if first else seed_plan("hidden_error", (n, d), (n, d)),
                    l2=seed_plan("l2_loss", (d, h), (d, h)),
                )
            )
        k = self.layer_sizes[-1]
        return _BatchPlans(
            layers=tuple(layers),
            softmax_sum=seed_plan("softmax", (n, k)),
            loss=seed_plan("loss", (n, k), (n, k)),
            inv_n=1.0 / max(n, 1),
            hidden=tuple(layers[:-1]),
            last=layers[-1],
            plans=tuple(made),
        )

    # -- argument checks ------------------------------------------------------------------

    def _inputs(self, x: Any) -> np.ndarray:
        x = real_array("x", x, self.dtype, reason=_REAL_VALUED)
        d = self.layer_sizes[0]
        if x.ndim != 2 or x.shape[1] != d:
            raise SizeMismatchError(
                f"x has shape {x.shape}; the network takes a batch of shape (n, {d}): "
                f"index d has size {d} in W1 (axis 0)"
            )
        return x

    def _targets(self, y: Any, n: int) -> np.ndarray:
        y = real_array("y", y, self.dtype, reason=_REAL_VALUED)
        k = self.layer_sizes[-1]
        if y.shape != (n, k):
            raise SizeMismatchError(
                f"y has shape {y.shape} but the output has shape ({n}, {k}); "
                "y must be one-hot (use indexnet.seednet.data.one_hot) or real targets of that "
                "shape"
            )
        return y


def _validate_sizes(layer_sizes: Sequence[int]) -> tuple[int, ...]:
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, Iterable):
        raise InvalidArgumentError(
            f"layer_sizes must be a sequence of integers such as (64, 128, 10), got {layer_sizes!r}"
        )
    sizes = tuple(layer_sizes)
    if not all(is_integer(s) for s in sizes):
        raise InvalidArgumentError(
            f"layer_sizes must be a sequence of integers such as (64, 128, 10), got {sizes!r}"
        )
    if len(sizes) < 2:
        raise InvalidArgumentError(f"layer_sizes needs an input and an output size, got {sizes}")
    if any(s < 1 for s in sizes):
        raise InvalidArgumentError(f"every layer size must be >= 1, got {sizes}")
    for i, (d, h) in enumerate(itertools.pairwise(sizes), start=1):
        if d * h > MAX_WEIGHT_ELEMENTS:
            raise InvalidArgumentError(
                f"layer {i} (W{i}, {d} -> {h}) would hold {d * h:,} weights; the limit is "
                f"{MAX_WEIGHT_ELEMENTS:,} (2**31) per weight matrix"
            )
    return tuple(int(s) for s in sizes)


def _float_dtype(dtype: Any) -> np.dtype[Any]:
    """``dtype`` as a NumPy dtype, which must be float32 or float64."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise InvalidArgumentError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if resolved not in (np.float32, np.float64):
        raise InvalidArgumentError(f"dtype must be float32 or float64, got {resolved}")
    return resolved


def save_network(network: Network, path: str | os.PathLike[str]) -> None:
    """Save ``network`` to ``path`` atomically: :meth:`Network.save`."""
    network.save(path)


def load_network(path: str | os.PathLike[str]) -> Network:
    """Load the network saved at ``path``: :meth:`Network.load`."""
    return Network.load(path)
