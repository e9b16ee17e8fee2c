"""The chain rule step by step, as the seed derives (1.4)-(1.9): what ``derive --steps`` prints.

For each derivative ``dL/dX`` of a derived program, three lines:

1. the chain rule: a sum over the tensors that read X, ``∂L/∂T ∂T/∂X``
   (and ``∂L/∂X|_L`` for terms of L itself that read X, such as an L2 term);
2. the local derivatives taken, before any simplification (reverse mode's
   raw terms, in X's own letters);
3. the simplified result, as ``derive`` prints it.

>>> from indexnet.program import parse
>>> p = parse("input x^n_d\\nparam W^d_h\\na^n_h = x^n_d W^d_h\\nL = sum_{nh} a^n_h a^n_h")
>>> for s in steps(p, p.derive()):
...     print(s.key, "|", s.chain, "|", s.local, "|", s.result)
dL/dW | ∂L/∂a^n_h ∂a^n_h/∂W^d_h | xᵀ_n^d dL/da^n_h | 2 xᵀ_n^d a^n_h
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from .. import ir
from ..ir.module import Module
from ..ir.terms import Term
from ..render import render
from .reverse import gradients
from .simplify import to_sum

__all__ = ["Step", "steps"]


@dataclass(frozen=True)
class Step:
    """One derivative worked out: the chain rule, the local derivatives, the result."""

    key: str
    chain: str
    local: str
    result: str


def steps(program: Module, derived: Module, form: str = "compact") -> list[Step]:
    """The steps of every derivation of ``derived`` (derived from ``program``), in its order."""
    raw: dict[str, dict[str, list[Term]]] = {}
    out: list[Step] = []
    for d in derived.derivations:
        if d.top is not None:
            continue  # a Jacobian's steps are its own reverse mode: not shown here
        grads = raw.get(d.of)
        if grads is None:
            grads = raw[d.of] = gradients(program, d.of)
        key = d.wrt.key
        info = program.tensors[key]
        local = to_sum(grads.get(key, []), info.letters, group=False)
        result = render(d.rhs, form)
        out.append(Step(d.key, _chain(program, d.of, key, form), render(local, form), result))
    return out


def _chain(program: Module, of: str, key: str, form: str) -> str:
    """``∂L/∂T ∂T/∂X + …`` over the equations on the way to ``of`` that read ``key``."""
    info = program.tensors[key]
    x = _spell(program, key, info.ref, form)
    parts = []
    for eq in _readers(program, of, key):
        t = eq.target.key
        if t == of:
            parts.append(f"∂{of}/∂{x}|_{of}")
        else:
            target = _spell(program, t, eq.target, form)
            parts.append(f"∂{of}/∂{target} ∂{target}/∂{x}")
    return " + ".join(parts) if parts else "0"


def _readers(program: Module, of: str, key: str) -> Sequence[ir.Equation]:
    """The equations up to ``of`` whose right-hand side reads tensor ``key``."""
    found = []
    for eq in program.equations:
        if any(r.key == key for r in ir.iter_refs(eq.rhs)):
            found.append(eq)
        if eq.target.key == of:
            break
    return found


def _spell(program: Module, key: str, ref: ir.Ref, form: str) -> str:
    """A tensor as the chain rule writes it: its reference as declared or defined."""
    term = ir.Product(Fraction(1), (), (ref,), "", "", ref.subscripts)
    return render(ir.Sum((term,), ref.subscripts), form)
