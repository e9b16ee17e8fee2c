"""The update of stochastic gradient descent with momentum, in place, with L2 folded in.

One rule for every array library: :class:`~indexnet.seednet.nn.Network` on
NumPy and :mod:`~indexnet.seednet.backends` on torch and CuPy call it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["update_in_place"]


def update_in_place(params: dict[str, Any], velocity: dict[str, Any], steps: Mapping[str, Any],
                    names: Sequence[tuple[str, str]], momentum: float, decay: float,
                    zeros_like: Callable[[Any], Any]) -> None:
    """SGD with momentum in place, L2 folded in: ``steps`` holds lr·∂L/∂θ, ``decay`` lr·λ.

    With momentum, v ← m·v − step − decay·W and W ← W + v; without,
    W ← (1 − decay)·W − step. Biases take no decay. ``names`` are the
    (weight, bias) pairs; ``zeros_like`` makes a velocity in the arrays' library.

    >>> import numpy as np
    >>> p, v = {"W": np.ones(2), "b": np.ones(2)}, {}
    >>> update_in_place(p, v, {"W": np.ones(2), "b": np.ones(2)}, [("W", "b")], 0.0, 0.5, None)
    >>> p["W"].tolist(), p["b"].tolist()
    ([-0.5, -0.5], [0.0, 0.0])
    """
    for w_name, b_name in names:
        for name in (w_name, b_name):
            p = params[name]
            if momentum:
                v = velocity.get(name)
                if v is None:
                    v = velocity[name] = zeros_like(p)
                v *= momentum
                v -= steps[name]
                if decay and name == w_name:
                    v -= decay * p
                p += v
            else:
                if decay and name == w_name:
                    p *= 1.0 - decay
                p -= steps[name]
