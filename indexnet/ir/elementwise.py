"""The index language's built-in functions: what they compute, their derivatives, their names.

Every function is elementwise except ``softmax[k]`` (normalised along one
index), ``max_k``/``min_k`` and the matrix functions ``inv``, ``det`` and
``logdet`` (of the square matrix laid out in the last two axes). ``f'`` is
the derivative in the (last) argument: ``sigmoid'(a)`` is σ(a)(1 − σ(a)),
``loss'(y, ŷ)`` is ∂/∂ŷ of the cross-entropy term −y log ŷ.
A function may work in place on an argument that nobody else holds
(``owned``), which saves an allocation per call in the hot path.

>>> import numpy as np
>>> float(apply("sigmoid", 0, [np.array(0.0)]))
0.5
>>> float(apply("sigmoid", 1, [np.array(0.0)]))
0.25
>>> FUNCTIONS["loss"].arity
2
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..einsum.arrays import namespace
from ..errors import InvalidArgumentError

__all__ = ["FUNCTIONS", "MATRIX_FUNCTIONS", "Function", "apply", "matrix_apply"]


@dataclass(frozen=True)
class Function:
    """A built-in function: its arity, whether it takes an index (softmax[k]), its meaning."""

    name: str
    arity: int
    indexed: bool
    differentiable: bool
    meaning: str
    reduces: bool = False  # max_k, min_k: the index is summed away, not kept
    matrix: bool = False  # inv, det, logdet: a function of the square matrix its argument is


FUNCTIONS: Mapping[str, Function] = {
    f.name: f
    for f in (
        Function("sigmoid", 1, False, True, "σ(x) = 1/(1 + e^(−x)); σ' = σ(1 − σ)"),
        Function("softplus", 1, False, True, "log(1 + e^x); softplus' = σ"),
        Function("logsigmoid", 1, False, True, "log σ(x) = −softplus(−x); logsigmoid' = σ(−x)"),
        Function("tanh", 1, False, True, "tanh x; tanh' = 1 − tanh²"),
        Function("relu", 1, False, True, "max(x, 0); relu' = [x > 0]"),
        Function("exp", 1, False, True, "e^x"),
        Function("log", 1, False, True, "natural logarithm; log' = 1/x"),
        Function("sqrt", 1, False, True, "√x; sqrt' = 1/(2√x)"),
        Function("abs", 1, False, True, "|x|; abs' = sign x"),
        Function("square", 1, False, True, "x²; square' = 2x"),
        Function("identity", 1, False, True, "x; identity' = 1"),
        Function("softmax", 1, True, False, "exp, normalised to sum 1 along the index"),
        Function("max", 1, True, False, "the largest value over the index (max_k)", True),
        Function("min", 1, True, False, "the smallest value over the index (min_k)", True),
        Function("argmax", 1, True, False,
                 "1 where the argument is largest over the index, else 0 (max_k's derivative)"),
        Function("argmin", 1, True, False,
                 "1 where the argument is smallest over the index, else 0 (min_k's derivative)"),
        Function("inv", 1, False, False,
                 "the inverse of the square matrix (two indices, rows then columns)",
                 matrix=True),
        Function("det", 1, False, False, "the determinant of the square matrix", matrix=True),
        Function("logdet", 1, False, False,
                 "log |det| of the square matrix (slogdet's logarithm)", matrix=True),
        Function("loss", 2, False, True,
                 "cross-entropy term −y log ŷ; loss'(y, ŷ) = −y/ŷ (in ŷ)"),
    )
}

#: The functions of a square matrix: their argument has two free indices (rows, columns).
MATRIX_FUNCTIONS = frozenset(name for name, f in FUNCTIONS.items() if f.matrix)

Array = Any
Namespace = Any  # an array namespace: numpy itself, or array-api-compat's for a library

#: No ``out=`` argument: what every library but NumPy gets.
_NO_OUT: dict[str, Any] = {}


def _out(xp: Namespace, x: Array, owned: bool) -> dict[str, Any]:
    """``{"out": x}`` where NumPy may overwrite ``x`` (owned, not 0-d), else no argument."""
    return {"out": x} if owned and xp is np and isinstance(x, np.ndarray) and x.ndim else _NO_OUT


def _fresh(xp: Namespace, x: Array) -> Array:
    """NumPy's scalar results as 0-d arrays (to be written in place); others as they are."""
    return np.array(x) if xp is np and not isinstance(x, np.ndarray) else x


