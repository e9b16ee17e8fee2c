"""Reverse accumulation through a plan's contraction tree: the forward pass and every gradient.

A :class:`~indexnet.einsum.compiled.Plan` contracts its operands pairwise,
each intermediate used exactly once, so its steps form a tree. Reverse
accumulation walks that tree backwards: the cotangent of a step's output and
the step's other inputs give the cotangent of each input by the einsum rule
(:func:`~indexnet.einsum.rule.derivative`) applied to the *step*, a pairwise
einsum no larger than the step itself. The forward intermediates are kept for
this and nothing else is recomputed, so the forward pass and all gradients
together cost at most about three times the forward's FLOPs (the "cheap
gradient principle"), where one einsum per operand
(:func:`~indexnet.einsum.vjp.per_operand_vjp`) costs up to one forward pass
per operand: for ``ij,jk,kl->il`` six matrix products instead of eight.

Each step's gradients are planned once, as ordinary cached plans, so they run
as the same direct BLAS calls as the forward pass
(:func:`~indexnet.einsum.kernels.compile_step`); for fixed shapes and dtypes
the whole backward pass is then one straight-line function, generated once,
that drops every intermediate and cotangent as soon as it has been used. A
warm call is one dict lookup and that function.

* :func:`value_and_vjp`: the value now, a :class:`Pullback` for the cotangent later
  (what a loss needs: the cotangent depends on the value);
* :func:`value_and_grad`: the value and the gradients of ⟨cotangent, value⟩ in one call;
* :func:`~indexnet.einsum.vjp.vjp`: the gradients alone (the forward pass stops below its
  last step, whose result no gradient needs);
* :func:`gradient_flops`: the FLOPs of each, against one einsum per operand.

>>> import numpy as np
>>> a, b, c = np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 5))
>>> out, pullback = value_and_vjp("ij,jk,kl->il", a, b, c)
>>> ga, gb, gc = pullback(np.ones((2, 5)))
>>> out[0, 0], ga[0, 0], gb[0, 0], gc[0, 0]
(np.float64(12.0), np.float64(20.0), np.float64(10.0), np.float64(6.0))
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError, internal_errors, raise_internal
from ..typing import ArrayLike, OptimizeKind
from .arrays import ArrayKind, array_kind, is_foreign, library_name, one_dtype
from .plan import optimize_key, plan
from .rule import derivative, finish_foreign, finisher
from .subscripts import index_sizes, parse
from .tape import Backward, GradientFlops, Tape, check_cotangent, check_gradients_fit

__all__ = [
    "GradientFlops",
    "Pullback",
    "Wrt",
    "clear_cache",
    "foreign_cotangent",
    "gradient_flops",
    "normalize_wrt",
    "per_operand_gradients",
    "prepare",
    "value_and_grad",
    "value_and_vjp",
]

#: Which operands to differentiate: None for all, an operand's position, or positions.
Wrt = int | Sequence[int] | None

_signature = operator.attrgetter("__class__", "shape", "dtype")


# -- preparing a call ---------------------------------------------------------------------


def normalize_wrt(wrt: Wrt, n: int) -> tuple[int, ...]:
    """The positions of the operands to differentiate, each in 0..n-1.

    >>> normalize_wrt(None, 3), normalize_wrt(-1, 3), normalize_wrt([2, 0], 3)
    ((0, 1, 2), (2,), (2, 0))
    """
    if wrt is None:
        return tuple(range(n))
    items: Any = [wrt] if _is_position(wrt) else wrt
    try:
        positions: list[Any] = list(items)
    except TypeError:
        positions = [None]
    if isinstance(wrt, str) or not all(_is_position(k) and -n <= k < n for k in positions):
        raise InvalidArgumentError(
            f"wrt={wrt!r} must be None, an operand's position or a sequence of them "
            f"(0 to {n - 1}, or negative from the end)")
    normal = tuple(int(k) % n for k in positions)
    if len(set(normal)) != len(normal):
        raise InvalidArgumentError(f"wrt={wrt!r} names an operand twice")
    return normal


def _is_position(k: Any) -> bool:
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


#: Tapes by (plan, wrt, operand dtypes): plans are cached, so equal requests share one.
_TAPES: dict[tuple[Any, ...], Tape] = {}
_CACHE_MAX = 1024


def prepare(subscripts: str, operands: Sequence[Any], optimize: Any,
            wrt: Wrt) -> tuple[list[Any], Tape | None, ArrayKind | None, tuple[int, ...]]:
    """A checked call's arrays and its :class:`Tape`, or None for :func:`per_operand_gradients`.

    Returned: the operands (NumPy arrays, or left as they are when foreign),
    the tape (None for a sliced plan), the foreign
    :class:`~indexnet.einsum.arrays.ArrayKind` (or None) and the normalized
    ``wrt``. A tape with a kind runs on that library's arrays
    (:meth:`~indexnet.einsum.tape.Tape.forward_foreign`).
    """
    kind = array_kind({f"operand {k}": op for k, op in enumerate(operands)})
    chosen_wrt = normalize_wrt(wrt, len(operands))
    if kind is not None:
        arrays = one_dtype([op if is_foreign(op) else kind.asarray(np.asarray(op))
                            for op in operands])  # one dtype, as NumPy would promote
        shapes = [tuple(a.shape) for a in arrays]
        chosen = plan(subscripts, *shapes, dtype=kind.numpy_dtype, optimize=optimize)
        dtypes = (np.dtype(kind.numpy_dtype),) * len(arrays)
    else:
        arrays = [np.asarray(op) for op in operands]
        chosen = plan(subscripts, *arrays, optimize=optimize)
        dtypes = tuple(a.dtype for a in arrays)
    if getattr(chosen, "slicing", None) is not None:  # its steps are one slice's
        return arrays, None, kind, chosen_wrt
    key = (chosen, chosen_wrt, dtypes)
    tape = _TAPES.get(key)
    if tape is None:
        tape = Tape(chosen, chosen_wrt, dtypes, optimize_key(optimize))
        if len(_TAPES) >= _CACHE_MAX:
            _TAPES.clear()
        _TAPES[key] = tape
    return arrays, tape, kind, chosen_wrt


def foreign_cotangent(kind: ArrayKind, operands: Sequence[Any], cotangent: Any) -> Any:
    """``cotangent`` as an array of the operands' library, in the dtype the gradients take.

    That dtype is the operands' (common) one promoted with the cotangent's,
    as NumPy promotes: float64 weights on float32 operands give float64
    gradients, a float cotangent on integer operands float gradients
    (:meth:`~indexnet.einsum.tape.Tape.backward_foreign` casts the rest). A
    Python number or list is weak, as NumPy treats a number: it takes the
    operands' dtype, or the library's default float where they are integers
    and it is not. Raises :class:`~indexnet.errors.ArrayLibraryError` where
    the cotangent is an array of another library.
    """
    xp = kind.xp
    if not (is_foreign(cotangent) and library_name(cotangent) == kind.library):
        array_kind({**{f"operand {k}": op for k, op in enumerate(operands)},
                    "cotangent": cotangent})  # raises where two libraries meet
        value = np.asarray(cotangent)
        integral = xp.isdtype(kind.dtype, "integral") or xp.isdtype(kind.dtype, "bool")
        if integral and value.dtype.kind not in "biu":
            return xp.asarray(value, dtype=kind.default_float(), device=kind.device)
        return kind.asarray(value)
    dtype = xp.result_type(kind.dtype, cotangent.dtype)
    return cotangent if cotangent.dtype == dtype else xp.astype(cotangent, dtype)


def per_operand_gradients(subscripts: str, operands: Sequence[Any], cotangent: Any,
                          optimize: Any, wrt: tuple[int, ...]) -> list[Any]:
    """One planned einsum per gradient, sharing nothing: the rule applied to the whole formula.

    How arrays whose plan runs in slices are differentiated
    (:class:`~indexnet.einsum.compiled.Plan` ``slicing``: its steps are one
    slice's), and :func:`~indexnet.einsum.vjp.per_operand_vjp`, the
    reference. Arrays of another library stay of that library, on their
    device, in their dtype (Dask's lazy). Arrays of two libraries raise
    :class:`~indexnet.errors.ArrayLibraryError`.
    """
    kind = array_kind({**{f"operand {k}": op for k, op in enumerate(operands)},
                       "cotangent": cotangent})  # raises where two libraries meet
    if kind is None:
        arrays = [np.asarray(op) for op in operands]
        g = np.asarray(cotangent)
    else:
        arrays = [op if is_foreign(op) else kind.asarray(np.asarray(op)) for op in operands]
        g = cotangent if is_foreign(cotangent) else kind.asarray(np.asarray(cotangent))
    shapes = [tuple(a.shape) for a in arrays]
    parsed = parse(subscripts, ndims=[len(shape) for shape in shapes])
    sizes = index_sizes(parsed, shapes)
    check_cotangent(parsed, tuple(sizes[c] for c in parsed.output), tuple(g.shape))
    if kind is None:
        check_gradients_fit(parsed, [shapes[k] for k in wrt], wrt, np.result_type(*arrays, g))
    gradients = []
    for k in wrt:
        rule = derivative(parsed, k)
        ops = list(arrays)
        ops[k] = g
        if kind is None:
            raw = plan(rule.executable, *ops, optimize=optimize)(*ops)
            finish = finisher(rule, raw, ops, shapes[k], sizes, np.result_type(*ops))
            gradients.append(raw if finish is None else finish(raw))
            continue
        step = plan(rule.executable, *(tuple(op.shape) for op in ops),
                    dtype=kind.numpy_dtype, optimize=optimize)
        raw = step(*ops)  # a foreign array: opt_einsum's backend for the library
        gradients.append(finish_foreign(rule, raw, shapes[k], sizes, kind, ops))
    return gradients


# -- the public entry points --------------------------------------------------------------


class Pullback:
    """The backward pass of one :func:`value_and_vjp` call: call it with the cotangent.

    ``pullback(cotangent)`` returns the gradients of ⟨cotangent, value⟩ with
    respect to the chosen operands (``wrt``, all by default), in that order,
    each a fresh array of its operand's shape. It reads the forward pass's
    intermediates, which it holds until it is called; the call frees each
    one as soon as it has been used, so a pullback can be called once,
    unless ``retain=True`` was given (then it keeps them for more calls).
    Do not write into the operands between the forward pass and the call.
    """

    __slots__ = (
        "_kind",
        "_operands",
        "_optimize",
        "_retain",
        "_saved",
        "_subscripts",
        "_tape",
        "wrt",
    )

    def __init__(self, subscripts: str, operands: Sequence[Any], tape: Tape | None,
                 saved: list[Any] | None, wrt: tuple[int, ...], optimize: Any,
                 retain: bool, kind: ArrayKind | None = None) -> None:
        self._kind = kind  # the operands' library where it is not NumPy
        self._subscripts = subscripts
        self._operands = operands
        self._tape = tape
        self._saved = saved
        self._optimize = optimize
        self._retain = retain
        #: the positions of the operands whose gradients a call returns, in order
        self.wrt = wrt

    def __call__(self, cotangent: ArrayLike) -> list[Any]:
        """The gradients of ⟨cotangent, value⟩ for the operands ``wrt``."""
        tape = self._tape
        if self._kind is not None:  # another library's arrays: never a compiled pass
            return self._checked(cotangent)
        try:
            backward = tape.backward[_signature(cotangent)]  # type: ignore[union-attr]
        except (KeyError, TypeError, AttributeError, ValueError):
            return self._checked(cotangent)
        saved = self._take()
        try:
            return backward(saved, cotangent)
        except Exception as err:
            raise_internal(err, "computing einsum gradients (pullback)")

    def _take(self) -> list[Any]:
        saved = self._saved
        if saved is None:
            raise InvalidArgumentError(
                "this pullback has been called already and has freed the forward pass's "
                "intermediates; pass retain=True to value_and_vjp to call it more than once")
        if self._retain:
            return list(saved)
        self._saved = None
        return saved

    @internal_errors("computing einsum gradients (pullback)")
    def _checked(self, cotangent: Any) -> list[Any]:
        tape, kind = self._tape, self._kind
        if tape is None or (kind is None and is_foreign(cotangent)):
            return per_operand_gradients(self._subscripts, self._operands, cotangent,
                                     self._optimize, self.wrt)
        if kind is not None:
            g = foreign_cotangent(kind, self._operands, cotangent)
            check_cotangent(tape.plan.subscripts, tape.out_shape, tuple(g.shape))
            return tape.backward_foreign(self._take(), self._operands, g, kind)
        g = np.asarray(cotangent)
        check_cotangent(tape.plan.subscripts, tape.out_shape, g.shape)  # before _take
        saved = self._take()
        return tape.run_backward(saved, self._operands, g,
                                    remember=type(cotangent) is np.ndarray)

    @property
    def flops(self) -> GradientFlops | None:
        """FLOPs of the forward pass and of this backward pass (None for a sliced plan)."""
        return None if self._tape is None else self._tape.flops()

    def __repr__(self) -> str:
        state = "used" if self._saved is None else "ready"
        return f"<Pullback of {self._subscripts!r}, wrt={self.wrt}, {state}>"


def value_and_vjp(
    subscripts: str,
    *operands: ArrayLike,
    optimize: OptimizeKind = "auto",
    wrt: Wrt = None,
    retain: bool = False,
) -> tuple[Any, Pullback]:
    """The value of ``einsum(subscripts, *operands)`` and its :class:`Pullback`.

    The forward pass runs the plan's steps and keeps the intermediates that
    the gradients read; ``pullback(cotangent)`` then computes the gradients
    of ⟨cotangent, value⟩ for the operands ``wrt`` (None: all) by reverse
    accumulation through the same steps. A call whose NumPy arrays have the
    shapes and dtypes of an earlier one is one dict lookup and the generated
    forward function; so is a pullback call with a cotangent seen before.

    Arrays of another library (torch, JAX, CuPy, Dask) give a value and
    gradients of that library by the same reverse accumulation, each step
    run on the library's backend
    (:meth:`~indexnet.einsum.tape.Tape.forward_foreign`; Dask's stay lazy).

    >>> import numpy as np
    >>> x, w = np.ones((2, 3)), np.ones((3, 4))
    >>> out, pullback = value_and_vjp("nd,dh->nh", x, w, wrt=1)
    >>> (gw,) = pullback(out)  # the cotangent of ½‖out‖²
    >>> gw.shape, float(gw[0, 0])
    ((3, 4), 6.0)
    """
    try:
        key = (subscripts, optimize.__class__, optimize, wrt.__class__, wrt,
               *map(_signature, operands))
        tape = _VJP_CALLS[key]
    except (KeyError, TypeError, AttributeError, ValueError):
        return _value_and_vjp_checked(subscripts, operands, optimize, wrt, retain)
    try:
        value, saved = tape.forward_value(*operands)
    except Exception as err:
        raise_internal(err, "evaluating a contraction (value_and_vjp)")
    return value, Pullback(subscripts, operands, tape, saved, tape.wrt, optimize, retain)


@internal_errors("evaluating a contraction (value_and_vjp)")
def _value_and_vjp_checked(subscripts: str, operands: Sequence[Any], optimize: Any, wrt: Wrt,
                           retain: bool) -> tuple[Any, Pullback]:
    arrays, tape, kind, chosen_wrt = prepare(subscripts, operands, optimize, wrt)
    if tape is None:
        value = plan(subscripts, *arrays, optimize=optimize)(*arrays)
        return value, Pullback(subscripts, arrays, None, None, chosen_wrt, optimize, retain)
    if kind is not None:
        value, saved = tape.forward_foreign(arrays, kind, range(len(tape.steps)))
        return value, Pullback(subscripts, arrays, tape, saved, chosen_wrt, optimize, retain,
                               kind)
    tape.plan.check_fits()
    value, saved = tape.forward_value(*arrays)
    _remember(_VJP_CALLS, subscripts, optimize, wrt, operands, tape)
    return value, Pullback(subscripts, arrays, tape, saved, chosen_wrt, optimize, retain)


def value_and_grad(
    subscripts: str,
    *operands: ArrayLike,
    cotangent: ArrayLike | None = None,
    optimize: OptimizeKind = "auto",
    wrt: Wrt = None,
) -> tuple[Any, list[Any]]:
    """The value of ``einsum(subscripts, *operands)`` and the gradients of ⟨cotangent, value⟩.

    One forward pass, then reverse accumulation through its intermediates
    (:func:`value_and_vjp` and its pullback, in one call). ``cotangent``
    defaults to ones: the gradient of the value itself when it is a scalar,
    of its sum otherwise. The gradients are for the operands ``wrt`` (None:
    all), in that order.

    >>> import numpy as np
    >>> a = np.arange(4.0).reshape(2, 2)
    >>> value, (grad,) = value_and_grad("ij,ij->", a, a, wrt=[0])
    >>> float(value), grad.tolist()
    (14.0, [[0.0, 1.0], [2.0, 3.0]])
    """
    try:
        sig = None if cotangent is None else _signature(cotangent)
        key = (subscripts, optimize.__class__, optimize, wrt.__class__, wrt, sig,
               *map(_signature, operands))
        tape, backward = _GRAD_CALLS[key]
    except (KeyError, TypeError, AttributeError, ValueError):
        return _value_and_grad_checked(subscripts, operands, cotangent, optimize, wrt)
    try:
        value, saved = tape.forward_value(*operands)
        g = np.ones(tape.out_shape, np.result_type(value)) if cotangent is None \
            else cotangent
        return value, backward(saved, g)
    except Exception as err:
        raise_internal(err, "computing einsum gradients (value_and_grad)")


@internal_errors("computing einsum gradients (value_and_grad)")
def _value_and_grad_checked(subscripts: str, operands: Sequence[Any], cotangent: Any,
                            optimize: Any, wrt: Wrt) -> tuple[Any, list[Any]]:
    arrays, tape, kind, chosen_wrt = prepare(subscripts, operands, optimize, wrt)
    if tape is None or (kind is None and is_foreign(cotangent)):
        value = plan(subscripts, *arrays, optimize=optimize)(*arrays)
        if cotangent is None and kind is not None:
            cotangent = kind.xp.ones_like(value)
        return value, per_operand_gradients(subscripts, arrays, cotangent, optimize, chosen_wrt)
    if kind is not None:  # another library's arrays: the same tree, step by step
        g = None if cotangent is None else foreign_cotangent(kind, arrays, cotangent)
        if g is not None:
            check_cotangent(tape.plan.subscripts, tape.out_shape, tuple(g.shape))
        value, saved = tape.forward_foreign(arrays, kind, range(len(tape.steps)))
        g = kind.xp.ones_like(value) if g is None else g
        return value, tape.backward_foreign(saved, arrays, g, kind)
    tape.plan.check_fits()
    g = None if cotangent is None else np.asarray(cotangent)
    if g is not None:
        check_cotangent(tape.plan.subscripts, tape.out_shape, g.shape)
    value, saved = tape.forward_value(*arrays)
    if g is None:
        g = np.ones(tape.out_shape, np.result_type(value))
    native = cotangent is None or type(cotangent) is np.ndarray
    grads = tape.run_backward(saved, arrays, g, remember=native)
    backward = tape.backward.get(_signature(g))
    if native and backward is not None:
        _remember(_GRAD_CALLS, subscripts, optimize, wrt, operands, (tape, backward),
                  None if cotangent is None else _signature(cotangent))
    return value, grads


def _remember(cache: dict[tuple[Any, ...], Any], subscripts: str, optimize: Any, wrt: Wrt,
              operands: Sequence[Any], entry: Any, *extra: Any) -> None:
    """Remember a successful call on NumPy arrays under its warm-path key.

    ``optimize`` and ``wrt`` go in with their types: ``1 == True``, but only
    ``wrt=1`` is valid.
    """
    if not all(type(op) is np.ndarray for op in operands):
        return
    key = (subscripts, optimize.__class__, optimize, wrt.__class__, wrt, *extra,
           *map(_signature, operands))
    try:
        hash(key)
    except TypeError:  # an unhashable optimize or wrt: such calls take the checked path
        return
    if len(cache) >= _CACHE_MAX:
        cache.clear()
    cache[key] = entry


#: Warm calls of :func:`value_and_vjp` and :func:`value_and_grad`, by call key.
_VJP_CALLS: dict[tuple[Any, ...], Tape] = {}
_GRAD_CALLS: dict[tuple[Any, ...], tuple[Tape, Backward]] = {}


def clear_cache() -> None:
    """Forget compiled forward and backward passes (plans stay cached).

    >>> clear_cache()
    """
    _TAPES.clear()
    _VJP_CALLS.clear()
    _GRAD_CALLS.clear()


@internal_errors("counting gradient FLOPs")
def gradient_flops(subscripts: str, *operands_or_shapes: ArrayLike | Sequence[int],
                   optimize: OptimizeKind = "auto", dtype: Any = None,
                   wrt: Wrt = None) -> GradientFlops:
    """FLOPs of the forward pass and of reverse accumulation, vs one einsum per gradient.

    Arguments as for :func:`~indexnet.einsum.plan.plan` (arrays or shapes).

    >>> f = gradient_flops("abcd,cdef,efab->", *[(4,) * 4] * 3)
    >>> f.value_and_grad / f.forward <= 3, f.value_and_grad < f.forward + f.per_operand
    (True, True)
    """
    chosen = plan(subscripts, *operands_or_shapes, optimize=optimize, dtype=dtype)
    chosen_wrt = normalize_wrt(wrt, len(chosen.shapes))
    dtypes = (np.dtype(chosen.dtype),) * len(chosen.shapes)
    return Tape(chosen, chosen_wrt, dtypes, optimize_key(optimize)).flops()
