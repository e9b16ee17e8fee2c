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
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from . import ir

if TYPE_CHECKING:
    from .program import Program

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

LETTERS = string.ascii_lowercase + string.ascii_uppercase


@dataclass(frozen=True)
class Term:
    """A monomial: ``coef · Π consts^p · Π factors``, output ``output``, the rest summed.

    >>> Term(Fraction(2), (), (ir.Ref("x", None, "n", "d"),), "d").bound
    'n'
    """

    coef: Fraction
    consts: tuple[tuple[str, Fraction], ...]
    factors: tuple[ir.Factor, ...]
    output: str

    @property
    def letters(self) -> str:
        """Every letter at this level (factors' letters, then the output's)."""
        seen: dict[str, None] = {}
        for f in self.factors:
            for c in ir.factor_output(f):
                seen.setdefault(c)
        for c in self.output:
            seen.setdefault(c)
        return "".join(seen)

    @property
    def bound(self) -> str:
        """The summed letters."""
        return "".join(c for c in self.letters if c not in self.output)

    @classmethod
    def of(cls, product: ir.Product) -> Term:
        """The monomial of a lowered product."""
        return cls(product.coefficient, product.consts, product.factors, product.output)


def fresh_letter(avoid: Iterable[str], prefer: str = "") -> str:
    """A letter not in ``avoid`` (``prefer`` first, then a–z, A–Z).

    >>> fresh_letter("abc"), fresh_letter("ab", prefer="k")
    ('d', 'k')
    """
    used = set(avoid)
    for c in prefer + LETTERS:
        if c not in used:
            return c
    raise ValueError("out of index letters")  # pragma: no cover - 52 letters in one term


def _map(letters: str, m: Mapping[str, str]) -> str:
    return "".join(m.get(c, c) for c in letters)


def _all_letters(factor: ir.Factor) -> set[str]:
    """Letters anywhere in a factor, inner bound letters included."""
    while isinstance(factor, (ir.Power, ir.Inverse)):
        factor = factor.base
    out = set(ir.factor_output(factor))
    sums: Sequence[ir.Sum] = ()
    if isinstance(factor, ir.Call):
        sums = factor.args
        if factor.index:
            out.add(factor.index)
    elif isinstance(factor, ir.Group):
        sums = (factor.sum,)
    for s in sums:
        for t in s.terms:
            for f in t.factors:
                out |= _all_letters(f)
    return out


def rename_factor(factor: ir.Factor, m: Mapping[str, str]) -> ir.Factor:
    """Rename the letters of a factor; inner summed letters dodge the new names.

    >>> rename_factor(ir.Ref("x", None, "n", "d"), {"n": "m"})
    Ref(name='x', label=None, upper='m', lower='d', transposed=False, pos=(0, 0))
    """
    if isinstance(factor, (ir.Ref, ir.Eye)):
        return dataclasses.replace(factor, upper=_map(factor.upper, m),
                                   lower=_map(factor.lower, m))
    if isinstance(factor, ir.DerivRef):
        wrt = factor.wrt
        return dataclasses.replace(factor, wrt=dataclasses.replace(
            wrt, upper=_map(wrt.upper, m), lower=_map(wrt.lower, m)))
    if isinstance(factor, (ir.Power, ir.Inverse)):
        return dataclasses.replace(factor, base=rename_factor(factor.base, m))
    if isinstance(factor, ir.Group):
        return ir.Group(rename_sum(factor.sum, m))
    args = tuple(rename_sum(a, m) for a in factor.args)
    index = m.get(factor.index, factor.index) if factor.index else None
    return dataclasses.replace(factor, args=args, output=_map(factor.output, m), index=index)


def rename_sum(expr: ir.Sum, m: Mapping[str, str]) -> ir.Sum:
    """Rename the free letters of a sum (``m``'s values are kept clear of inner sums)."""
    return ir.Sum(tuple(_rename_product(t, m) for t in expr.terms), _map(expr.output, m))


def _rename_product(p: ir.Product, m: Mapping[str, str]) -> ir.Product:
    t = rename_term(Term.of(p), m, avoid=set(m.values()) | set(m))
    full = _bound_map(Term.of(p), m, set(m.values()) | set(m))
    explicit = _map(p.explicit, full)
    summed = _map(p.summed, full)
    return ir.Product(t.coef, t.consts, t.factors, explicit, summed, t.output, p.pos)


def _bound_map(t: Term, m: Mapping[str, str], avoid: set[str]) -> dict[str, str]:
    full = {c: m.get(c, c) for c in t.output}
    taken = set(avoid) | set(full.values())
    inner: set[str] = set()
    for f in t.factors:
        inner |= _all_letters(f)
    for b in t.bound:
        if b in taken:
            full[b] = fresh_letter(taken | inner | set(t.letters))
        else:
            full[b] = b
        taken.add(full[b])
    return full


def rename_term(t: Term, m: Mapping[str, str], avoid: Iterable[str] = ()) -> Term:
    """Rename ``t``'s output letters by ``m``; summed letters move off ``avoid`` and the new names.

    >>> t = Term(Fraction(1), (), (ir.Ref("x", None, "n", "d"),), "d")
    >>> rename_term(t, {"d": "n"}).factors[0].upper != "n"
    True
    """
    full = _bound_map(t, m, set(avoid))
    inner = {**{c: c for c in set(avoid) | set(full.values())}, **full}
    factors = tuple(rename_factor(f, inner) for f in t.factors)
    return Term(t.coef, t.consts, factors, _map(t.output, full))


