"""Jacobians and second derivatives: ``dy^n_k/dx^m_d`` and ``dg^d/dw^e`` for ``g = dL/dw``.

Reverse mode runs from the tensor on top with the identity as its cotangent
(one Kronecker delta per axis, with fresh letters for the Jacobian's rows),
so every gradient carries those letters after its own; everything is inlined
and the deltas contract away. A tensor defined through a derivative atom
(``g^d = dL/dw^d``, the seed's δ) is first *flattened*: the first
derivatives it reads are worked out and written as ordinary equations (a
tensor named ``dL/dw``), so the second derivative is reverse mode over them.
Where the result reads such a tensor, it reads it back as the atom ``dL/dX``.

>>> from indexnet.program import parse
>>> p = parse('''
... input x^n_d
... param w^d
... a^n = x^n_d w^d
... L = sum_n exp(a^n)
... g^d = dL/dw^d
... ''')
>>> print(jacobian(p, "g", "w"))
dg^d/dw^e = xᵀ_n^e x^n_d exp(a^n)
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping

from .. import ir
from ..errors import InvalidArgumentError, NotSupportedError
from ..ir.module import Module
from ..ir.terms import Term, fresh_letter, inventing, rename_term
from .assemble import needed_by, read_atoms, reads_derivatives
from .reletter import fresh_like, invent_letter, reletter
from .reverse import derive, gradients, substitute_atoms
from .simplify import Simplifier, to_sum

__all__ = ["flatten", "jacobian"]

#: Letters tried first for the columns of a Jacobian whose own letters are taken.
_PREFER = "efghpqrstuvm"

#: Substitution rounds before giving up (each inlines one layer of intermediate gradients).
_ROUNDS = 64


def flatten(module: Module, of: str) -> tuple[Module, dict[str, ir.DerivRef]]:
    """``module`` with the first derivatives that ``of`` reads written as equations.

    Returns the flat program and, for each tensor it names after a derivative
    (``dL/da``), the atom it stands for. A program whose ``of`` reads no
    derivative is returned as it is.
    """
    post = reads_derivatives(module)
    base = module.replace(tuple(s for s in module.statements
                                if not isinstance(s, (ir.Claim, ir.Derivation))))
    if of not in post:
        return base, {}
    needed = needed_by(base, of)
    base = base.replace(tuple(s for s in base.statements if not isinstance(s, ir.Equation)
                              or s.target.key not in post or s.target.key in needed))
    wanted: dict[str, list[str]] = {}
    for atom in read_atoms(base):
        if atom.top is not None:
            raise NotSupportedError(
                f"d{of}/d… would differentiate the Jacobian d{atom.of}/d{atom.wrt.key}: third "
                "derivatives are not supported", line=atom.pos[0], column=atom.pos[1],
                source=module.source)
        wanted.setdefault(atom.of, []).append(atom.wrt.key)
    derivations: list[ir.Derivation] = []
    for scalar, keys in wanted.items():
        derivations += derive(base, scalar, list(dict.fromkeys(keys)), domains=False,
                              group=False)
    named = {d.key: d for d in derivations}
    tensors = dict(base.tensors)
    equations: list[ir.Statement] = []
    atoms: dict[str, ir.DerivRef] = {}
    for d in derivations:
        target = ir.Ref(d.key, None, d.wrt.upper, d.wrt.lower)
        tensors[d.key] = ir.TensorInfo(d.key, "defined", target)
        atoms[d.key] = ir.DerivRef(d.of, d.wrt)
        equations.append(ir.Equation(target, _as_refs(d.rhs, named), d.line, d.text))
    decls = [s for s in base.statements if not isinstance(s, ir.Equation)]
    pre = [eq for eq in base.equations if eq.target.key not in post]
    rest = [dataclasses.replace(eq, rhs=_as_refs(eq.rhs, named)) for eq in base.equations
            if eq.target.key in post]
    return base.replace((*decls, *pre, *equations, *rest), tensors), atoms


def jacobian(module: Module, of: str, wrt: str) -> ir.Derivation:
    """The Jacobian ``d{of}/d{wrt}``, simplified, as a derivation with the tensor on top.

    Its letters are ``of``'s (fresh ones), then ``wrt``'s own; it reads the
    program's tensors and, for a second derivative, first-derivative atoms.
    """
    flat, atoms = flatten(module, of)
    for key in (of, wrt):
        if key not in flat.tensors:
            raise InvalidArgumentError(flat._unknown(key))
    with inventing(functools.partial(fresh_like, flat)):
        return _jacobian(module, flat, atoms, of, wrt)


def _jacobian(module: Module, flat: Module, atoms: dict[str, ir.DerivRef], of: str,
              wrt: str) -> ir.Derivation:
    top_info, wrt_info = flat.tensors[of], flat.tensors[wrt]
    used: set[str] = set(flat.size_model.letters) | set(wrt_info.letters)
    outer = ""
    for _ in top_info.letters:
        outer += fresh_letter(used | set(outer))
    raw = gradients(flat, of, outer)
    simp = Simplifier(flat, domains=False)
    canon = {k: info.letters for k, info in flat.tensors.items()}
    exprs = {k: simp.sum(terms, canon[k] + outer) for k, terms in raw.items()}
    expr = exprs.get(wrt, [])
    for _ in range(_ROUNDS):
        if not any(isinstance(f, ir.DerivRef) and f.of == of for t in expr for f in t.factors):
            break
        expr = simp.sum(substitute_atoms(expr, of, exprs, canon), canon[wrt] + outer)
    else:  # pragma: no cover - the equations form no cycle
        raise NotSupportedError(f"d{of}/d{wrt} did not close after {_ROUNDS} substitutions")
    # as a reader writes it: the tensor on top in its own letters, the one below in its
    # own unless they clash (a Hessian dg^d/dw^e), then in fresh ones
    rows, cols = top_info.letters, canon[wrt]
    avoid = used | set(outer) | set(rows) | {k for k in flat.tensors if len(k) == 1}
    m = dict(zip(outer, rows))
    for axis, c in enumerate(cols):
        if c in rows:
            cls = module.size_model.axis_class(wrt, axis)
            m[c] = invent_letter(module, cls, avoid | set(m.values()), prefer=_PREFER)
    expr = [rename_term(_atoms_back(t, atoms), m) for t in expr]
    cols = "".join(m.get(c, c) for c in cols)
    top = top_info.ref
    split = len(top.upper)
    top_ref = ir.Ref(top.name, top.label, rows[:split], rows[split:])
    wrt_split = len(wrt_info.ref.upper)
    wrt_ref = ir.Ref(wrt_info.ref.name, wrt_info.ref.label, cols[:wrt_split], cols[wrt_split:])
    rhs = to_sum(simp.tidy(expr, rows + cols), rows + cols, group=False)
    found = ir.Derivation(of, wrt_ref, rhs, top=top_ref)
    return _relettered(module, found)


def _relettered(module: Module, d: ir.Derivation) -> ir.Derivation:
    """``d`` with the summed letters it invented made readable (as derive does)."""
    (out,) = reletter(module, [d])
    return out


def _as_refs(expr: ir.Sum, named: Mapping[str, ir.Derivation]) -> ir.Sum:
    """``expr`` reading each atom of ``named`` as the tensor named after it."""

    def as_ref(f: ir.Factor) -> ir.Factor | None:
        if isinstance(f, ir.DerivRef) and f.top is None and f.key in named:
            return ir.Ref(f.key, None, f.wrt.upper, f.wrt.lower, f.wrt.transposed, f.pos)
        return None

    return ir.rewrite_sum(expr, as_ref)


def _atoms_back(t: Term, atoms: Mapping[str, ir.DerivRef]) -> Term:
    """``t`` reading each flattened tensor ``dL/dX`` as the atom it stands for."""

    def atom(f: ir.Factor) -> ir.Factor | None:
        if isinstance(f, ir.Ref) and f.key in atoms:
            wrt = dataclasses.replace(atoms[f.key].wrt, upper=f.upper, lower=f.lower,
                                      transposed=f.transposed)
            return ir.DerivRef(atoms[f.key].of, wrt, f.pos)
        return None

    factors = tuple(ir.rewrite_factor(f, atom) for f in t.factors)
    return rename_term(Term(t.coef, t.consts, factors, t.output), {})

