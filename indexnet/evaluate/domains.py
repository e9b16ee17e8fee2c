"""Random arrays from the domains of ``input`` and ``param`` declarations.

``normal`` (the default), ``uniform(a, b)``, ``positive`` (uniform on
[0.5, 2)), ``onehot(k)`` (one 1 along index k, the rest 0),
``simplex(k)`` (positive, summing to 1 along k) and ``spd(i,j)`` (symmetric
positive definite in axes i, j: Q diag(λ) Qᵀ with λ uniform on [0.5, 2)).
A tensor without a domain that a matrix function (``inv``, ``det``,
``logdet``) reads is drawn square and well conditioned in the two axes it
reads (U diag(σ) Vᵀ, σ uniform on [0.5, 2)).

>>> import numpy as np
>>> from indexnet import ir
>>> info = ir.TensorInfo("y", "input", ir.Ref("y", None, "n", "k"), ir.Domain("simplex", ("k",)))
>>> y = draw(info, {"n": 2, "k": 3}, np.random.default_rng(0))
>>> np.allclose(y.sum(axis=1), 1)
True
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import ir
from ..errors import AllocationError, InvalidArgumentError
from ..ir.elementwise import MATRIX_FUNCTIONS
from ..ir.terms import matrix_letters

__all__ = ["check_allocation", "draw", "machine_memory", "random_inputs", "size_text",
           "square_axes"]

#: The bytes assumed available when the machine's memory cannot be read.
_FALLBACK_MEMORY = 2**40


def draw(info: ir.TensorInfo, sizes: Mapping[str, int], rng: np.random.Generator,
         square: tuple[int, int] | None = None) -> np.ndarray:
    """Draw the array of tensor ``info`` at ``sizes`` from its domain (float64).

    ``square``: two axes in which a tensor without a domain is drawn as
    well-conditioned square matrices (a matrix function reads it).

    >>> spd = ir.Domain("spd", ("i", "j"))
    >>> info = ir.TensorInfo("S", "param", ir.Ref("S", None, "i", "j"), spd)
    >>> s = draw(info, {"i": 3, "j": 3}, np.random.default_rng(0))
    >>> bool(np.allclose(s, s.T) and np.linalg.eigvalsh(s).min() > 0)
    True
    """
    letters = info.letters
    shape = tuple(sizes[c] for c in letters)
    domain = info.domain or ir.Domain("normal")
    kind = domain.kind
    if kind == "spd":
        axes = (letters.index(str(domain.args[0])), letters.index(str(domain.args[1])))
        return _matrices(shape, axes, rng, symmetric=True)
    if square is not None and info.domain is None:
        return _matrices(shape, square, rng, symmetric=False)
    if kind == "uniform":
        low, high = (float(a) for a in domain.args)
        return rng.uniform(low, high, size=shape)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, size=shape)
    if kind in ("onehot", "simplex"):
        axis = letters.index(str(domain.args[0]))
        if kind == "simplex":
            logits = rng.standard_normal(shape)
            e = np.exp(logits - logits.max(axis=axis, keepdims=True))
            return e / e.sum(axis=axis, keepdims=True)
        moved = list(shape)
        size = moved.pop(axis)
        hot = rng.integers(0, max(size, 1), size=tuple(moved))
        out = np.zeros((*moved, size))
        np.put_along_axis(out, hot[..., None], 1.0, axis=-1)
        return np.moveaxis(out, -1, axis)
    return rng.standard_normal(shape)


def _matrices(shape: tuple[int, ...], axes: tuple[int, int], rng: np.random.Generator, *,
              symmetric: bool) -> np.ndarray:
    """Square matrices in ``axes`` (the others a batch) with singular values in [0.5, 2).

    Symmetric positive definite (Q diag(λ) Qᵀ) or general (U diag(σ) Vᵀ).
    """
    a, b = axes
    if shape[a] != shape[b]:
        raise InvalidArgumentError(f"a square matrix needs axes of one size, not {shape[a]} "
                                   f"and {shape[b]}")
    n = shape[a]
    batch = tuple(size for k, size in enumerate(shape) if k not in axes)
    u = np.linalg.qr(rng.standard_normal((*batch, n, n)))[0]
    v = u if symmetric else np.linalg.qr(rng.standard_normal((*batch, n, n)))[0]
    values = rng.uniform(0.5, 2.0, size=(*batch, 1, n))
    matrices = (u * values) @ np.swapaxes(v, -1, -2)
    if symmetric:
        matrices = (matrices + np.swapaxes(matrices, -1, -2)) / 2
    return np.moveaxis(matrices, (-2, -1), (a, b))


def square_axes(module: ir.Module) -> dict[str, tuple[int, int]]:
    """The tensors a matrix function reads directly, with the axes it reads as rows, columns.

    >>> from indexnet.notation import read
    >>> square_axes(read("input A^i_j\\nL = logdet(A^i_j)"))
    {'A': (0, 1)}
    """
    out: dict[str, tuple[int, int]] = {}
    for stmt in module.statements:
        rhs = getattr(stmt, "rhs", None)
        if rhs is None:
            continue
        for product in ir.iter_products(rhs):
            for call in product.factors:
                if isinstance(call, ir.Call) and call.function in MATRIX_FUNCTIONS:
                    _read_as_matrix(call, out)
    return out


def _read_as_matrix(call: ir.Call, out: dict[str, tuple[int, int]]) -> None:
    """Record the references in the terms of ``call``'s argument that hold both its letters."""
    rows, cols = matrix_letters(call)
    for term in call.args[0].terms:
        for ref in term.factors:
            if isinstance(ref, ir.Ref) and rows in ref.subscripts and cols in ref.subscripts:
                out.setdefault(ref.key, (ref.subscripts.index(rows), ref.subscripts.index(cols)))