def _float_like(xp: Namespace, mask: Array, x: Array) -> Array:
    """A boolean ``mask`` as 0/1 in ``x``'s floating dtype (float32 at least, for NumPy)."""
    if xp is np:
        return np.asarray(mask).astype(np.result_type(x, np.float32))
    dtype = x.dtype if xp.isdtype(x.dtype, "real floating") else xp.float32
    return xp.astype(mask, dtype)


def _decay(xp: Namespace, x: Array) -> tuple[Array, Array]:
    """``e = exp(−|x|)`` and ``r = 1/(1 + e)``: the parts of a sigmoid that never overflow."""
    e = _fresh(xp, xp.exp(-xp.abs(x)))
    r = 1.0 / (1.0 + e)
    return e, _fresh(xp, r)


def _sigmoid(xp: Namespace, x: Array, owned: bool) -> Array:
    """σ(x), exact to the last digits at any x: ``r`` for x ≥ 0, ``e r`` below.

    (``(1 + tanh(x/2))/2`` is faster but rounds to 0 below x ≈ −37, so
    ``log σ(−57)`` would be −inf rather than −57.)
    """
    e, r = _decay(xp, x)
    return xp.where((np.asarray(x) if xp is np else x) >= 0, r, e * r)


def _sigmoid_prime(xp: Namespace, x: Array, owned: bool) -> Array:
    """σ'(x) = e/(1 + e)², with e = exp(−|x|): symmetric, and never 0 − 0."""
    e, r = _decay(xp, x)
    return e * r * r


def _log1p_decay(xp: Namespace, x: Array) -> Array:
    return _fresh(xp, xp.log1p(xp.exp(-xp.abs(x))))


def _softplus(xp: Namespace, x: Array, owned: bool) -> Array:
    """log(1 + e^x) = max(x, 0) + log1p(e^(−|x|)): no overflow, no underflow to 0."""
    return xp.maximum(x, 0.0) + _log1p_decay(xp, x)


def _logsigmoid(xp: Namespace, x: Array, owned: bool) -> Array:
    """The logarithm of σ: log σ(x) = min(x, 0) − log1p(e^(−|x|))."""
    return xp.minimum(x, 0.0) - _log1p_decay(xp, x)


def _logsigmoid_prime(xp: Namespace, x: Array, owned: bool) -> Array:
    """logsigmoid'(x) = σ(−x)."""
    return _sigmoid(xp, xp.negative(x), True)


def _tanh_prime(xp: Namespace, x: Array, owned: bool) -> Array:
    t = _fresh(xp, xp.tanh(x, **_out(xp, x, owned)))
    if xp is not np:
        return 1.0 - t * t
    np.square(t, out=t)
    np.subtract(1.0, t, out=t)
    return t


def _reciprocal(xp: Namespace, x: Array, owned: bool) -> Array:
    if xp is np:
        return np.reciprocal(x, **_out(xp, x, owned))
    return 1.0 / x


