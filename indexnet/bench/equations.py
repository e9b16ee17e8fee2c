"""Expressions to benchmark: random tensor networks, shapes from index sizes, simple paths.

:func:`random_equation` draws a random tensor network, as opt_einsum's
``testing.rand_equation`` does (same seed, same network), without its pytest
dependency or its reseeding of NumPy's global generator.

>>> eq, shapes, sizes = random_equation(4, 2, seed=1)
>>> shapes == shapes_from_sizes(eq, sizes)
True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import opt_einsum

from ..einsum.subscripts import parse
from ..errors import InvalidArgumentError
from ..typing import Shape

__all__ = ["left_to_right_path", "random_equation", "shapes_from_sizes"]


def random_equation(
    n: int,
    regularity: int,
    *,
    n_out: int = 0,
    d_min: int = 4,
    d_max: int = 12,
    seed: int | None = None,
) -> tuple[str, list[Shape], dict[str, int]]:
    """A random network of ``n`` tensors, each index shared by two (``regularity`` per tensor).

    The same algorithm and random stream as ``opt_einsum.testing.rand_equation``
    (so ``seed=1`` gives its network), drawn from a private generator.

    >>> random_equation(3, 2, seed=0)
    ('ab,bc,ac->', [(9, 4), (4, 7), (9, 7)], {'a': 9, 'b': 4, 'c': 7})
    """
    num_inds = n * regularity // 2 + n_out
    _check_network(n, regularity, n_out, d_min, d_max, num_inds)
    rng = np.random.RandomState(seed)
    inputs = ["" for _ in range(n)]
    output: list[str] = []
    sizes = {
        opt_einsum.get_symbol(i): int(rng.randint(d_min, d_max + 1)) for i in range(num_inds)
    }

    def placements() -> Iterator[str]:
        for i, ix in enumerate(sizes):
            if i < n_out:
                output.append(ix)
                yield ix
            else:
                yield ix
                yield ix

    for i, ix in enumerate(rng.permutation(list(placements()))):
        if i < n:
            inputs[i] += ix
        else:
            where = rng.randint(0, n)
            while ix in inputs[where]:
                where = rng.randint(0, n)
            inputs[where] += ix
    out = "".join(rng.permutation(output)) if output else ""
    eq = f"{','.join(inputs)}->{out}"
    return eq, [tuple(sizes[ix] for ix in term) for term in inputs], sizes


def _check_network(
    n: int, regularity: int, n_out: int, d_min: int, d_max: int, num_inds: int
) -> None:
    """The arguments of :func:`random_equation` must describe a network einsum can write."""
    if n < 2 or regularity < 1 or num_inds < n:
        raise InvalidArgumentError(
            f"a random network needs n >= 2 tensors and n*regularity/2 + n_out >= n indices "
            f"(got n={n}, regularity={regularity}, n_out={n_out})"
        )
    if num_inds > 52:
        raise InvalidArgumentError(
            f"a random network of n={n}, regularity={regularity}, n_out={n_out} has "
            f"{num_inds} indices; einsum strings have 52 letters"
        )
    if not 1 <= d_min <= d_max:
        raise InvalidArgumentError(f"index sizes need 1 <= d_min <= d_max, got {d_min}-{d_max}")


def shapes_from_sizes(subscripts: str, sizes: Mapping[str, int]) -> list[Shape]:
    """Operand shapes of ``subscripts`` from index ``sizes``; missing indices are named.

    >>> shapes_from_sizes("nd,dh->nh", {"n": 2, "d": 3, "h": 4})
    [(2, 3), (3, 4)]
    """
    parsed = parse(subscripts)
    if any("..." in term for term in parsed.inputs):
        raise InvalidArgumentError(
            f"{subscripts!r}: benchmarks need explicit indices, not '...'"
        )
    letters = parsed.letters
    missing = [c for c in letters if c not in sizes]
    if missing:
        raise InvalidArgumentError(
            f"sizes must give every index of {str(parsed)!r}; missing: {', '.join(missing)}"
        )
    unknown = [c for c in sizes if c not in letters]
    if unknown:
        raise InvalidArgumentError(
            f"sizes name indices that {str(parsed)!r} does not have: {', '.join(unknown)}"
        )
    return [tuple(int(sizes[c]) for c in term) for term in parsed.inputs]


def left_to_right_path(n: int) -> list[tuple[int, ...]]:
    """The path that contracts operands in the order written: ((A B) C) D ...

    opt_einsum appends each result at the end of the list, so after the first
    step the running result is the last operand and the next input the first.

    >>> left_to_right_path(4)
    [(0, 1), (0, 2), (0, 1)]
    """
    if n <= 1:
        return [(0,)]
    path: list[tuple[int, ...]] = [(0, 1)]
    return path + [(0, n - 2 - k) for k in range(n - 2)]
