"""Monomials back to the lowered form, written as a careful person writes them.

:func:`to_product` orders a monomial's factors (elementwise calls, a matrix
chain, divisors last), writes a negative power as a fraction (``x^{-2}`` →
``1/x^2``), makes ``sum_`` explicit for letters read once, and puts a
contraction beside elementwise calls in parentheses (``f'(a) ⊙ (δ Wᵀ)``).

>>> t = Term(Fraction(1), (), (ir.Ref("y", None, "i", ""),
...                            ir.Power(ir.Ref("v", None, "i", ""), Fraction(-2))), "i")
>>> render_term(t)
'y^i / v^i^2'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from fractions import Fraction

from .. import ir
from ..ir.terms import Term
from ..render import render

__all__ = ["join_power", "render_term", "split_power", "to_product", "to_sum", "top_letters",
           "zero_product"]


def split_power(f: ir.Factor) -> tuple[ir.Factor, Fraction]:
    """A factor as its base and its exponent (``1/x^2`` is ``x`` and -2)."""
    exponent = Fraction(1)
    while isinstance(f, (ir.Power, ir.Inverse)):
        exponent *= f.exponent if isinstance(f, ir.Power) else -1
        f = f.base
    return f, exponent


def join_power(base: ir.Factor, exponent: Fraction) -> ir.Factor:
    """``base`` raised to ``exponent``: itself, a reciprocal, or a power."""
    if exponent == 1:
        return base
    if exponent == -1:
        return ir.Inverse(base)
    return ir.Power(base, exponent)


def top_letters(factors: Iterable[ir.Factor]) -> set[str]:
    """The letters the factors carry as operands (not those summed inside them)."""
    out: set[str] = set()
    for f in factors:
        out |= set(ir.factor_output(f))
    return out


def zero_product(output: str) -> ir.Product:
    """The product ``0``."""
    return ir.Product(Fraction(0), (), (), "", "", "")


def _fraction(f: ir.Factor) -> ir.Factor:
    """A negative power as a person writes it, a fraction: ``x^{-2}`` → ``1/x^2``."""
    base, exponent = split_power(f)
    if exponent >= 0 or isinstance(f, ir.Inverse):
        return f
    return ir.Inverse(join_power(base, -exponent))


def _divisor(f: ir.Factor) -> bool:
    return isinstance(f, ir.Inverse)


def _chain(t: Term) -> tuple[ir.Factor, ...]:
    """Order factors as a person writes them: elementwise calls, a matrix chain, divisors.

    Divisors (``1/x``, negative powers written as fractions) come last, so
    that ``y^i / v^i`` reads as the fraction it is.
    """
    factors = [_fraction(f) for f in t.factors]
    divisors = [f for f in factors if _divisor(f)]
    factors = [f for f in factors if not _divisor(f)]
    calls = [f for f in factors if isinstance(split_power(f)[0], ir.Call)
             and set(ir.factor_output(f)) == set(t.output) and t.output]
    rest = [f for f in factors if not any(f is c for c in calls)]
    ordered: list[ir.Factor] = []
    chain = len(rest) >= 2
    left = t.output[:1]
    seen: set[str] = set()
    while rest:
        pick = next((f for f in rest if left and left in ir.factor_output(f)), None)
        if pick is None:
            pick = rest[0]
        rest = [f for f in rest if f is not pick]
        letters = ir.factor_output(pick)
        if chain and isinstance(pick, ir.Ref) and len(letters) == 2 and \
                letters[0] != letters[1]:
            first = pick.written[0]
            other = letters.replace(left, "") if left else ""
            if left and left in letters and first != left and other not in seen:
                pick = ir.Ref(pick.name, pick.label, pick.lower[::-1], pick.upper[::-1],
                              not pick.transposed, pick.pos)
        written = pick.written if isinstance(pick, ir.Ref) else letters
        nxt = [c for c in written if c != left]
        left = nxt[-1] if nxt else left
        seen |= set(letters)
        ordered.append(pick)
    return (*calls, *ordered, *divisors)


def to_product(t: Term, *, top: bool = True, group: bool = True) -> ir.Product:
    """A monomial as a lowered product (explicit ``sum_`` for letters read once).

    With ``group``, a contraction beside elementwise calls gets its own
    parentheses, as the seed writes ``f'(a) ⊙ (δ Wᵀ)``.

    >>> t = Term(Fraction(1), (), (ir.Ref("d", None, "n", "k"),), "k")
    >>> p = to_product(t)
    >>> p.einsum, p.explicit
    ('nk->k', 'n')
    """
    factors = _chain(t)
    bound = t.bound
    present = top_letters(factors)
    t = dataclasses.replace(t, output="".join(c for c in t.output if c in present))
    counts: dict[str, int] = {}
    for f in factors:
        for c in dict.fromkeys(ir.factor_output(f)):
            counts[c] = counts.get(c, 0) + 1
    explicit = "".join(c for c in bound if counts.get(c, 0) == 1)
    if group:
        calls = [f for f in factors if isinstance(split_power(f)[0], ir.Call)
                 and set(ir.factor_output(f)) == set(t.output) and t.output]
        rest = [f for f in factors if not any(f is c for c in calls)]
        if calls and len(rest) >= 2 and bound and all(
                c not in top_letters(calls) for c in bound):
            # the parenthesis carries only the letters its factors have: it is constant
            # (broadcast) along the others, as (W^h W^h) beside tanh'(g^j …)
            carried = top_letters(rest)
            inner_out = "".join(c for c in t.output if c in carried)
            inner = ir.Product(Fraction(1), (), tuple(rest), explicit, bound, inner_out)
            return ir.Product(t.coef, t.consts, (*calls, ir.Group(ir.Sum((inner,), inner_out))),
                              "", "", t.output)
    return ir.Product(t.coef, t.consts, factors, explicit, bound, t.output)


def to_sum(terms: Sequence[Term], output: str, *, group: bool = True) -> ir.Sum:
    """Monomials as a lowered sum (``0`` when there are none)."""
    if not terms:
        return ir.Sum((zero_product(output),), output)
    ordered = sorted(terms, key=lambda t: (t.coef < 0, -len(t.factors)))
    return ir.Sum(tuple(to_product(t, group=group) for t in ordered), output)


def render_term(t: Term, form: str = "compact") -> str:
    """One monomial as text.

    >>> render_term(Term(Fraction(-1, 2), (), (ir.Ref("x", None, "i", ""),), "i"))
    '-1/2 x^i'
    """
    return render(to_product(t), form)
