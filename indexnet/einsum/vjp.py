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
back to size 1.

>>> str(derivative("nd,dh->nh", wrt=1))
'nd,nh->dh'
>>> str(derivative("nd,dh->nh", wrt=0))
'nh,dh->nd'
"""

from __future__ import annotations

import contextlib
import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import (
    AllocationError,
    InternalError,
    InvalidArgumentError,
    SizeMismatchError,
    internal_errors,
)
from ..typing import ArrayLike, OptimizeKind
from .arrays import ArrayKind, array_kind, is_foreign
from .memory import too_large
from .plan import plan
from .subscripts import Subscripts, index_sizes, parse

__all__ = ["Derivative", "GradientFn", "clear_call_cache", "derivative", "vjp"]


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


def vjp(
    subscripts: str,
    *operands: ArrayLike,
    cotangent: ArrayLike,
    optimize: OptimizeKind = "auto",
) -> list[Any]:
    """Gradients of ⟨cotangent, einsum(subscripts, *operands)⟩ for every operand.

    Each gradient has its operand's shape and is a fresh array. Every
    contraction goes through a cached :func:`~indexnet.einsum.plan.plan`. A
    call whose NumPy arrays have the shapes and dtypes of an earlier
    successful call is one dict lookup and the compiled gradient kernels;
    anything else takes the checked path.

    Arrays of another library (torch, JAX, CuPy, Dask) give gradients of that
    library, on their device, in their dtype (Dask's stay lazy); arrays of
    two libraries in one call raise :class:`~indexnet.errors.ArrayLibraryError`.

    >>> import numpy as np
    >>> x, w = np.ones((2, 3)), np.ones((3, 4))
    >>> gx, gw = vjp("nd,dh->nh", x, w, cotangent=np.ones((2, 4)))
    >>> gx.shape, gw.shape, float(gw[0, 0])
    ((2, 3), (3, 4), 2.0)
    """
    try:
        key = (subscripts, optimize, _signature(cotangent), *map(_signature, operands))
        gradients = _CALLS[key]
    except (KeyError, TypeError, AttributeError, ValueError):
        return _vjp_checked(subscripts, operands, cotangent, optimize)
    try:
        return [gradient(operands, cotangent) for gradient in gradients]
    except MemoryError:
        raise
    except Exception as err:
        raise InternalError(f"internal error, please report: computing einsum gradients "
                            f"(vjp): {type(err).__name__}: {err}") from err


def clear_call_cache() -> None:
    """Forget the compiled gradients of earlier :func:`vjp` calls (plans stay cached).

    >>> clear_call_cache()
    """
    _CALLS.clear()


#: One operand's gradient: (operands, cotangent) -> gradient, compiled for fixed shapes.
GradientFn = Callable[[Sequence[Any], Any], Any]
#: Compiled gradients of successful :func:`vjp` calls on NumPy arrays, by call key.
_CALLS: dict[tuple[Any, ...], tuple[GradientFn, ...]] = {}
_CALLS_MAX = 1024
_signature = operator.attrgetter("__class__", "shape", "dtype")


@internal_errors("computing einsum gradients (vjp)")
def _vjp_checked(
    subscripts: str, operands: Sequence[Any], cotangent: Any, optimize: Any
) -> list[Any]:
    """:func:`vjp` on its checked path; a successful call on NumPy arrays is remembered."""
    named = {f"operand {k}": op for k, op in enumerate(operands)}
    kind = array_kind({**named, "cotangent": cotangent})
    if kind is not None:
        return _vjp_foreign(subscripts, operands, cotangent, optimize, kind)
    arrays = [np.asarray(op) for op in operands]
    parsed = parse(subscripts, ndims=[a.ndim for a in arrays])
    sizes = index_sizes(parsed, [a.shape for a in arrays])
    g = np.asarray(cotangent)
    out_shape = tuple(sizes[c] for c in parsed.output)
    if g.shape != out_shape:
        raise SizeMismatchError(
            f"cotangent has shape {g.shape} but {str(parsed)!r} produces {out_shape} "
            f"(output {parsed.output!r})"
        )
    gradients = [(f"the gradient of operand {k} ({term!r})", a.shape)
                 for k, (term, a) in enumerate(zip(parsed.inputs, arrays))]
    why = too_large(gradients, str(np.result_type(*arrays, g)))
    if why is not None:
        raise AllocationError(why)
    compiled = [
        _compile_gradient(derivative(parsed, k), arrays, g, sizes, optimize)
        for k in range(len(arrays))
    ]
    if all(type(a) is np.ndarray for a in (*operands, cotangent)):
        key = (subscripts, optimize, _signature(cotangent), *map(_signature, operands))
        with contextlib.suppress(TypeError):  # an unhashable optimize: not remembered
            if len(_CALLS) >= _CALLS_MAX:
                _CALLS.clear()
            _CALLS[key] = tuple(gradient for gradient, _ in compiled)
    return [first for _, first in compiled]


def _vjp_foreign(
    subscripts: str, operands: Sequence[Any], cotangent: Any, optimize: Any, kind: ArrayKind
) -> list[Any]:
    """:func:`vjp` on arrays of another library: its backend for the einsums, its array API."""
    arrays = [op if is_foreign(op) else kind.asarray(np.asarray(op)) for op in operands]
    g = cotangent if is_foreign(cotangent) else kind.asarray(np.asarray(cotangent))
    shapes = [tuple(a.shape) for a in arrays]
    parsed = parse(subscripts, ndims=[len(shape) for shape in shapes])
    sizes = index_sizes(parsed, shapes)
    out_shape = tuple(sizes[c] for c in parsed.output)
    if tuple(g.shape) != out_shape:
        raise SizeMismatchError(
            f"cotangent has shape {tuple(g.shape)} but {str(parsed)!r} produces {out_shape} "
            f"(output {parsed.output!r})"
        )
    gradients = []
    for k in range(len(arrays)):
        rule = derivative(parsed, k)
        ops = list(arrays)
        ops[k] = g
        chosen = plan(rule.executable, *(tuple(op.shape) for op in ops),
                      dtype=kind.numpy_dtype, optimize=optimize)
        raw = chosen(*ops)  # a foreign array: opt_einsum's backend for the library
        gradients.append(_finish_foreign(rule, raw, shapes[k], sizes, kind, ops))
    return gradients


def _finish_foreign(rule: Derivative, raw: Any, operand_shape: tuple[int, ...],
                    sizes: dict[str, int], kind: ArrayKind, ops: Sequence[Any]) -> Any:
    """:func:`_finisher`'s work on a foreign array, through its array API: a fresh gradient."""
    xp = kind.xp
    as_distinct, full_shape, squeeze = _layout(rule, tuple(raw.shape), operand_shape, sizes)
    if as_distinct == tuple(raw.shape) == full_shape and not squeeze and not rule.diagonal:
        return raw if all(raw is not op for op in ops) else kind.copy(raw)
    full = xp.broadcast_to(xp.reshape(raw, as_distinct), full_shape)
    if squeeze:
        full = xp.sum(full, axis=squeeze, keepdims=True)
    if not rule.diagonal:
        return kind.copy(full)  # a fresh array, not a broadcast view
    distinct = "".join(dict.fromkeys(rule.target))
    first = [rule.target.index(c) == i for i, c in enumerate(rule.target)]
    spread = tuple(full.shape[distinct.index(c)] if is_first else 1
                   for c, is_first in zip(rule.target, first))
    grids = np.ogrid[tuple(slice(0, n) for n in operand_shape)]
    mask = np.ones(operand_shape, dtype=bool)
    for i, c in enumerate(rule.target):
        mask &= grids[i] == grids[rule.target.index(c)]
    return xp.reshape(full, spread) * xp.asarray(mask, dtype=raw.dtype, device=kind.device)


def _layout(rule: Derivative, reduced_shape: tuple[int, ...], operand_shape: tuple[int, ...],
            sizes: dict[str, int]) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """How the executable's result becomes the gradient, for these shapes.

    Returned: its shape over the operand's distinct letters, the broadcast
    shape, and the axes to sum back to size 1.

    >>> _layout(derivative("ij,j->", wrt=0), (3,), (2, 3), {"i": 2, "j": 3})
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


def _compile_gradient(
    rule: Derivative,
    arrays: Sequence[np.ndarray],
    g: np.ndarray,
    sizes: dict[str, int],
    optimize: OptimizeKind,
) -> tuple[GradientFn, np.ndarray]:
    """The gradient of operand ``rule.wrt`` as a function of fixed shapes, and its value now."""
    k = rule.wrt
    ops = list(arrays)
    ops[k] = g
    dtype = np.result_type(*ops)
    chosen = plan(rule.executable, *ops, optimize=optimize)
    raw = chosen(*ops)  # checked: shapes, sizes
    finish = _finisher(rule, raw, ops, arrays[k].shape, sizes, dtype)
    kernel = chosen.kernel

    def gradient(operands: Sequence[Any], cotangent: Any) -> np.ndarray:
        args = list(operands)
        args[k] = cotangent
        return finish(kernel(*args))

    return gradient, finish(raw)


def _finisher(
    rule: Derivative,
    raw: Any,
    ops: Sequence[np.ndarray],
    operand_shape: tuple[int, ...],
    sizes: dict[str, int],
    dtype: np.dtype[Any],
) -> Callable[[Any], np.ndarray]:
    """What turns the executable's result ``raw`` into the operand's gradient, for these shapes.

    Where nothing is broadcast, summed back or put on a diagonal, that is
    nothing at all when the kernel's result is already a fresh array of the
    right dtype (decided once, from ``raw``), else one copy.
    """
    distinct = "".join(dict.fromkeys(rule.target))
    reduced_shape = np.shape(raw)
    as_distinct, full_shape, squeeze = _layout(rule, reduced_shape, operand_shape, sizes)
    plain = as_distinct == reduced_shape == full_shape and not squeeze and not rule.diagonal
    if plain:
        fresh = (
            isinstance(raw, np.ndarray) and raw.dtype == dtype and raw.flags.writeable
            and not any(np.may_share_memory(raw, a) for a in ops)
        )
        return _same if fresh else functools.partial(np.array, dtype=dtype)
    # 3. repeated letters: written onto the diagonal of a zero array
    diagonal_shape = tuple(operand_shape[rule.target.index(c)] for c in distinct)
    c_strides = _c_strides(operand_shape, np.dtype(dtype).itemsize)  # of np.zeros(...)
    strides = [
        sum(c_strides[i] for i, c in enumerate(rule.target) if c == letter)
        for letter in distinct
    ]

    def finish(result: Any) -> np.ndarray:
        reduced = np.asarray(result, dtype=dtype)
        full = np.broadcast_to(reduced.reshape(as_distinct), full_shape)
        if squeeze:
            full = full.sum(axis=squeeze, keepdims=True)
        if not rule.diagonal:
            return np.array(full, dtype=dtype)  # a fresh, writeable array
        grad = np.zeros(operand_shape, dtype=dtype)
        view = np.lib.stride_tricks.as_strided(
            grad, shape=diagonal_shape, strides=strides, writeable=True
        )
        view[...] = full
        return grad

    return finish


def _same(a: np.ndarray) -> np.ndarray:
    return a


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
