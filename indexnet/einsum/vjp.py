"""Vector-Jacobian products of einsums: every operand's gradient from one cotangent.

:func:`vjp` computes the gradients of ⟨cotangent, einsum(subscripts,
*operands)⟩ by reverse accumulation through the contraction path
(:mod:`~indexnet.einsum.backprop`): the forward pass below its last step,
then the einsum rule (:mod:`~indexnet.einsum.rule`) applied to each step,
last first. For ``ij,jk,kl->il`` that is five matrix products where one
einsum per gradient (:func:`per_operand_vjp`, what vjp did before) takes six.
Where the value is wanted too, :func:`~indexnet.einsum.backprop.value_and_vjp`
reuses the forward pass's intermediates instead of recomputing them.

The rule itself, :func:`derivative`, exchanges the differentiated operand
and the output:

>>> str(derivative("nd,dh->nh", wrt=1))
'nd,nh->dh'
>>> str(derivative("nd,dh->nh", wrt=0))
'nh,dh->nd'
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import internal_errors, raise_internal
from ..typing import ArrayLike, OptimizeKind
from .arrays import is_foreign
from .backprop import (
    Wrt,
    check_cotangent,
    clear_cache,
    foreign_cotangent,
    per_operand_gradients,
    prepare,
)
from .rule import Derivative, derivative
from .tape import Fused

__all__ = ["Derivative", "clear_call_cache", "derivative", "per_operand_vjp", "vjp"]


def vjp(
    subscripts: str,
    *operands: ArrayLike,
    cotangent: ArrayLike,
    optimize: OptimizeKind = "auto",
    wrt: Wrt = None,
) -> list[Any]:
    """Gradients of ⟨cotangent, einsum(subscripts, *operands)⟩ for every operand.

    Each gradient has its operand's shape and is a fresh array; ``wrt`` (an
    operand's position or a sequence of them) asks for only some, in that
    order, and skips the work the others alone need. The gradients come by
    reverse accumulation through the plan of ``optimize``. A call whose NumPy
    arrays have the shapes and dtypes of an earlier successful call is one
    dict lookup and the compiled forward and backward functions; anything
    else takes the checked path.

    Arrays of another library (torch, JAX, CuPy, Dask) give gradients of
    that library, on their device, in their dtype (Dask's stay lazy), by the
    same reverse accumulation, each step planned once and run on the
    library's backend; arrays of two dtypes are first cast to their common
    one, as NumPy would promote them, and a wider cotangent widens the
    gradients (a float cotangent on integer arrays gives float gradients).
    Arrays of two libraries in one call raise
    :class:`~indexnet.errors.ArrayLibraryError`.

    >>> import numpy as np
    >>> x, w = np.ones((2, 3)), np.ones((3, 4))
    >>> gx, gw = vjp("nd,dh->nh", x, w, cotangent=np.ones((2, 4)))
    >>> gx.shape, gw.shape, float(gw[0, 0])
    ((2, 3), (3, 4), 2.0)
    """
    try:
        if len(operands) == 2:  # unrolled and flat: the commonest call, kept cheapest
            a, b = operands
            key: tuple[Any, ...] = (
                subscripts, optimize.__class__, optimize, wrt.__class__, wrt,
                cotangent.__class__, cotangent.shape, cotangent.dtype,
                a.__class__, a.shape, a.dtype, b.__class__, b.shape, b.dtype)
        else:
            key = (subscripts, optimize.__class__, optimize, wrt.__class__, wrt,
                   _signature(cotangent), *map(_signature, operands))
        run = _CALLS[key]
    except (KeyError, TypeError, AttributeError, ValueError):
        return _vjp_checked(subscripts, operands, cotangent, optimize, wrt)
    try:
        return run(*operands, cotangent)
    except Exception as err:
        raise_internal(err, "computing einsum gradients (vjp)")


def clear_call_cache() -> None:
    """Forget the compiled gradients of earlier :func:`vjp` calls (plans stay cached).

    >>> clear_call_cache()
    """
    _CALLS.clear()
    clear_cache()  # the compiled tapes behind them, and value_and_vjp's


#: The fused forward-and-backward functions of successful :func:`vjp` calls on NumPy arrays.
_CALLS: dict[tuple[Any, ...], Fused] = {}
_CALLS_MAX = 1024
_signature = operator.attrgetter("__class__", "shape", "dtype")


def _call_key(subscripts: str, optimize: Any, wrt: Wrt, cotangent: Any,
              operands: Sequence[Any]) -> tuple[Any, ...] | None:
    """The :data:`_CALLS` key of a call, as :func:`vjp` builds it; None if it cannot be hashed.

    ``optimize`` and ``wrt`` go in with their types: ``1 == True``, but only
    ``wrt=1`` is valid.
    """
    options = (subscripts, optimize.__class__, optimize, wrt.__class__, wrt)
    if len(operands) == 2:  # flat, as vjp() builds it for two operands
        key: tuple[Any, ...] = (*options, *_signature(cotangent),
                                *(x for op in operands for x in _signature(op)))
    else:
        key = (*options, _signature(cotangent), *map(_signature, operands))
    try:
        hash(key)
    except TypeError:  # an unhashable optimize or wrt: not remembered
        return None
    return key


@internal_errors("computing einsum gradients (vjp)")
def _vjp_checked(
    subscripts: str, operands: Sequence[Any], cotangent: Any, optimize: Any, wrt: Wrt
) -> list[Any]:
    """:func:`vjp` on its checked path; a successful call on NumPy arrays is remembered."""
    arrays, tape, kind, chosen_wrt = prepare(subscripts, operands, optimize, wrt)
    if tape is None or (kind is None and is_foreign(cotangent)):
        return per_operand_gradients(subscripts, arrays, cotangent, optimize, chosen_wrt)
    if kind is not None:  # another library's arrays: the same tree, step by step
        g = foreign_cotangent(kind, arrays, cotangent)
        check_cotangent(tape.plan.subscripts, tape.out_shape, tuple(g.shape))
        _, saved = tape.forward_foreign(arrays, kind, tape.vjp_steps)
        return tape.backward_foreign(saved, arrays, g, kind)
    g = np.asarray(cotangent)
    check_cotangent(tape.plan.subscripts, tape.out_shape, g.shape)
    tape.plan.check_fits()
    native = all(type(a) is np.ndarray for a in (*operands, cotangent))
    saved = tape.forward_saved(*arrays)
    grads = tape.run_backward(saved, arrays, g, remember=native)
    fused = tape.fused.get(_signature(g))
    key = _call_key(subscripts, optimize, wrt, cotangent, operands) if native else None
    if fused is not None and key is not None:
        if len(_CALLS) >= _CALLS_MAX:
            _CALLS.clear()
        _CALLS[key] = fused
    return grads




@internal_errors("computing einsum gradients (per_operand_vjp)")
def per_operand_vjp(
    subscripts: str,
    *operands: ArrayLike,
    cotangent: ArrayLike,
    optimize: OptimizeKind = "auto",
) -> list[Any]:
    """:func:`vjp` as one planned einsum per gradient, sharing nothing.

    The exchanged formula of each operand (:func:`derivative`) is planned
    and run on its own, the way :func:`vjp` worked before reverse
    accumulation (and still does for other libraries' arrays): a reference
    for tests and benchmarks.

    >>> import numpy as np
    >>> a = np.arange(6.0).reshape(2, 3)
    >>> [g.tolist() for g in per_operand_vjp("ij,j->", a, np.ones(3), cotangent=1.0)]
    [[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], [3.0, 5.0, 7.0]]
    """
    wrt = tuple(range(len(operands)))
    return per_operand_gradients(subscripts, operands, cotangent, optimize, wrt)
