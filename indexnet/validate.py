"""Argument checks shared by the library: predicates, and checkers that raise.

The predicates (:func:`is_integer`, :func:`is_real`, :func:`in_range`) answer
a question cheaply. The checkers return the value in its plain form (``int``,
``float``, an array) or raise :class:`~indexnet.InvalidArgumentError` with a
message naming the argument, the rule and the value given, as in
``lr must be a finite number > 0, got -1.0``. This module imports only
:mod:`indexnet.errors` (and NumPy), so every stage may use it.

>>> positive_int("epochs", 3)
3
>>> positive_int("epochs", 0)
Traceback (most recent call last):
...
indexnet.errors.InvalidArgumentError: epochs must be an integer >= 1, got 0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any

import numpy as np

from .errors import InvalidArgumentError

__all__ = [
    "fraction",
    "in_range",
    "is_integer",
    "is_real",
    "non_negative_int",
    "non_negative_real",
    "one_of",
    "positive_int",
    "positive_real",
    "real_array",
    "require",
]


def is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or NumPy), ``bool`` excluded.

    >>> is_integer(3), is_integer(np.int64(3)), is_integer(True), is_integer(3.0)
    (True, True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: Any) -> bool:
    """Whether ``value`` is a real number (int, float, their NumPy kin), ``bool`` excluded.

    >>> is_real(0.5), is_real(2), is_real(np.float32(1)), is_real(True), is_real("1")
    (True, True, True, False, False)
    """
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def in_range(value: Any, low: float, high: float, *, low_open: bool = False) -> bool:
    """Whether ``low <= value < high`` (``low < value < high`` if ``low_open``).

    Cheap enough for a hot loop: anything that does not compare as a number
    (text, None, an array of several values) is simply out of range, and so is NaN.

    >>> in_range(0.0, 0.0, 1.0), in_range(0.0, 0.0, 1.0, low_open=True)
    (True, False)
    >>> in_range(float("nan"), 0.0, math.inf), in_range("a", 0.0, 1.0), in_range(1.0, 0.0, 1.0)
    (False, False, False)
    """
    try:
        return bool(low < value < high if low_open else low <= value < high)
    except (TypeError, ValueError):  # not a number, or an array
        return False


def _is_finite(value: Any) -> bool:
    """A real number that is neither infinite nor NaN (an int too large for a float is not)."""
    try:
        return is_real(value) and math.isfinite(value)
    except OverflowError:
        return False


def require(ok: bool, name: str, value: Any, rule: str) -> None:
    """Raise ``InvalidArgumentError("{name} must be {rule}, got {value!r}")`` unless ``ok``.

    >>> require(True, "lr", 0.1, "a finite number > 0")
    >>> require(False, "momentum", 5.0, "a number in [0, 1)")
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: momentum must be a number in [0, 1), got 5.0
    """
    if not ok:
        raise InvalidArgumentError(f"{name} must be {rule}, got {value!r}")


def positive_int(name: str, value: Any) -> int:
    """``value`` as an ``int`` if it is an integer >= 1 (epochs, batch sizes, counts).

    >>> positive_int("batch_size", np.int64(32))
    32
    >>> positive_int("epochs", 1.5)
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: epochs must be an integer >= 1, got 1.5
    """
    require(is_integer(value) and value >= 1, name, value, "an integer >= 1")
    return int(value)


def non_negative_int(name: str, value: Any) -> int:
    """``value`` as an ``int`` if it is an integer >= 0 (seeds, counts that may be zero).

    >>> non_negative_int("seed", 0)
    0
    >>> non_negative_int("seed", -1)
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: seed must be an integer >= 0, got -1
    """
    require(is_integer(value) and value >= 0, name, value, "an integer >= 0")
    return int(value)


def positive_real(name: str, value: Any) -> float:
    """``value`` as a ``float`` if it is a finite real number > 0 (rates, step sizes).

    >>> positive_real("lr", 2)
    2.0
    >>> positive_real("lr", float("nan"))
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: lr must be a finite number > 0, got nan
    """
    require(_is_finite(value) and value > 0, name, value, "a finite number > 0")
    return float(value)


def non_negative_real(name: str, value: Any) -> float:
    """``value`` as a ``float`` if it is a finite real number >= 0 (penalties, tolerances).

    >>> non_negative_real("l2", 0)
    0.0
    >>> non_negative_real("l2", None)
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: l2 must be a finite number >= 0, got None
    """
    require(_is_finite(value) and value >= 0, name, value, "a finite number >= 0")
    return float(value)


def fraction(name: str, value: Any) -> float:
    """``value`` as a ``float`` if it is a real number in [0, 1) (momentum, dropout rates).

    >>> fraction("momentum", 0.9)
    0.9
    >>> fraction("momentum", 1.0)
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: momentum must be in [0, 1), got 1.0
    """
    require(is_real(value) and 0 <= value < 1, name, value, "in [0, 1)")
    return float(value)


def one_of(name: str, value: Any, choices: Collection[Any]) -> Any:
    """``value`` if it is one of ``choices`` (option names); else an error listing them.

    >>> one_of("output", "softmax", ("softmax", "identity"))
    'softmax'
    >>> one_of("activation", [], ("sigmoid", "tanh"))
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: unknown activation []; valid: sigmoid, tanh
    """
    try:
        known = value in choices
    except TypeError:  # unhashable, as a list is
        known = False
    if not known:
        raise InvalidArgumentError(
            f"unknown {name} {value!r}; valid: {', '.join(map(str, choices))}"
        )
    return value


def real_array(name: str, value: Any, dtype: Any = None, *, reason: str = "") -> np.ndarray:
    """``value`` as an array of real numbers, cast to ``dtype`` (no copy when it already is).

    Booleans and integers become ``float64`` when ``dtype`` is None; complex
    numbers, text, objects and ragged nesting are an error naming ``name``
    (and ``reason``, when given, in parentheses).

    >>> real_array("x", [[1, 2]]).dtype, real_array("x", [0.5], "float32").dtype
    (dtype('float64'), dtype('float32'))
    >>> real_array("x", [1j], reason="the network is real-valued")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: x must hold real numbers, got dtype complex128 (the ...
    >>> real_array("W", [[1.0], [2.0, 3.0]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: W is not a rectangular array of numbers: ...
    """
    if type(value) is np.ndarray and value.dtype.kind in "fiub":  # the hot path: no checks
        array = value
    else:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as err:
            raise InvalidArgumentError(
                f"{name} is not a rectangular array of numbers: {err}"
            ) from None
        if array.dtype.kind not in "fiub":
            why = f" ({reason})" if reason else ""
            raise InvalidArgumentError(
                f"{name} must hold real numbers, got dtype {array.dtype}{why}"
            )
    if dtype is None:
        return array if array.dtype.kind == "f" else array.astype(np.float64)
    return array.astype(dtype, copy=False)
