"""The nodes of a compiled program: closures over their inputs, ``env -> (value, owned)``.

:class:`~indexnet.evaluate.execute.Compiled` builds a chain of these once per
set of shapes; calling a node only computes. ``owned`` says that nobody else
holds the value, so the next node may work in place on it.

>>> import numpy as np
>>> node = constant_node(2.0, [], np.dtype("float64"), None)
>>> node({})[0].tolist(), node({})[1]
(2.0, True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ir
from ..einsum.arrays import ArrayKind, is_foreign
from ..einsum.plan import Plan

__all__ = [
    "Env",
    "Node",
    "Value",
    "constant_node",
    "contract_node",
    "first_term",
    "foreign_aligner",
    "foreign_result",
    "foreign_window",
    "pair_node",
    "plain_call",
    "scaled_node",
]

Env = dict[str, Any]
Value = tuple[Any, bool]  # (array, owned: nobody else holds it)
Node = Callable[[Env], Value]


def plain_call(arg: ir.Sum) -> ir.Call | None:
    """The call that ``arg`` is, alone (no coefficient, constant or other factor), else None."""
    if len(arg.terms) != 1:
        return None
    (term,) = arg.terms
    if term.coefficient != 1 or term.consts or len(term.factors) != 1:
        return None
    (factor,) = term.factors
    if not isinstance(factor, ir.Call) or factor.output != arg.output:
        return None
    return factor


def first_term(node: Node, sign: int, align: Any, env: Env) -> Value:
    """The first term of a sum, aligned to the sum's indices and signed, in place when owned."""
    value, owned = node(env)
    if align is not None:
        value, owned = align(value), False
    if sign == -1:
        if owned and isinstance(value, np.ndarray) and value.ndim:
            np.negative(value, out=value)
        else:
            value, owned = -value, True
    return value, owned


# -- nodes of one product term ---------------------------------------------------------------


def constant_node(scale: float, scalars: list[Node], dtype: np.dtype[Any],
                   library: ArrayKind | None) -> Node:
    """A term without arrays: its scale times its scalar factors, as a 0-d array."""

    def constant(env: Env) -> Value:
        value = scale
        for node in scalars:
            value = value * node(env)[0]
        if library is not None:
            return (value if is_foreign(value) else library.asarray(value)), True
        return np.asarray(value, dtype=dtype) * 1, True

    return constant


def scaled_node(only: Node, scale: float, scalars: list[Node]) -> Node:
    """One array factor times the scale and the scalar factors (in place when it may)."""

    def scaled(env: Env) -> Value:
        value, owned = only(env)
        factor = scale
        for node in scalars:
            factor = factor * node(env)[0]
        if owned and isinstance(value, np.ndarray) and value.ndim:
            value *= factor
            return value, True
        return value * factor, True

    return scaled


def pair_node(contract: Plan, first: Node, second: Node, native: bool = True) -> Node:
    """Two array factors through their plan: the common case, with nothing else to do."""
    if not native:
        def foreign(env: Env) -> Value:
            a = first(env)[0]
            b = second(env)[0]
            value = contract(a, b)
            return value, value is not a and value is not b

        return foreign

    # NumPy arrays of the planned shapes go to the compiled kernel itself, skipping the
    # checks of Plan.__call__ (anything else, and a plan that refuses, go through them)
    kernel = contract.kernel if contract.refusal is None else None
    shape_a, shape_b = contract.shapes

    def pair(env: Env) -> Value:
        a = first(env)[0]
        b = second(env)[0]
        if (kernel is not None and type(a) is np.ndarray and type(b) is np.ndarray
                and a.shape == shape_a and b.shape == shape_b):
            value = kernel(a, b)
        else:
            value = contract(a, b)
        if type(value) is np.ndarray and value.base is None:  # it owns its memory: fresh
            return value, value is not a and value is not b
        return value, not (np.may_share_memory(value, a) or np.may_share_memory(value, b))

    return pair


def contract_node(contract: Plan, arrays: list[Node], scale: float, scalars: list[Node],
                   native: bool = True) -> Node:
    """Array factors through their plan, then times the scale and the scalar factors."""

    def run(env: Env) -> Value:
        operands = [node(env)[0] for node in arrays]
        value = contract(*operands)
        if native:
            owned = not any(np.may_share_memory(value, a) for a in operands)
        else:
            owned = all(value is not a for a in operands)
        factor = scale
        for node in scalars:
            factor = factor * node(env)[0]
        if factor != 1.0:
            if owned and isinstance(value, np.ndarray) and value.ndim:
                value *= factor
            else:
                value, owned = value * factor, True
        return value, owned

    return run


# -- foreign arrays ----------------------------------------------------------------------------


def foreign_result(inner: Node, shape: tuple[int, ...], library: ArrayKind) -> Node:
    """An equation's value on a foreign library: that library's array, of the full shape, fresh."""
    xp = library.xp

    def run(env: Env) -> Value:
        value, owned = inner(env)
        if not is_foreign(value):
            value, owned = library.asarray(value), True
        if tuple(value.shape) != shape:
            return library.copy(xp.broadcast_to(value, shape)), True
        if not owned:  # the caller's own array, or a view of it
            return library.copy(value), True
        return value, True

    return run


def foreign_aligner(have: str, want: str, xp: Any) -> Callable[[Any], Any] | None:
    """Permute (``permute_dims``) and expand an array with letters ``have`` against ``want``."""
    kept = [c for c in want if c in have]
    perm = tuple(have.index(c) for c in kept)
    index = tuple(slice(None) if c in have else None for c in want)
    identity = perm == tuple(range(len(have)))
    full = len(kept) == len(want)
    if identity and full:
        return None

    def align(a: Any) -> Any:
        if not identity:
            a = xp.permute_dims(a, perm)
        return a if full else a[index]

    return align


def foreign_window(key: str, letters: str, shape: tuple[int, ...],
                    slots: Any, library: ArrayKind) -> Node:
    """``x^n_{t+k}`` on a foreign array: gathered by integer index arrays (Dask: ``vindex``)."""
    grids = np.ogrid[tuple(slice(0, n) for n in shape)] if shape else []
    at = dict(zip(letters, grids))
    index = []
    for terms, offset in slots:
        flat = sum((a * at[c] for c, a in terms), np.int64(offset))
        full = np.broadcast_to(flat, shape)
        index.append(full.astype(np.int32 if full.size == 0 or full.max() < 2**31 else np.int64))
    if library.library == "dask":
        def dask_window(env: Env) -> Value:
            return env[key].vindex[tuple(index)], True

        return dask_window
    lifted = tuple(library.xp.asarray(i, device=library.device) for i in index)

    def window(env: Env) -> Value:
        return env[key][lifted], True

    return window