def _merge_consts(*groups: Iterable[tuple[str, Fraction]]) -> tuple[tuple[str, Fraction], ...]:
    out: dict[str, Fraction] = {}
    for group in groups:
        for name, power in group:
            out[name] = out.get(name, Fraction(0)) + power
    return tuple(sorted((n, p) for n, p in out.items() if p != 0))


def multiply(a: Term, b: Term, output: str) -> Term:
    """The product of two monomials whose shared free letters mean the same axes.

    >>> x = Term(Fraction(1), (), (ir.Ref("x", None, "n", "d"),), "n")
    >>> y = Term(Fraction(3), (), (ir.Ref("y", None, "n", "d"),), "n")
    >>> [ir.factor_output(f) for f in multiply(x, y, "n").factors]
    ['nd', 'na']
    """
    b = rename_term(b, {}, avoid=set(a.letters) | set(output))
    a = rename_term(a, {}, avoid=set(b.output) | set(output))
    return Term(a.coef * b.coef, _merge_consts(a.consts, b.consts), a.factors + b.factors,
                output)


def as_factor(expr: ir.Sum) -> ir.Factor:
    """A sum as one factor: itself when it is a lone plain factor, else parenthesised."""
    if len(expr.terms) == 1:
        t = expr.terms[0]
        if (t.coefficient == 1 and not t.consts and len(t.factors) == 1
                and ir.factor_output(t.factors[0]) == expr.output == t.output):
            return t.factors[0]
    return ir.Group(expr)


# -- keys: equality up to renaming summed letters ------------------------------------------


def factor_key(f: ir.Factor) -> tuple[Any, ...]:
    """A hashable key of a factor (positions ignored, inner sums canonical).

    >>> factor_key(ir.Ref("x", None, "n", "d")) == factor_key(ir.Ref("x", None, "dn", "",
    ...                                                                 transposed=True))
    True
    """
    if isinstance(f, ir.Ref):
        return ("R", f.key, f.subscripts)
    if isinstance(f, ir.Eye):
        return ("E", "".join(sorted(f.subscripts)))
    if isinstance(f, ir.DerivRef):
        return ("D", f.of, f.wrt.key, f.wrt.subscripts)
    if isinstance(f, ir.Power):
        return ("P", factor_key(f.base), f.exponent)
    if isinstance(f, ir.Inverse):
        return ("P", factor_key(f.base), Fraction(-1))
    if isinstance(f, ir.Group):
        return ("G", _sum_key(f.sum))
    return ("C", f.function, f.label, f.primes, f.index, tuple(_sum_key(a) for a in f.args),
            f.output)


def _sum_key(s: ir.Sum) -> tuple[Any, ...]:
    return (s.output, tuple(sorted(((*term_key(Term.of(t)), t.coefficient)
                                    for t in s.terms), key=repr)))


_PLACEHOLDERS = "".join(chr(0x2460 + k) for k in range(60))


def term_key(t: Term) -> tuple[Any, ...]:
    """Key of a monomial without its coefficient: equal for like terms.

    >>> a = Term(Fraction(1), (), (ir.Ref("x", None, "n", ""), ir.Ref("y", None, "n", "")), "")
    >>> b = Term(Fraction(5), (), (ir.Ref("y", None, "m", ""), ir.Ref("x", None, "m", "")), "")
    >>> term_key(a) == term_key(b)
    True
    """
    bound = t.bound
    anon = {b: "?" for b in bound}
    order = sorted(range(len(t.factors)),
                   key=lambda i: repr(factor_key(rename_factor(t.factors[i], anon))))
    mapping: dict[str, str] = {}
    for i in order:
        for c in ir.factor_output(t.factors[i]):
            if c in bound and c not in mapping:
                mapping[c] = _PLACEHOLDERS[len(mapping)]
    keys = sorted((factor_key(rename_factor(t.factors[i], mapping)) for i in order), key=repr)
    return (tuple(keys), t.consts, t.output)


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

    def __init__(self, program: Program, *, domains: bool = True, names: bool = True) -> None:
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
                    if call.output == eq.free and not _has_deriv(call):
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

    def inner(self, expr: ir.Sum) -> ir.Sum:
        """Simplify a sum inside a factor (a call's argument, a parenthesis)."""
        terms = self.sum((Term.of(p) for p in expr.terms), expr.output)
        if not terms:
            return ir.Sum((_zero(expr.output),), expr.output)
        return ir.Sum(tuple(to_product(t, top=False) for t in terms), expr.output)

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
        t = Term(coef, _merge_consts(consts), tuple(factors), t.output)
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
            f = dataclasses.replace(f, args=tuple(self.inner(a) for a in f.args))
            found = self.defined.get((f.function, f.label, f.primes))
            if found is not None:
                call, target = found
                if len(call.output) == len(f.output):
                    m = dict(zip(call.output, f.output))
                    if factor_key(rename_factor(call, m)) == factor_key(f):
                        return dataclasses.replace(target, upper=_map(target.upper, m),
                                                   lower=_map(target.lower, m), pos=(0, 0))
        return f

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
        return dataclasses.replace(t, factors=tuple(factors))

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
        out |= _all_letters(f)
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
            inner = ir.Product(Fraction(1), (), tuple(rest), explicit, bound, t.output)
            return ir.Product(t.coef, t.consts, (*calls, ir.Group(ir.Sum((inner,), t.output))),
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
    from .render import render

    return render(to_product(t), form)
