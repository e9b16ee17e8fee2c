"""Summed letters that keep one size: what derivation invents, it names consistently.

A program gives each letter one size (INDEX-LANGUAGE.md, rule 8), so a summed
letter that renaming made up (``j`` in ``Σ_j ŷ^n_j``) must not be one that
names an axis of another size elsewhere. :func:`reletter` renames such
letters; the letters it invents for a program are remembered here, per
program, so that every derivation of one program agrees on them.

>>> from indexnet.program import parse
>>> p = parse("input x^n_d\\nparam w^d\\nL = sum_n sigmoid(x^n_d w^d)")
>>> [str(d) for d in reletter(p, p.derive().derivations)]
["dL/dw^d = xᵀ_n^d sigmoid'(x^n_b w^b)"]
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Sequence

from .. import ir
from ..errors import NotSupportedError
from ..ir.module import Module
from ..ir.terms import all_letters, call_bound, rename_factor

__all__ = ["fresh_like", "home_letter", "invent_letter", "reletter"]

Class = tuple[str, ...]

#: Letters invented for a class of indices, per program (by identity of meaning).
_INVENTED: weakref.WeakKeyDictionary[Module, dict[str, Class]] = weakref.WeakKeyDictionary()


def _made_up_letters(program: Module) -> dict[str, Class]:
    """The letters already invented for ``program``, each with its size class."""
    return _INVENTED.setdefault(program, {})


class _Reletter:
    """Give every summed letter of a derivation a letter whose program-wide size fits.

    A program gives each letter one size (rule 8), so a summed letter that
    renaming made up (``j`` in ``Σ_j ŷ^n_j``) must not be one that names an
    axis of another size elsewhere.
    """

    def __init__(self, program: Module) -> None:
        self.model = program.size_model
        self.fresh = _made_up_letters(program)
        self.known = set(self.model.letters)
        # a summed letter that is also a tensor's name reads as that tensor: never invent one
        self.names = {k for k in program.tensors if len(k) == 1} - self.known

    def root(self, letter: str) -> tuple[str, ...] | None:
        """The size class of a letter of the program (None for one it does not use)."""
        if letter not in self.known:
            return None
        return self.model.letter_class(letter)

    def axes(self, f: ir.Factor, out: dict[str, tuple[str, ...]]) -> None:
        """Record in ``out`` the size class of each letter that ``f`` puts on a tensor axis."""
        while isinstance(f, (ir.Power, ir.Inverse)):
            f = f.base
        if isinstance(f, (ir.Ref, ir.DerivRef)):
            self._ref_axes(f if isinstance(f, ir.Ref) else f.wrt, out)
        elif isinstance(f, ir.Call):
            for a in f.args:
                self._sum_axes(a, out)
        elif isinstance(f, ir.Group):
            self._sum_axes(f.sum, out)

    def _ref_axes(self, ref: ir.Ref, out: dict[str, tuple[str, ...]]) -> None:
        """A tensor's letters get the classes of its axes."""
        if ref.key not in self.model.program.tensors:
            return
        for axis, c in enumerate(ref.subscripts):
            out.setdefault(c, self.model.axis_class(ref.key, axis))

    def _sum_axes(self, expr: ir.Sum, out: dict[str, tuple[str, ...]]) -> None:
        """An inner sum's output letters get the classes its terms give them."""
        for p in expr.terms:
            sub: dict[str, tuple[str, ...]] = {}
            for g in p.factors:
                self.axes(g, sub)
            for c in p.output:
                if c in sub:
                    out.setdefault(c, sub[c])

    def sum(self, expr: ir.Sum, outer: set[str], taken: set[str] | None = None) -> ir.Sum:
        """Reletter every term of ``expr`` (``outer``: the letters bound around it).

        ``taken`` holds the letters the enclosing top-level term already uses
        (None at the top: each term starts its own).
        """
        return dataclasses.replace(expr, terms=tuple(self.product(p, outer, taken)
                                                     for p in expr.terms))

    def product(self, p: ir.Product, outer: set[str],
                taken: set[str] | None = None) -> ir.Product:
        """Rename each summed letter whose program-wide size differs from the axes it names.

        Inside a call's argument or a parenthesis (``taken`` given), a summed
        letter that the enclosing term uses anywhere else is renamed too: the
        language sums a letter inside only where it occurs nowhere else in
        the term (rule 3), so ``softmax[n](W_n U_i c^i) softmax[k](W_k U_i c^i)``
        would read as one sum over i outside both calls.
        """
        inner = taken is not None
        taken = set(outer) if taken is None else taken
        roots: dict[str, tuple[str, ...]] = {}
        for f in p.factors:
            self.axes(f, roots)
        for f in p.factors:
            if isinstance(f, ir.Eye):
                known = [roots[c] for c in f.subscripts if c in roots]
                for c in f.subscripts:
                    if known:
                        roots.setdefault(c, known[0])
        used = set(outer) | set(p.output) | taken
        for f in p.factors:
            used |= all_letters(f)
        m: dict[str, str] = {}
        for b in p.summed:
            r = roots.get(b)
            clash = inner and b in taken
            if not clash and b not in self.names and (r is None or self.root(b) == r):
                continue
            if not clash and b not in self.names and b not in self.known \
                    and self.fresh.get(b) == r:
                continue
            choice = next((c for c in self.model.letters if self.root(c) == r and c not in used),
                          None) if r is not None else None
            if choice is None:
                choice = next(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              if c not in used and c not in self.known and c not in self.names
                              and (r is None or self.fresh.get(c, r) == r))
                if r is not None:
                    self.fresh[choice] = r
            m[b] = choice
            used.add(choice)
        if m:
            ident = {c: c for c in used if c not in m}
            factors = tuple(rename_factor(f, {**ident, **m}) for f in p.factors)
            p = dataclasses.replace(p, factors=factors,
                                    explicit="".join(m.get(c, c) for c in p.explicit),
                                    summed="".join(m.get(c, c) for c in p.summed))
        taken |= set(p.output) | set(p.summed)
        for f in p.factors:
            taken |= set(ir.factor_output(f))
        inner_outer = set(outer) | set(p.output) | set(p.summed)
        factors = tuple(self.factor(f, inner_outer, taken) for f in p.factors)
        return dataclasses.replace(p, factors=factors)

    def factor(self, f: ir.Factor, outer: set[str], taken: set[str]) -> ir.Factor:
        """Reletter the sums inside ``f`` (a call's arguments, a parenthesis)."""
        if isinstance(f, (ir.Power, ir.Inverse)):
            return dataclasses.replace(f, base=self.factor(f.base, outer, taken))
        if isinstance(f, ir.Group):
            return ir.Group(self.sum(f.sum, outer, taken))
        if isinstance(f, ir.Call):
            taken |= set(call_bound(f))
            return dataclasses.replace(f, args=tuple(self.sum(a, outer, taken) for a in f.args))
        return f


