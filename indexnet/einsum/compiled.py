"""Compiled plans: an opt_einsum contraction path compiled into direct NumPy calls.

:func:`cached_plan` builds a :class:`Plan` once per (subscripts, shapes,
dtype, optimizer or explicit path, memory limit): it asks opt_einsum for the
path, then compiles every step to one NumPy call
(:func:`~indexnet.einsum.kernels.compile_step`). Arrays that are not NumPy's
(Dask, torch, JAX, CuPy) run through opt_einsum's own expression for the same
path, which dispatches to their backend. The public entry points,
:func:`~indexnet.einsum.plan.plan` and :func:`~indexnet.einsum.plan.contract`,
read their arguments and come here; ``optimize="measured"``
(:mod:`indexnet.einsum.measured`) times plans made here.

>>> import numpy as np
>>> p = cached_plan("nd,dh->nh", ((5, 3), (3, 4)), "float64", "auto")
>>> p.steps[0].kind
'matmul'
>>> x, w = np.ones((5, 3)), np.ones((3, 4))
>>> bool(np.allclose(p(x, w), x @ w))
True
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from math import prod
from typing import Any

import numpy as np
import opt_einsum

from ..errors import (
    AllocationError,
    InvalidArgumentError,
    MemoryLimitError,
    OperandCountError,
    SizeMismatchError,
)
from ..typing import ArrayLike, Shape, StepKind
from . import cotengra_paths
from .arrays import one_dtype
from .cotengra_paths import RECONFIGURE_BUDGET_S, is_cotengra_object, slice_path
from .kernels import Kernel, broadcast_sizes, chain, compile_step
from .memory import output_limit_error, too_large, within_limit
from .paths import check_path, cotengra_path, is_optimizer_object, object_path
from .search import SEARCH_BUDGET_S, find_path
from .slicing import Slicing, choose_chunks, slice_axes, sliced_cost, step_terms
from .subscripts import Subscripts, index_sizes, parse

__all__ = [
    "DISPLAYS",
    "Plan",
    "Step",
    "build_plan",
    "cached_plan",
    "check_path",
    "is_optimizer_object",
]

#: How a plan shows itself in a notebook (``svg``: its contraction tree, ``html``).
#: The einsum engine imports no printer; :mod:`indexnet.render` installs them here.
DISPLAYS: dict[str, Callable[[Plan], str]] = {}

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
    kind: StepKind
    flops: int
    kernel: Kernel

    def __str__(self) -> str:
        return f"{self.operands}: {self.subscripts} [{self.kind}]"


@dataclass(frozen=True, eq=False, repr=False)
class Plan:
    """A compiled contraction: call it with arrays of the planned shapes.

    Attributes: ``subscripts`` (canonical, ellipsis resolved), ``shapes``,
    ``dtype``, ``optimize``, ``path`` (opt_einsum's), ``steps``, ``flops``
    (opt_einsum's FLOP count of the path) and ``naive_flops`` (the same count
    for one einsum over all operands, the path ``"naive"``), ``largest_intermediate``
    (elements), ``memory_limit`` (the limit it was planned under, or None),
    ``measurement`` (for ``optimize="measured"``: the
    :class:`~indexnet.einsum.measured.MeasuredChoice` that picked the path, else
    None), ``slicing`` (for a plan that meets ``memory_limit`` only in slices: the
    :class:`~indexnet.einsum.slicing.Slicing` record of the sliced indices, the
    number of slices and the FLOPs overhead; then ``steps``, ``largest_intermediate``
    and the steps' FLOPs are one slice's, ``flops`` all slices'), and
    ``kernel``: the compiled function itself, which skips the
    argument checks of ``__call__``; use it only in a hot loop whose NumPy
    arrays are known to have the planned shapes (as :class:`~indexnet.Network`
    does). A plan is immutable and cached: two equal requests get the same
    object.
    """

    subscripts: Subscripts
    shapes: tuple[Shape, ...]
    dtype: str
    optimize: Any
    path: list[tuple[int, ...]]
    steps: list[Step]
    flops: int
    naive_flops: int
    largest_intermediate: int
    memory_limit: int | None = None
    measurement: Any = None
    note: str | None = None
    refusal: str | None = None
    slicing: Slicing | None = None
    kernel: Kernel = field(init=False)

    def __post_init__(self) -> None:
        schedule = [(step.operands, step.kernel) for step in self.steps]
        kernel = chain(schedule, len(self.shapes))
        if self.slicing is not None:  # the steps are one slice's: loop over slices and sum
            kernel = self.slicing.wrap(kernel)
        object.__setattr__(self, "kernel", kernel)

    def check_fits(self) -> None:
        """Raise :class:`~indexnet.errors.AllocationError` if a tensor of the plan cannot fit.

        ``refusal`` is why (None when every tensor fits); NumPy calls of the
        plan check this before they allocate anything.
        """
        if self.refusal is not None:
            raise AllocationError(self.refusal)

    def __call__(self, *operands: ArrayLike) -> Any:
        """Contract ``operands``, checked against the planned shapes.

        NumPy arrays (and Python numbers and lists) run the compiled kernel;
        any other array library runs opt_einsum's expression for this path.
        """
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
            arrays = one_dtype(arrays)  # as NumPy promotes; torch refuses two dtypes
            if self.slicing is not None:
                return self.slicing.run(self._expression, arrays)
            return self._expression(*arrays)
        if self.refusal is not None:
            raise AllocationError(self.refusal)
        return self.kernel(*arrays)

    @functools.cached_property
    def _expression(self) -> Any:
        """opt_einsum's expression for this path (one slice's): it runs other libraries' arrays."""
        shapes = self.shapes if self.slicing is None else self.slicing.slice_shapes
        return opt_einsum.contract_expression(str(self.subscripts), *shapes, optimize=self.path)

    @property
    def speedup(self) -> float:
        """Naive FLOPs over optimised FLOPs."""
        return self.naive_flops / max(self.flops, 1)

    def _repr_svg_(self) -> str | None:
        """The contraction tree, for notebooks (None until :mod:`indexnet.render` is imported)."""
        show = DISPLAYS.get("svg")
        return show(self) if show else None

    def _repr_html_(self) -> str | None:
        """The plan's summary and contraction tree, for notebooks."""
        show = DISPLAYS.get("html")
        return show(self) if show else None

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
            f"largest intermediate {self.largest_intermediate:,} elements"
            + (" per slice" if self.slicing is not None else ""),
        ]
        if self.slicing is not None:
            lines.append(f"  {self.slicing}; one slice's steps:")
        lines += [f"  step {i}: {step}" for i, step in enumerate(self.steps)]
        lines += [f"  note: {text}" for text in (self.note, self.refusal) if text]
        return "\n".join(lines)


