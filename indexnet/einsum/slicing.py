"""Sliced contractions: a plan over too much memory, run in slices that are summed.

When no contraction path keeps every intermediate within ``memory_limit``,
the plan can still meet it by fixing some contracted indices to one range of
values at a time: each slice contracts the same path on the operands'
sub-blocks, with intermediates smaller by the sliced ranges, and the slices'
results add up to the whole. cotengra chooses which indices to slice
(:mod:`indexnet.einsum.cotengra_paths`); :func:`choose_chunks` then widens
each slice from one value to the largest divisor of the index's size that
keeps within the limit, so there are as few slices as the limit allows (each
a bigger, faster BLAS call) and the FLOPs repeated in every slice are
repeated fewer times.

A :class:`Slicing` is the record a sliced :class:`~indexnet.einsum.compiled.Plan`
carries: the sliced indices, their chunks, the number of slices and the
FLOPs overhead against the same path unsliced. Only contracted indices are
sliced, so every slice's result has the output's full shape and the results
are summed (locally by :meth:`Slicing.wrap`, on a Dask cluster by
:mod:`indexnet.einsum.distributed`).

>>> s = Slicing(indices=("j",), sizes=(4,), chunks=(2,), axes=(((1, 0),), ((0, 0),)),
...             slice_shapes=((3, 2), (2, 5)), flops_per_slice=60, unsliced_flops=120)
>>> s.n_slices, s.flops, s.overhead
(2, 120, 1.0)
>>> [b for a, b in s.selections()]  # the second operand's rows, slice by slice
[(slice(0, 2, None), slice(None, None, None)), (slice(2, 4, None), slice(None, None, None))]
>>> import numpy as np
>>> a, b = np.arange(12.0).reshape(3, 4), np.ones((4, 5))
>>> bool(np.allclose(s.wrap(lambda x, y: x @ y)(a, b), a @ b))
True
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from math import prod
from typing import Any

import numpy as np

from ..typing import Shape

__all__ = [
    "STEP_OVERHEAD_FLOPS",
    "Slicing",
    "batches",
    "choose_chunks",
    "divisors",
    "slice_axes",
    "sliced_cost",
    "step_terms",
]

#: What one step of one slice costs beyond its FLOPs (a Python call and NumPy's dispatch,
#: a few microseconds), in FLOPs: the slicings compared count it for every step of every slice.
STEP_OVERHEAD_FLOPS = 5_000

#: One operand's selection for one slice: a tuple of ``slice`` objects, or None (the whole).
Selection = tuple[slice, ...] | None


@dataclass(frozen=True)
class Slicing:
    """How a sliced plan runs: which indices are cut, into what, and what it costs.

    ``indices`` are the sliced (contracted) letters, ``sizes`` their sizes and
    ``chunks`` the width of one slice along each (a divisor of its size: 1 is
    cotengra's one value at a time). ``axes`` lists, per operand, the
    ``(axis, position in indices)`` of each axis it slices (a broadcast
    size-1 axis is never sliced); ``slice_shapes`` are the operands' shapes
    in one slice. ``flops_per_slice`` is one slice's FLOPs and
    ``unsliced_flops`` the same path's FLOPs without slicing.
    """

    indices: tuple[str, ...]
    sizes: tuple[int, ...]
    chunks: tuple[int, ...]
    axes: tuple[tuple[tuple[int, int], ...], ...]
    slice_shapes: tuple[Shape, ...]
    flops_per_slice: int
    unsliced_flops: int

    @property
    def n_slices(self) -> int:
        """How many slices the contraction runs in."""
        return prod(size // chunk for size, chunk in zip(self.sizes, self.chunks))

    @property
    def flops(self) -> int:
        """FLOPs of all slices together."""
        return self.flops_per_slice * self.n_slices

    @property
    def overhead(self) -> float:
        """Sliced FLOPs over the same path's unsliced FLOPs (1.0: slicing repeats nothing)."""
        return self.flops / max(self.unsliced_flops, 1)

    def selections(
        self, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[Selection, ...]]:
        """Each operand's selection, slice by slice, for slices ``start`` to ``stop``.

        Slices are numbered in row-major order over the sliced indices, so a
        range of numbers is a batch of neighbouring blocks.
        """
        counts = [size // chunk for size, chunk in zip(self.sizes, self.chunks)]
        stop = self.n_slices if stop is None else stop
        ndims = [len(shape) for shape in self.slice_shapes]
        for number in range(start, stop):
            digits = []
            for count in reversed(counts):
                number, digit = divmod(number, count)
                digits.append(digit)
            digits.reverse()
            ranges = [slice(d * c, (d + 1) * c) for d, c in zip(digits, self.chunks)]
            picked: list[Selection] = []
            for ndim, axes in zip(ndims, self.axes):
                if not axes:
                    picked.append(None)
                    continue
                index = [slice(None)] * ndim
                for axis, j in axes:
                    index[axis] = ranges[j]
                picked.append(tuple(index))
            yield tuple(picked)

    def run(self, kernel: Callable[..., Any], arrays: Sequence[Any], start: int = 0,
            stop: int | None = None) -> Any:
        """The sum of ``kernel`` over slices ``start`` to ``stop`` of ``arrays`` (NumPy or not).

        Memory: one slice's intermediates and the running sum, never more.
        """
        total: Any = None
        scalar = False
        for picked in self.selections(start, stop):
            part = kernel(*(a if s is None else a[s] for a, s in zip(arrays, picked)))
            if total is None:
                scalar = isinstance(part, np.generic)
                # the first part may be a view of an operand: the sum must own its memory
                total = np.array(part, copy=True) if isinstance(part, (np.ndarray, np.generic)) \
                    else part
            elif isinstance(total, np.ndarray):
                total += part
            else:  # another library's array: no in-place add assumed
                total = total + part
        return total[()] if scalar and isinstance(total, np.ndarray) else total

    def wrap(self, kernel: Callable[..., Any]) -> Callable[..., Any]:
        """A function of the whole operands that runs ``kernel`` slice by slice and sums."""

        def sliced(*arrays: Any) -> Any:
            return self.run(kernel, arrays)

        return sliced

    def __str__(self) -> str:
        cuts = ", ".join(
            f"{c} ({size} in chunks of {chunk})" if chunk > 1 else f"{c} ({size}, one by one)"
            for c, size, chunk in zip(self.indices, self.sizes, self.chunks)
        )
        return (f"sliced over {cuts}: {self.n_slices:,} slices, FLOPs overhead "
                f"{self.overhead:.2f}x over the same path unsliced ({self.unsliced_flops:,} FLOPs)")


def divisors(n: int) -> list[int]:
    """The divisors of ``n`` in ascending order.

    >>> divisors(12)
    [1, 2, 3, 4, 6, 12]
    """
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def step_terms(contraction_list: Sequence[Any]) -> list[tuple[str, str, int]]:
    """Each step of opt_einsum's ``contraction_list`` as (its letters, its result, FLOP factor).

    The FLOPs of a step are the product of its letters' sizes times the
    factor, as :func:`~indexnet.einsum.compiled.build_plan` counts them.
    """
    terms = []
    for positions, removed, step_subscripts, *_ in contraction_list:
        inputs, result = step_subscripts.split("->")
        letters = "".join(sorted(set(inputs.replace(",", ""))))
        terms.append((letters, result, max(1, len(positions) - 1) + bool(removed)))
    return terms


def sliced_cost(
    steps: Sequence[tuple[str, str, int]],
    sizes: dict[str, int],
    sliced: Sequence[str],
    chunks: Sequence[int],
) -> tuple[int, int]:
    """(one slice's largest step result, the cost of all slices) of ``sliced`` in ``chunks``.

    ``steps`` are :func:`step_terms` of the path. The cost is the FLOPs of
    all slices plus :data:`STEP_OVERHEAD_FLOPS` for each step of each slice:
    a million slices of a few FLOPs each are dear, their calls are not free.

    >>> sliced_cost([("abc", "ab", 2)], {"a": 10, "b": 10, "c": 64}, ["a"], [2])
    (20, 37800)
    """
    local = dict(sizes)
    local.update(zip(sliced, chunks))
    largest = max((prod(local[c] for c in result) for _, result, _ in steps), default=0)
    per_slice = sum(prod(local[c] for c in letters) * factor for letters, _, factor in steps)
    n_slices = prod(sizes[c] // k for c, k in zip(sliced, chunks))
    return largest, (per_slice + STEP_OVERHEAD_FLOPS * len(steps)) * n_slices


def choose_chunks(
    steps: Sequence[tuple[str, str, int]],
    sizes: dict[str, int],
    sliced: Sequence[str],
    limit: int,
) -> tuple[int, ...] | None:
    """The widest slices (a divisor of each sliced index's size) that keep within ``limit``.

    ``steps`` are :func:`step_terms` of the path. Starting from one value of
    each sliced index, a chunk grows to its next divisor while every step's
    result stays within ``limit`` elements, each time the growth that leaves
    the least cost (:func:`sliced_cost`). None when even one value at a time
    is over.

    >>> steps = [("abc", "ab", 2)]  # ac,cb->ab
    >>> choose_chunks(steps, {"a": 10, "b": 10, "c": 64}, ["a"], 30)
    (2,)
    """
    sliced = list(sliced)
    options = [divisors(sizes[c]) for c in sliced]
    chunks = [1] * len(sliced)
    if sliced_cost(steps, sizes, sliced, chunks)[0] > limit:
        return None
    while True:
        best: tuple[int, int] | None = None  # (total FLOPs, which index grows)
        for j, divs in enumerate(options):
            at = divs.index(chunks[j])
            if at + 1 == len(divs):
                continue
            trial = [*chunks[:j], divs[at + 1], *chunks[j + 1:]]
            largest, flops = sliced_cost(steps, sizes, sliced, trial)
            if largest <= limit and (best is None or flops < best[0]):
                best = (flops, j)
        if best is None:
            return tuple(chunks)
        j = best[1]
        chunks[j] = options[j][options[j].index(chunks[j]) + 1]


def slice_axes(
    inputs: Sequence[str], shapes: Sequence[Shape], indices: Sequence[str],
    chunks: Sequence[int], sizes: dict[str, int],
) -> tuple[tuple[tuple[tuple[int, int], ...], ...], tuple[Shape, ...]]:
    """Per operand, the (axis, index position) pairs it is sliced along, and its slice shape.

    An axis of size 1 that broadcasts against a larger size is left whole.

    >>> slice_axes(["ij", "jk"], [(2, 4), (1, 3)], ["j"], [2], {"i": 2, "j": 4, "k": 3})
    ((((1, 0),), ()), ((2, 2), (1, 3)))
    """
    position = {c: j for j, c in enumerate(indices)}
    all_axes = []
    shapes_out = []
    for term, shape in zip(inputs, shapes):
        axes = tuple((axis, position[c]) for axis, c in enumerate(term)
                     if c in position and shape[axis] == sizes[c] != 1)
        chunked = list(shape)
        for axis, j in axes:
            chunked[axis] = chunks[j]
        all_axes.append(axes)
        shapes_out.append(tuple(chunked))
    return tuple(all_axes), tuple(shapes_out)


def batches(n_slices: int, n_batches: int) -> list[tuple[int, int]]:
    """``n_slices`` split into at most ``n_batches`` contiguous (start, stop) ranges.

    >>> batches(10, 3)
    [(0, 3), (3, 6), (6, 10)]
    """
    n_batches = max(1, min(n_batches, n_slices))
    edges = [n_slices * k // n_batches for k in range(n_batches + 1)]
    return list(itertools.pairwise(edges))
