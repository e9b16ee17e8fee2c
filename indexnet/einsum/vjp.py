"""The einsum derivative rule: exchange the differentiated operand and the output.

For ``out = einsum("nd,dh->nh", x, w)`` and a cotangent ``g`` of ``out``'s
shape, the gradient of ⟨g, out⟩ with respect to ``w`` is
``einsum("nd,nh->dh", x, g)`` (xᵀδ) and with respect to ``x`` it is
``einsum("nh,dh->nd", g, w)`` (δWᵀ). Two cases need more than the exchange,
and autograd's ``grad_einsum`` got both wrong (its issue 115):

* an index only in the differentiated operand was summed away in the forward
  pass, so its gradient is broadcast along that index (a factor of ones);
* an index repeated inside the operand (``"ii->"``, ``"iij->j"``) reads a
  diagonal, so its gradient is written onto that diagonal (a Kronecker delta)
  and is zero elsewhere.

A size-1 axis that broadcast against a larger one gets its gradient summed
back to size 1.

>>> str(derivative("nd,dh->nh", wrt=1))
'nd,nh->dh'
>>> str(derivative("nd,dh->nh", wrt=0))
'nh,dh->nd'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError, SizeMismatchError, internal_errors
from ..typing import ArrayLike, OptimizeKind
from .plan import plan
from .subscripts import Subscripts, index_sizes, parse

__all__ = ["Derivative", "derivative", "vjp"]


@dataclass(frozen=True)
class Derivative:
    """The gradient formula for one operand of an einsum.

    ``str()`` gives the exchanged formula as a person writes it: the
    cotangent takes the operand's place and the operand's subscripts become
    the output (a letter repeated there is a Kronecker delta, a letter found
    in no input a broadcast). ``executable`` is the einsum actually run: it
    produces the operand's distinct letters that the inputs hold; then
    ``broadcast`` letters are expanded with ones and ``diagonal`` letters
    placed on the diagonal.

    >>> d = derivative("ij,j->", wrt=0)
    >>> str(d), d.executable, d.broadcast
    (',j->ij', ',j->j', 'i')
    >>> d = derivative("ii->", wrt=0)
    >>> str(d), d.diagonal
    ('->ii', 'i')
    """

    source: Subscripts
    wrt: int
    executable: str
    broadcast: str
    diagonal: str

    @property
    def target(self) -> str:
        """The subscripts of the differentiated operand."""
        return self.source.inputs[self.wrt]

    def __str__(self) -> str:
        inputs = list(self.source.inputs)
        inputs[self.wrt] = self.source.output
        return f"{','.join(inputs)}->{self.target}"


@internal_errors("deriving an einsum's gradient formula")
def derivative(subscripts: str | Subscripts, wrt: int) -> Derivative:
    """The einsum rule for the gradient of ``subscripts`` with respect to operand ``wrt``.

    Ellipses must be resolved first (``vjp`` does so from the operands'
    shapes), so pass explicit letters here.

    >>> derivative("ij,jk,kl->il", wrt=1).executable
    'ij,il,kl->jk'
    """
    parsed = subscripts if isinstance(subscripts, Subscripts) else parse(subscripts)
    if any("..." in term for term in (*parsed.inputs, parsed.output)):
        raise InvalidArgumentError(
            f"derivative() needs explicit letters; {str(parsed)!r} holds '...' "
            "(vjp() resolves it from the operands' shapes)"
        )
    n = len(parsed.inputs)
    if not isinstance(wrt, (int, np.integer)) or not -n <= wrt < n:
        raise InvalidArgumentError(
            f"wrt={wrt!r} is not an operand of {str(parsed)!r}, which has {n} operand(s)"
        )
    wrt = int(wrt) % n
    target = parsed.inputs[wrt]
    others = [t for k, t in enumerate(parsed.inputs) if k != wrt]
    reachable = set(parsed.output).union(*others)
    distinct = "".join(dict.fromkeys(target))
    produced = "".join(c for c in distinct if c in reachable)
    inputs = list(parsed.inputs)
    inputs[wrt] = parsed.output
    executable = f"{','.join(inputs)}->{produced}"
    broadcast = "".join(c for c in distinct if c not in reachable)
    diagonal = "".join(c for c in distinct if target.count(c) > 1)
    return Derivative(parsed, wrt, executable, broadcast, diagonal)


@internal_errors("computing einsum gradients (vjp)")
def vjp(
    subscripts: str,
    *operands: ArrayLike,
    cotangent: ArrayLike,
    optimize: OptimizeKind = "auto",
) -> list[np.ndarray]:
    """Gradients of ⟨cotangent, einsum(subscripts, *operands)⟩ for every operand.

    Each gradient has its operand's shape. Every contraction goes through a
    cached :func:`~indexnet.einsum.plan.plan`.

    >>> import numpy as np
    >>> x, w = np.ones((2, 3)), np.ones((3, 4))
    >>> gx, gw = vjp("nd,dh->nh", x, w, cotangent=np.ones((2, 4)))
    >>> gx.shape, gw.shape, float(gw[0, 0])
    ((2, 3), (3, 4), 2.0)
    """
    arrays = [np.asarray(op) for op in operands]
    parsed = parse(subscripts, ndims=[a.ndim for a in arrays])
    sizes = index_sizes(parsed, [a.shape for a in arrays])
    g = np.asarray(cotangent)
    out_shape = tuple(sizes[c] for c in parsed.output)
    if g.shape != out_shape:
        raise SizeMismatchError(
            f"cotangent has shape {g.shape} but {str(parsed)!r} produces {out_shape} "
            f"(output {parsed.output!r})"
        )
    return [
        _apply(derivative(parsed, k), arrays, g, sizes, optimize) for k in range(len(arrays))
    ]


def _apply(
    rule: Derivative,
    arrays: Sequence[np.ndarray],
    g: np.ndarray,
    sizes: dict[str, int],
    optimize: OptimizeKind,
) -> np.ndarray:
    k = rule.wrt
    ops = list(arrays)
    ops[k] = g
    dtype = np.result_type(*ops)
    produced = rule.executable.split("->")[1]
    reduced: Any = plan(rule.executable, *ops, optimize=optimize)(*ops)
    reduced = np.asarray(reduced, dtype=dtype)
    # 1. letters summed in the forward pass, and size-1 axes of the other
    #    operands: broadcast (a factor of ones)
    distinct = "".join(dict.fromkeys(rule.target))
    full = reduced.reshape(
        tuple(reduced.shape[produced.index(c)] if c in produced else 1 for c in distinct)
    )
    full = np.broadcast_to(full, tuple(sizes[c] for c in distinct))
    # 2. size-1 axes of the operand that broadcast in the forward pass: sum back
    operand_shape = arrays[k].shape
    squeeze = tuple(
        i
        for i, c in enumerate(distinct)
        if operand_shape[rule.target.index(c)] == 1 and sizes[c] != 1
    )
    if squeeze:
        full = full.sum(axis=squeeze, keepdims=True)
    # 3. repeated letters: write onto the diagonal of a zero array
    if not rule.diagonal:
        return np.array(full, dtype=dtype)  # a fresh, writeable array
    grad = np.zeros(operand_shape, dtype=dtype)
    strides = [
        sum(grad.strides[i] for i, c in enumerate(rule.target) if c == letter)
        for letter in distinct
    ]
    shape = tuple(operand_shape[rule.target.index(c)] for c in distinct)
    view = np.lib.stride_tricks.as_strided(grad, shape=shape, strides=strides, writeable=True)
    view[...] = full
    return grad
