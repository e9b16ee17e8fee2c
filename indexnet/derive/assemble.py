"""A derived program put together: derivations in place, the reader's own δ names kept.

A program may define tensors through derivative atoms, as the seed does
(``^n(δ_ℓ)_k = ∂L/∂^n(a_ℓ)_k``). :func:`derived_statements` adds the
derivations ``derive`` worked out to such a program so that it evaluates in
order (every statement after what it reads) and reads as the seed does: a
derivative that some equation names (``δ = dL/da``) is written by that name
in the other derivatives (``dL/dW = xᵀ δ``, not ``xᵀ dL/da``).

>>> from indexnet.program import parse
>>> p = parse('''
... input x^n_d
... param W^d_k
... a^n_k = x^n_d W^d_k
... L = sum_{nk} a^n_k a^n_k
... delta^n_k = dL/da^n_k
... ''')
>>> for s in p.derive().derivations:
...     print(s)
dL/da^n_k = 2 a^n_k
dL/dW^d_k = xᵀ_n^d delta^n_k
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from .. import ir

__all__ = ["deriv_refs", "derivative_names", "derived_statements", "needed_by", "read_atoms",
           "reads_derivatives", "shown_for"]


def read_atoms(module: ir.Module) -> list[ir.DerivRef]:
    """Every derivative atom that an equation of ``module`` reads, in order."""
    return [f for eq in module.equations for f in deriv_refs(eq.rhs)]


def reads_derivatives(module: ir.Module) -> set[str]:
    """The tensors defined through a derivative atom, directly or through another such tensor.

    >>> from indexnet.program import parse
    >>> sorted(reads_derivatives(parse("input x^i\\nL = x^i x^i\\ng^i = dL/dx^i\\nG = g^i g^i")))
    ['G', 'g']
    """
    post: set[str] = set()
    for eq in module.equations:
        if deriv_refs(eq.rhs) or {r.key for r in ir.iter_refs(eq.rhs)} & post:
            post.add(eq.target.key)
    return post


def derivative_names(module: ir.Module) -> dict[str, ir.Ref]:
    """The derivatives equations name: ``dL/da`` → ``delta^n_k`` for ``delta^n_k = dL/da^n_k``.

    Only an equation that is the atom alone, with the atom's letters in the
    same order and the same split into upper and lower, names it.
    """
    names: dict[str, ir.Ref] = {}
    for eq in module.equations:
        terms = eq.rhs.terms
        if len(terms) != 1:
            continue
        (p,) = terms
        if p.coefficient != 1 or p.consts or len(p.factors) != 1:
            continue
        (atom,) = p.factors
        if not isinstance(atom, ir.DerivRef) or atom.wrt.transposed:
            continue
        target = eq.target
        if (target.upper, target.lower) != (atom.wrt.upper, atom.wrt.lower) or target.transposed:
            continue
        names.setdefault(ir.deriv_key(atom.of, atom.wrt.key), target)
    return names


def derived_statements(module: ir.Module, derivations: Sequence[ir.Derivation]
                       ) -> tuple[ir.Statement, ...]:
    """``module``'s statements (claims and old derivations left out) with ``derivations`` added.

    The declarations come first, then the equations and derivations, each
    after every tensor and derivative it reads; where an equation names a
    derivative (``delta = dL/da``), the other derivations read it by that name.
    """
    names = derivative_names(module)
    renamed = [_rename(d, names) for d in derivations]
    decls = [s for s in module.statements
             if not isinstance(s, (ir.Equation, ir.Claim, ir.Derivation))]
    post = reads_derivatives(module)
    pre = [eq for eq in module.equations if eq.target.key not in post]
    rest = [eq for eq in module.equations if eq.target.key in post]
    return (*decls, *_in_order([*pre, *renamed, *rest]))


def _rename(d: ir.Derivation, names: Mapping[str, ir.Ref]) -> ir.Derivation:
    """``d`` reading every named derivative by its name (never its own)."""
    own = {k: v for k, v in names.items() if k != d.key}
    return dataclasses.replace(d, rhs=_rename_sum(d.rhs, own)) if own else d


def _rename_sum(expr: ir.Sum, names: Mapping[str, ir.Ref]) -> ir.Sum:
    """``expr`` reading each derivative of ``names`` by its name, spelled as it was written."""

    def by_name(f: ir.Factor) -> ir.Factor | None:
        if not isinstance(f, ir.DerivRef):
            return None
        target = names.get(ir.deriv_key(f.of, f.wrt.key))
        if target is None:
            return f
        wrt = f.wrt
        return dataclasses.replace(target, upper=wrt.upper, lower=wrt.lower,
                                   transposed=wrt.transposed, pos=f.pos)

    return ir.rewrite_sum(expr, by_name)


def _defines(s: ir.Statement) -> str:
    if isinstance(s, ir.Derivation):
        return s.key
    assert isinstance(s, ir.Equation)
    return s.target.key


def _reads(s: ir.Equation | ir.Derivation) -> set[str]:
    keys = {r.key for r in ir.iter_refs(s.rhs)}
    keys |= {ir.deriv_key(a.of, a.wrt.key) for a in deriv_refs(s.rhs)}
    return keys


def _in_order(statements: Iterable[ir.Equation | ir.Derivation]) -> list[ir.Statement]:
    """``statements`` in the order given, except that each comes after what it reads."""
    remaining = list(statements)
    defined = {_defines(s) for s in remaining}
    placed: set[str] = set()
    out: list[ir.Statement] = []
    while remaining:
        for s in remaining:
            if (_reads(s) & defined) <= placed | {_defines(s)}:
                break
        else:  # a cycle cannot be ordered: keep the order given
            out.extend(remaining)
            break
        out.append(s)
        placed.add(_defines(s))
        remaining.remove(s)
    return out


def deriv_refs(expr: ir.Sum) -> list[ir.DerivRef]:
    """Every derivative atom in ``expr``, inner ones included."""
    found = []
    for p in ir.iter_products(expr):
        for f in p.factors:
            while isinstance(f, (ir.Power, ir.Inverse)):
                f = f.base
            if isinstance(f, ir.DerivRef):
                found.append(f)
    return found


def needed_by(module: ir.Module, of: str) -> set[str]:
    """Every tensor that ``of`` is computed from (``of`` included), through equations and atoms.

    >>> from indexnet.program import parse
    >>> sorted(needed_by(parse("input x^i, y\\nL = x^i x^i\\nM = y y\\ng^i = dL/dx^i"), "g"))
    ['L', 'g', 'x']
    """
    defining = {eq.target.key: eq for eq in module.equations}
    needed: set[str] = set()
    stack = [of]
    while stack:
        key = stack.pop()
        if key in needed:
            continue
        needed.add(key)
        if key in defining:
            rhs = defining[key].rhs
            stack.extend(r.key for r in ir.iter_refs(rhs))
            stack.extend(a.of for a in deriv_refs(rhs))
    return needed


def shown_for(derived: ir.Module, wanted: Sequence[str]) -> list[ir.Derivation]:
    """The derivations by ``wanted`` tensors, with those they read (directly or by a δ name).

    What ``derive --wrt`` prints: a derivative and what it is written in, not
    every derivative the program's equations read.
    """
    names = {ref.key: key for key, ref in derivative_names(derived).items()}
    by_key = {d.key: d for d in derived.derivations}
    keep: set[str] = set()
    stack = [d.key for d in derived.derivations if d.wrt.key in wanted]
    while stack:
        key = stack.pop()
        if key in keep or key not in by_key:
            continue
        keep.add(key)
        rhs = by_key[key].rhs
        stack += [a.key for a in deriv_refs(rhs)]
        stack += [names[r.key] for r in ir.iter_refs(rhs) if r.key in names]
    return [d for d in derived.derivations if d.key in keep]
