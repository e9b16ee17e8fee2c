"""A Hypothesis strategy for random well-formed programs of the index language.

:func:`programs` draws the text of a whole program: ``input`` and ``param``
declarations with 0–3 indices (some with domains), constants, an ``act``
line, a ``size`` line (every index 1–3, so that an entry-by-entry reference
stays cheap), a chain of equations, a final scalar ``L`` that reads every
tensor defined before it, and equations after ``L`` that read its derivatives
(``delta^n_k = dL/da^n_k``). Right-hand sides mix products with summed
indices (implicit and ``sum_``), broadcast terms, numbers, constants and
``|n|``, scalars inside ``sum_`` beside terms that lack the summed index,
transposes, traces and ``eye``, Hadamard products, divisions and powers,
every built-in function and its derivative, and softmax with cross-entropy.

Every program parses and sizes. Values stay in the functions' domains: the
argument of ``log``, ``sqrt``, a division, a fractional or negative power
and the prediction of ``loss`` is always positive (``exp``, ``sigmoid``,
``softmax``, ``1 + square(…)``, a ``positive`` tensor), and ``exp`` only
sees tame arguments. ``relu`` and ``abs`` may meet their kink; tests set such
draws aside.

The keyword arguments narrow the strategy, one construct at a time, so that a
property can run on today's code while a defect in that construct is open.

>>> from hypothesis import given, settings
>>> from indexnet.program import parse
>>> @settings(max_examples=20, database=None)
... @given(programs(max_equations=2))
... def test_parses(text):
...     program = parse(text)
...     assert "L" in program.defined and program.params
>>> test_parses()
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from ..errors import InvalidArgumentError
from .builder import _BOUNDS, _OTHER, FUNCTIONS, LETTERS, UNDRAWN, _Builder, _Options

__all__ = ["FUNCTIONS", "LETTERS", "UNDRAWN", "programs"]


def programs(
    *,
    max_equations: int = 3,
    max_terms: int = 2,
    max_factors: int = 3,
    max_depth: int = 2,
    functions: Sequence[str] | None = None,
    primes: bool = True,
    softmax_cross_entropy: bool = True,
    derivative_reading: bool = True,
    traces: bool = True,
    transposes: bool = True,
    broadcasts: bool = True,
    divisions: bool = True,
    powers: bool = True,
    index_sizes: bool = True,
    lone_sums: bool = True,
    allow_size_one: bool = True,
    shrinkable: bool = False,
) -> st.SearchStrategy[str]:
    """A strategy for the text of a random well-formed program that defines a scalar ``L``.

    * ``max_equations``: the most equations before ``L``.
    * ``max_terms``, ``max_factors``: the most terms of a sum, factors of a product.
    * ``max_depth``: how deep calls and parentheses nest.
    * ``functions``: the elementwise built-ins to draw (default: all of
      :data:`FUNCTIONS`, plus ``softmax`` and ``loss``).
    * ``primes``: whether derivatives ``f'`` of the built-ins are drawn.
    * ``softmax_cross_entropy``: whether ``L`` may hold a softmax with its
      cross-entropy against a ``onehot`` input.
    * ``derivative_reading``: whether equations after ``L`` read ``dL/dX``.
    * ``traces``: whether references may repeat a letter and ``eye`` is drawn.
    * ``transposes``: whether references may be written transposed (``Wᵀ``).
    * ``broadcasts``: whether terms may lack letters of their sum (``+ b_h``,
      ``sum_n (c + x^n)``).
    * ``divisions``, ``powers``: whether ``/ tensor`` and ``^p`` are drawn.
    * ``index_sizes``: whether ``|n|`` is drawn as a coefficient.
    * ``lone_sums``: whether a product may sum a letter that only one of its
      factors holds (``x^n y^d sum_k c_k``); without, such a letter is given a
      second factor.
    * ``allow_size_one``: whether an index may have size 1 (sizes are 1–3).
    * ``shrinkable``: make every choice a Hypothesis draw, so that a failing
      program shrinks (a program takes a few hundred draws, about ten times
      slower); by default one seed is drawn and a seeded ``random.Random``
      makes the choices: fast, repeatable, but a failure does not shrink.

    >>> from hypothesis import find
    >>> text = find(programs(derivative_reading=False), lambda t: "onehot" in t)
    >>> "softmax[" in text and "onehot" in text
    True
    """
    names = tuple(FUNCTIONS) + _OTHER if functions is None else tuple(functions)
    unknown = sorted(set(names) - set(FUNCTIONS) - set(_OTHER))
    if unknown:
        raise InvalidArgumentError(f"unknown functions {unknown}; choose from "
                                   f"{', '.join((*FUNCTIONS, *_OTHER))}")
    for key, value in (("max_equations", max_equations), ("max_terms", max_terms),
                       ("max_factors", max_factors), ("max_depth", max_depth)):
        if not isinstance(value, int) or value < (0 if key in ("max_equations",
                                                              "max_depth") else 1):
            raise InvalidArgumentError(f"{key} must be a non-negative integer, not {value!r}")
    switches = {"primes": primes, "derivative_reading": derivative_reading,
                 "softmax_cross_entropy": softmax_cross_entropy and "softmax" in names,
                 "traces": traces, "transposes": transposes, "broadcasts": broadcasts,
                 "divisions": divisions, "powers": powers, "index_sizes": index_sizes,
                 "lone_sums": lone_sums}
    options = _Options(max_equations, max_terms, max_factors, max_depth, names,
                       frozenset(k for k, on in switches.items() if on),
                       1 if allow_size_one else 2)
    if shrinkable:
        return _programs(options)
    return st.integers(0, 2**64 - 1).map(lambda seed: _seeded(seed, options))


@st.composite
def _programs(draw: st.DrawFn, options: _Options) -> str:
    return _Builder(draw, options).program()


def _seeded(seed: int, options: _Options) -> str:
    rng = random.Random(seed)

    def draw(strategy: Any) -> int:
        lo, hi = _BOUNDS[id(strategy)]
        return rng.randint(lo, hi)

    return _Builder(draw, options).program()
