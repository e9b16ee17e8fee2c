"""Type aliases and option names used across indexnet's signatures.

>>> "greedy" in OPTIMIZERS
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

__all__ = ["OPTIMIZERS", "ArrayLike", "OptimizeKind", "OptimizerName", "PathType", "Shape"]

ArrayLike = Any
Shape = tuple[int, ...]
PathType = Sequence[tuple[int, ...]]
OptimizerName = Literal[
    "auto", "auto-hq", "optimal", "dp", "greedy", "random-greedy",
    "random-greedy-128", "branch-all", "branch-2", "branch-1", "naive",
]
OptimizeKind = OptimizerName | bool | PathType

#: Every optimizer name that ``plan`` and ``contract`` accept.
OPTIMIZERS: tuple[str, ...] = (
    "auto", "auto-hq", "optimal", "dp", "greedy", "random-greedy",
    "random-greedy-128", "branch-all", "branch-2", "branch-1", "naive",
)
