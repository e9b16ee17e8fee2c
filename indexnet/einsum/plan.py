"""Plans: ``plan`` and ``contract``, the public entry points of the einsum engine.

A :class:`Plan` is built once per (subscripts, shapes, dtype, optimizer,
memory limit) and cached (:mod:`indexnet.einsum.compiled`): building it asks
opt_einsum for the path, then compiles every step to the cheapest NumPy call
that does the job (:mod:`indexnet.einsum.kernels`): ``matmul`` with the right
transposes for a matrix product, a flat ``dot`` for a full contraction of two
equal-shaped operands, a broadcast ``multiply`` for a Hadamard or outer
product, ``sum(axis)`` for a single-operand reduction. Only what fits none of
these (diagonals, size-1 broadcasting, three operands at once) goes to
``np.einsum``. Arrays that are not NumPy's (Dask, torch, JAX, CuPy) run
through opt_einsum's own expression, which dispatches to their backend.

>>> import numpy as np
>>> p = plan("nd,dh->nh", (5, 3), (3, 4))
>>> p.steps[0].kind
'matmul'
>>> x, w = np.ones((5, 3)), np.ones((3, 4))
>>> bool(np.allclose(p(x, w), x @ w))
True
"""

from __future__ import annotations

import dataclasses
import functools
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError, internal_errors, raise_internal
from ..typing import OPTIMIZERS, ArrayLike, MemoryLimit, OptimizeKind, Shape
from ..validate import numeric_operand
from .compiled import Plan, Step, build_plan, cached_plan, is_optimizer_object
from .kernels import Kernel, one_loop
from .measured import measured_path
from .memory import resolve_limit
from .search import SEARCH_BUDGET_S
from .subscripts import from_interleaved, index_sizes, parse

__all__ = ["NAMED_OPTIMIZERS", "Plan", "Step", "clear_call_cache", "contract", "optimize_key",
           "plan"]

#: Every optimizer name ``plan`` and ``contract`` accept: :data:`~indexnet.typing.OPTIMIZERS`
#: and ``"cotengra"`` (cotengra's hyper-optimizer, when cotengra is installed).
NAMED_OPTIMIZERS: tuple[str, ...] = tuple(dict.fromkeys((*OPTIMIZERS, "cotengra")))


@internal_errors("planning a contraction")
def plan(
    subscripts: str,
    *operands_or_shapes: ArrayLike | Sequence[int],
    optimize: OptimizeKind = "auto",
    dtype: Any = None,
    memory_limit: MemoryLimit = None,
    budget: float | None = SEARCH_BUDGET_S,
) -> Plan:
    """Plan (or fetch from the cache) the contraction of ``subscripts``.

    Each argument after the subscripts is an array or a shape tuple. The
    dtype is the arrays' common dtype unless given (``float64`` for shapes).

    ``optimize`` is an optimizer name (:data:`NAMED_OPTIMIZERS`), an explicit
    path, or an optimizer object: any opt_einsum ``PathOptimizer`` (such as
    ``opt_einsum.RandomGreedy(max_repeats=256)``) or cotengra optimizer (such
    as ``cotengra.HyperOptimizer(...)``), run as given; the plan is cached for
    that object. ``"measured"`` times the distinct paths of the fast
    optimizers on random arrays of these shapes and dtype (on the arrays'
    backend) and keeps the fastest; the choice is cached for the process
    and, when ``INDEXNET_CACHE_DIR`` is set, on disk. ``"cotengra"`` is
    cotengra's hyper-optimizer within ``budget`` (a
    :class:`~indexnet.errors.MissingExtraError` when cotengra
    is not installed).

    ``memory_limit`` caps the largest intermediate, in elements (or
    ``"max_input"``: the largest operand's size). When no path meets it and
    cotengra is installed, the plan runs in slices (cotengra's slicing of
    contracted indices; ``Plan.slicing`` records them, the number of slices
    and the FLOPs overhead), summed with one slice in memory at a time. A
    limit below the output's size, an explicit path over it, or any limit no
    path meets without cotengra raises :class:`~indexnet.errors.MemoryLimitError`
    naming the smallest reachable; indexnet never falls back to one slow
    einsum over all operands as opt_einsum does.

    ``budget`` (seconds; None for none) bounds an exponential search
    (:data:`~indexnet.typing.EXPONENTIAL_SEARCHES`) on more than six operands,
    and ``"cotengra"`` on any: past it the plan takes the best path found so
    far, or greedy's, and its ``note`` says so. ``"auto"`` plans within its
    own smaller budget (:func:`~indexnet.einsum.search.auto_path`).

    A plan is only a description: it is made for any sizes. Running it on
    NumPy arrays first checks that every tensor it would allocate fits
    (:class:`~indexnet.errors.AllocationError` names the one that does not).

    >>> p = plan("nd,nh->dh", (5, 3), (5, 4))
    >>> p.path, p.steps[0].subscripts
    ([(0, 1)], 'nd,nh->dh')
    >>> plan("nd,nh->dh", (5, 3), (5, 4)) is p
    True
    >>> plan("ab,bc,cd->ad", (2, 50), (50, 50), (50, 2), memory_limit=100).path
    [(0, 1), (0, 1)]
    """
    return _plan(subscripts, operands_or_shapes, optimize, dtype, memory_limit, budget)


