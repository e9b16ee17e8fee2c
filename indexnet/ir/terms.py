"""The term algebra of derivatives: monomials, letter renaming, canonical keys.

A :class:`Term` is a monomial ``coef · Π consts^p · Π factors`` with output
letters; every other letter is summed (einsum semantics). Renaming keeps
bound letters apart, :func:`multiply` joins two monomials, and the keys
(:func:`factor_key`, :func:`term_key`) compare terms up to renaming their
summed letters. Derivation (:mod:`indexnet.derive`) and diagnosis
(:mod:`indexnet.check`) both build on it.

>>> from fractions import Fraction
>>> t = Term(Fraction(2), (), (ir.Ref("x", None, "i", ""),), "i")
>>> rename_term(t, {"i": "j"}).factors[0].upper
'j'
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from . import nodes as ir
from .elementwise import MATRIX_FUNCTIONS

__all__ = [
    "LETTERS",
    "CollapseError",
    "Term",
    "all_letters",
    "as_factor",
    "call_bound",
    "factor_key",
    "fresh_letter",
    "inventing",
    "map_letters",
    "matrix_letters",
    "merge_consts",
    "multiply",
    "new_letter",
    "rename_factor",
    "rename_sum",
    "rename_term",
    "term_key",
]

LETTERS = string.ascii_lowercase + string.ascii_uppercase


class CollapseError(ValueError):
    """A renaming would merge two axes of a call that is not elementwise along them.

    Renaming ``i`` to ``j`` in an elementwise call takes a diagonal, which
    commutes with the function: ``tanh(x^{ij})`` at ``i = j`` is
    ``tanh(x^{jj})``. Not so for the index of ``softmax[k]`` or the rows and
    columns of ``inv``: the diagonal of ``inv(A)`` is not ``inv`` of A's
    diagonal. Callers that merge letters (the Kronecker-delta rule) catch
    this and keep the delta.
    """


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


#: How letters are invented while a program is derived (see :func:`inventing`).
_INVENT: ContextVar[Callable[[str, set[str], str], str] | None] = ContextVar(
    "invent", default=None)


@contextmanager
def inventing(invent: Callable[[str, set[str], str], str]) -> Iterator[None]:
    """Within the block, a letter renamed off a clash is ``invent(like, avoid, prefer)``.

    Derivation installs a chooser that knows the program's sizes, so that a
    made-up letter has the size of the letter it stands for (never a letter
    the program sizes otherwise); outside, :func:`fresh_letter` is used.
    """
    token = _INVENT.set(invent)
    try:
        yield
    finally:
        _INVENT.reset(token)


def new_letter(like: str, avoid: Iterable[str], prefer: str = "") -> str:
    """A letter, not in ``avoid``, to stand for ``like`` (same size where it is known).

    >>> new_letter("i", "ij")
    'a'
    """
    invent = _INVENT.get()
    if invent is None:
        return fresh_letter(avoid, prefer)
    return invent(like, set(avoid), prefer)


def map_letters(letters: str, m: Mapping[str, str]) -> str:
    """``letters`` with each letter renamed by ``m`` (others kept)."""
    return "".join(m.get(c, c) for c in letters)


def _map_output(letters: str, m: Mapping[str, str]) -> str:
    """Output letters renamed by ``m``, once each: two letters renamed to one take a diagonal.

    >>> _map_output("mi", {"i": "m"})
    'm'
    """
    return "".join(dict.fromkeys(map_letters(letters, m)))


def _check_collapse(call: ir.Call, m: Mapping[str, str]) -> None:
    """Raise :class:`CollapseError` where ``m`` merges axes ``call`` is not elementwise along."""
    mapped = map_letters(call.output, m)
    if len(set(mapped)) == len(mapped):
        return
    if call.function in MATRIX_FUNCTIONS:
        raise CollapseError(f"renaming would merge the rows and columns of {call.function}")
    if call.index and call.index in call.output and mapped.count(m.get(call.index,
                                                                       call.index)) > 1:
        raise CollapseError(f"renaming would merge the index of {call.function}[{call.index}] "
                            "with another")


def all_letters(factor: ir.Factor) -> set[str]:
    """Letters anywhere in a factor, inner bound letters included."""
    while isinstance(factor, (ir.Power, ir.Inverse)):
        factor = factor.base
    out = set(ir.factor_output(factor))
    sums: Sequence[ir.Sum] = ()
    if isinstance(factor, ir.Call):
        sums = factor.args
        out.update(factor.index or "")
    elif isinstance(factor, ir.Group):
        sums = (factor.sum,)
    for s in sums:
        for t in s.terms:
            for f in t.factors:
                out |= all_letters(f)
    return out


def rename_factor(factor: ir.Factor, m: Mapping[str, str]) -> ir.Factor:
    """Rename the letters of a factor; inner summed letters dodge the new names.

    >>> rename_factor(ir.Ref("x", None, "n", "d"), {"n": "m"})
    Ref(name='x', label=None, upper='m', lower='d', transposed=False, pos=(0, 0))
    """
    if isinstance(factor, (ir.Ref, ir.Eye)):
        return dataclasses.replace(factor, upper=map_letters(factor.upper, m),
                                   lower=map_letters(factor.lower, m))
    if isinstance(factor, ir.Window):
        slots = tuple((tuple((m.get(c, c), a) for c, a in terms), offset)
                      for terms, offset in factor.slots)
        return dataclasses.replace(factor, slots=slots)
    if isinstance(factor, ir.DerivRef):
        wrt, top = factor.wrt, factor.top
        if top is not None:
            top = dataclasses.replace(top, upper=map_letters(top.upper, m),
                                      lower=map_letters(top.lower, m))
        return dataclasses.replace(factor, wrt=dataclasses.replace(
            wrt, upper=map_letters(wrt.upper, m), lower=map_letters(wrt.lower, m)), top=top)
    if isinstance(factor, (ir.Power, ir.Inverse)):
        return dataclasses.replace(factor, base=rename_factor(factor.base, m))
    if isinstance(factor, ir.Group):
        return ir.Group(rename_sum(factor.sum, m))
    factor = _dodge(factor, m)
    _check_collapse(factor, m)
    args = tuple(rename_sum(a, m) for a in factor.args)
    index = map_letters(factor.index, m) if factor.index else None
    return dataclasses.replace(factor, args=args, output=_map_output(factor.output, m),
                               index=index)


def call_bound(call: ir.Call) -> str:
    """The letters a call binds inside itself: ``k`` of ``max_k(x^n_k)``, ``ij`` of ``det(A^i_j)``.

    >>> s = ir.Sum((), "ij")
    >>> call_bound(ir.Call("det", None, 0, "ij", (s,), ""))
    'ij'
    """
    return "".join(c for c in dict.fromkeys(call.index or "") if c not in call.output)


def matrix_letters(call: ir.Call) -> tuple[str, str]:
    """The rows and columns letters of a matrix function's argument (``inv``, ``det``, ``logdet``).

    >>> matrix_letters(ir.Call("inv", None, 0, "ij", (ir.Sum((), "ij"),), "ij"))
    ('i', 'j')
    """
    index = call.index or ""
    if len(index) != 2:
        raise ValueError(f"{call.function} needs a matrix with two indices, not {index!r}")
    return index[0], index[1]


def _dodge(call: ir.Call, m: Mapping[str, str]) -> ir.Call:
    """``call`` with the letters it binds moved off the letters ``m`` renames or renames to.

    ``det(A^i_j)`` binds i and j: renaming an outer k to i must leave it alone.
    """
    clash = [c for c in call_bound(call) if c in m or c in m.values()]
    if not clash:
        return call
    taken = set(m) | set(m.values()) | all_letters(call)
    moved: dict[str, str] = {}
    for c in clash:
        moved[c] = new_letter(c, taken)
        taken.add(moved[c])
    return _rename_bound(call, moved)


def _rename_bound(call: ir.Call, m: Mapping[str, str]) -> ir.Call:
    """``call`` with letters it binds renamed by ``m`` (its output letters stay)."""
    args = tuple(rename_sum(a, m) for a in call.args)
    return dataclasses.replace(call, args=args, index=map_letters(call.index or "", m))


def rename_sum(expr: ir.Sum, m: Mapping[str, str]) -> ir.Sum:
    """Rename the free letters of a sum (``m``'s values are kept clear of inner sums)."""
    return ir.Sum(tuple(_rename_product(t, m) for t in expr.terms), _map_output(expr.output, m))


def _rename_product(p: ir.Product, m: Mapping[str, str]) -> ir.Product:
    t = rename_term(Term.of(p), m, avoid=set(m.values()) | set(m))
    full = _bound_map(Term.of(p), m, set(m.values()) | set(m))
    explicit = map_letters(p.explicit, full)
    summed = map_letters(p.summed, full)
    return ir.Product(t.coef, t.consts, t.factors, explicit, summed, t.output, p.pos)


def _bound_map(t: Term, m: Mapping[str, str], avoid: set[str]) -> dict[str, str]:
    full = {c: m.get(c, c) for c in t.output}
    taken = set(avoid) | set(full.values())
    inner: set[str] = set()
    for f in t.factors:
        inner |= all_letters(f)
    for b in t.bound:
        if b in taken:
            full[b] = new_letter(b, taken | inner | set(t.letters))
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
    return Term(t.coef, t.consts, factors, _map_output(t.output, full))


def merge_consts(*groups: Iterable[tuple[str, Fraction]]) -> tuple[tuple[str, Fraction], ...]:
    """Constants of several monomials multiplied: powers of one name added."""
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

    A letter summed here that no factor carries was a broadcast; it leaves
    its size behind (Σ_n c = |n| c):

    >>> multiply(Term(Fraction(1), (), (), "n"), Term(Fraction(1), (), (), ""), "").consts
    (('|n|', Fraction(1, 1)),)
    """
    b = rename_term(b, {}, avoid=set(a.letters) | set(output))
    a = rename_term(a, {}, avoid=set(b.output) | set(output))
    factors = a.factors + b.factors
    return Term(a.coef * b.coef, merge_consts(a.consts, b.consts, _lost(a, b, factors, output)),
                factors, output)


def _lost(a: Term, b: Term, factors: tuple[ir.Factor, ...],
          output: str) -> tuple[tuple[str, Fraction], ...]:
    """A size ``|n|`` for every letter that the product sums but no factor carries.

    A free letter of ``a`` or ``b`` that no factor holds stands for a broadcast
    (the term is constant along it); summing it away multiplies by its size.
    """
    carried = {c for f in factors for c in ir.factor_output(f)}
    lost = dict.fromkeys(c for c in a.output + b.output if c not in output and c not in carried)
    return tuple((ir.size_name(c), Fraction(1)) for c in lost)


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
    if isinstance(f, ir.Window):
        return ("W", f.key, f.eye, f.slots)
    if isinstance(f, ir.DerivRef):
        return ("D", f.of, f.wrt.key, ir.factor_output(f))
    if isinstance(f, ir.Power):
        return ("P", factor_key(f.base), f.exponent)
    if isinstance(f, ir.Inverse):
        return ("P", factor_key(f.base), Fraction(-1))
    if isinstance(f, ir.Group):
        return ("G", _sum_key(f.sum))
    bound = call_bound(f)
    if bound:  # max_k(x^n_k) is max_j(x^n_j): the letters it binds get canonical names
        f = _rename_bound(f, {c: _BOUND[k] for k, c in enumerate(bound)})
    return ("C", f.function, f.label, f.primes, f.index, tuple(_sum_key(a) for a in f.args),
            f.output)


def _sum_key(s: ir.Sum) -> tuple[Any, ...]:
    return (s.output, tuple(sorted(((*term_key(Term.of(t)), t.coefficient)
                                    for t in s.terms), key=repr)))


_PLACEHOLDERS = "".join(chr(0x2460 + k) for k in range(60))
#: Canonical names of the letters a call binds (apart from the placeholders of a term).
_BOUND = "".join(chr(0x2780 + k) for k in range(10))
#: Names of a factor's summed letters when terms are put in order (apart from both above).
_ANON = "".join(chr(0x24D0 + k) for k in range(26))


def term_key(t: Term) -> tuple[Any, ...]:
    """Key of a monomial without its coefficient: equal for like terms.

    >>> a = Term(Fraction(1), (), (ir.Ref("x", None, "n", ""), ir.Ref("y", None, "n", "")), "")
    >>> b = Term(Fraction(5), (), (ir.Ref("y", None, "m", ""), ir.Ref("x", None, "m", "")), "")
    >>> term_key(a) == term_key(b)
    True
    """
    bound = t.bound
    # names for summed letters that no letter of the term has (an inner term's key runs
    # inside an outer one's, whose names its letters may already be)
    present = set(t.output).union(*(all_letters(f) for f in t.factors))
    anon = [c for c in _ANON if c not in present]
    names = iter([c for c in _PLACEHOLDERS if c not in present])

    def anonymous(f: ir.Factor) -> str:
        # the factor's summed letters named by order of appearance: the key ignores their names
        own = [c for c in dict.fromkeys(ir.factor_output(f)) if c in bound]
        return repr(factor_key(rename_factor(f, {c: anon[k] for k, c in enumerate(own)})))

    order = sorted(range(len(t.factors)), key=lambda i: anonymous(t.factors[i]))
    mapping: dict[str, str] = {}
    for i in order:
        for c in ir.factor_output(t.factors[i]):
            if c in bound and c not in mapping:
                mapping[c] = next(names)
    keys = sorted((factor_key(rename_factor(t.factors[i], mapping)) for i in order), key=repr)
    return (tuple(keys), t.consts, t.output)