@functools.lru_cache(maxsize=4096)
def cached_plan(
    subscripts: str,
    shapes: tuple[Shape, ...],
    dtype: str,
    optimize: Any,
    memory_limit: int | None = None,
    budget: float | None = SEARCH_BUDGET_S,
) -> Plan:
    """:func:`build_plan`, cached: every argument must be hashable (a path as tuples)."""
    return build_plan(subscripts, shapes, dtype, optimize, memory_limit, budget)


def build_plan(
    subscripts: str,
    shapes: tuple[Shape, ...],
    dtype: str,
    optimize: Any,
    memory_limit: int | None = None,
    budget: float | None = SEARCH_BUDGET_S,
) -> Plan:
    """Plan ``subscripts`` for ``shapes`` and ``dtype`` (a NumPy dtype's name).

    ``optimize`` is an optimizer name (:data:`~indexnet.typing.OPTIMIZERS`),
    ``"cotengra"``, ``"naive"``, an explicit path as a tuple of tuples, or an
    optimizer object (opt_einsum's ``PathOptimizer``, cotengra's). An
    exponential search stops after ``budget`` seconds
    (:func:`~indexnet.einsum.search.find_path`; cotengra's ``max_time``) and
    the plan's ``note`` says so. ``memory_limit`` (elements) is met
    (:func:`~indexnet.einsum.memory.within_limit`), else, when cotengra is
    installed and the path is not an explicit one, met in slices
    (:mod:`indexnet.einsum.slicing`), else refused.
    """
    parsed = parse(subscripts, ndims=[len(s) for s in shapes])
    sizes = index_sizes(parsed, shapes)  # raises SizeMismatchError where sizes disagree
    if optimize == "cotengra" or is_cotengra_object(optimize):
        if memory_limit is not None and prod(sizes[c] for c in parsed.output) > memory_limit:
            raise output_limit_error(parsed, shapes, memory_limit)
        path, sliced, note = cotengra_path(parsed, shapes, sizes, optimize, memory_limit, budget)
        return _sliced_plan(parsed, shapes, dtype, optimize, path, sliced, memory_limit, note,
                            budget)
    path, info, note = _contract_path(parsed, shapes, sizes, optimize, memory_limit, budget)
    if memory_limit is not None:
        try:
            path, info = within_limit(parsed, shapes, optimize, path, info, memory_limit)
        except MemoryLimitError:
            explicit = optimize == "naive" or isinstance(optimize, tuple)
            if explicit or not cotengra_paths.cotengra_installed() or 0 in sizes.values():
                raise  # an explicit path is only checked; without cotengra, no slicing
            if prod(sizes[c] for c in parsed.output) > memory_limit:
                raise output_limit_error(parsed, shapes, memory_limit) from None
            # no unsliced path fits: slice the optimizer's own best path (found without a limit,
            # and likely planned already)
            best = _unlimited(subscripts, parsed, shapes, sizes, dtype, optimize, budget)
            return _sliced_plan(parsed, shapes, dtype, optimize, best[0], (), memory_limit,
                                best[1], budget)
    return _plan_of(parsed, shapes, dtype, optimize, path, info, memory_limit, note)


