"""Type aliases and option names used across indexnet's signatures.

>>> "greedy" in OPTIMIZERS
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, get_args

__all__ = [
    "EXPONENTIAL_SEARCHES",
    "OPTIMIZERS",
    "ArrayLike",
    "MemoryLimit",
    "OptimizeKind",
    "OptimizerName",
    "PathType",
    "Shape",
    "StepKind",
]

ArrayLike = Any
Shape = tuple[int, ...]
PathType = Sequence[tuple[int, ...]]
OptimizerName = Literal[
    "auto", "auto-hq", "optimal", "dp", "greedy", "random-greedy",
    "random-greedy-128", "branch-all", "branch-2", "branch-1", "naive", "measured", "oe-auto",
]
#: What ``optimize=`` takes: a name (``"cotengra"`` too, when cotengra is installed), a
#: flag, an explicit path, or an optimizer object (opt_einsum's ``PathOptimizer``, cotengra's:
#: callables).
OptimizeKind = OptimizerName | Literal["cotengra"] | bool | PathType | Callable[..., Any]

#: Every optimizer name that ``plan`` and ``contract`` accept. ``"auto"`` is
#: indexnet's default: ``dp`` where it finishes within a small planning budget,
#: else the best of greedy and random-greedy (:mod:`indexnet.einsum.search`);
#: ``"oe-auto"`` is opt_einsum's own ``"auto"``, kept for comparison. ``"naive"``
#: is one einsum over all operands; ``"measured"`` times the distinct paths of
#: the fast optimizers on the real shapes and keeps the fastest (see
#: :mod:`indexnet.einsum.measured`).
OPTIMIZERS: tuple[str, ...] = get_args(OptimizerName)

#: Path searches whose time can grow exponentially with the number of operands:
#: they run under a time budget (``plan(budget=)``, ``bench`` and ``plan --budget``),
#: after which the best path found so far is used and the plan says so. ``cotengra``
#: is cotengra's hyper-optimizer, an optional extra.
EXPONENTIAL_SEARCHES: frozenset[str] = frozenset(
    {"optimal", "branch-all", "branch-2", "dp", "auto-hq", "random-greedy-128", "cotengra"})

#: What ``memory_limit`` accepts: a number of elements, or ``"max_input"`` (the
#: largest operand's size), as opt_einsum does.
MemoryLimit = int | Literal["max_input"] | None

#: The NumPy call one contraction step compiles to (``Step.kind``).
StepKind = Literal["matmul", "dot", "multiply", "sum", "einsum"]