def random_inputs(module: ir.Module, sizes: Mapping[str, int] | None = None, *, seed: int = 0,
                  dtype: Any = "float64", max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Arrays for every input and param of ``module``, drawn from their declared domains.

    Sizes come from ``sizes``, then ``size`` lines, then small distinct
    defaults. Every array is sized before any is drawn: when one of them, or
    all together, would need more than ``max_bytes`` (default: the machine's
    memory, :func:`machine_memory`), an :class:`~indexnet.errors.AllocationError`
    names the tensor, its shape and the bytes.

    >>> from indexnet.notation import read
    >>> m = read("a^n_h = x^n_d W^d_h")
    >>> random_inputs(m, {"n": 10**12, "d": 784, "h": 3})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.AllocationError: random input 'x' of shape (1000000000000, 784) needs ...
    """
    resolved = module.size_model.resolve({}, sizes, defaults=True)
    itemsize = np.dtype(dtype).itemsize
    shapes = {key: tuple(resolved[c] for c in module.tensors[key].letters)
              for key in module.inputs}
    check_allocation(shapes, itemsize, "random input", max_bytes)
    rng = np.random.default_rng(seed)
    square = square_axes(module)
    return {key: draw(module.tensors[key], resolved, rng, square.get(key)).astype(
        dtype, copy=False) for key in module.inputs}


def check_allocation(shapes: Mapping[str, tuple[int, ...]], itemsize: int, what: str,
                     max_bytes: int | None = None) -> None:
    """Raise AllocationError unless arrays of ``shapes`` fit in ``max_bytes``, each and together.

    Drawing works in float64, so each array counts at least 8 bytes an
    element. ``max_bytes`` defaults to :func:`machine_memory`.

    >>> check_allocation({"x": (2, 3)}, 8, "input", max_bytes=48)
    >>> check_allocation({"x": (2, 3), "y": (4,)}, 8, "input", max_bytes=48)
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.AllocationError: input 'x' of shape (2, 3) and the others together need 80 ...
    """
    limit = machine_memory() if max_bytes is None else max_bytes
    width = max(itemsize, 8)
    need = {key: math.prod(shape) * width for key, shape in shapes.items()}
    for key, nbytes in need.items():
        if nbytes > limit:
            raise _too_big(what, key, shapes[key], nbytes, limit, "needs")
    total = sum(need.values())
    if total > limit:
        key = max(need, key=lambda k: need[k])
        raise _too_big(what, key, shapes[key], total, limit, "and the others together need")


def _too_big(what: str, key: str, shape: tuple[int, ...], nbytes: int, limit: int,
             verb: str) -> AllocationError:
    return AllocationError(
        f"{what} {key!r} of shape {shape} {verb} {nbytes} bytes ({size_text(nbytes)}), more "
        f"than the {limit} bytes ({size_text(limit)}) available: use smaller sizes",
        tensor=key, shape=shape, nbytes=nbytes, limit=limit)


def machine_memory() -> int:
    """The machine's physical memory in bytes (``2**40`` when it cannot be read).

    >>> machine_memory() > 0
    True
    """
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # not POSIX, or not reported
        return _FALLBACK_MEMORY


def size_text(nbytes: int) -> str:
    """Bytes in binary units, as people read them.

    >>> size_text(48), size_text(3 * 2**30), size_text(6272 * 10**12)
    ('48 B', '3.0 GiB', '5.6 PiB')
    """
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024:
            return f"{value:.0f} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} EiB"
