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


def _out(x: Array, owned: bool) -> Array | None:
    return x if owned and isinstance(x, np.ndarray) and x.ndim else None


def _array(x: Array) -> np.ndarray:
    return x if isinstance(x, np.ndarray) else np.array(x)


def _decay(x: Array) -> tuple[np.ndarray, np.ndarray]:
    """``e = exp(−|x|)`` and ``r = 1/(1 + e)``: the parts of a sigmoid that never overflow."""
    e = _array(np.exp(-np.abs(x)))
    r = 1.0 / (1.0 + e)
    return e, _array(r)


def _sigmoid(x: Array, owned: bool) -> Array:
    """σ(x), exact to the last digits at any x: ``r`` for x ≥ 0, ``e r`` below.

    (``(1 + tanh(x/2))/2`` is faster but rounds to 0 below x ≈ −37, so
    ``log σ(−57)`` would be −inf rather than −57.)
    """
    e, r = _decay(x)
    return np.where(np.asarray(x) >= 0, r, e * r)


def _sigmoid_prime(x: Array, owned: bool) -> Array:
    """σ'(x) = e/(1 + e)², with e = exp(−|x|): symmetric, and never 0 − 0."""
    e, r = _decay(x)
    return e * r * r


def _log1p_decay(x: Array) -> np.ndarray:
    return _array(np.log1p(np.exp(-np.abs(x))))


def _softplus(x: Array, owned: bool) -> Array:
    """log(1 + e^x) = max(x, 0) + log1p(e^(−|x|)): no overflow, no underflow to 0."""
    return np.maximum(x, 0.0) + _log1p_decay(x)


def _logsigmoid(x: Array, owned: bool) -> Array:
    """The logarithm of σ: log σ(x) = min(x, 0) − log1p(e^(−|x|))."""
    return np.minimum(x, 0.0) - _log1p_decay(x)


def _logsigmoid_prime(x: Array, owned: bool) -> Array:
    """logsigmoid'(x) = σ(−x)."""
    return _sigmoid(np.negative(x), True)


def _tanh_prime(x: Array, owned: bool) -> Array:
    t = _array(np.tanh(x, out=_out(x, owned)))
    np.square(t, out=t)
    np.subtract(1.0, t, out=t)
    return t


def _softmax(x: Array, owned: bool, axis: int) -> Array:
    e = _array(np.subtract(x, x.max(axis=axis, keepdims=True), out=_out(x, owned)))
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _one_hot(x: np.ndarray, axis: int, largest: bool) -> np.ndarray:
    """1 at the first largest (smallest) entry along ``axis``, else 0."""
    pick = np.argmax(x, axis=axis) if largest else np.argmin(x, axis=axis)
    out = np.zeros_like(x, dtype=np.result_type(x, np.float32))
    np.put_along_axis(out, np.expand_dims(pick, axis), 1.0, axis=axis)
    return out


#: Functions along one axis other than softmax: reductions and their derivatives.
_ALONG: dict[str, Callable[[np.ndarray, int], Array]] = {
    "max": lambda x, axis: np.max(x, axis=axis),
    "min": lambda x, axis: np.min(x, axis=axis),
    "argmax": lambda x, axis: _one_hot(x, axis, True),
    "argmin": lambda x, axis: _one_hot(x, axis, False),
}


_UNARY: dict[tuple[str, int], Callable[[Array, bool], Array]] = {
    ("sigmoid", 0): _sigmoid,
    ("sigmoid", 1): _sigmoid_prime,
    ("softplus", 0): _softplus,
    ("softplus", 1): _sigmoid,
    ("logsigmoid", 0): _logsigmoid,
    ("logsigmoid", 1): _logsigmoid_prime,
    ("tanh", 0): lambda x, o: np.tanh(x, out=_out(x, o)),
    ("tanh", 1): _tanh_prime,
    ("relu", 0): lambda x, o: np.maximum(x, 0.0, out=_out(x, o)),
    ("relu", 1): lambda x, o: (x > 0).astype(np.result_type(x, np.float32)),
    ("exp", 0): lambda x, o: np.exp(x, out=_out(x, o)),
    ("exp", 1): lambda x, o: np.exp(x, out=_out(x, o)),
    ("log", 0): lambda x, o: np.log(x, out=_out(x, o)),
    ("log", 1): lambda x, o: np.reciprocal(x, out=_out(x, o)),
    ("sqrt", 0): lambda x, o: np.sqrt(x, out=_out(x, o)),
    ("sqrt", 1): lambda x, o: 0.5 / np.sqrt(x),
    ("abs", 0): lambda x, o: np.abs(x, out=_out(x, o)),
    ("abs", 1): lambda x, o: np.sign(x, out=_out(x, o)),
    ("square", 0): lambda x, o: np.square(x, out=_out(x, o)),
    ("square", 1): lambda x, o: np.multiply(x, 2.0, out=_out(x, o)),
    ("identity", 0): lambda x, o: x,
    ("identity", 1): lambda x, o: np.ones_like(x),
}


def apply(
    name: str,
    primes: int,
    args: Sequence[Array],
    owned: bool = False,
    axis: int | None = None,
) -> Array:
    """Apply built-in ``name`` (``primes`` = 1 for its derivative) to arrays.

    ``owned`` lets a unary function overwrite its argument; ``axis`` is the
    axis softmax normalises along. Arguments of ``loss`` must broadcast.

    >>> import numpy as np
    >>> apply("softmax", 0, [np.zeros((2, 2))], axis=1).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    """
    if name == "softmax":
        if primes or axis is None:
            raise InvalidArgumentError("softmax takes an axis and has no elementwise derivative")
        return _softmax(args[0], owned, axis)
    if name in _ALONG:
        if primes or axis is None:
            raise InvalidArgumentError(f"{name} takes an axis and has no elementwise derivative")
        return _ALONG[name](_array(args[0]), axis)
    if name == "loss":
        y, p = args
        if primes:
            return -np.asarray(y) / p
        return -np.asarray(y) * np.log(p)
    kernel = _UNARY.get((name, primes))
    if kernel is None:
        raise InvalidArgumentError(f"no built-in function {name}{chr(39) * primes}")
    return kernel(args[0], owned)


def matrix_apply(name: str, matrix: np.ndarray) -> np.ndarray:
    """``inv``, ``det`` or ``logdet`` (log |det|) of the square matrices in the last two axes.

    >>> import numpy as np
    >>> m = np.array([[2.0, 1.0], [0.0, -4.0]])
    >>> (matrix_apply("inv", m) @ m).round(6).tolist(), round(float(matrix_apply("det", m)), 6)
    ([[1.0, 0.0], [0.0, 1.0]], -8.0)
    >>> round(float(matrix_apply("logdet", m)), 6) == round(float(np.log(8.0)), 6)
    True
    """
    if name == "inv":
        return np.linalg.inv(matrix)
    if name == "det":
        return np.asarray(np.linalg.det(matrix))
    if name == "logdet":
        return np.asarray(np.linalg.slogdet(matrix)[1])
    raise InvalidArgumentError(f"{name} is not a function of a matrix")
