"""The einsum derivative rule: exchange the differentiated operand and the output.

For ``out = einsum("nd,dh->nh", x, w)`` and a cotangent ``g`` of ``out``'s
shape, the gradient of ⟨g, out⟩ with respect to ``w`` is
``einsum("nd,nh->dh", x, g)`` (xᵀδ) and with respect to ``x`` it is
``einsum("nh,dh->nd", g, w)`` (δWᵀ). Two cases need more than the exchange,
and autograd's ``grad_einsum`` got both wrong (its issue 115):

* an index only in the differentiated operand was summed away in the forward
  pass, so its gradient is broadcast along that index (a factor of ones);
* an index repeated inside the operand (``"ii->"``, ``"iij->j"``) reads a
  diagonal, so its gradient is written onto that diagonal (a Kronecker delta)
  and is zero elsewhere.

A size-1 axis that broadcast against a larger one gets its gradient summed
back to size 1. :func:`finisher` is what turns the exchanged einsum's result
into the gradient (broadcast, summed back, put on the diagonal) for fixed
shapes; :mod:`~indexnet.einsum.backprop` applies the rule to every step of a
contraction path, :mod:`~indexnet.einsum.vjp` to a whole formula.

>>> str(derivative("nd,dh->nh", wrt=1))
'nd,nh->dh'
>>> str(derivative("nd,dh->nh", wrt=0))
'nh,dh->nd'
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError, internal_errors
from .arrays import ArrayKind
from .subscripts import Subscripts, parse

__all__ = ["Derivative", "derivative", "finish_foreign", "finisher", "layout"]


@dataclass(frozen=True)
class Derivative:
    """The gradient formula for one operand of an einsum.

    ``str()`` gives the exchanged formula as a person writes it: the
    cotangent takes the operand's place and the operand's subscripts become
    the output (a letter repeated there is a Kronecker delta, a letter found
    in no input a broadcast). ``executable`` is the einsum actually run: it
    produces the operand's distinct letters that the inputs hold; then
    ``broadcast`` letters are expanded with ones and ``diagonal`` letters
    placed on the diagonal.

    >>> d = derivative("ij,j->", wrt=0)
    >>> str(d), d.executable, d.broadcast
    (',j->ij', ',j->j', 'i')
    >>> d = derivative("ii->", wrt=0)
    >>> str(d), d.diagonal
    ('->ii', 'i')
    """

    source: Subscripts
    wrt: int
    executable: str
    broadcast: str
    diagonal: str

    @property
    def target(self) -> str:
        """The subscripts of the differentiated operand."""
        return self.source.inputs[self.wrt]

    def __str__(self) -> str:
        inputs = list(self.source.inputs)
        inputs[self.wrt] = self.source.output
        return f"{','.join(inputs)}->{self.target}"


@internal_errors("deriving an einsum's gradient formula")
def derivative(subscripts: str | Subscripts, wrt: int) -> Derivative:
    """The einsum rule for the gradient of ``subscripts`` with respect to operand ``wrt``.

    Ellipses must be resolved first (``vjp`` does so from the operands'
    shapes), so pass explicit letters here.

    >>> derivative("ij,jk,kl->il", wrt=1).executable
    'ij,il,kl->jk'
    """
    parsed = subscripts if isinstance(subscripts, Subscripts) else parse(subscripts)
    if any("..." in term for term in (*parsed.inputs, parsed.output)):
        raise InvalidArgumentError(
            f"derivative() needs explicit letters; {str(parsed)!r} holds '...' "
            "(vjp() resolves it from the operands' shapes)"
        )
    n = len(parsed.inputs)
    if not isinstance(wrt, (int, np.integer)) or not -n <= wrt < n:
        raise InvalidArgumentError(
            f"wrt={wrt!r} is not an operand of {str(parsed)!r}, which has {n} operand(s)"
        )
    wrt = int(wrt) % n
    target = parsed.inputs[wrt]
    others = [t for k, t in enumerate(parsed.inputs) if k != wrt]
    reachable = set(parsed.output).union(*others)
    distinct = "".join(dict.fromkeys(target))
    produced = "".join(c for c in distinct if c in reachable)
    inputs = list(parsed.inputs)
    inputs[wrt] = parsed.output
    executable = f"{','.join(inputs)}->{produced}"
    broadcast = "".join(c for c in distinct if c not in reachable)
    diagonal = "".join(c for c in distinct if target.count(c) > 1)
    return Derivative(parsed, wrt, executable, broadcast, diagonal)


def layout(rule: Derivative, reduced_shape: tuple[int, ...], operand_shape: tuple[int, ...],
           sizes: dict[str, int]) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """How the executable's result becomes the gradient, for these shapes.

    Returned: its shape over the operand's distinct letters, the broadcast
    shape, and the axes to sum back to size 1.

    >>> layout(derivative("ij,j->", wrt=0), (3,), (2, 3), {"i": 2, "j": 3})
    ((1, 3), (2, 3), ())
    """
    produced = rule.executable.split("->")[1]
    distinct = "".join(dict.fromkeys(rule.target))
    # 1. letters summed in the forward pass, and size-1 axes of the other
    #    operands: broadcast (a factor of ones)
    as_distinct = tuple(
        reduced_shape[produced.index(c)] if c in produced else 1 for c in distinct
    )
    full_shape = tuple(sizes[c] for c in distinct)
    # 2. size-1 axes of the operand that broadcast in the forward pass: sum back
    squeeze = tuple(
        i
        for i, c in enumerate(distinct)
        if operand_shape[rule.target.index(c)] == 1 and sizes[c] != 1
    )
    return as_distinct, full_shape, squeeze


def finisher(
    rule: Derivative,
    raw: Any,
    avoid: Sequence[Any],
    operand_shape: tuple[int, ...],
    sizes: dict[str, int],
    dtype: np.dtype[Any],
    *,
    fresh: bool = True,
) -> Callable[[Any], Any] | None:
    """What turns the executable's result ``raw`` into the operand's gradient, for these shapes.

    None when nothing is to be done: nothing is broadcast, summed back or put
    on a diagonal, ``raw`` has ``dtype`` and, when ``fresh`` is asked for (a
    gradient handed to the caller), it is a writeable array sharing memory
    with none of ``avoid`` (decided once, from ``raw``); else one copy. A
    gradient that stays inside a computation (``fresh=False``) may be a view.
    """
    distinct = "".join(dict.fromkeys(rule.target))
    reduced_shape = np.shape(raw)
    as_distinct, full_shape, squeeze = layout(rule, reduced_shape, operand_shape, sizes)
    plain = as_distinct == reduced_shape == full_shape and not squeeze and not rule.diagonal
    if plain:
        if not fresh:
            return None if np.result_type(raw) == dtype else functools.partial(
                np.asarray, dtype=dtype)
        is_fresh = (
            isinstance(raw, np.ndarray) and raw.dtype == dtype and raw.flags.writeable
            and not any(np.may_share_memory(raw, a) for a in avoid)
        )
        return None if is_fresh else functools.partial(np.array, dtype=dtype)
    if not rule.diagonal:
        def finish(result: Any) -> Any:
            reduced = np.asarray(result, dtype=dtype)
            full = np.broadcast_to(reduced.reshape(as_distinct), full_shape)
            if squeeze:
                full = full.sum(axis=squeeze, keepdims=True)
            return np.array(full, dtype=dtype) if fresh else full

        return finish
    # 3. repeated letters: written onto the diagonal of a zero array
    diagonal_shape = tuple(operand_shape[rule.target.index(c)] for c in distinct)
    c_strides = _c_strides(operand_shape, np.dtype(dtype).itemsize)  # of np.zeros(...)
    strides = [
        sum(c_strides[i] for i, c in enumerate(rule.target) if c == letter)
        for letter in distinct
    ]

    def on_diagonal(result: Any) -> np.ndarray:
        reduced = np.asarray(result, dtype=dtype)
        full = np.broadcast_to(reduced.reshape(as_distinct), full_shape)
        if squeeze:
            full = full.sum(axis=squeeze, keepdims=True)
        grad = np.zeros(operand_shape, dtype=dtype)
        view = np.lib.stride_tricks.as_strided(
            grad, shape=diagonal_shape, strides=strides, writeable=True
        )
        view[...] = full
        return grad

    return on_diagonal


def finish_foreign(rule: Derivative, raw: Any, operand_shape: tuple[int, ...],
                   sizes: dict[str, int], kind: ArrayKind, ops: Sequence[Any], *,
                   fresh: bool = True) -> Any:
    """:func:`finisher`'s work on a foreign array, through its array API.

    With ``fresh`` (a gradient handed to the caller) the result shares
    memory with none of ``ops``; without (a cotangent that stays inside a
    computation) it may be a view.
    """
    xp = kind.xp
    as_distinct, full_shape, squeeze = layout(rule, tuple(raw.shape), operand_shape, sizes)
    if as_distinct == tuple(raw.shape) == full_shape and not squeeze and not rule.diagonal:
        return kind.copy(raw) if fresh and _may_share(raw, ops, kind) else raw
    full = xp.broadcast_to(xp.reshape(raw, as_distinct), full_shape)
    if squeeze:
        full = xp.sum(full, axis=squeeze, keepdims=True)
    if not rule.diagonal:
        return kind.copy(full) if fresh else full  # fresh: not a broadcast view
    distinct = "".join(dict.fromkeys(rule.target))
    first = [rule.target.index(c) == i for i, c in enumerate(rule.target)]
    spread = tuple(full.shape[distinct.index(c)] if is_first else 1
                   for c, is_first in zip(rule.target, first))
    grids = np.ogrid[tuple(slice(0, n) for n in operand_shape)]
    mask = np.ones(operand_shape, dtype=bool)
    for i, c in enumerate(rule.target):
        mask &= grids[i] == grids[rule.target.index(c)]
    return xp.reshape(full, spread) * xp.asarray(mask, dtype=raw.dtype, device=kind.device)


def _may_share(raw: Any, ops: Sequence[Any], kind: ArrayKind) -> bool:
    """Whether ``raw`` is one of ``ops`` or may be a view of one's memory.

    An einsum that only transposes (``ij->ji``) gives a view: handed back as
    a gradient, writing into it would change the caller's cotangent. torch
    is asked (storage); JAX's and Dask's arrays cannot be written into; any
    other library (CuPy) is assumed to share, so its gradient is copied.
    """
    if any(raw is op for op in ops):
        return True
    if kind.library in ("jax", "dask"):
        return False
    if kind.library != "torch":
        return True  # no portable way to ask: a copy is always safe
    try:
        if raw.numel() == 0:
            return False
        storage = raw.untyped_storage().data_ptr()
        return any(getattr(op, "untyped_storage", None) is not None
                   and op.untyped_storage().data_ptr() == storage for op in ops)
    except (NotImplementedError, RuntimeError):  # torch.func's wrappers have no storage
        return True  # a copy is always safe


def _c_strides(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """The strides of a C-ordered array of ``shape``.

    >>> _c_strides((2, 3, 4), 8)
    (96, 32, 8)
    """
    strides = []
    step = itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))
