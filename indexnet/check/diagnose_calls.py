"""Corrections of the derivatives of functions inside a claim: activations and softmax.

Two mistakes of hand derivations live here. The wrong activation derivative:
``1 − z`` or ``z(1 − z)`` where tanh' = ``1 − z²`` belongs, σ' where tanh'
belongs, ``relu(a)`` for ``relu'(a)``, or none at all; the correction drops
the factors that stand for it and puts the activation's own ``f'(a)`` in.
And softmax differentiated entry by entry, ``P(1 − P) ⊙ G``, where its
Jacobian gives ``P ⊙ (G − Σ_m G P)``; the correction rebuilds that inside the
product it occurs in. Each generator yields ``(words, corrected rhs)``.

>>> from indexnet.program import parse
>>> p = parse('''
... input x^n_d
... param W^d_h
... z^n_h = tanh(x^n_d W^d_h)
... L = sum_{nh} z^n_h
... claim dL/dW^d_h = x^n_d (1 - z^n_h)
... ''')
>>> [words for words, _ in activation_edits(p.claims[0].rhs, p)][1]
"wrong activation derivative: (1 - z^n_h) should be tanh'(x^n_d W^d_h)"
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

from .. import ir
from ..ir.module import resolve_function
from ..ir.terms import all_letters, fresh_letter, rename_factor
from .diagnose_edits import Edit, factor_text, make_product, sites

__all__ = ["activation_edits", "softmax_edits"]

#: built-ins whose derivative a hand derivation writes as an "activation derivative"
ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus")

#: at most this many factors are taken to stand for a wrong derivative
_MOST = 3


@dataclass(frozen=True)
class _Act:
    """An activation of the program: its call, the tensor it defines (if any), its built-in."""

    call: ir.Call
    target: ir.Ref | None
    builtin: str


def _activations(program: ir.Module) -> list[_Act]:
    """Every call of an activation in the program's equations, once each."""
    found: dict[tuple[object, ...], _Act] = {}
    for eq in program.equations:
        whole = len(eq.rhs.terms) == 1 and len(eq.rhs.terms[0].factors) == 1 \
            and eq.rhs.terms[0].coefficient == 1 and not eq.rhs.terms[0].consts
        for p in ir.iter_products(eq.rhs):
            for f in p.factors:
                if not isinstance(f, ir.Call) or f.primes or len(f.args) != 1:
                    continue
                resolved = resolve_function(program, f)
                if resolved is None or resolved[0] not in ACTIVATIONS or resolved[1]:
                    continue
                target = eq.target if whole and p is eq.rhs.terms[0] else None
                key = (f.function, f.label, repr(f.args), target)
                found.setdefault(key, _Act(f, target, resolved[0]))
    return list(found.values())


def _mappings(act: _Act, p: ir.Product) -> list[dict[str, str]]:
    """How the activation's letters are spelled in product ``p``: by its tensor, else as is."""
    out: list[dict[str, str]] = []
    if act.target is not None:
        for f in p.factors:
            if isinstance(f, ir.Ref) and f.key == act.target.key:
                m = dict(zip(act.target.subscripts, f.subscripts, strict=True))
                if m not in out:
                    out.append(m)
    identity = {c: c for c in act.call.output}
    if identity not in out:
        out.append(identity)
    return out


def _removable(p: ir.Product, letters: set[str], act: _Act) -> list[int]:
    """Factors of ``p`` that may stand for an activation's derivative over ``letters``."""
    out = []
    for j, f in enumerate(p.factors):
        if set(ir.factor_output(f)) != letters:
            continue
        base = f.base if isinstance(f, ir.Power) else f
        if isinstance(base, (ir.Call, ir.Group)) or (
                isinstance(base, ir.Ref) and act.target is not None
                and base.key == act.target.key):
            out.append(j)
    return out


def activation_edits(expr: ir.Sum, program: ir.Module) -> Iterator[Edit]:
    """An activation derivative put in, in place of up to three factors that stood for it."""
    acts = _activations(program)
    for p, _, put in sites(expr):
        for act in acts:
            for m in _mappings(act, p):
                deriv = rename_factor(dataclasses.replace(act.call, primes=1), m)
                letters = set(ir.factor_output(deriv))
                if not letters <= set(p.output) | {c for f in p.factors
                                                   for c in ir.factor_output(f)}:
                    continue
                removable = _removable(p, letters, act)
                for k in range(min(len(removable), _MOST) + 1):
                    for drop in itertools.combinations(removable, k):
                        kept = [f for j, f in enumerate(p.factors) if j not in drop]
                        new = make_product(p, [deriv, *kept])
                        yield _activation_words(act, deriv, [p.factors[j] for j in drop]), \
                            put([new])