def reletter(program: Module, derivations: Sequence[ir.Derivation]) -> list[ir.Derivation]:
    """Derivations whose summed letters each keep one size across ``program``."""
    r = _Reletter(program)
    return [dataclasses.replace(d, rhs=r.sum(d.rhs, set(d.free))) for d in derivations]


def invent_letter(program: Module, axis: Class, avoid: set[str], prefer: str = "") -> str:
    """A letter for an axis of size class ``axis`` that ``program`` does not use.

    Letters invented for one program keep one size class, so that every
    derivative of the program can be evaluated together.
    """
    fresh = _made_up_letters(program)
    known = set(program.size_model.letters)
    for c in prefer + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if c not in avoid and c not in known and fresh.get(c, axis) == axis:
            fresh[c] = axis
            return c
    raise NotSupportedError("no letter is left for a new index: the program uses all 52")


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: Per program, the letters made up while deriving, each with the program letter whose
#: size it has (apart from the letters :func:`reletter` settles on, which it remembers).
_HOMES: weakref.WeakKeyDictionary[Module, dict[str, str]] = weakref.WeakKeyDictionary()


def _homes(program: Module) -> dict[str, str]:
    return _HOMES.setdefault(program, {})


def home_letter(program: Module, letter: str) -> str | None:
    """A letter of ``program`` whose size ``letter`` has (itself, for a letter the program uses).

    A letter that derivation made up for one (:func:`fresh_like`) has its
    size; any other letter has no known size (None).
    """
    if letter in set(program.size_model.letters):
        return letter
    return _homes(program).get(letter)


def fresh_like(program: Module, like: str, avoid: set[str], prefer: str = "") -> str:
    """A new letter, not in ``avoid``, with the size of ``like`` in ``program``.

    A letter of the program of that size first, else the first one the
    program does not use (and that was not made up for another size), which
    is remembered for ``like``'s size; never a letter the program sizes
    otherwise. :func:`reletter` gives the made-up letters their final names.
    """
    model = program.size_model
    known = set(model.letters)
    homes = _homes(program)
    home = home_letter(program, like)
    cls = model.letter_class(home) if home is not None else None
    same = "".join(c for c in model.letters if cls is not None and model.letter_class(c) == cls)
    for c in same + prefer + _LETTERS:
        if c in avoid:
            continue
        if c in known:
            if cls is not None and model.letter_class(c) == cls:
                return c
            continue
        other = homes.get(c)
        if other is not None and (cls is None or model.letter_class(other) != cls):
            continue
        if home is not None:
            homes[c] = home
        return c
    raise NotSupportedError("no letter is left for a new index: the program uses all 52")