def _softmax(xp: Namespace, x: Array, owned: bool, axis: int) -> Array:
    # NumPy's method is a microsecond faster than its function; torch's returns (values, indices)
    peak = x.max(axis=axis, keepdims=True) if xp is np else xp.max(x, axis=axis, keepdims=True)
    e = _fresh(xp, xp.subtract(x, peak, **_out(xp, x, owned)))
    if xp is not np:
        e = xp.exp(e)
        return e / xp.sum(e, axis=axis, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _one_hot(xp: Namespace, x: Array, axis: int, largest: bool) -> Array:
    """1 at the first largest (smallest) entry along ``axis``, else 0."""
    pick = (xp.argmax if largest else xp.argmin)(x, axis=axis, keepdims=True)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    where = {} if xp is np else {"device": _device(x)}
    positions = xp.reshape(xp.arange(x.shape[axis], **where), tuple(shape))
    return _float_like(xp, positions == pick, x)


def _device(x: Array) -> Any:
    import array_api_compat  # deferred: optional, and only foreign arrays come here

    return array_api_compat.device(x)


#: Functions along one axis other than softmax: reductions and their derivatives.
_ALONG: dict[str, Callable[[Namespace, Array, int], Array]] = {
    "max": lambda xp, x, axis: xp.max(x, axis=axis),
    "min": lambda xp, x, axis: xp.min(x, axis=axis),
    "argmax": lambda xp, x, axis: _one_hot(xp, x, axis, True),
    "argmin": lambda xp, x, axis: _one_hot(xp, x, axis, False),
}

Kernel = Callable[[Namespace, Array, bool], Array]

#: Every unary function and its derivative, written once against the array API
#: (``xp``); ``_out`` lets NumPy work in place on an owned argument.
_UNARY: dict[tuple[str, int], Kernel] = {
    ("sigmoid", 0): _sigmoid,
    ("sigmoid", 1): _sigmoid_prime,
    ("softplus", 0): _softplus,
    ("softplus", 1): _sigmoid,
    ("logsigmoid", 0): _logsigmoid,
    ("logsigmoid", 1): _logsigmoid_prime,
    ("tanh", 0): lambda xp, x, o: xp.tanh(x, **_out(xp, x, o)),
    ("tanh", 1): _tanh_prime,
    ("relu", 0): lambda xp, x, o: xp.maximum(x, 0.0, **_out(xp, x, o)),
    ("relu", 1): lambda xp, x, o: _float_like(xp, x > 0, x),
    ("exp", 0): lambda xp, x, o: xp.exp(x, **_out(xp, x, o)),
    ("exp", 1): lambda xp, x, o: xp.exp(x, **_out(xp, x, o)),
    ("log", 0): lambda xp, x, o: xp.log(x, **_out(xp, x, o)),
    ("log", 1): _reciprocal,
    ("sqrt", 0): lambda xp, x, o: xp.sqrt(x, **_out(xp, x, o)),
    ("sqrt", 1): lambda xp, x, o: 0.5 / xp.sqrt(x),
    ("abs", 0): lambda xp, x, o: xp.abs(x, **_out(xp, x, o)),
    ("abs", 1): lambda xp, x, o: xp.sign(x, **_out(xp, x, o)),
    ("square", 0): lambda xp, x, o: xp.square(x, **_out(xp, x, o)),
    ("square", 1): lambda xp, x, o: xp.multiply(x, 2.0, **_out(xp, x, o)),
    ("identity", 0): lambda xp, x, o: x,
    ("identity", 1): lambda xp, x, o: xp.ones_like(x),
}


def apply(
    name: str,
    primes: int,
    args: Sequence[Array],
    owned: bool = False,
    axis: int | None = None,
    xp: Namespace | None = None,
) -> Array:
    """Apply built-in ``name`` (``primes`` = 1 for its derivative) to arrays.

    ``owned`` lets a unary function overwrite its argument (NumPy only);
    ``axis`` is the axis softmax normalises along. Arguments of ``loss`` must
    broadcast. ``xp`` is the array namespace to compute with; by default the
    arguments' own (:func:`~indexnet.einsum.arrays.namespace`): NumPy for
    NumPy arrays and numbers, the array API for torch, JAX, CuPy or Dask
    arrays, which stay in their library, dtype and device.

    >>> import numpy as np
    >>> apply("softmax", 0, [np.zeros((2, 2))], axis=1).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    >>> import torch  # doctest: +SKIP
    >>> apply("sigmoid", 0, [torch.zeros(2)])  # a torch tensor back  # doctest: +SKIP
    tensor([0.5000, 0.5000])
    """
    if xp is None:
        xp = namespace(*args)
    if name == "softmax":
        if primes or axis is None:
            raise InvalidArgumentError("softmax takes an axis and has no elementwise derivative")
        return _softmax(xp, args[0], owned, axis)
    if name in _ALONG:
        if primes or axis is None:
            raise InvalidArgumentError(f"{name} takes an axis and has no elementwise derivative")
        return _ALONG[name](xp, _fresh(xp, args[0]), axis)
    if name == "loss":
        y, p = args
        if xp is np:
            y = np.asarray(y)
        if primes:
            return -y / p
        return -y * xp.log(p)
    kernel = _UNARY.get((name, primes))
    if kernel is None:
        raise InvalidArgumentError(f"no built-in function {name}{chr(39) * primes}")
    return kernel(xp, args[0], owned)


def matrix_apply(name: str, matrix: Array, xp: Namespace | None = None) -> Array:
    """``inv``, ``det`` or ``logdet`` (log |det|) of the square matrices in the last two axes.

    ``xp`` is the array namespace (by default the matrix's own).

    >>> import numpy as np
    >>> m = np.array([[2.0, 1.0], [0.0, -4.0]])
    >>> (matrix_apply("inv", m) @ m).round(6).tolist(), round(float(matrix_apply("det", m)), 6)
    ([[1.0, 0.0], [0.0, 1.0]], -8.0)
    >>> round(float(matrix_apply("logdet", m)), 6) == round(float(np.log(8.0)), 6)
    True
    """
    if xp is None:
        xp = namespace(matrix)
    if name == "inv":
        return xp.linalg.inv(matrix)
    if name == "det":
        det = xp.linalg.det(matrix)
        return np.asarray(det) if xp is np else det
    if name == "logdet":
        logabsdet = xp.linalg.slogdet(matrix)[1]
        return np.asarray(logabsdet) if xp is np else logabsdet
    raise InvalidArgumentError(f"{name} is not a function of a matrix")
