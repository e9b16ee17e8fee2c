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
    CollapseError,
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
from .reletter import home_letter
from .written import (
    join_power,
    render_term,
    split_power,
    to_product,
    to_sum,
    top_letters,
    zero_product,
)

__all__ = [
    "Simplifier",
    "Term",
    "as_factor",
    "distribute",
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
            expanded.extend(self._sized(u, t) for u in distribute(t))
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
            return ir.Sum((zero_product(""),), "")
        products = tuple(to_product(t, top=False) for t in terms)
        kept = {c for p in products for c in p.output}
        output = "".join(c for c in expr.output if c in kept)
        return ir.Sum(_one_holds_all(products, output), output)

    def term(self, t: Term) -> list[Term]:
        """Simplify one monomial (it may become zero or several terms: a list)."""
        if t.coef == 0:
            return []
        coef = t.coef
        consts = list(t.consts)
        factors: list[ir.Factor] = []
        for f in t.factors:
            f = self.factor(f)
            base, exponent = split_power(f)
            spread = self._spread_power(base, exponent)
            if spread is not None:  # (2 s^2)^{-2} is s^{-4}/4
                c, more_consts, more = spread
                coef *= c
                consts.extend(more_consts)
                factors.extend(more)
                continue
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
        before = top_letters(t.factors)
        after = top_letters(factors)
        lost = [c for c in dict.fromkeys(c for f in t.factors for c in ir.factor_output(f))
                if c in before and c not in after and c not in t.output]
        consts.extend((ir.size_name(self._axis_letter(c, t.factors)), Fraction(1))
                      for c in lost)
        t = Term(coef, merge_consts(consts), tuple(factors), t.output)
        ident = {c: c for c in t.letters}
        t = dataclasses.replace(t, factors=tuple(rename_factor(f, ident) for f in t.factors))
        t = self._eyes(t)
        t = self._powers(t)
        if self.domains:
            t = self._domains(t)
        return [t] if t.coef != 0 else []

    def _spread_power(self, base: ir.Factor, e: Fraction) -> tuple[
            Fraction, list[tuple[str, Fraction]], list[ir.Factor]] | None:
        """A power of a parenthesised monomial, ``(c Π f)^e = c^e Π f^e``, when exact.

        Only for a monomial that sums nothing (``(Σ_d x_d)^2`` is no ``Σ x_d^2``);
        a fractional power only of one factor with a positive coefficient whose
        power is rational, and positive constants.
        """
        if e == 1 or not isinstance(base, ir.Group) or len(base.sum.terms) != 1:
            return None
        p = base.sum.terms[0]
        inner = Term.of(p)
        if inner.bound or set(p.output) != set(base.sum.output) or p.coefficient == 0:
            return None
        whole = e.denominator == 1
        if not whole and (len(p.factors) != 1 or p.coefficient < 0 or any(
                ir.size_letter(n) is None and self.program.consts.get(n, -1) <= 0
                for n, _ in p.consts)):
            return None
        coef = _rational_power(p.coefficient, e)
        if coef is None:
            return None
        consts = [(n, q * e) for n, q in p.consts]
        factors = []
        for g in p.factors:
            b, q = split_power(g)
            factors.append(join_power(b, q * e))
        return coef, consts, factors

    def factor(self, f: ir.Factor) -> ir.Factor:
        """Simplify inside a factor, and name a call that an equation defines."""
        if isinstance(f, ir.Power):
            base = self.factor(f.base)
            b, e = split_power(base)
            return join_power(b, e * f.exponent)
        if isinstance(f, ir.Inverse):
            b, e = split_power(self.factor(f.base))
            return join_power(b, -e)
        if isinstance(f, ir.Group):
            return ir.Group(self.inner(f.sum))
        if isinstance(f, ir.Call):
            args = _one_arg_holds_all(tuple(self.inner(a) for a in f.args))
            carried = {c for a in args for c in a.output} | ({f.index} if f.index else set())
            resolved = FUNCTIONS.get(f.function)
            if f.index and resolved is not None and resolved.reduces:
                carried.discard(f.index)
            output = "".join(c for c in f.output if c in carried)
            f = dataclasses.replace(f, args=args, output=output)
            constant = self._constant_softmax(f)
            if constant is not None:
                return constant
            by_value = self._prime_by_value(f)
            if by_value is not None:
                return by_value
            if f.function == "sqrt" and f.primes == 1 and f.label is None:
                # sqrt'(u) = 1/(2 sqrt(u)): a fraction, which names z = sqrt(u) and cancels
                root = self.factor(dataclasses.replace(f, primes=0))
                half = ir.Product(Fraction(1, 2), (), (ir.Inverse(root),), "", "", f.output)
                return ir.Group(ir.Sum((half,), f.output))
            found = self.defined.get((f.function, f.label, f.primes))
            if found is not None:
                call, target = found
                if len(call.output) == len(f.output):
                    m = dict(zip(call.output, f.output))
                    if factor_key(rename_factor(call, m)) == factor_key(f):
                        return dataclasses.replace(target, upper=map_letters(target.upper, m),
                                                   lower=map_letters(target.lower, m), pos=(0, 0))
        return f

    def _constant_softmax(self, f: ir.Call) -> ir.Factor | None:
        """``softmax[k]`` of an argument constant along k (it cancelled: ``-g + g``) is 1/|k|."""
        if f.function != "softmax" or not f.index or f.primes or any(
                f.index in a.output for a in f.args):
            return None
        home = home_letter(self.program, f.index)
        if home is None:
            return None
        size = ir.Product(Fraction(1), ((ir.size_name(home), Fraction(-1)),), (), "", "", "")
        return ir.Group(ir.Sum((size,), ""))

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
                elsewhere = set(t.output) | top_letters(others)
                if len(letters) == 1:
                    home = None if letters in elsewhere else home_letter(self.program, letters)
                    if letters in elsewhere or home is not None:
                        # eye^c_c beside c: 1; summed alone: |c|, the size of c's axis
                        factors = others
                        if home is not None:
                            t = dataclasses.replace(t, consts=merge_consts(
                                t.consts, ((ir.size_name(home), Fraction(1)),)))
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
                try:
                    others = [rename_factor(g, {**ident, **m}) for g in others]
                except CollapseError:  # softmax's index or inv's rows and columns: keep eye
                    continue
                rest = "".join(c for c in letters if c not in merge)
                if len(rest) > 1:
                    others.insert(i, ir.Eye(rest[0], rest[1:]))
                elif keep not in (set(t.output) | top_letters(others)):
                    others.insert(i, ir.Eye(keep, keep))
                factors = others
                changed = True
                break
        return dataclasses.replace(t, factors=tuple(factors))

    def _powers(self, t: Term) -> Term:
        groups: dict[tuple[Any, ...], list[int]] = {}
        split = [split_power(f) for f in t.factors]
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
                    factors.append(join_power(base, total))
                continue
            factors.append(t.factors[i])
        carried = top_letters(factors) | set(t.output)
        lost = [c for c in dict.fromkeys(c for f in t.factors for c in ir.factor_output(f))
                if c not in carried]
        consts = merge_consts(t.consts, ((ir.size_name(self._axis_letter(c, t.factors)),
                                          Fraction(1)) for c in lost))
        return dataclasses.replace(t, consts=consts, factors=tuple(factors))

    def _sized(self, t: Term, source: Term) -> Term:
        """``t``, made from ``source``, with each size it left named by the program's letter.

        Multiplying out ``(c^a + s)`` leaves ``|a|`` on the term of ``s``, which
        is constant along a; ``a`` may be a letter derivation made up, and the
        size is that of the axis ``a`` names in ``source`` (c's own).
        """
        had = dict(source.consts)
        new = [(n, p - had.get(n, Fraction(0))) for n, p in t.consts]
        moved = [(n, p) for n, p in new if p > 0 and ir.size_letter(n) is not None
                 and self._axis_letter(ir.size_letter(n) or "", source.factors)
                 != ir.size_letter(n)]
        if not moved:
            return t
        fixed = [(ir.size_name(self._axis_letter(ir.size_letter(n) or "", source.factors)), p)
                 for n, p in moved]
        return dataclasses.replace(t, consts=merge_consts(t.consts, [(n, -p) for n, p in moved],
                                                          fixed))

    def _axis_letter(self, c: str, factors: Iterable[ir.Factor]) -> str:
        """The program's own letter for the axis that ``c`` names in ``factors``.

        A letter that cancels (``x^{ab} / x^{ab}``) leaves its size behind;
        derivation may have renamed it to a letter the program does not size
        (or sizes differently), so the size is that of the tensor's own axis.
        """
        for f in factors:
            base, _ = split_power(f)
            found = self._axis_in(c, base)
            if found is not None:
                return found
        return c

    def _axis_in(self, c: str, f: ir.Factor) -> str | None:
        refs: list[ir.Ref] = []
        if isinstance(f, ir.Ref):
            refs = [f]
        elif isinstance(f, ir.DerivRef):
            refs = [f.wrt] if f.top is None else [f.top, f.wrt]
        elif isinstance(f, ir.Window) and not f.eye:
            info = self.program.tensors.get(f.key)
            for axis, (terms, offset) in enumerate(f.slots):
                if info is not None and terms == ((c, 1),) and offset == 0:
                    return info.letters[axis]
            return None
        elif isinstance(f, (ir.Call, ir.Group)):
            sums = f.args if isinstance(f, ir.Call) else (f.sum,)
            for expr in sums:
                for p in expr.terms:
                    if c in p.output:
                        found = next((x for x in (self._axis_in(c, split_power(g)[0])
                                                  for g in p.factors) if x), None)
                        if found is not None:
                            return found
            return None
        for r in refs:
            info = self.program.tensors.get(r.key)
            if info is not None and c in r.subscripts:
                return info.letters[r.subscripts.index(c)]
        return None

    def _domains(self, t: Term) -> Term:
        factors = list(t.factors)
        for i, f in enumerate(factors):
            if not isinstance(f, ir.Ref) or f.key not in self.onehot:
                continue
            subs = f.subscripts
            letter = subs[self.onehot[f.key]]
            others = factors[:i] + factors[i + 1:]
            around = top_letters(others) | set(t.output)
            if subs.count(letter) != 1 or letter in around or letter in _letters_of(others):
                continue
            if any(c not in around for c in subs if c != letter):
                continue
            return self._domains(dataclasses.replace(t, factors=tuple(others)))
        return t


def _rational_power(c: Fraction, e: Fraction) -> Fraction | None:
    """``c^e`` when it is rational (``4^{1/2} = 2``), else None.

    >>> _rational_power(Fraction(4), Fraction(-1, 2)), _rational_power(Fraction(2), Fraction(1, 2))
    (Fraction(1, 2), None)
    """
    if e.denominator == 1:
        return c ** int(e) if c != 0 or e > 0 else None
    if c <= 0:
        return None
    roots = []
    for part in (c.numerator, c.denominator):
        root = round(part ** (1 / e.denominator))
        for r in (root - 1, root, root + 1):
            if r > 0 and r ** e.denominator == part:
                roots.append(r)
                break
        else:
            return None
    return Fraction(roots[0], roots[1]) ** e.numerator


def _one_holds_all(products: tuple[ir.Product, ...], output: str) -> tuple[ir.Product, ...]:
    """``products``, one of which holds every letter of ``output`` (the language needs one).

    Inside parentheses or a call, a term may lack letters of its sum only
    when another term has them all (``tanh(x^n + b_h)`` does not read); the
    term with the most letters then takes ``eye^h_h`` (1 for every h) for
    each letter it lacks: ``tanh(x^n eye^h_h + b_h)``.
    """
    if len(products) < 2 or any(set(output) <= set(p.output) for p in products):
        return products
    best = max(range(len(products)), key=lambda k: len(set(products[k].output)))
    p = products[best]
    missing = [c for c in output if c not in p.output]
    eyes = tuple(ir.Eye(c, c) for c in missing)
    full = "".join(c for c in output if c in p.output or c in missing)
    widened = dataclasses.replace(p, factors=(*p.factors, *eyes), output=full)
    return (*products[:best], widened, *products[best + 1:])


def _one_arg_holds_all(args: tuple[ir.Sum, ...]) -> tuple[ir.Sum, ...]:
    """A call's arguments, one of which holds every letter of them all (``loss`` needs one).

    ``loss(W^i + 2, 3/2 U_{mn} c^m)``, after ``Σ_k eye^k_m`` left the first
    without m, does not read; the argument with the most letters takes
    ``eye^m_m`` (1 for every m) in each of its terms for each letter it lacks.
    """
    if len(args) < 2:
        return args
    union = "".join(dict.fromkeys(c for a in args for c in a.output))
    if any(set(union) <= set(a.output) for a in args):
        return args
    best = max(range(len(args)), key=lambda k: len(set(args[k].output)))
    arg = args[best]
    missing = tuple(ir.Eye(c, c) for c in union if c not in arg.output)
    output = arg.output + "".join(e.upper for e in missing)
    terms = tuple(dataclasses.replace(p, factors=(*p.factors, *missing),
                                      output=p.output + "".join(e.upper for e in missing))
                  for p in arg.terms)
    return (*args[:best], ir.Sum(terms, output), *args[best + 1:])


#: The most terms that multiplying out the parentheses of a sum may make.
_MAX_EXPANDED = 64


def distribute(t: Term) -> list[Term]:
    """``t`` with every top-level parenthesised sum multiplied out (at most about 64 terms)."""
    for i, f in enumerate(t.factors):
        if isinstance(f, ir.Group):
            rest = Term(t.coef, t.consts, t.factors[:i] + t.factors[i + 1:],
                        "".join(dict.fromkeys(t.output + f.sum.output)))
            out: list[Term] = []
            for p in f.sum.terms:
                out.extend(distribute(multiply(rest, Term.of(p), t.output)))
                if len(out) > _MAX_EXPANDED:
                    return out
            return out
    return [t]


def _cost(terms: Iterable[Term]) -> int:
    """How much there is to read: terms, and factors counted into parentheses and calls."""
    return sum(1 + sum(_factor_cost(f) for f in t.factors) for t in terms)


def _factor_cost(f: ir.Factor) -> int:
    base, _ = split_power(f)
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
    base, _ = split_power(f)
    if isinstance(base, ir.DerivRef):
        return True
    sums: Sequence[ir.Sum] = ()
    if isinstance(base, ir.Call):
        sums = base.args
    elif isinstance(base, ir.Group):
        sums = (base.sum,)
    return any(_has_deriv(g) for s in sums for p in s.terms for g in p.factors)


def _letters_of(factors: Iterable[ir.Factor]) -> set[str]:
    out: set[str] = set()
    for f in factors:
        out |= all_letters(f)
    return out