def contract(
    subscripts: str | ArrayLike,
    *operands: ArrayLike,
    optimize: OptimizeKind = "auto",
    memory_limit: MemoryLimit = None,
    client: Any = None,
) -> Any:
    """Evaluate an einsum through a cached :class:`Plan`.

    ``subscripts`` is an einsum string, or the call is NumPy's interleaved
    form ``contract(a, [0, 1], b, [1, 2], [0, 2])`` with any hashable labels
    (:func:`~indexnet.einsum.subscripts.from_interleaved`).

    A call whose NumPy operands have the shapes and dtypes of an earlier
    successful call is one dict lookup on (subscripts, optimize,
    memory_limit, each operand's type, shape and dtype) and the compiled
    kernel: nothing is parsed or checked again. (Three or more operands
    over a tiny index space run one C einsum loop instead of the plan's
    steps, which is cheaper there: :func:`~indexnet.einsum.kernels.one_loop`.)
    Anything else (a first call, lists, other array libraries, an
    unhashable ``optimize``) takes the checked path, which plans, validates
    and raises typed errors.

    ``client`` (a ``distributed.Client``, or a scheduler address to connect
    to for this call) runs the contraction on a Dask cluster: a plan sliced
    to fit ``memory_limit`` sends its slices in batches and sums them there
    (:mod:`indexnet.einsum.distributed`); NumPy operands only. A scheduler
    that cannot be reached is a
    :class:`~indexnet.errors.ClusterError` naming its address.

    >>> import numpy as np
    >>> float(contract("ii->", np.eye(3)))
    3.0
    >>> contract(np.eye(2), ["row", "col"], np.ones(2), ["col"], ["row"]).tolist()
    [1.0, 1.0]
    """
    if client is not None:
        return _contract_on_cluster(subscripts, operands, optimize, memory_limit, client)
    try:
        if len(operands) == 2:  # unrolled: the commonest call, kept cheapest
            a, b = operands
            key: tuple[Any, ...] = (subscripts, optimize.__class__, optimize,
                                    memory_limit.__class__, memory_limit, a.__class__,
                                    a.shape, a.dtype, b.__class__, b.shape, b.dtype)
        elif len(operands) == 3:
            a, b, c = operands
            key = (subscripts, optimize.__class__, optimize, memory_limit.__class__,
                   memory_limit, a.__class__, a.shape, a.dtype, b.__class__, b.shape, b.dtype,
                   c.__class__, c.shape, c.dtype)
        else:
            key = (subscripts, optimize.__class__, optimize, memory_limit.__class__,
                   memory_limit, *map(_signature, operands))
        kernel = _CALLS[key]
    except (KeyError, TypeError, AttributeError, ValueError):
        return _contract_checked(subscripts, operands, optimize, memory_limit)
    try:
        return kernel(*operands)
    except Exception as err:
        raise_internal(err, "evaluating a contraction")


def clear_call_cache() -> None:
    """Forget the kernels of earlier :func:`contract` calls (plans stay cached).

    >>> clear_call_cache()
    """
    _CALLS.clear()


#: Kernels of successful :func:`contract` calls on NumPy arrays, by call key.
_CALLS: dict[tuple[Any, ...], Kernel] = {}
_CALLS_MAX = 4096
_signature = operator.attrgetter("__class__", "shape", "dtype")