def _unlimited(
    subscripts: str, parsed: Subscripts, shapes: tuple[Shape, ...], sizes: dict[str, int],
    dtype: str, optimize: Any, budget: float | None,
) -> tuple[list[tuple[int, ...]], str | None]:
    """The path ``optimize`` finds without a memory limit (from the plan cache), and its note."""
    try:
        hash(optimize)
    except TypeError:  # an unhashable optimizer object: searched afresh
        path, _, note = _contract_path(parsed, shapes, sizes, optimize, None, budget)
        return path, note
    found = cached_plan(subscripts, shapes, dtype, optimize, None, budget)
    return found.path, found.note


def _plan_of(
    parsed: Subscripts, shapes: tuple[Shape, ...], dtype: str, optimize: Any, path: Any,
    info: Any, memory_limit: int | None, note: str | None, slicing: Slicing | None = None,
    sizes: dict[str, int] | None = None,
) -> Plan:
    """The :class:`Plan` of ``path``; ``info`` is opt_einsum's for it.

    For a sliced plan ``info`` is one slice's and ``sizes`` the whole operands' index sizes.
    """
    steps = _compile_steps(info, info_shapes(shapes, slicing), dtype in _FAST_DTYPES)
    return Plan(
        subscripts=parsed,
        shapes=shapes,
        dtype=dtype,
        optimize=optimize,
        path=[tuple(p) for p in path],
        steps=steps,
        flops=int(info.opt_cost) * (1 if slicing is None else slicing.n_slices),
        naive_flops=_naive_cost(parsed, info.size_dict if sizes is None else sizes),
        largest_intermediate=int(info.largest_intermediate),
        memory_limit=memory_limit,
        note=note,
        refusal=too_large(_tensors(parsed, steps, info.size_dict), dtype),
        slicing=slicing,
    )


def info_shapes(shapes: tuple[Shape, ...], slicing: Slicing | None) -> tuple[Shape, ...]:
    """The shapes the steps are compiled for: the operands', or one slice's."""
    return shapes if slicing is None else slicing.slice_shapes


