"""The arguments of :func:`~indexnet.check.gradcheck.gradcheck`, read and checked.

Every rejection is an :class:`~indexnet.errors.InvalidArgumentError` (or a
:class:`~indexnet.errors.NonFiniteError` for a non-finite point) that says
what was expected. The caller's own functions (``f`` and a ``grads``
callable) run here, and only here: an exception they raise is marked with
:func:`~indexnet.errors.from_caller`, so that it passes through gradcheck
unchanged rather than as an internal error.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError, NonFiniteError, from_caller
from .gradreport import index_text

__all__ = [
    "Arrays",
    "GradsArgument",
    "ScalarFunction",
    "call_caller",
    "check_directions",
    "check_seed",
    "convert_grads",
    "convert_params",
    "evaluate",
    "positive_float",
]

Arrays = dict[str, np.ndarray]
ScalarFunction = Callable[[Arrays], Any]
GradsArgument = Mapping[str, Any] | Callable[[Arrays], Mapping[str, Any]] | None


def call_caller(func: Callable[[Arrays], Any], arrays: Arrays) -> Any:
    """``func(arrays)``; an exception it raises is the caller's (marked, then re-raised)."""
    try:
        return func(arrays)
    except Exception as err:
        from_caller(err)
        raise


def evaluate(f: ScalarFunction, point: Mapping[str, np.ndarray]) -> float:
    """Call ``f`` on a fresh dict and return its value as a float, checking it is a scalar."""
    out = call_caller(f, dict(point))
    try:
        arr = np.asarray(out)
    except Exception as err:  # pragma: no cover - exotic objects
        raise InvalidArgumentError(f"f must return a scalar; got {type(out).__name__}") from err
    if arr.shape != ():
        raise InvalidArgumentError(
            f"f must return a scalar (a number or a 0-d array); got an array of shape {arr.shape}"
        )
    if arr.dtype.kind not in "biuf":
        raise InvalidArgumentError(
            f"f must return a real number; got {type(out).__name__} of dtype {arr.dtype}"
        )
    return float(arr)


def _to_float64(what: str, value: Any) -> np.ndarray:
    """``value`` as a fresh float64 array (``what`` names it in the error)."""
    try:
        arr = np.asarray(value)
    except Exception as err:
        raise InvalidArgumentError(f"{what} cannot be read as an array: {err}") from err
    if arr.dtype.kind not in "biuf":
        raise InvalidArgumentError(f"{what} must hold real numbers; got dtype {arr.dtype}")
    return np.array(arr, dtype=np.float64, copy=True)


def convert_params(params: Mapping[str, Any]) -> Arrays:
    """The point: read-only float64 copies of ``params``, which must be finite."""
    if not isinstance(params, Mapping):
        raise InvalidArgumentError(
            f"params must be a mapping of name -> array; got {type(params).__name__}"
        )
    if not params:
        raise InvalidArgumentError("params is empty: there is nothing to check")
    base: Arrays = {}
    for name, value in params.items():
        arr = _to_float64(f"parameter {name!r}", value)
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            idx = tuple(int(i) for i in np.unravel_index(int(bad[0]), arr.shape))
            value = float(arr.reshape(-1)[bad[0]])
            raise NonFiniteError(
                f"parameter {name!r} is {value!r} at index {index_text(idx)}: "
                "gradients can only be checked at a finite point"
            )
        arr.flags.writeable = False
        base[name] = arr
    return base


def convert_grads(grads: GradsArgument, base: Arrays) -> Arrays:
    """The analytic gradients as float64 copies, one per parameter and of its shape.

    A callable ``grads`` is called once, on copies of the point ``base``.
    """
    if grads is None:
        raise InvalidArgumentError(
            "grads is required: pass the analytic gradients as a mapping name -> array "
            f"(keys {list(base)}, each of its parameter's shape), or a callable "
            "grads(params) returning that mapping"
        )
    if callable(grads) and not isinstance(grads, Mapping):
        grads = call_caller(grads, {k: v.copy() for k, v in base.items()})
    if not isinstance(grads, Mapping):
        raise InvalidArgumentError(
            f"grads must be a mapping name -> array; got {type(grads).__name__}"
        )
    missing = [k for k in base if k not in grads]
    extra = [k for k in grads if k not in base]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing gradients for {missing}")
        if extra:
            parts.append(f"gradients for unknown parameters {extra}")
        raise InvalidArgumentError(
            f"grads must have the keys of params {list(base)}: {'; '.join(parts)}"
        )
    out: Arrays = {}
    for name, p in base.items():
        g = _to_float64(f"gradient {name!r}", grads[name])
        if g.shape != p.shape:
            raise InvalidArgumentError(
                f"gradient {name!r} has shape {g.shape} but parameter {name!r} has shape {p.shape}"
            )
        out[name] = g
    return out


def check_directions(directions: int) -> int:
    """``directions`` as an int, which must be at least 1."""
    if isinstance(directions, bool):
        raise InvalidArgumentError(f"directions must be an integer >= 1; got {directions!r}")
    try:
        n = operator.index(directions)
    except TypeError as err:
        raise InvalidArgumentError(
            f"directions must be an integer >= 1; got {directions!r}"
        ) from err
    if n < 1:
        raise InvalidArgumentError(f"directions must be an integer >= 1; got {n}")
    return n


def check_seed(seed: int | None) -> None:
    """Reject a ``seed`` that is not None or an integer >= 0."""
    if seed is not None and (
        not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0
    ):
        raise InvalidArgumentError(f"seed must be an integer >= 0 or None; got {seed!r}")


def positive_float(name: str, value: float, *, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (>= 0 with ``allow_zero``); ``name`` names it."""
    try:
        x = float(value)
    except (TypeError, ValueError) as err:
        raise InvalidArgumentError(f"{name} must be a number; got {value!r}") from err
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        rule = ">= 0" if allow_zero else "> 0"
        raise InvalidArgumentError(f"{name} must be a finite number {rule}; got {value!r}")
    return x
