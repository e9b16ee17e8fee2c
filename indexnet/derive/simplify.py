"""Simplify derivative expressions so that they read as a person writes them.

An expression is a list of :class:`Term` (monomials): an exact coefficient,
named constants, factors and the output letters; every other letter is summed
(einsum semantics). :class:`Simplifier` then

* contracts Kronecker deltas into index renames (``eye^i_j v^j`` → ``v^i``),
* merges powers of one base and cancels ``x / x``,
* names calls that an equation defines (``softmax[k](a^n_k)`` → ``ŷ^n_k``),
* uses domain facts (``Σ_k y^n_k = 1`` for ``onehot(k)`` and ``simplex(k)``),
* folds constants, merges like terms (equal up to renaming summed letters) and
  drops zero terms.

>>> from indexnet.program import parse
>>> p = parse("input v^j\\nL = v^j v^j")
>>> t = Term(Fraction(1), (), (ir.Eye("i", "j"), ir.Ref("v", None, "j", "")), "i")
>>> [render_term(x) for x in Simplifier(p).sum([t, t], "i")]
['2 v^i']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any

from .. import ir
from ..ir.elementwise import FUNCTIONS
from ..ir.module import Module
from ..ir.terms import (
    Term,
    all_letters,
    as_factor,
    factor_key,
    fresh_letter,
    map_letters,
    merge_consts,
    multiply,
    rename_factor,
    rename_sum,
    rename_term,
    term_key,
)
from ..render import render

__all__ = [
    "Simplifier",
    "Term",
    "as_factor",
    "factor_key",
    "fresh_letter",
    "multiply",
    "rename_factor",
    "rename_sum",
    "rename_term",
    "render_term",
    "term_key",
    "to_product",
    "to_sum",
]

# -- simplification ------------------------------------------------------------------------


def _split_power(f: ir.Factor) -> tuple[ir.Factor, Fraction]:
    exponent = Fraction(1)
    while isinstance(f, (ir.Power, ir.Inverse)):
        exponent *= f.exponent if isinstance(f, ir.Power) else -1
        f = f.base
    return f, exponent


def _join_power(base: ir.Factor, exponent: Fraction) -> ir.Factor:
    if exponent == 1:
        return base
    if exponent == -1:
        return ir.Inverse(base)
    return ir.Power(base, exponent)


class Simplifier:
    """Simplify monomials of one program.

    ``domains`` uses the declared ``onehot``/``simplex`` domains (exact only
    for arrays drawn from them); ``names`` replaces a call that an equation
    defines by that tensor.
    """

    def __init__(self, program: Module, *, domains: bool = True, names: bool = True) -> None:
        self.program = program
        self.domains = domains
        self.names = names
        self.defined: dict[tuple[Any, ...], tuple[ir.Call, ir.Ref]] = {}
        if names:
            for eq in program.equations:
                terms = eq.rhs.terms
                if len(terms) == 1 and terms[0].coefficient == 1 and not terms[0].consts \
                        and len(terms[0].factors) == 1 and isinstance(terms[0].factors[0],
                                                                      ir.Call):
                    call = terms[0].factors[0]
                    if _defines(call, eq.free) and not _has_deriv(call):
                        self.defined[(call.function, call.label, call.primes)] = (call, eq.target)
        self.onehot: dict[str, int] = {}
        if domains:
            for key, info in program.tensors.items():
                if info.domain is not None and info.domain.kind in ("onehot", "simplex"):
                    self.onehot[key] = info.letters.index(str(info.domain.args[0]))

    def sum(self, terms: Iterable[Term], output: str) -> list[Term]:
        """Simplify every term, merge like terms and drop zeros."""
        merged: dict[tuple[Any, ...], Term] = {}
        for term in terms:
            for t in self.term(term):
                key = term_key(t)
                if key in merged:
                    old = merged[key]
                    merged[key] = dataclasses.replace(old, coef=old.coef + t.coef)
                else:
                    merged[key] = t
        return [t for t in merged.values() if t.coef != 0]

    def tidy(self, terms: Sequence[Term], output: str) -> list[Term]:
        """``terms`` or, if it reads simpler, the same sum with its parentheses multiplied out.

        ``Xᵀ p (1 − y) − Xᵀ (1 − p) y`` becomes ``Xᵀ p − Xᵀ y``: a cross-entropy's
        gradient as the seed writes (1.8). Kept only when it has fewer factors.
        """
        expanded: list[Term] = []
        for t in terms:
            expanded.extend(_distribute(t))
            if len(expanded) > _MAX_EXPANDED:
                return list(terms)
        if len(expanded) == len(terms):
            return list(terms)
        merged = self.sum(expanded, output)
        return merged if _cost(merged) < _cost(terms) else list(terms)

    def inner(self, expr: ir.Sum) -> ir.Sum:
        """Simplify a sum inside a factor (a call's argument, a parenthesis).

        Its letters are those some term still carries: ``z^i - z^i`` is ``0``,
        with no letter, and the factor around it loses ``i`` too.
        """
        terms = self.sum((Term.of(p) for p in expr.terms), expr.output)
        if not terms:
            return ir.Sum((_zero(""),), "")
        products = tuple(to_product(t, top=False) for t in terms)
        kept = {c for p in products for c in p.output}
        return ir.Sum(products, "".join(c for c in expr.output if c in kept))

    def term(self, t: Term) -> list[Term]:
        """Simplify one monomial (it may become zero or several terms: a list)."""
        if t.coef == 0:
            return []
        coef = t.coef
        consts = list(t.consts)
        factors: list[ir.Factor] = []
        for f in t.factors:
            f = self.factor(f)
            base, _ = _split_power(f)
            if isinstance(base, ir.Group):
                inner = base.sum.terms
                if len(inner) == 1 and base is f:
                    p = inner[0]
                    if not p.factors and not p.output:
                        coef *= p.coefficient
                        consts.extend(p.consts)
                        continue
                    if set(p.output) == set(base.sum.output):
                        it = rename_term(Term.of(p), {}, avoid=set(t.letters) | _letters_of(
                            factors) | _letters_of(t.factors))
                        coef *= it.coef
                        consts.extend(it.consts)
                        factors.extend(it.factors)
                        continue
                if len(inner) == 1 and inner[0].coefficient == 0:
                    return []
            factors.append(f)
        # a letter summed here that simplifying took from every factor (z^i - z^i = 0)
        # was a broadcast: summing it multiplies by its size
        before = _top_letters(t.factors)
        after = _top_letters(factors)
        lost = [c for c in dict.fromkeys(c for f in t.factors for c in ir.factor_output(f))
                if c in before and c not in after and c not in t.output]
        consts.extend((ir.size_name(c), Fraction(1)) for c in lost)
        t = Term(coef, merge_consts(consts), tuple(factors), t.output)
        ident = {c: c for c in t.letters}
        t = dataclasses.replace(t, factors=tuple(rename_factor(f, ident) for f in t.factors))
        t = self._eyes(t)
        t = self._powers(t)
        if self.domains:
            t = self._domains(t)
        return [t] if t.coef != 0 else []

    def factor(self, f: ir.Factor) -> ir.Factor:
        """Simplify inside a factor, and name a call that an equation defines."""
        if isinstance(f, ir.Power):
            base = self.factor(f.base)
            b, e = _split_power(base)
            return _join_power(b, e * f.exponent)
        if isinstance(f, ir.Inverse):
            b, e = _split_power(self.factor(f.base))
            return _join_power(b, -e)
        if isinstance(f, ir.Group):
            return ir.Group(self.inner(f.sum))
        if isinstance(f, ir.Call):
            args = tuple(self.inner(a) for a in f.args)
            carried = {c for a in args for c in a.output} | ({f.index} if f.index else set())
            resolved = FUNCTIONS.get(f.function)
            if f.index and resolved is not None and resolved.reduces:
                carried.discard(f.index)
            output = "".join(c for c in f.output if c in carried)
            f = dataclasses.replace(f, args=args, output=output)
            by_value = self._prime_by_value(f)
            if by_value is not None:
                return by_value
            found = self.defined.get((f.function, f.label, f.primes))
            if found is not None:
                call, target = found
                if len(call.output) == len(f.output):
                    m = dict(zip(call.output, f.output))
                    if factor_key(rename_factor(call, m)) == factor_key(f):
                        return dataclasses.replace(target, upper=map_letters(target.upper, m),
                                                   lower=map_letters(target.lower, m), pos=(0, 0))
        return f

    def _named(self, f: ir.Call) -> ir.Ref | None:
        """The tensor an equation defines as exactly the call ``f``, in ``f``'s letters."""
        found = self.defined.get((f.function, f.label, f.primes))
        if found is None:
            return None
        call, target = found
        if len(call.output) != len(f.output):
            return None
        m = dict(zip(call.output, f.output))
        if factor_key(rename_factor(call, m)) != factor_key(f):
            return None
        return dataclasses.replace(target, upper=map_letters(target.upper, m),
                                   lower=map_letters(target.lower, m), pos=(0, 0))

    def _prime_by_value(self, f: ir.Call) -> ir.Factor | None:
        """``sigmoid'(a)`` as ``z (1 − z)``, ``tanh'(a)`` as ``1 − z²``, where z = f(a) is named.

        Only for a built-in written by name: ``f'_ℓ`` of an ``act`` stays as the
        seed writes it. Written by value, a derivative cancels against the
        ``1/z`` and ``1/(1 − z)`` of a cross-entropy.
        """
        if f.primes != 1 or f.function not in _BY_VALUE or f.label is not None:
            return None
        z = self._named(dataclasses.replace(f, primes=0))
        if z is None:
            return None
        out = f.output
        one = ir.Product(Fraction(1), (), (), "", "", "")
        if f.function == "sigmoid":
            minus = ir.Product(Fraction(-1), (), (z,), "", "", out)
            rest: tuple[ir.Factor, ...] = (z, ir.Group(ir.Sum((one, minus), out)))
        else:
            square = ir.Product(Fraction(-1), (), (ir.Power(z, Fraction(2)),), "", "", out)
            rest = (ir.Group(ir.Sum((one, square), out)),)
        return ir.Group(ir.Sum((ir.Product(Fraction(1), (), rest, "", "", out),), out))

    # -- rules ---------------------------------------------------------------------------

    def _eyes(self, t: Term) -> Term:
        factors = list(t.factors)
        changed = True
        while changed:
            changed = False
            for i, f in enumerate(factors):
                if not isinstance(f, ir.Eye):
                    continue
                letters = "".join(dict.fromkeys(f.subscripts))
                others = factors[:i] + factors[i + 1:]
                elsewhere = set(t.output) | _top_letters(others)
                if len(letters) == 1:
                    if letters in elsewhere:
                        factors = others
                        changed = True
                        break
                    continue
                free = [c for c in letters if c in t.output]
                keep = free[0] if free else next((c for c in letters if c in elsewhere),
                                                 letters[0])
                merge = [c for c in letters if c != keep and c not in t.output]
                if not merge:
                    continue
                m = {c: keep for c in merge}
                ident = {c: c for c in set(t.letters) | set(t.output) if c not in m}
                others = [rename_factor(g, {**ident, **m}) for g in others]
                rest = "".join(c for c in letters if c not in merge)
                if len(rest) > 1:
                    others.insert(i, ir.Eye(rest[0], rest[1:]))
                elif keep not in (set(t.output) | _top_letters(others)):
                    others.insert(i, ir.Eye(keep, keep))
                factors = others
                changed = True
                break
        return dataclasses.replace(t, factors=tuple(factors))

    def _powers(self, t: Term) -> Term:
        groups: dict[tuple[Any, ...], list[int]] = {}
        split = [_split_power(f) for f in t.factors]
        for i, (base, _) in enumerate(split):
            groups.setdefault(factor_key(base), []).append(i)
        if all(len(g) == 1 for g in groups.values()):
            return t
        factors: list[ir.Factor] = []
        done: set[int] = set()
        for i, (base, _e) in enumerate(split):
            if i in done:
                continue
            group = groups[factor_key(base)]
            exps = [split[j][1] for j in group]
            if len(group) > 1 and any(x != 1 for x in exps):
                total = sum(exps, Fraction(0))
                done.update(group)
                if total != 0:
                    factors.append(_join_power(base, total))
                continue
            factors.append(t.factors[i])
        carried = _top_letters(factors) | set(t.output)
        lost = [c for c in dict.fromkeys(c for f in t.factors for c in ir.factor_output(f))
                if c not in carried]
        consts = merge_consts(t.consts, ((ir.size_name(c), Fraction(1)) for c in lost))
        return dataclasses.replace(t, consts=consts, factors=tuple(factors))

    def _domains(self, t: Term) -> Term:
        factors = list(t.factors)
        for i, f in enumerate(factors):
            if not isinstance(f, ir.Ref) or f.key not in self.onehot:
                continue
            subs = f.subscripts
            letter = subs[self.onehot[f.key]]
            others = factors[:i] + factors[i + 1:]
            around = _top_letters(others) | set(t.output)
            if subs.count(letter) != 1 or letter in around or letter in _letters_of(others):
                continue
            if any(c not in around for c in subs if c != letter):
                continue
            return self._domains(dataclasses.replace(t, factors=tuple(others)))
        return t


#: The most terms that multiplying out the parentheses of a sum may make.
_MAX_EXPANDED = 64


def _distribute(t: Term) -> list[Term]:
    """``t`` with every top-level parenthesised sum multiplied out."""
    for i, f in enumerate(t.factors):
        if isinstance(f, ir.Group):
            rest = Term(t.coef, t.consts, t.factors[:i] + t.factors[i + 1:],
                        "".join(dict.fromkeys(t.output + f.sum.output)))
            out: list[Term] = []
            for p in f.sum.terms:
                out.extend(_distribute(multiply(rest, Term.of(p), t.output)))
                if len(out) > _MAX_EXPANDED:
                    return out
            return out
    return [t]


def _cost(terms: Iterable[Term]) -> int:
    """How much there is to read: terms, and factors counted into parentheses and calls."""
    return sum(1 + sum(_factor_cost(f) for f in t.factors) for t in terms)


def _factor_cost(f: ir.Factor) -> int:
    base, _ = _split_power(f)
    if isinstance(base, ir.Group):
        return sum(1 + sum(_factor_cost(g) for g in p.factors) for p in base.sum.terms)
    if isinstance(base, ir.Call):
        return 1 + sum(1 + sum(_factor_cost(g) for g in p.factors)
                       for a in base.args for p in a.terms)
    return 1


#: Built-ins whose derivative reads better by the value they define (1.8's ŷ − y).
_BY_VALUE = ("sigmoid", "tanh")


def _defines(call: ir.Call, free: str) -> bool:
    """Whether an equation ``T = call`` with letters ``free`` names the call.

    The letters must be the call's in order, except for ``inv``, whose rows and
    columns may be written in either order (the inverse commutes with the transpose).
    """
    if call.function == "inv" and not call.primes:
        return sorted(call.output) == sorted(free)
    return call.output == free


def _has_deriv(f: ir.Factor) -> bool:
    base, _ = _split_power(f)
    if isinstance(base, ir.DerivRef):
        return True
    sums: Sequence[ir.Sum] = ()
    if isinstance(base, ir.Call):
        sums = base.args
    elif isinstance(base, ir.Group):
        sums = (base.sum,)
    return any(_has_deriv(g) for s in sums for p in s.terms for g in p.factors)


def _top_letters(factors: Iterable[ir.Factor]) -> set[str]:
    out: set[str] = set()
    for f in factors:
        out |= set(ir.factor_output(f))
    return out


def _letters_of(factors: Iterable[ir.Factor]) -> set[str]:
    out: set[str] = set()
    for f in factors:
        out |= all_letters(f)
    return out


def _zero(output: str) -> ir.Product:
    return ir.Product(Fraction(0), (), (), "", "", "")


# -- back to the lowered form ----------------------------------------------------------------


def _chain(t: Term) -> tuple[ir.Factor, ...]:
    """Order factors as a person writes them: elementwise calls, then a matrix chain."""
    calls = [f for f in t.factors if isinstance(_split_power(f)[0], ir.Call)
             and set(ir.factor_output(f)) == set(t.output) and t.output]
    rest = [f for f in t.factors if not any(f is c for c in calls)]
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
    return (*calls, *ordered)


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
    present = _top_letters(factors)
    t = dataclasses.replace(t, output="".join(c for c in t.output if c in present))
    counts: dict[str, int] = {}
    for f in factors:
        for c in dict.fromkeys(ir.factor_output(f)):
            counts[c] = counts.get(c, 0) + 1
    explicit = "".join(c for c in bound if counts.get(c, 0) == 1)
    if group:
        calls = [f for f in factors if isinstance(_split_power(f)[0], ir.Call)
                 and set(ir.factor_output(f)) == set(t.output) and t.output]
        rest = [f for f in factors if not any(f is c for c in calls)]
        if calls and len(rest) >= 2 and bound and all(
                c not in _top_letters(calls) for c in bound):
            # the parenthesis carries only the letters its factors have: it is constant
            # (broadcast) along the others, as (W^h W^h) beside tanh'(g^j …)
            carried = _top_letters(rest)
            inner_out = "".join(c for c in t.output if c in carried)
            inner = ir.Product(Fraction(1), (), tuple(rest), explicit, bound, inner_out)
            return ir.Product(t.coef, t.consts, (*calls, ir.Group(ir.Sum((inner,), inner_out))),
                              "", "", t.output)
    return ir.Product(t.coef, t.consts, factors, explicit, bound, t.output)


def to_sum(terms: Sequence[Term], output: str, *, group: bool = True) -> ir.Sum:
    """Monomials as a lowered sum (``0`` when there are none)."""
    if not terms:
        return ir.Sum((_zero(output),), output)
    ordered = sorted(terms, key=lambda t: (t.coef < 0, -len(t.factors)))
    return ir.Sum(tuple(to_product(t, group=group) for t in ordered), output)


def render_term(t: Term, form: str = "compact") -> str:
    """One monomial as text.

    >>> render_term(Term(Fraction(-1, 2), (), (ir.Ref("x", None, "i", ""),), "i"))
    '-0.5 x^i'
    """
    return render(to_product(t), form)