def _sliced_plan(
    parsed: Subscripts,
    shapes: tuple[Shape, ...],
    dtype: str,
    optimize: Any,
    path: list[tuple[int, ...]],
    sliced: tuple[str, ...],
    limit: int | None,
    note: str | None,
    budget: float | None = None,
) -> Plan:
    """The plan of ``path``: whole if it fits ``limit``, else in slices.

    The slicing is the cheapest (:func:`~indexnet.einsum.slicing.sliced_cost`)
    of ``sliced`` (the indices cotengra's tree slices, if any) and cotengra's
    slicings of the path (:func:`~indexnet.einsum.cotengra_paths.slice_path`,
    the reconfiguring one within ``budget``); each slice as wide as the
    limit allows (:func:`~indexnet.einsum.slicing.choose_chunks`).
    """
    eq = str(parsed)
    _, info = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=path)
    if limit is None or (not sliced and info.largest_intermediate <= limit):
        return _plan_of(parsed, shapes, dtype, optimize, path, info, limit, note)
    if 0 in info.size_dict.values():  # an empty index: nothing to slice; met exactly or refused
        path, info = within_limit(parsed, shapes, optimize, path, info, limit)
        return _plan_of(parsed, shapes, dtype, optimize, path, info, limit, note)
    sizes = {c: int(n) for c, n in info.size_dict.items()}
    seconds = RECONFIGURE_BUDGET_S if budget is None else min(budget, RECONFIGURE_BUDGET_S)
    candidates = [(path, info, sliced)] if sliced else []
    for found_path, found_sliced in slice_path(parsed.inputs, parsed.output, sizes, path, limit,
                                               seconds):
        _, found = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=found_path)
        candidates.append((found_path, found, found_sliced))
    best = None
    for found_path, found, found_sliced in candidates:
        steps = step_terms(found.contraction_list)
        widths = choose_chunks(steps, sizes, found_sliced, limit)
        if widths is not None:
            cost = sliced_cost(steps, sizes, found_sliced, widths)[1]
            if best is None or cost < best[0]:
                best = (cost, found_path, found, found_sliced, widths)
    if best is None:
        raise output_limit_error(parsed, shapes, limit)
    _, path, info, sliced, chunks = best
    kept = [(c, k) for c, k in zip(sliced, chunks) if k < sizes[c]]  # a whole index is not cut
    if not kept:
        return _plan_of(parsed, shapes, dtype, optimize, path, info, limit, note)
    letters, widths = tuple(c for c, _ in kept), tuple(k for _, k in kept)
    axes, slice_shapes = slice_axes(parsed.inputs, shapes, letters, widths, sizes)
    _, one = opt_einsum.contract_path(eq, *slice_shapes, shapes=True, optimize=path)
    slicing = Slicing(
        indices=letters, sizes=tuple(sizes[c] for c in letters), chunks=widths, axes=axes,
        slice_shapes=slice_shapes, flops_per_slice=int(one.opt_cost),
        unsliced_flops=int(info.opt_cost),
    )
    if one.largest_intermediate > limit:  # choose_chunks counts as opt_einsum does
        raise output_limit_error(parsed, shapes, limit)
    return _plan_of(parsed, shapes, dtype, optimize, path, one, limit, note, slicing, sizes)


def _contract_path(
    parsed: Subscripts,
    shapes: tuple[Shape, ...],
    sizes: dict[str, int],
    optimize: Any,
    memory_limit: int | None,
    budget: float | None,
) -> tuple[Any, Any, str | None]:
    """opt_einsum's path and info, and a note; info is None when no path meets ``memory_limit``."""
    oe_optimize: Any = optimize
    if optimize == "naive":
        oe_optimize = [tuple(range(len(shapes)))] if len(shapes) > 1 else [(0,)]
    elif isinstance(optimize, tuple):
        check_path(optimize, len(shapes))
        oe_optimize = [tuple(step) for step in optimize]
    elif is_optimizer_object(optimize):
        oe_optimize = object_path(parsed, sizes, optimize, memory_limit)
    try:
        return find_path(str(parsed), shapes, oe_optimize, memory_limit, budget)
    except (ValueError, TypeError, KeyError) as err:
        raise InvalidArgumentError(f"cannot plan {str(parsed)!r}: {err}") from None
    except RuntimeError:
        # opt_einsum's "dp" finds no path when an index has size 0 (its cost
        # cap starts above the naive cost, 0), or none within a memory limit
        if 0 in sizes.values():  # nothing is computed, so any path will do
            return (*opt_einsum.contract_path(
                str(parsed), *shapes, shapes=True, optimize="greedy"
            ), None)
        if memory_limit is None:
            raise
        return [tuple(range(len(shapes)))], None, None


def _compile_steps(info: Any, shapes: tuple[Shape, ...], fast: bool) -> list[Step]:
    """One compiled :class:`Step` per contraction of opt_einsum's ``info``."""
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
        step_sizes = broadcast_sizes(terms, step_shapes)
        kind, kernel = compile_step(terms, output, step_shapes, step_sizes, fast)
        shapes_now.append(tuple(step_sizes[c] for c in output))
        step_text = f"{','.join(terms)}->{output}"
        steps.append(Step(ascending, step_text, kind, cost, kernel))
    return steps


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


def _tensors(
    parsed: Subscripts, steps: list[Step], size_dict: dict[str, int]
) -> list[tuple[str, Shape]]:
    """Every tensor a plan allocates, named for a message: each step's result, then the output."""
    tensors = []
    for i, step in enumerate(steps):
        result = step.subscripts.split("->")[1]
        shape = tuple(size_dict[c] for c in result)
        last = i == len(steps) - 1
        name = f"the output {parsed.output!r} of {str(parsed)!r}" if last else \
            f"the intermediate {result!r} of step {i} ({step.subscripts})"
        tensors.append((name, shape))
    return tensors