def _activation_words(act: _Act, deriv: ir.Factor, dropped: Sequence[ir.Factor]) -> str:
    text = factor_text(deriv)
    if act.call.function != act.builtin:
        text += f" ({act.builtin}')"
    if not dropped:
        return f"missing activation derivative: {text}"
    return f"wrong activation derivative: {factor_text(*dropped)} should be {text}"


def _softmaxes(program: ir.Module) -> dict[str, int]:
    """Tensors defined as a softmax, each with the position of its index among its letters."""
    out = {}
    for eq in program.equations:
        terms = eq.rhs.terms
        if len(terms) != 1 or len(terms[0].factors) != 1:
            continue
        call = terms[0].factors[0]
        if not isinstance(call, ir.Call):
            continue
        resolved = resolve_function(program, call)
        if resolved is None or resolved[0] != "softmax" or resolved[2] is None:
            continue
        if resolved[2] in eq.target.subscripts:
            out[eq.target.key] = eq.target.subscripts.index(resolved[2])
    return out


def _one_minus(f: ir.Factor, ref: ir.Ref) -> bool:
    """Whether ``f`` is the parenthesised ``(1 − P)`` of the reference ``ref``."""
    if not isinstance(f, ir.Group) or len(f.sum.terms) != 2:
        return False
    one, minus = sorted(f.sum.terms, key=lambda t: len(t.factors))
    return (not one.factors and not one.consts and one.coefficient == 1
            and minus.coefficient == -1 and not minus.consts and len(minus.factors) == 1
            and isinstance(minus.factors[0], ir.Ref) and minus.factors[0].key == ref.key
            and minus.factors[0].subscripts == ref.subscripts)


def _jacobian_group(ref: ir.Ref, index: str, g: Sequence[ir.Factor], avoid: set[str]) -> ir.Group:
    """``(G − Σ_index G P)``: G contracted with softmax P's Jacobian, divided by P."""
    letters = "".join(dict.fromkeys(ref.subscripts))
    mu = fresh_letter(avoid, prefer="jlmkiabc")
    have = {c for f in g for c in ir.factor_output(f)}
    like = ir.Product(Fraction(1), (), (), "", "", "")
    first = make_product(like, g, output="".join(c for c in letters if c in have))
    moved = [rename_factor(f, {index: mu}) for f in (*g, ref)]
    have2 = {c for f in moved for c in ir.factor_output(f)}
    second = make_product(dataclasses.replace(like, explicit=mu), moved,
                          output="".join(c for c in letters if c in have2),
                          coefficient=Fraction(-1))
    return ir.Group(ir.Sum((first, second), letters))


def softmax_edits(expr: ir.Sum, program: ir.Module) -> Iterator[Edit]:
    """``P (1 − P) G`` made ``P (G − Σ_m G P)`` for a softmax P over m, inside any product."""
    softmaxes = _softmaxes(program)
    for p, _, put in sites(expr):
        for j, f in enumerate(p.factors):
            if not isinstance(f, ir.Ref) or f.key not in softmaxes:
                continue
            index = f.subscripts[softmaxes[f.key]]
            for jj, h in enumerate(p.factors):
                if not _one_minus(h, f):
                    continue
                others = [k for k in range(len(p.factors)) if k not in (j, jj)]
                avoid = set(p.output).union(*(all_letters(x) for x in p.factors))
                for size in range(1, min(len(others), 4) + 1):
                    for chosen in itertools.combinations(others, size):
                        g = [p.factors[k] for k in chosen]
                        group = _jacobian_group(f, index, g, avoid)
                        rest = [p.factors[k] for k in others if k not in chosen]
                        new = make_product(p, [*rest, f, group])
                        yield (f"elementwise derivative of softmax: softmax[{index}]'s Jacobian "
                               f"is not diagonal, so {factor_text(*g, f, h)} should be "
                               f"{factor_text(f, group)}"), put([new])
