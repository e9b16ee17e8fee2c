"""A program's equations made ready for derivation, in the program's own letters.

Derivation renames letters (a cotangent's and a term's must not meet) and
invents new ones; a letter that only a Kronecker delta or a softmax's index
holds would then have no size. :func:`lone_eyes` writes such deltas as the
sizes they count before any letter is renamed.

>>> from indexnet.program import parse
>>> rhs = parse("param W\\nsize k=3, m=3\\nL = W eye^k_m").equations[0].rhs
>>> lone_eyes(rhs).terms[0].consts
(('|k|', Fraction(1, 1)),)
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from .. import ir
from ..ir.terms import merge_consts

__all__ = ["lone_eyes"]

ONE = Fraction(1)


def lone_eyes(expr: ir.Sum) -> ir.Sum:
    """``expr`` with the Kronecker deltas that only sum themselves written as what they count.

    ``Σ_{km} eye^k_m`` beside no other factor holding k or m is ``|k|``;
    ``Σ_j eye^j_p`` is 1 (for each p). A softmax over an index its argument
    then no longer carries is ``1/|k|``. Done on the program's own letters,
    before derivation renames any: a letter invented later that only a delta
    (or a softmax's index) holds would have no size.
    """
    return ir.Sum(tuple(_lone_eyes(p) for p in expr.terms), expr.output)


def _lone_eyes(p: ir.Product) -> ir.Product:
    factors = [_inner_eyes(f) for f in p.factors]
    consts = list(p.consts)
    kept: list[ir.Factor] = []
    for i, f in enumerate(factors):
        if isinstance(f, ir.Eye) and f.subscripts:
            # the factors still there: a delta already summed to 1 holds no letter
            others = {c for g in kept + factors[i + 1:] for c in ir.factor_output(g)}
            held = set(f.subscripts) & (others | set(p.output))
            if len(held) <= 1:  # Σ over the other letters leaves 1, or |k| when none is held
                if not held:
                    consts.append((ir.size_name(f.subscripts[0]), ONE))
                continue
        base, power = _split(f)
        if isinstance(base, ir.Call) and base.function == "softmax" and base.index \
                and base.index not in _carried(base.args[0]):
            consts.append((ir.size_name(base.index), -power))  # constant along k: 1/|k| each
            continue
        kept.append(f)
    if tuple(kept) == p.factors:
        return p
    return dataclasses.replace(p, consts=merge_consts(consts), factors=tuple(kept))


def _split(f: ir.Factor) -> tuple[ir.Factor, Fraction]:
    """A factor as its base and the power it is raised to (``1/u`` is ``u`` to -1)."""
    power = ONE
    while isinstance(f, (ir.Power, ir.Inverse)):
        power *= f.exponent if isinstance(f, ir.Power) else -1
        f = f.base
    return f, power


def _carried(expr: ir.Sum) -> set[str]:
    """The letters of ``expr`` that some factor actually holds (not only broadcast)."""
    out: set[str] = set()
    for p in expr.terms:
        for f in p.factors:
            base = f
            while isinstance(base, (ir.Power, ir.Inverse)):
                base = base.base
            if isinstance(base, ir.Group):
                out |= _carried(base.sum) & set(p.output)
            elif isinstance(base, ir.Call) and not base.index:
                out |= set().union(*(_carried(a) for a in base.args)) & set(p.output)
            else:
                out |= set(ir.factor_output(base)) & set(p.output)
    return out


def _inner_eyes(f: ir.Factor) -> ir.Factor:
    if isinstance(f, (ir.Power, ir.Inverse)):
        return dataclasses.replace(f, base=_inner_eyes(f.base))
    if isinstance(f, ir.Group):
        return ir.Group(lone_eyes(f.sum))
    if isinstance(f, ir.Call):
        return dataclasses.replace(f, args=tuple(lone_eyes(a) for a in f.args))
    return f
