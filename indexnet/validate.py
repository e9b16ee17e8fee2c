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

import decimal
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
    "numeric_operand",
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

    Booleans and integers become ``float64`` when ``dtype`` is None, and so do
    object arrays whose every element is a real number (``Decimal``,
    ``Fraction``, Python floats); complex numbers, text, dates, ``None`` and
    other objects, and ragged nesting are an error naming ``name`` (and
    ``reason``, when given, in parentheses), and for an object array the
    index of the first bad element.

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
    >>> real_array("x", np.array([1.0, None], dtype=object))
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: x must hold real numbers, got None (NoneType) at index [1]
    """
    if type(value) is np.ndarray and value.dtype.kind in "fiub":  # the hot path: no checks
        array = value
    else:
        array = _as_array(name, value)
        if array.dtype.kind == "O":
            array = _real_objects(name, array, reason)
        elif array.dtype.kind not in "fiub":
            why = f" ({reason})" if reason else ""
            raise InvalidArgumentError(
                f"{name} must hold real numbers, got dtype {array.dtype}{why}"
            )
    if dtype is None:
        return array if array.dtype.kind == "f" else array.astype(np.float64)
    return array.astype(dtype, copy=False)


def numeric_operand(name: str, value: Any) -> Any:
    """``value`` if it is an array of numbers (bool, integer, float, complex); else an error.

    Arrays of other libraries (anything with a ``shape`` and a ``dtype`` that
    is not a NumPy dtype, such as torch's) pass unchecked; lists and scalars
    are read with NumPy. Text, bytes, dates, structured and void arrays, and
    object arrays holding anything but numbers are an
    :class:`~indexnet.InvalidArgumentError` naming ``name`` (an operand such as
    ``"operand 1"``), its dtype and, for objects, the first bad element.

    >>> numeric_operand("operand 0", np.ones(2)).tolist()
    [1.0, 1.0]
    >>> numeric_operand("operand 1", np.array(["a", "b"]))
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: operand 1 must hold numbers, got dtype <U1 (text)
    """
    if isinstance(value, np.ndarray):
        array = value
    elif hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(
            value.dtype, np.dtype):
        return value  # another library's array: its own einsum checks its dtype
    else:
        array = _as_array(name, value)
    kind = array.dtype.kind
    if kind in "biufc":
        return value if isinstance(value, np.ndarray) else array
    if kind == "O":
        bad = _first_non_number(array, numbers.Number)
        if bad is None:
            return value if isinstance(value, np.ndarray) else array
        raise _bad_element(name, "numbers", array, bad)
    what = _KIND_NAMES.get(kind, "not numbers")
    raise InvalidArgumentError(f"{name} must hold numbers, got dtype {array.dtype} ({what})")


_KIND_NAMES = {"U": "text", "S": "bytes", "M": "dates", "m": "time spans",
               "V": "raw or structured records", "T": "text"}


def _as_array(name: str, value: Any) -> np.ndarray:
    """``np.asarray(value)``; ragged nesting or an unreadable object is an error naming ``name``."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as err:
        raise InvalidArgumentError(
            f"{name} is not a rectangular array of numbers: {err}"
        ) from None


def _real_objects(name: str, array: np.ndarray, reason: str) -> np.ndarray:
    """An object array of real numbers as float64; else an error at the first bad element."""
    bad = _first_non_number(array, (numbers.Real, decimal.Decimal))
    if bad is not None:
        raise _bad_element(name, "real numbers", array, bad, reason)
    try:
        return array.astype(np.float64)
    except (ValueError, TypeError, OverflowError) as err:
        raise InvalidArgumentError(f"{name} must hold real numbers: {err}") from None


def _first_non_number(array: np.ndarray, kind: type | tuple[type, ...]) -> int | None:
    """The flat index of the first element of ``array`` that is not a ``kind``, or None."""
    for i, element in enumerate(array.reshape(-1)):
        if not isinstance(element, kind):
            return i
    return None


def _bad_element(name: str, what: str, array: np.ndarray, flat: int,
                 reason: str = "") -> InvalidArgumentError:
    """The error for element ``flat`` of object array ``array`` not being one of ``what``."""
    element = array.reshape(-1)[flat]
    index = ", ".join(str(int(i)) for i in np.unravel_index(flat, array.shape))
    shown = repr(element)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    why = f" ({reason})" if reason else ""
    return InvalidArgumentError(
        f"{name} must hold {what}, got {shown} ({type(element).__name__}) at index [{index}]{why}"
    )
