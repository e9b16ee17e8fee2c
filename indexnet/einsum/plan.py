"""Plans: an opt_einsum contraction path compiled into direct NumPy calls.

A :class:`Plan` is built once per (subscripts, shapes, dtype, optimizer) and
cached. Building it asks opt_einsum for the path, then compiles every step to
the cheapest NumPy call that does the job: ``matmul`` with the right
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

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod
from typing import Any

import numpy as np
import opt_einsum

from ..errors import (
    InvalidArgumentError,
    MemoryLimitError,
    OperandCountError,
    SizeMismatchError,
)
from ..typing import OPTIMIZERS, ArrayLike, MemoryLimit, OptimizeKind, Shape
from .subscripts import Subscripts, index_sizes, parse

__all__ = ["Plan", "Step", "contract", "plan", "smallest_intermediate"]

Kernel = Callable[..., Any]
#: Up to this many operands, memory limits are searched exactly (dynamic programming).
_EXACT_MAX_OPERANDS = 16
_FAST_DTYPES = frozenset(["float32", "float64", "complex64", "complex128"])


@dataclass(frozen=True)
class Step:
    """One contraction of a plan.

    ``operands`` are positions in the working list (popped in this order, the
    result appended), ``subscripts`` the step's own einsum string and
    ``kind`` the NumPy call it compiles to: ``matmul``, ``dot``,
    ``multiply``, ``sum`` or ``einsum``.
    """

    operands: tuple[int, ...]
    subscripts: str
    kind: str
    flops: int
    kernel: Kernel

    def __str__(self) -> str:
        return f"{self.operands}: {self.subscripts} [{self.kind}]"


class Plan:
    """A compiled contraction: call it with arrays of the planned shapes.

    Attributes: ``subscripts`` (canonical, ellipsis resolved), ``shapes``,
    ``dtype``, ``optimize``, ``path`` (opt_einsum's), ``steps``, ``flops``
    (opt_einsum's FLOP count of the path) and ``naive_flops`` (the same count
    for one einsum over all operands, the path ``"naive"``), ``largest_intermediate``
    (elements), ``memory_limit`` (the limit it was planned under, or None),
    ``measurement`` (for ``optimize="measured"``: the
    :class:`~indexnet.bench.paths.MeasuredChoice` that picked the path, else
    None), and ``kernel``: the compiled function itself, which skips the
    argument checks of ``__call__``; use it only in a hot loop whose NumPy
    arrays are known to have the planned shapes (as :class:`~indexnet.Network`
    does).
    """

    def __init__(
        self,
        subscripts: Subscripts,
        shapes: tuple[Shape, ...],
        dtype: str,
        optimize: OptimizeKind,
        path: list[tuple[int, ...]],
        steps: list[Step],
        flops: int,
        naive_flops: int,
        largest_intermediate: int,
        memory_limit: int | None = None,
    ) -> None:
        self.subscripts = subscripts
        self.shapes = shapes
        self.dtype = dtype
        self.optimize = optimize
        self.path = path
        self.steps = steps
        self.flops = flops
        self.naive_flops = naive_flops
        self.largest_intermediate = largest_intermediate
        self.memory_limit = memory_limit
        self.measurement: Any = None
        self.kernel: Kernel = _chain(steps, len(shapes))
        self._expression: Any = None

    def __call__(self, *operands: ArrayLike) -> Any:
        if len(operands) != len(self.shapes):
            raise OperandCountError(
                f"plan for {str(self.subscripts)!r} takes {len(self.shapes)} operand(s), "
                f"got {len(operands)}"
            )
        arrays = []
        foreign = False
        for k, (op, shape) in enumerate(zip(operands, self.shapes)):
            if type(op) is not np.ndarray:
                if isinstance(op, (int, float, complex, np.generic, list, tuple)):
                    op = np.asarray(op)
                else:
                    foreign = True
            if tuple(op.shape) != shape:
                raise SizeMismatchError(
                    f"operand {k} ({self.subscripts.inputs[k]!r}) has shape {tuple(op.shape)} "
                    f"but the plan was made for {shape}"
                )
            arrays.append(op)
        if foreign:
            return self._backend_call(arrays)
        return self.kernel(*arrays)

    def _backend_call(self, arrays: list[Any]) -> Any:
        if self._expression is None:
            self._expression = opt_einsum.contract_expression(
                str(self.subscripts), *self.shapes, optimize=self.path
            )
        return self._expression(*arrays)

    @property
    def speedup(self) -> float:
        """Naive FLOPs over optimised FLOPs."""
        return self.naive_flops / max(self.flops, 1)

    def __repr__(self) -> str:
        limit = "" if self.memory_limit is None else f", memory_limit={self.memory_limit}"
        return (
            f"Plan({str(self.subscripts)!r}, shapes={self.shapes}, dtype={self.dtype!r}, "
            f"optimize={self.optimize!r}{limit})"
        )

    def __str__(self) -> str:
        lines = [
            f"{self.subscripts}  shapes {', '.join(map(str, self.shapes))}",
            f"  FLOPs {self.flops:,} (naive {self.naive_flops:,}, {self.speedup:.3g}x), "
            f"largest intermediate {self.largest_intermediate:,} elements",
        ]
        lines += [f"  step {i}: {step}" for i, step in enumerate(self.steps)]
        return "\n".join(lines)


def plan(
    subscripts: str,
    *operands_or_shapes: ArrayLike | Sequence[int],
    optimize: OptimizeKind = "auto",
    dtype: Any = None,
    memory_limit: MemoryLimit = None,
) -> Plan:
    """Plan (or fetch from the cache) the contraction of ``subscripts``.

    Each argument after the subscripts is an array or a shape tuple. The
    dtype is the arrays' common dtype unless given (``float64`` for shapes).

    ``optimize`` is an optimizer name (:data:`~indexnet.typing.OPTIMIZERS`)
    or an explicit path. ``"measured"`` times the distinct paths of the fast
    optimizers on random arrays of these shapes and dtype (on the arrays'
    backend) and keeps the fastest; the choice is cached for the process
    and, when ``INDEXNET_CACHE_DIR`` is set, on disk.

    ``memory_limit`` caps the largest intermediate, in elements (or
    ``"max_input"``: the largest operand's size). A limit no path can meet
    raises :class:`~indexnet.errors.MemoryLimitError` naming the smallest
    reachable; indexnet never falls back to one slow einsum over all operands
    as opt_einsum does.

    >>> p = plan("nd,nh->dh", (5, 3), (5, 4))
    >>> p.path, p.steps[0].subscripts
    ([(0, 1)], 'nd,nh->dh')
    >>> plan("nd,nh->dh", (5, 3), (5, 4)) is p
    True
    >>> plan("ab,bc,cd->ad", (2, 50), (50, 50), (50, 2), memory_limit=100).path
    [(0, 1), (0, 1)]
    """
    shapes, inferred = _shapes_and_dtype(operands_or_shapes)
    dtype_name = str(np.dtype(dtype)) if dtype is not None else inferred
    key = optimize_key(optimize)
    if key == "measured":
        key = _Measured(_backend_name(operands_or_shapes))
    limit = None if memory_limit is None else _memory_limit(memory_limit, shapes)
    return _cached_plan(subscripts, shapes, dtype_name, key, limit)


def contract(
    subscripts: str,
    *operands: ArrayLike,
    optimize: OptimizeKind = "auto",
    memory_limit: MemoryLimit = None,
) -> Any:
    """Evaluate an einsum through a cached :class:`Plan`.

    >>> import numpy as np
    >>> float(contract("ii->", np.eye(3)))
    3.0
    """
    # nested lists are values here, never shapes (as ``plan`` would read them)
    operands = tuple(op if hasattr(op, "shape") else np.asarray(op) for op in operands)
    return plan(subscripts, *operands, optimize=optimize, memory_limit=memory_limit)(*operands)


@dataclass(frozen=True)
class _Measured:
    """The cache key of ``optimize="measured"``: the choice depends on the backend."""

    backend: str = "numpy"


def _backend_name(items: Sequence[Any]) -> str:
    """The array library of the first non-NumPy array among ``items`` (``numpy`` if none)."""
    for item in items:
        if hasattr(item, "shape") and not isinstance(item, (np.ndarray, np.generic)):
            return type(item).__module__.split(".")[0]
    return "numpy"


def _memory_limit(limit: Any, shapes: tuple[Shape, ...]) -> int:
    if isinstance(limit, str) and limit == "max_input":
        return max((prod(s) for s in shapes), default=1)
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise InvalidArgumentError(
            f"memory_limit must be a number of elements >= 1, 'max_input' or None, "
            f"not {limit!r}"
        )
    return int(limit)


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


def optimize_key(optimize: Any) -> Any:
    if optimize is False or optimize is None:
        return "naive"
    if optimize is True:
        return "auto"
    if isinstance(optimize, str):
        if optimize not in OPTIMIZERS:
            raise InvalidArgumentError(
                f"unknown optimizer {optimize!r}; valid: {', '.join(OPTIMIZERS)}, "
                "or an explicit path such as [(0, 1), (0, 1)]"
            )
        return optimize
    try:
        return tuple(tuple(int(i) for i in step) for step in optimize)
    except TypeError:
        raise InvalidArgumentError(
            f"optimize must be an optimizer name or a path, not {optimize!r}"
        ) from None


@functools.lru_cache(maxsize=4096)
def _cached_plan(
    subscripts: str,
    shapes: tuple[Shape, ...],
    dtype: str,
    optimize: Any,
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
    parsed = parse(subscripts, ndims=[len(s) for s in shapes])
    sizes = index_sizes(parsed, shapes)  # raises SizeMismatchError where sizes disagree
    if isinstance(optimize, _Measured):
        from ..bench import paths as pathbench

        choice = pathbench.measured_path(
            str(parsed), shapes, dtype, backend=optimize.backend, memory_limit=memory_limit
        )
        result = _uncached_plan(str(parsed), shapes, dtype, choice.path, memory_limit)
        result.optimize = "measured"
        result.measurement = choice
        return result
    oe_optimize: Any = optimize
    if optimize == "naive":
        oe_optimize = [tuple(range(len(shapes)))] if len(shapes) > 1 else [(0,)]
    elif isinstance(optimize, tuple):
        _check_path(optimize, len(shapes))
        oe_optimize = [tuple(step) for step in optimize]
    try:
        path, info = opt_einsum.contract_path(
            str(parsed), *shapes, shapes=True, optimize=oe_optimize, memory_limit=memory_limit
        )
    except (ValueError, TypeError, KeyError) as err:
        raise InvalidArgumentError(f"cannot plan {str(parsed)!r}: {err}") from None
    except RuntimeError:
        # opt_einsum's "dp" finds no path when an index has size 0 (its cost
        # cap starts above the naive cost, 0), or none within a memory limit
        if 0 in sizes.values():  # nothing is computed, so any path will do
            path, info = opt_einsum.contract_path(
                str(parsed), *shapes, shapes=True, optimize="greedy"
            )
        elif memory_limit is None:
            raise
        else:
            path, info = [tuple(range(len(shapes)))], None
    if memory_limit is not None:
        path, info = _within_limit(parsed, shapes, optimize, path, info, memory_limit)
    fast = dtype in _FAST_DTYPES
    shapes_now = list(shapes)
    steps = []
    for (positions, _removed, step_subscripts, *_rest), cost in zip(
        info.contraction_list, _step_costs(info)
    ):
        # opt_einsum pops the operands of a step in descending order; compile
        # the step for them in ascending order, so "nd,dh->nh" stays x @ W
        popped = [shapes_now.pop(i) for i in positions]
        in_terms, output = step_subscripts.split("->")
        by_position = dict(zip(positions, zip(in_terms.split(","), popped)))
        ascending = tuple(sorted(positions))
        terms = [by_position[i][0] for i in ascending]
        step_shapes = [by_position[i][1] for i in ascending]
        # sizes as this step sees them: a letter every one of whose axes so far
        # broadcast (size 1) is still size 1 here, whatever its size overall
        step_sizes = _broadcast_sizes(terms, step_shapes)
        kind, kernel = _compile_step(terms, output, step_shapes, step_sizes, fast)
        shapes_now.append(tuple(step_sizes[c] for c in output))
        step_text = f"{','.join(terms)}->{output}"
        steps.append(Step(ascending, step_text, kind, cost, kernel))
    return Plan(
        subscripts=parsed,
        shapes=shapes,
        dtype=dtype,
        optimize=optimize,
        path=[tuple(p) for p in path],
        steps=steps,
        flops=int(info.opt_cost),
        naive_flops=_naive_cost(parsed, info.size_dict),
        largest_intermediate=int(info.largest_intermediate),
        memory_limit=memory_limit,
    )


def _within_limit(
    parsed: Subscripts,
    shapes: tuple[Shape, ...],
    optimize: Any,
    path: Any,
    info: Any,
    limit: int,
) -> tuple[Any, Any]:
    """The path and info of a plan under ``limit``, or a MemoryLimitError.

    opt_einsum meets a limit its optimizer cannot by contracting whatever is
    left in one einsum of three or more operands (a "naive" step whose FLOPs
    can be millions of times the path's). An explicit path (or ``"naive"``,
    asked for by name) is only checked. A named optimizer that fell back is
    replaced by the FLOP-optimal path within the limit, when one exists.
    """
    explicit = optimize == "naive" or isinstance(optimize, tuple)
    fell_back = info is None or (
        not explicit and len(shapes) > 2 and any(len(step) > 2 for step in path)
    )
    if not fell_back and info.largest_intermediate <= limit:
        return path, info
    smallest, smallest_path = smallest_intermediate(str(parsed), shapes)
    if smallest <= limit and not explicit:
        replacement: Any = smallest_path
        if len(shapes) <= _EXACT_MAX_OPERANDS:
            replacement = opt_einsum.DynamicProgramming(search_outer=True)
        try:
            path, info = opt_einsum.contract_path(
                str(parsed), *shapes, shapes=True, optimize=replacement, memory_limit=limit
            )
        except RuntimeError:
            path, info = opt_einsum.contract_path(
                str(parsed), *shapes, shapes=True, optimize=smallest_path
            )
        if info.largest_intermediate <= limit and all(len(step) <= 2 for step in path):
            return path, info
    output = prod(index_sizes(parsed, shapes)[c] for c in parsed.output)
    if explicit and info is not None:
        why = f"the {optimize if optimize == 'naive' else 'given'} path's largest " \
            f"intermediate has {info.largest_intermediate:,} elements"
    else:
        why = "no path keeps every intermediate within it"
    raise MemoryLimitError(
        f"memory_limit={limit:,} elements cannot be met for {str(parsed)!r}: {why}; the "
        f"smallest largest intermediate reachable is {smallest:,} elements"
        + (f" (the output alone has {output:,})" if output > limit else ""),
        limit=limit,
        smallest=smallest,
    )


def smallest_intermediate(
    subscripts: str, shapes: Sequence[Shape]
) -> tuple[int, list[tuple[int, ...]]]:
    """The smallest largest intermediate (elements) of any pairwise path, and that path.

    Exact (opt_einsum's dynamic programming minimising size, outer products
    included) up to 16 operands; beyond, the best that greedy, branch-1 and
    random-greedy find.

    >>> smallest_intermediate("ab,bc,cd->ad", [(2, 50), (50, 50), (50, 50)])
    (100, [(0, 1), (0, 1)])
    """
    n = len(shapes)
    if n <= 2:
        path = [tuple(range(n))]
        _, info = opt_einsum.contract_path(subscripts, *shapes, shapes=True, optimize=path)
        return int(info.largest_intermediate), path
    exact = opt_einsum.DynamicProgramming(minimize="size", search_outer=True)
    heuristics: list[Any] = ["greedy", "branch-1", opt_einsum.RandomGreedy(minimize="size")]
    best: tuple[int, list[tuple[int, ...]]] | None = None
    for optimizer in ([exact] if n <= _EXACT_MAX_OPERANDS else []) + heuristics:
        try:
            path, info = opt_einsum.contract_path(
                subscripts, *shapes, shapes=True, optimize=optimizer
            )
        except RuntimeError:  # dp finds nothing when an index has size 0
            continue
        size = int(info.largest_intermediate)
        if best is None or size < best[0]:
            best = (size, [tuple(p) for p in path])
        if optimizer is exact:
            break
    assert best is not None  # greedy always finds a path
    return best


def _broadcast_sizes(terms: list[str], shapes: list[Shape]) -> dict[str, int]:
    """Size of each letter of ``terms``: a size-1 axis yields to any other size."""
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, shapes, strict=True):
        for letter, size in zip(term, shape, strict=True):
            if sizes.get(letter, 1) == 1:
                sizes[letter] = size
    return sizes


def _check_path(path: tuple[tuple[int, ...], ...], n_operands: int) -> None:
    """An explicit path must name distinct operands that exist, and end with one."""
    left = n_operands
    for k, step in enumerate(path):
        if not step or len(set(step)) != len(step) or not all(0 <= i < left for i in step):
            raise InvalidArgumentError(
                f"path step {k} {step} must name distinct operands among the {left} "
                f"left (0 to {left - 1})"
            )
        left -= len(step) - 1
    if left != 1:
        raise InvalidArgumentError(
            f"path {list(path)} leaves {left} operands; it must contract all "
            f"{n_operands} into one"
        )


def _naive_cost(parsed: Subscripts, size_dict: dict[str, int]) -> int:
    """FLOPs of one einsum over all operands, counted as each step is.

    opt_einsum's own ``naive_cost`` leaves out a sum over a letter that no two
    operands share, which ``opt_cost`` counts, so a plain ``"nh->h"`` would
    report a speedup of 0.5.
    """
    letters = set("".join(parsed.inputs))
    inner = any(c not in parsed.output for c in letters)
    return int(prod(size_dict[c] for c in letters) * (max(1, len(parsed.inputs) - 1) + inner))


def _step_costs(info: Any) -> list[int]:
    costs = []
    for positions, removed, step_subscripts, *_ in info.contraction_list:
        inputs, _ = step_subscripts.split("->")
        letters = set(inputs.replace(",", ""))
        size = prod(info.size_dict[c] for c in letters)
        inner = bool(removed)
        costs.append(int(size * (max(1, len(positions) - 1) + inner)))
    return costs


def _chain(steps: list[Step], n_operands: int) -> Kernel:
    """Fold the steps into one function of all operands.

    Each step pops its operands from the working list (highest position
    first, so the others stay put), calls its kernel on them in ascending
    order and appends the result.
    """
    if len(steps) == 1 and steps[0].operands == tuple(range(n_operands)):
        return steps[0].kernel
    schedule = [(tuple(sorted(step.operands, reverse=True)), step.kernel) for step in steps]

    def run(*operands: Any) -> Any:
        work = list(operands)
        for descending, kernel in schedule:
            args = [work.pop(i) for i in descending]
            args.reverse()
            work.append(kernel(*args))
        return work[0]

    return run


# -- compiling one step ------------------------------------------------------------------


def _compile_step(
    inputs: list[str],
    output: str,
    shapes: list[Shape],
    sizes: dict[str, int],
    fast: bool,
) -> tuple[str, Kernel]:
    generic = "->".join([",".join(inputs), output])

    def einsum_kernel(*ops: Any) -> Any:
        return np.einsum(generic, *ops)

    broadcasts = any(
        shape[axis] != sizes[c]
        for term, shape in zip(inputs, shapes)
        for axis, c in enumerate(term)
    )
    repeated = any(len(set(term)) != len(term) for term in inputs)
    if not fast or broadcasts or repeated or len(inputs) > 2:
        return "einsum", einsum_kernel
    if len(inputs) == 1:
        return _compile_single(inputs[0], output)
    return _compile_pair(inputs[0], inputs[1], output, sizes)


def _compile_single(term: str, output: str) -> tuple[str, Kernel]:
    axes = tuple(i for i, c in enumerate(term) if c not in output)
    kept = [c for c in term if c in output]
    perm = tuple(kept.index(c) for c in output)
    identity = perm == tuple(range(len(perm)))
    if not axes:
        if identity:
            return "sum", lambda a: a
        return "sum", lambda a: a.transpose(perm)
    if identity:
        return "sum", lambda a: a.sum(axis=axes)
    return "sum", lambda a: a.sum(axis=axes).transpose(perm)


def _reducer(term: str, keep: str) -> tuple[str, Callable[[Any], Any] | None]:
    """Sum away the letters of ``term`` that are not in ``keep``."""
    axes = tuple(i for i, c in enumerate(term) if c not in keep)
    reduced = "".join(c for c in term if c in keep)
    if not axes:
        return reduced, None
    return reduced, lambda a: a.sum(axis=axes)


def _compile_pair(ta: str, tb: str, out: str, sizes: dict[str, int]) -> tuple[str, Kernel]:
    ta, reduce_a = _reducer(ta, tb + out)
    tb, reduce_b = _reducer(tb, ta + out)
    kind, core = _pair_core(ta, tb, out, sizes)
    if reduce_a is None and reduce_b is None:
        return kind, core
    ra = reduce_a or (lambda a: a)
    rb = reduce_b or (lambda b: b)
    return kind, lambda a, b: core(ra(a), rb(b))


def _pair_core(ta: str, tb: str, out: str, sizes: dict[str, int]) -> tuple[str, Kernel]:
    contracted = [c for c in ta if c in tb and c not in out]
    if not contracted:
        return "multiply", _multiply_kernel(ta, tb, out)
    if ta == tb and not out:
        return "dot", lambda a, b: np.dot(a.reshape(-1), b.reshape(-1))
    batch = [c for c in out if c in ta and c in tb]
    left = [c for c in out if c in ta and c not in tb]
    right = [c for c in out if c in tb and c not in ta]
    size = lambda letters: prod(sizes[c] for c in letters)  # noqa: E731
    m, k, n = size(left), size(contracted), size(right)
    if batch:
        return "matmul", _batched_matmul(ta, tb, out, batch, left, contracted, right, sizes)
    # Contracted letters in the order one operand already holds them, so that
    # at least that operand reshapes without a copy.
    contracted = _block_order(ta, left, contracted) or _block_order(tb, right, contracted) or \
        contracted
    as_a = _matrix_view(ta, left, contracted, m, k)
    as_b = _matrix_view(tb, contracted, right, k, n)
    result_shape = tuple(sizes[c] for c in left + right)
    if "".join(left + right) == out:
        if len(result_shape) == 2 and len(ta) == 2 and len(tb) == 2:
            return "matmul", _direct_matmul(ta, tb, left, right)
        return "matmul", lambda a, b: np.matmul(as_a(a), as_b(b)).reshape(result_shape)
    if "".join(right + left) == out:
        flipped = tuple(sizes[c] for c in right + left)
        return "matmul", lambda a, b: np.matmul(as_b(b).T, as_a(a).T).reshape(flipped)
    perm = tuple((left + right).index(c) for c in out)
    return "matmul", lambda a, b: np.matmul(as_a(a), as_b(b)).reshape(result_shape).transpose(perm)


def _direct_matmul(ta: str, tb: str, left: list[str], right: list[str]) -> Kernel:
    """The four 2-D cases: XW, XᵀW, XWᵀ, XᵀWᵀ with no reshapes at all."""
    a_t = ta[0] != left[0]
    b_t = tb[1] != right[0]
    if not a_t and not b_t:
        return np.matmul
    if a_t and not b_t:
        return lambda a, b: a.T @ b
    if not a_t and b_t:
        return lambda a, b: a @ b.T
    return lambda a, b: a.T @ b.T


def _block_order(term: str, outer: list[str], contracted: list[str]) -> list[str] | None:
    """Contracted letters as ``term`` holds them, if one block after or before ``outer``."""
    inner = [c for c in term if c in contracted]
    rest = [c for c in term if c not in contracted]
    if rest != outer or len(inner) != len(contracted):
        return None
    if list(term) in (rest + inner, inner + rest):
        return inner
    return None


def _matrix_view(
    term: str, rows: list[str], cols: list[str], m: int, n: int
) -> Callable[[Any], Any]:
    """A function that presents an operand with indices ``term`` as an m×n matrix."""
    letters = list(term)
    plain = len(rows) == 1 and len(cols) == 1
    if letters == rows + cols:
        if plain:
            return lambda a: a
        return lambda a: a.reshape(m, n)
    if letters == cols + rows:
        if plain:
            return lambda a: a.T
        return lambda a: a.reshape(n, m).T
    perm = tuple(letters.index(c) for c in rows + cols)
    return lambda a: a.transpose(perm).reshape(m, n)


def _batched_matmul(
    ta: str,
    tb: str,
    out: str,
    batch: list[str],
    left: list[str],
    contracted: list[str],
    right: list[str],
    sizes: dict[str, int],
) -> Kernel:
    def size(letters: list[str]) -> int:
        return prod(sizes[c] for c in letters)

    bsz, m, k, n = size(batch), size(left), size(contracted), size(right)
    perm_a = tuple(ta.index(c) for c in batch + left + contracted)
    perm_b = tuple(tb.index(c) for c in batch + contracted + right)
    produced = batch + left + right
    result_shape = tuple(sizes[c] for c in produced)
    perm_out = tuple(produced.index(c) for c in out)

    def kernel(a: Any, b: Any) -> Any:
        a3 = a.transpose(perm_a).reshape(bsz, m, k)
        b3 = b.transpose(perm_b).reshape(bsz, k, n)
        return np.matmul(a3, b3).reshape(result_shape).transpose(perm_out)

    return kernel


def _multiply_kernel(ta: str, tb: str, out: str) -> Kernel:
    """Hadamard, outer and broadcast products: align both operands to ``out``."""

    def aligner(term: str) -> Callable[[Any], Any]:
        kept = [c for c in out if c in term]
        perm = tuple(term.index(c) for c in kept)
        index = tuple(slice(None) if c in term else None for c in out)
        if perm == tuple(range(len(term))):
            if all(isinstance(i, slice) for i in index):
                return lambda a: a
            return lambda a: a[index]
        return lambda a: a.transpose(perm)[index]

    align_a, align_b = aligner(ta), aligner(tb)
    return lambda a, b: np.multiply(align_a(a), align_b(b))