def _call_key(subscripts: str, optimize: Any, memory_limit: Any,
              operands: Sequence[Any]) -> tuple[Any, ...] | None:
    """The :data:`_CALLS` key of a call, or None when the call cannot be remembered.

    ``optimize`` and ``memory_limit`` go in with their types: ``1 == True``,
    but only ``optimize=True`` is valid.
    """
    if not all(type(op) is np.ndarray for op in operands):
        return None
    options = (subscripts, optimize.__class__, optimize, memory_limit.__class__, memory_limit)
    if len(operands) in (2, 3):  # flat, as contract() builds it for these
        key: tuple[Any, ...] = (*options, *(x for op in operands for x in _signature(op)))
    else:
        key = (*options, *map(_signature, operands))
    try:
        hash(key)
    except TypeError:  # a path given as lists, say: such calls take the checked path
        return None
    return key


@internal_errors("evaluating a contraction")
def _contract_checked(
    subscripts: Any, operands: tuple[Any, ...], optimize: Any, memory_limit: Any
) -> Any:
    """:func:`contract` on its checked path; a successful NumPy call is remembered."""
    if not isinstance(subscripts, str):  # NumPy's interleaved form: op0, labels0, op1, ...
        subscripts, interleaved = from_interleaved((subscripts, *operands))
        operands = tuple(interleaved)
    key = _call_key(subscripts, optimize, memory_limit, operands)
    # nested lists are values here, never shapes (as ``plan`` would read them); text,
    # dates and objects that are not numbers are refused, naming the operand
    # (another library's array, Dask's or torch's, passes to its own backend unchanged)
    arrays = tuple(op if hasattr(op, "shape") and not isinstance(op, np.ndarray)
                   else numeric_operand(f"operand {k}", op) for k, op in enumerate(operands))
    chosen = _plan(subscripts, arrays, optimize, None, memory_limit)
    # a tiny call of NumPy arrays runs one C loop, this time and every time after: the
    # same call gives the same numbers whether it was remembered or not
    tiny = None
    if key is not None and len(arrays) >= 3 and chosen.slicing is None:
        tiny = one_loop(str(chosen.subscripts), chosen.shapes, [a.dtype for a in arrays])
    result = chosen(*arrays) if tiny is None else tiny(*arrays)
    if key is not None:
        if len(_CALLS) >= _CALLS_MAX:
            _CALLS.clear()
        _CALLS[key] = tiny or chosen.kernel
    return result


@internal_errors("evaluating a contraction on a Dask cluster")
def _contract_on_cluster(
    subscripts: Any, operands: tuple[Any, ...], optimize: Any, memory_limit: Any, client: Any
) -> Any:
    """:func:`contract` with ``client``: plan here, run on the cluster."""
    if not isinstance(subscripts, str):
        subscripts, interleaved = from_interleaved((subscripts, *operands))
        operands = tuple(interleaved)
    arrays = []
    for k, op in enumerate(operands):
        if hasattr(op, "shape") and not isinstance(op, (np.ndarray, np.generic)):
            raise InvalidArgumentError(
                f"operand {k} is a {type(op).__module__.split('.')[0]} array: client= runs "
                "NumPy operands on a Dask cluster (a Dask array already runs on its own "
                "scheduler; contract it without client=)"
            )
        arrays.append(numeric_operand(f"operand {k}", op))
    chosen = _plan(subscripts, arrays, optimize, None, memory_limit)
    chosen.check_fits()
    # dask.distributed is imported only for a call that asks for a cluster
    from .distributed import run_on_cluster, using_client

    with using_client(client) as connected:
        return run_on_cluster(chosen, arrays, connected)


def _plan(
    subscripts: str,
    operands_or_shapes: Sequence[Any],
    optimize: Any,
    dtype: Any,
    memory_limit: Any,
    budget: Any = SEARCH_BUDGET_S,
) -> Plan:
    """The work of :func:`plan`, unguarded: ``contract`` calls it under its own guard."""
    if budget is not None and (
        isinstance(budget, bool) or not isinstance(budget, (int, float)) or not budget > 0
    ):
        raise InvalidArgumentError(f"budget must be a number of seconds > 0 or None, "
                                   f"not {budget!r}")
    shapes, inferred = _shapes_and_dtype(operands_or_shapes)
    dtype_name = inferred if dtype is None else _dtype_name(dtype)
    key = optimize_key(optimize)
    limit = None if memory_limit is None else resolve_limit(memory_limit, shapes)
    if key == "measured":
        measured = _Measured(_backend_name(operands_or_shapes))
        return _cached_measured(subscripts, shapes, dtype_name, measured, limit)
    seconds = None if budget is None else float(budget)
    try:
        hash(key)
    except TypeError:  # an optimizer object that cannot be a key: planned afresh each time
        return build_plan(subscripts, shapes, dtype_name, key, limit, seconds)
    return cached_plan(subscripts, shapes, dtype_name, key, limit, seconds)


