"""Memory limits: the largest intermediate a plan may hold, met exactly, in slices, or refused.

opt_einsum meets a ``memory_limit`` its optimizer cannot by contracting
whatever is left in one einsum of three or more operands, whose FLOPs can be
millions of times the path's. indexnet instead looks for the FLOP-optimal
path within the limit. When there is none, a plan with cotengra installed
runs in slices (:mod:`indexnet.einsum.slicing`); without it (or for an
explicit path) :class:`~indexnet.errors.MemoryLimitError` names the smallest
limit that can be met.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from math import prod
from typing import Any

import numpy as np
import opt_einsum

from ..errors import InvalidArgumentError, MemoryLimitError
from ..typing import Shape
from . import cotengra_paths
from .subscripts import Subscripts, index_sizes

__all__ = [
    "EXACT_MAX_OPERANDS",
    "machine_bytes",
    "output_limit_error",
    "resolve_limit",
    "smallest_intermediate",
    "too_large",
    "within_limit",
]

#: Up to this many operands, memory limits are searched exactly (dynamic programming).
EXACT_MAX_OPERANDS = 16


def resolve_limit(limit: Any, shapes: Sequence[Shape]) -> int:
    """``memory_limit`` as a number of elements: ``"max_input"`` is the largest operand's size.

    >>> resolve_limit("max_input", [(2, 3), (4,)])
    6
    """
    if isinstance(limit, str) and limit == "max_input":
        return max((prod(s) for s in shapes), default=1)
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise InvalidArgumentError(
            f"memory_limit must be a number of elements >= 1, 'max_input' or None, "
            f"not {limit!r}"
        )
    return int(limit)


def within_limit(
    parsed: Subscripts,
    shapes: tuple[Shape, ...],
    optimize: Any,
    path: Any,
    info: Any,
    limit: int,
) -> tuple[Any, Any]:
    """The path and info of a plan under ``limit``, or a MemoryLimitError.

    ``path`` and ``info`` are what opt_einsum returned for ``optimize`` under
    the limit (``info`` None when it found nothing). An explicit path (or
    ``"naive"``, asked for by name) is only checked. A named optimizer that
    fell back to one einsum of many operands is replaced by the FLOP-optimal
    path within the limit, when one exists.
    """
    explicit = optimize == "naive" or isinstance(optimize, tuple)
    fell_back = info is None or (
        not explicit and len(shapes) > 2 and any(len(step) > 2 for step in path)
    )
    if not fell_back and info.largest_intermediate <= limit:
        return path, info
    smallest, smallest_path = smallest_intermediate(str(parsed), shapes)
    if smallest <= limit and not explicit:
        found = _best_within(str(parsed), shapes, smallest_path, limit)
        if found is not None:
            return found
    raise _limit_error(parsed, shapes, optimize if explicit else None, info, limit, smallest)


def _best_within(
    subscripts: str, shapes: tuple[Shape, ...], smallest_path: list[tuple[int, ...]], limit: int
) -> tuple[Any, Any] | None:
    """The FLOP-optimal pairwise path within ``limit`` (exact up to 16 operands), if any."""
    replacement: Any = smallest_path
    if len(shapes) <= EXACT_MAX_OPERANDS:
        replacement = opt_einsum.DynamicProgramming(search_outer=True)
    try:
        path, info = opt_einsum.contract_path(
            subscripts, *shapes, shapes=True, optimize=replacement, memory_limit=limit
        )
    except RuntimeError:
        path, info = opt_einsum.contract_path(
            subscripts, *shapes, shapes=True, optimize=smallest_path
        )
    if info.largest_intermediate <= limit and all(len(step) <= 2 for step in path):
        return path, info
    return None


def _limit_error(
    parsed: Subscripts,
    shapes: tuple[Shape, ...],
    explicit: Any,
    info: Any,
    limit: int,
    smallest: int,
) -> MemoryLimitError:
    """The error for a limit not met; ``explicit`` is the path (or "naive") asked for, if any."""
    output = prod(index_sizes(parsed, shapes)[c] for c in parsed.output)
    if explicit is not None and info is not None:
        why = f"the {explicit if explicit == 'naive' else 'given'} path's largest " \
            f"intermediate has {info.largest_intermediate:,} elements"
    else:
        why = "no path keeps every intermediate within it"
    hint = ""
    if explicit is None and output <= limit and not cotengra_paths.cotengra_installed():
        hint = "; with cotengra installed (pip install cotengra) it would run in slices"
    return MemoryLimitError(
        f"memory_limit={limit:,} elements cannot be met for {str(parsed)!r}: {why}; the "
        f"smallest largest intermediate reachable is {smallest:,} elements"
        + (f" (the output alone has {output:,})" if output > limit else hint),
        limit=limit,
        smallest=smallest,
    )


def output_limit_error(parsed: Subscripts, shapes: Sequence[Shape], limit: int) -> MemoryLimitError:
    """The error for a limit below the output's size, which no path nor slicing can meet.

    >>> from indexnet.einsum.subscripts import parse
    >>> print(output_limit_error(parse("ab,bc->ac"), [(5, 2), (2, 5)], 10))
    memory_limit=10 elements cannot be met for 'ab,bc->ac': the output alone has 25 elements
    """
    output = prod(index_sizes(parsed, shapes)[c] for c in parsed.output)
    return MemoryLimitError(
        f"memory_limit={limit:,} elements cannot be met for {str(parsed)!r}: the output "
        f"alone has {output:,} elements",
        limit=limit,
        smallest=output,
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
    for optimizer in ([exact] if n <= EXACT_MAX_OPERANDS else []) + heuristics:
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


@functools.cache
def machine_bytes() -> int:
    """The most bytes one NumPy array may take here: physical memory, and NumPy's own cap.

    >>> machine_bytes() > 0
    True
    """
    cap = int(np.iinfo(np.intp).max)
    try:
        return min(cap, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): NumPy's cap only
        return cap


def too_large(tensors: Sequence[tuple[str, Shape]], dtype: str) -> str | None:
    """Why the largest of ``tensors`` (name, shape) cannot be allocated, or None if all fit.

    >>> print(too_large([("the output 'ij'", (10**7, 10**7))], "float64"))  # doctest: +ELLIPSIS
    the output 'ij' has shape (10000000, 10000000): 800,000,000,000,000 bytes (728 TiB) ...
    >>> too_large([("the output 'ij'", (2, 3))], "float64") is None
    True
    """
    try:
        itemsize = np.dtype(dtype).itemsize
    except TypeError:  # another library's dtype: count 8 bytes an element
        itemsize = 8
    if not tensors:
        return None
    name, shape = max(tensors, key=lambda t: prod(t[1]))
    nbytes = prod(shape) * max(itemsize, 1)
    limit = machine_bytes()
    if nbytes <= limit:
        return None
    return (
        f"{name} has shape {shape}: {nbytes:,} bytes ({_binary(nbytes)}) of {dtype}, more "
        f"than the {_binary(limit)} one array can have on this machine; nothing was allocated"
    )


def _binary(nbytes: int) -> str:
    """``nbytes`` in the largest binary unit that keeps it at least 1 (3 digits).

    >>> _binary(3 * 2**30)
    '3 GiB'
    """
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.3g} {unit}"
        value /= 1024
    return f"{value:.3g} PiB"  # pragma: no cover - the loop returns
