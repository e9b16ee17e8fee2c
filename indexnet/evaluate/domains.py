"""Random arrays from the domains of ``input`` and ``param`` declarations.

``normal`` (the default), ``uniform(a, b)``, ``positive`` (uniform on
[0.5, 2)), ``onehot(k)`` (one 1 along index k, the rest 0) and
``simplex(k)`` (positive, summing to 1 along k).

>>> import numpy as np
>>> from indexnet import ir
>>> info = ir.TensorInfo("y", "input", ir.Ref("y", None, "n", "k"), ir.Domain("simplex", ("k",)))
>>> y = draw(info, {"n": 2, "k": 3}, np.random.default_rng(0))
>>> np.allclose(y.sum(axis=1), 1)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import ir

__all__ = ["draw", "random_inputs"]


def draw(info: ir.TensorInfo, sizes: Mapping[str, int], rng: np.random.Generator) -> np.ndarray:
    """Draw the array of tensor ``info`` at ``sizes`` from its domain (float64)."""
    letters = info.letters
    shape = tuple(sizes[c] for c in letters)
    domain = info.domain or ir.Domain("normal")
    kind = domain.kind
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


def random_inputs(module: ir.Module, sizes: Mapping[str, int] | None = None, *, seed: int = 0,
                  dtype: Any = "float64") -> dict[str, np.ndarray]:
    """Arrays for every input and param of ``module``, drawn from their declared domains.

    Sizes come from ``sizes``, then ``size`` lines, then small distinct defaults.
    """
    resolved = module.size_model.resolve({}, sizes, defaults=True)
    rng = np.random.default_rng(seed)
    return {key: draw(module.tensors[key], resolved, rng).astype(dtype, copy=False)
            for key in module.inputs}