def _dtype_name(dtype: Any) -> str:
    """NumPy's name of a ``dtype=`` argument; one NumPy does not know is the caller's error."""
    try:
        return str(np.dtype(dtype))
    except TypeError:
        raise InvalidArgumentError(f"unknown dtype {dtype!r}") from None


def optimize_key(optimize: Any) -> Any:
    """The hashable cache key of ``optimize``: an optimizer's name, or a path as tuples.

    ``True`` is ``"auto"``; ``False`` and None are ``"naive"``.

    >>> optimize_key(True), optimize_key([[0, 1]])
    ('auto', ((0, 1),))
    """
    if optimize is False or optimize is None:
        return "naive"
    if optimize is True:
        return "auto"
    if isinstance(optimize, str):
        if optimize not in NAMED_OPTIMIZERS:
            raise InvalidArgumentError(
                f"unknown optimizer {optimize!r}; valid: {', '.join(NAMED_OPTIMIZERS)}, "
                "an explicit path such as [(0, 1), (0, 1)], or an optimizer object"
            )
        return optimize
    if is_optimizer_object(optimize):  # cached by identity: the object is the key
        return optimize
    try:
        return tuple(tuple(int(i) for i in step) for step in optimize)
    except TypeError:
        raise InvalidArgumentError(
            f"optimize must be an optimizer name, a path or an optimizer object (opt_einsum's "
            f"PathOptimizer, cotengra's), not {optimize!r}"
        ) from None


@dataclasses.dataclass(frozen=True)
class _Measured:
    """The cache key of ``optimize="measured"``: the choice depends on the backend."""

    backend: str = "numpy"


def _backend_name(items: Sequence[Any]) -> str:
    """The array library of the first non-NumPy array among ``items`` (``numpy`` if none)."""
    for item in items:
        if hasattr(item, "shape") and not isinstance(item, (np.ndarray, np.generic)):
            return type(item).__module__.split(".")[0]
    return "numpy"


def _shapes_and_dtype(items: Sequence[Any]) -> tuple[tuple[Shape, ...], str]:
    shapes = []
    dtypes = []
    for k, item in enumerate(items):
        if hasattr(item, "shape"):
            shapes.append(tuple(int(n) for n in item.shape))
            dtypes.append(getattr(item, "dtype", np.float64))
        elif isinstance(item, (int, float, complex)):
            shapes.append(())
            dtypes.append(np.asarray(item).dtype)
        else:
            try:
                shape = tuple(int(n) for n in item)
            except TypeError:
                raise InvalidArgumentError(
                    f"operand {k} must be an array or a shape tuple, not {type(item).__name__}"
                ) from None
            if any(n < 0 for n in shape):
                raise InvalidArgumentError(f"operand {k}: shape {shape} has a negative size")
            shapes.append(shape)
    try:
        dtype = str(np.result_type(*dtypes)) if dtypes else "float64"
    except TypeError:  # a foreign dtype NumPy cannot combine
        dtype = str(dtypes[0])
    return tuple(shapes), dtype


@functools.lru_cache(maxsize=4096)
def _cached_measured(
    subscripts: str,
    shapes: tuple[Shape, ...],
    dtype: str,
    optimize: _Measured,
    memory_limit: int | None = None,
) -> Plan:
    return _uncached_plan(subscripts, shapes, dtype, optimize, memory_limit)


def _uncached_plan(
    subscripts: str,
    shapes: tuple[Shape, ...],
    dtype: str,
    optimize: Any,
    memory_limit: int | None = None,
) -> Plan:
    """A new plan; for ``optimize="measured"`` (a :class:`_Measured` key), timed first."""
    if not isinstance(optimize, _Measured):
        return build_plan(subscripts, shapes, dtype, optimize, memory_limit)
    parsed = parse(subscripts, ndims=[len(s) for s in shapes])
    index_sizes(parsed, shapes)  # raises SizeMismatchError before anything is timed
    if memory_limit is not None:
        auto = cached_plan(str(parsed), shapes, dtype, "auto", memory_limit)
        if auto.slicing is not None:  # no path fits unsliced: nothing worth timing
            return dataclasses.replace(
                auto, optimize="measured",
                note="measured: no path fits memory_limit unsliced; auto's path in slices, "
                     "not timed")
    choice = measured_path(
        str(parsed), shapes, dtype, backend=optimize.backend, memory_limit=memory_limit
    )
    chosen = build_plan(str(parsed), shapes, dtype, choice.path, memory_limit)
    return dataclasses.replace(chosen, optimize="measured", measurement=choice)
