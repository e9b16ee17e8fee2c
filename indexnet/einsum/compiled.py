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
    OperandCountError,
    SizeMismatchError,
)
from ..typing import ArrayLike, Shape, StepKind
from .kernels import Kernel, broadcast_sizes, chain, compile_step
from .memory import too_large, within_limit
from .search import SEARCH_BUDGET_S, find_path
from .subscripts import Subscripts, index_sizes, parse

__all__ = ["DISPLAYS", "Plan", "Step", "build_plan", "cached_plan", "check_path"]

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
    None), and ``kernel``: the compiled function itself, which skips the
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
    kernel: Kernel = field(init=False)

    def __post_init__(self) -> None:
        schedule = [(step.operands, step.kernel) for step in self.steps]
        object.__setattr__(self, "kernel", chain(schedule, len(self.shapes)))

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
            return self._expression(*arrays)
        if self.refusal is not None:
            raise AllocationError(self.refusal)
        return self.kernel(*arrays)

    @functools.cached_property
    def _expression(self) -> Any:
        """opt_einsum's expression for this path: it runs other libraries' arrays."""
        return opt_einsum.contract_expression(
            str(self.subscripts), *self.shapes, optimize=self.path
        )

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
            f"largest intermediate {self.largest_intermediate:,} elements",
        ]
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
    ``"naive"`` or an explicit path as a tuple of tuples; ``memory_limit``
    (elements) is met or refused (:func:`~indexnet.einsum.memory.within_limit`);
    an exponential search stops after ``budget`` seconds
    (:func:`~indexnet.einsum.search.find_path`) and the plan's ``note`` says so.
    """
    parsed = parse(subscripts, ndims=[len(s) for s in shapes])
    sizes = index_sizes(parsed, shapes)  # raises SizeMismatchError where sizes disagree
    path, info, note = _contract_path(parsed, shapes, sizes, optimize, memory_limit, budget)
    if memory_limit is not None:
        path, info = within_limit(parsed, shapes, optimize, path, info, memory_limit)
    steps = _compile_steps(info, shapes, dtype in _FAST_DTYPES)
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
        note=note,
        refusal=too_large(_tensors(parsed, steps, info.size_dict), dtype),
    )


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


def check_path(path: tuple[tuple[int, ...], ...], n_operands: int) -> None:
    """An explicit path must name distinct operands that exist, and end with one.

    >>> check_path(((0, 1), (0, 1)), 3)
    >>> check_path(((0, 1),), 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: path [(0, 1)] leaves 2 operands; ...
    """
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
