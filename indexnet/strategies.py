"""Hypothesis strategies for einsum formulas, their shapes and whole problems.

Modelled on ``hypothesis.extra.numpy``: every function takes keyword-only
arguments, checks them when called (a bad one raises
:class:`~indexnet.errors.InvalidArgumentError` at once, not when the first
example is drawn) and returns a strategy. The strategies shrink towards fewer
operands, fewer axes, no repeated letters, no broadcasting and small sizes.

* :func:`einsum_equations` draws valid einsum strings;
* :func:`index_sizes` draws a size for every index letter;
* :func:`einsum_shapes` draws operand shapes that fit a given formula;
* :func:`einsum_problems` draws ``(subscripts, arrays)`` ready for
  ``np.einsum(subscripts, *arrays)``;
* :func:`example_problem` builds one fixed problem, for ``@example``.

>>> from hypothesis import given, settings
>>> import numpy as np
>>> from indexnet import contract
>>> @settings(max_examples=10, database=None)
... @given(einsum_problems(max_operands=2, max_side=3))
... def test_matches_numpy(problem):
...     subscripts, arrays = problem
...     assert np.einsum(subscripts, *arrays).shape == contract(subscripts, *arrays).shape
>>> test_matches_numpy()
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .einsum.subscripts import ELLIPSIS, Subscripts, parse
from .einsum.subscripts import index_sizes as index_sizes_of
from .errors import IndexnetError, InvalidArgumentError

__all__ = [
    "einsum_equations",
    "einsum_problems",
    "einsum_shapes",
    "example_problem",
    "index_sizes",
]

Problem = tuple[str, list[np.ndarray]]
Shape = tuple[int, ...]


# -- argument checks ------------------------------------------------------------------------


def _check_int(name: str, value: Any, min_value: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgumentError(f"{name} must be an integer, not {value!r}")
    if value < min_value:
        raise InvalidArgumentError(f"{name}={value!r} must be at least {min_value}")
    return int(value)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidArgumentError(f"{name} must be True or False, not {value!r}")
    return bool(value)


def _check_range(low_name: str, low: int, high_name: str, high: int) -> None:
    if low > high:
        raise InvalidArgumentError(f"{low_name}={low} is greater than {high_name}={high}")


def _check_letters(letters: Any) -> str:
    if not isinstance(letters, str) or not letters:
        raise InvalidArgumentError(f"letters must be a non-empty string, not {letters!r}")
    bad = [c for c in letters if c not in string.ascii_letters]
    if bad:
        raise InvalidArgumentError(
            f"letters={letters!r} holds {bad[0]!r}; indices are single letters a-z, A-Z"
        )
    if len(set(letters)) != len(letters):
        raise InvalidArgumentError(f"letters={letters!r} holds a letter twice")
    return letters


def _check_dtype(dtype: Any) -> np.dtype[Any]:
    try:
        result = np.dtype(dtype)
    except TypeError:
        raise InvalidArgumentError(f"dtype={dtype!r} is not a NumPy dtype") from None
    if result.kind not in "biufc":
        raise InvalidArgumentError(
            f"dtype={result} is not numeric; use a bool, integer, float or complex dtype"
        )
    return result


def _side_choices(
    min_side: Any, max_side: Any, allow_size_one: Any, allow_size_zero: Any
) -> tuple[list[int], bool, bool]:
    """Check the side arguments; return the non-zero sizes and the two flags."""
    low = _check_int("min_side", min_side)
    high = _check_int("max_side", max_side)
    _check_range("min_side", low, "max_side", high)
    one = _check_bool("allow_size_one", allow_size_one)
    zero = _check_bool("allow_size_zero", allow_size_zero) and low == 0
    sizes = [n for n in range(max(low, 1), high + 1) if n != 1 or one]
    if not sizes and not zero:
        raise InvalidArgumentError(
            f"no axis size is possible with min_side={min_side}, max_side={max_side}, "
            f"allow_size_one={allow_size_one}, allow_size_zero={allow_size_zero}"
        )
    return sizes, one, zero


def _check_subscripts(subscripts: Any, shapes: Sequence[Shape] | None = None) -> Subscripts:
    if not isinstance(subscripts, str):
        raise InvalidArgumentError(f"subscripts must be a string, not {subscripts!r}")
    try:
        if shapes is None:
            return parse(subscripts)
        parsed = parse(subscripts, ndims=[len(shape) for shape in shapes])
        index_sizes_of(parsed, shapes)
        return parsed
    except IndexnetError as err:
        fault = "is not a valid formula" if shapes is None else f"does not fit shapes {shapes}"
        raise InvalidArgumentError(f"subscripts={subscripts!r} {fault}: {err}") from err


def _rarely(draw: st.DrawFn, one_in: int) -> bool:
    """True about once in ``one_in`` draws; shrinks to False."""
    return draw(st.integers(0, one_in - 1)) == one_in - 1


# -- equations ------------------------------------------------------------------------------


def einsum_equations(
    *,
    min_operands: int = 1,
    max_operands: int = 4,
    max_dims: int = 4,
    letters: str = "abcdefgh",
    allow_repeated: bool = True,
    allow_ellipsis: bool = False,
    allow_scalars: bool = True,
    implicit: bool = False,
) -> st.SearchStrategy[str]:
    """A strategy for valid einsum strings such as ``"ij,jk->ik"``.

    Drawn formulas hold contractions, outer products (letters shared by no
    other operand), reductions (letters missing from the output), and, when
    allowed, traces and diagonals (a letter twice in one term), scalar terms
    (``""``) and ellipses.

    * ``min_operands``: the fewest operands (at least 1).
    * ``max_operands``: the most operands.
    * ``max_dims``: the most letters in one term, ``...`` not counted.
    * ``letters``: the index letters to draw from (distinct ASCII letters).
    * ``allow_repeated``: whether a term may hold a letter twice (``"ii"``).
    * ``allow_ellipsis``: whether terms may hold ``...``; the output then
      holds it too.
    * ``allow_scalars``: whether a term may be empty (a 0-d operand).
    * ``implicit``: draw formulas without ``->`` (NumPy's implicit output:
      the letters that occur once, in alphabetical order).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(einsum_equations(max_operands=3, implicit=True))
    ... def test_implicit(subscripts):
    ...     assert "->" not in subscripts
    >>> test_implicit()
    """
    lo = _check_int("min_operands", min_operands, 1)
    hi = _check_int("max_operands", max_operands, 1)
    _check_range("min_operands", lo, "max_operands", hi)
    dims = _check_int("max_dims", max_dims)
    pool = _check_letters(letters)
    repeated = _check_bool("allow_repeated", allow_repeated)
    ellipsis = _check_bool("allow_ellipsis", allow_ellipsis)
    scalars = _check_bool("allow_scalars", allow_scalars)
    implicit = _check_bool("implicit", implicit)
    if dims == 0 and not scalars:
        raise InvalidArgumentError("max_dims=0 draws only scalar terms, but allow_scalars=False")
    return _equations(lo, hi, dims, pool, repeated, ellipsis, scalars, implicit)


@st.composite
def _equations(
    draw: st.DrawFn,
    min_operands: int,
    max_operands: int,
    max_dims: int,
    letters: str,
    allow_repeated: bool,
    allow_ellipsis: bool,
    allow_scalars: bool,
    implicit: bool,
) -> str:
    n = draw(st.integers(min_operands, max_operands))
    terms = [
        draw(_term(max_dims, letters, allow_repeated, allow_ellipsis, allow_scalars))
        for _ in range(n)
    ]
    if implicit:
        return ",".join(terms)
    candidates = list(dict.fromkeys("".join(terms).replace(ELLIPSIS, "")))
    output = "".join(
        draw(
            st.lists(
                st.sampled_from(candidates) if candidates else st.nothing(),
                unique=True,
                max_size=min(len(candidates), max_dims),
            )
        )
    )
    if any(ELLIPSIS in term for term in terms):
        at = draw(st.integers(0, len(output)))
        output = output[:at] + ELLIPSIS + output[at:]
    return f"{','.join(terms)}->{output}"


@st.composite
def _term(
    draw: st.DrawFn,
    max_dims: int,
    letters: str,
    allow_repeated: bool,
    allow_ellipsis: bool,
    allow_scalars: bool,
) -> str:
    ndim = draw(st.integers(0 if allow_scalars else 1, min(max_dims, len(letters))))
    term = draw(st.lists(st.sampled_from(letters), min_size=ndim, max_size=ndim, unique=True))
    if allow_repeated and ndim >= 2 and _rarely(draw, 4):
        # a trace or diagonal: one letter takes the place of another
        source, target = draw(st.permutations(range(ndim)))[:2]
        term[target] = term[source]
    text = "".join(term)
    if allow_ellipsis and draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + ELLIPSIS + text[at:]
    return text


# -- sizes and shapes ----------------------------------------------------------------------


def index_sizes(
    letters: str,
    *,
    min_side: int = 0,
    max_side: int = 4,
    allow_size_one: bool = True,
    allow_size_zero: bool = True,
) -> st.SearchStrategy[dict[str, int]]:
    """A strategy for a size per index letter: ``{"i": 3, "j": 1, ...}``.

    Sizes of zero are drawn rarely (about one dict in four holds one), since
    an empty axis makes the rest of a problem trivial.

    * ``letters``: the index letters that need a size (distinct ASCII letters;
      may be empty).
    * ``min_side``: the smallest size.
    * ``max_side``: the largest size.
    * ``allow_size_one``: whether a size may be 1.
    * ``allow_size_zero``: whether a size may be 0 (only when ``min_side`` is 0).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(index_sizes("ij", min_side=2, max_side=3))
    ... def test_sizes(sizes):
    ...     assert set(sizes) == {"i", "j"} and set(sizes.values()) <= {2, 3}
    >>> test_sizes()
    """
    if not isinstance(letters, str):
        raise InvalidArgumentError(f"letters must be a string, not {letters!r}")
    if letters:
        _check_letters(letters)
    sizes, _one, zero = _side_choices(min_side, max_side, allow_size_one, allow_size_zero)
    return _sizes(letters, sizes, zero)


@st.composite
def _sizes(draw: st.DrawFn, letters: str, sizes: list[int], zero: bool) -> dict[str, int]:
    if not sizes:  # only zero is possible
        return dict.fromkeys(letters, 0)
    result = {c: draw(st.sampled_from(sizes)) for c in letters}
    if zero and letters and _rarely(draw, 4):
        result[draw(st.sampled_from(letters))] = 0
    return result


def einsum_shapes(
    subscripts: str,
    *,
    max_dims: int = 4,
    min_side: int = 0,
    max_side: int = 4,
    allow_size_one: bool = True,
    allow_size_zero: bool = True,
) -> st.SearchStrategy[list[tuple[int, ...]]]:
    """A strategy for operand shapes that fit ``subscripts``, one tuple per operand.

    Every letter gets one size; where a letter occurs in several operands, one
    of them may hold it with size 1 instead, which NumPy's einsum broadcasts.
    A letter repeated in one term (a diagonal) has the same size on each of
    its axes there. Each ``...`` covers a right-aligned part of one shared
    broadcast shape, as NumPy's ellipsis does.

    * ``subscripts``: a valid einsum string (explicit or implicit); ``...``
      is resolved per draw.
    * ``max_dims``: the most axes of an operand with ``...`` (its letters
      plus the ellipsis axes); operands without ``...`` have exactly their
      letters' axes.
    * ``min_side``: the smallest size of an index.
    * ``max_side``: the largest size of an index.
    * ``allow_size_one``: whether a size may be 1, and so whether axes may
      broadcast.
    * ``allow_size_zero``: whether a size may be 0 (only when ``min_side`` is 0).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(einsum_shapes("ij,jk->ik", min_side=2, allow_size_one=False))
    ... def test_shapes(shapes):
    ...     (i, j), (j2, k) = shapes
    ...     assert j == j2
    >>> test_shapes()
    """
    parsed = _check_subscripts(subscripts)
    dims = _check_int("max_dims", max_dims)
    sizes, one, zero = _side_choices(min_side, max_side, allow_size_one, allow_size_zero)
    return _shapes(parsed.inputs, parsed.letters, dims, sizes, one, zero)


@st.composite
def _shapes(
    draw: st.DrawFn,
    inputs: tuple[str, ...],
    letters: str,
    max_dims: int,
    sizes: list[int],
    one: bool,
    zero: bool,
) -> list[tuple[int, ...]]:
    size_of = draw(_sizes(letters, sizes, zero))
    shared = {c for c in letters if sum(c in term for term in inputs) > 1}
    # the ellipsis: one broadcast shape, each operand takes a right-aligned part
    room = [max(0, max_dims - len(t.replace(ELLIPSIS, ""))) for t in inputs if ELLIPSIS in t]
    width = draw(st.integers(0, max(room))) if room else 0
    batch = list(draw(_sizes(string.ascii_letters[:width], sizes, zero)).values())
    shapes = []
    for term in inputs:
        head, dots, tail = term.partition(ELLIPSIS)
        span = 0
        if dots:
            span = draw(st.integers(0, min(width, max(0, max_dims - len(head + tail)))))
        middle = [
            1 if one and n != 1 and _rarely(draw, 5) else n for n in batch[width - span :]
        ]
        squeezed = {
            c for c in dict.fromkeys(head + tail)
            if c in shared and one and size_of[c] != 1 and _rarely(draw, 5)
        }
        shape = [1 if c in squeezed else size_of[c] for c in head]
        shape += middle
        shape += [1 if c in squeezed else size_of[c] for c in tail]
        shapes.append(tuple(shape))
    return shapes


# -- problems --------------------------------------------------------------------------------


def einsum_problems(
    *,
    min_operands: int = 1,
    max_operands: int = 4,
    max_dims: int = 4,
    letters: str = "abcdefgh",
    allow_repeated: bool = True,
    allow_ellipsis: bool = False,
    allow_scalars: bool = True,
    implicit: bool = False,
    min_side: int = 0,
    max_side: int = 4,
    allow_size_one: bool = True,
    allow_size_zero: bool = True,
    dtype: Any = np.float64,
    elements: st.SearchStrategy[Any] | None = None,
) -> st.SearchStrategy[Problem]:
    """A strategy for ``(subscripts, arrays)``: a formula and operands that fit it.

    The formula comes from :func:`einsum_equations`, the shapes from
    :func:`einsum_shapes` (size-1 broadcasting and ellipsis broadcasting
    included), the values from ``elements``.

    * ``min_operands``: the fewest operands (at least 1).
    * ``max_operands``: the most operands.
    * ``max_dims``: the most letters in one term; an operand with ``...`` has
      at most this many axes in all.
    * ``letters``: the index letters to draw from.
    * ``allow_repeated``: whether a term may hold a letter twice (diagonals).
    * ``allow_ellipsis``: whether terms may hold ``...``.
    * ``allow_scalars``: whether an operand may be 0-d.
    * ``implicit``: draw formulas without ``->``.
    * ``min_side``: the smallest size of an index.
    * ``max_side``: the largest size of an index.
    * ``allow_size_one``: whether sizes may be 1 and axes may broadcast.
    * ``allow_size_zero``: whether sizes may be 0 (only when ``min_side`` is 0).
    * ``dtype``: the arrays' dtype (bool, integer, float or complex).
    * ``elements``: a strategy for the values; by default bounded ones that
      keep comparisons stable: floats in [-2, 2], complex numbers of modulus
      at most 2, integers in [-3, 3] (unsigned: [0, 3]), booleans.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(einsum_problems(max_operands=2, allow_ellipsis=True, dtype="float32"))
    ... def test_dtype(problem):
    ...     subscripts, arrays = problem
    ...     assert all(a.dtype == np.float32 for a in arrays)
    >>> test_dtype()
    """
    equations = einsum_equations(
        min_operands=min_operands,
        max_operands=max_operands,
        max_dims=max_dims,
        letters=letters,
        allow_repeated=allow_repeated,
        allow_ellipsis=allow_ellipsis,
        allow_scalars=allow_scalars,
        implicit=implicit,
    )
    sizes, one, zero = _side_choices(min_side, max_side, allow_size_one, allow_size_zero)
    kind = _check_dtype(dtype)
    if elements is None:
        elements = _default_elements(kind)
    elif not isinstance(elements, st.SearchStrategy):
        raise InvalidArgumentError(f"elements must be a Hypothesis strategy, not {elements!r}")
    return _problems(equations, int(max_dims), sizes, one, zero, kind, elements)


@st.composite
def _problems(
    draw: st.DrawFn,
    equations: st.SearchStrategy[str],
    max_dims: int,
    sizes: list[int],
    one: bool,
    zero: bool,
    dtype: np.dtype[Any],
    elements: st.SearchStrategy[Any],
) -> Problem:
    subscripts = draw(equations)
    parsed = parse(subscripts)
    shapes = draw(_shapes(parsed.inputs, parsed.letters, max_dims, sizes, one, zero))
    arrays = [draw(hnp.arrays(dtype, shape, elements=elements)) for shape in shapes]
    return subscripts, arrays


def _default_elements(dtype: np.dtype[Any]) -> st.SearchStrategy[Any]:
    width = dtype.itemsize * 8
    if dtype.kind == "f":
        return st.floats(-2, 2, width=width)  # type: ignore[arg-type]
    if dtype.kind == "c":
        return st.complex_numbers(max_magnitude=2, width=width)  # type: ignore[arg-type]
    if dtype.kind == "u":
        return st.integers(0, 3)
    if dtype.kind == "i":
        return st.integers(-3, 3)
    return st.booleans()


def example_problem(
    subscripts: str,
    *shapes: Sequence[int],
    dtype: Any = np.float64,
    seed: int = 0,
) -> Problem:
    """One fixed problem, for Hypothesis's ``@example`` or a plain test.

    The values are drawn from a seeded generator in [-2, 2] (integers in
    [-3, 3]), so the same call always gives the same arrays.

    * ``subscripts``: the einsum string.
    * ``shapes``: one shape per operand, fitting ``subscripts``.
    * ``dtype``: the arrays' dtype.
    * ``seed``: the seed of the generator.

    >>> subscripts, (a, b) = example_problem("ij,ji->", (3, 4), (4, 3))
    >>> subscripts, a.shape, b.shape, bool(abs(a).max() <= 2)
    ('ij,ji->', (3, 4), (4, 3), True)
    """
    kind = _check_dtype(dtype)
    rng = np.random.default_rng(_check_int("seed", seed))
    checked = []
    for k, shape in enumerate(shapes):
        if not isinstance(shape, Sequence):
            raise InvalidArgumentError(f"shape of operand {k} must be a tuple, not {shape!r}")
        checked.append(tuple(_check_int(f"shape of operand {k}", n) for n in shape))
    _check_subscripts(subscripts, checked)
    arrays = []
    for sides in checked:
        values: np.ndarray[Any, Any]
        if kind.kind in "fc":
            values = rng.uniform(-2, 2, sides)
            if kind.kind == "c":
                values = values + 1j * rng.uniform(-2, 2, sides)
        elif kind.kind == "b":
            values = rng.integers(0, 2, sides)
        else:
            values = rng.integers(0 if kind.kind == "u" else -3, 4, sides)
        arrays.append(values.astype(kind))
    return subscripts, arrays
