"""Programs that read derivative atoms: the derivatives they read, computed first.

:func:`augment` turns a program whose equations read ``dL/dX`` (the seed's
δ) or a Jacobian ``dy/dx`` into one that computes them: the declarations,
the equations that need no derivative, the derivations, then the equations
that read them. Evaluation (:meth:`Program.evaluate`) and ``check`` run it.

>>> from indexnet.program import parse
>>> p = parse("input x^i\\nL = x^i x^i\\ng^i = dL/dx^i")
>>> [type(s).__name__ for s in augment(p)[0].statements]
['TensorDecl', 'Equation', 'Derivation', 'Equation']
"""

from __future__ import annotations

from collections.abc import Iterable

from .. import ir
from ..errors import NotSupportedError
from ..ir.module import Module
from .assemble import deriv_refs
from .jacobian import jacobian
from .reverse import derive

__all__ = ["augment"]


def augment(program: Module, extra: Iterable[tuple[str, str]] = (), *,
            domains: bool = False) -> tuple[Module, list[ir.Derivation]]:
    """A program that computes the derivative atoms its equations read (and ``extra``).

    Its statements are the declarations, the equations that need no
    derivative, the derivations (exact for any inputs unless ``domains``),
    then the equations that read them. Claims are left out.
    """
    wanted: dict[str, list[str]] = {}
    for of, key in extra:
        wanted.setdefault(of, []).append(key)
    post: set[str] = set()
    jacobians: dict[str, ir.Derivation] = {}
    for eq in program.equations:
        refs = deriv_refs(eq.rhs)
        reads = {r.key for r in ir.iter_refs(eq.rhs)}
        if refs or reads & post:
            post.add(eq.target.key)
        for r in refs:
            if r.top is None:
                wanted.setdefault(r.of, []).append(r.wrt.key)
            elif r.key not in jacobians:
                found = jacobian(program, r.of, r.wrt.key)
                jacobians[r.key] = found
                for atom in deriv_refs(found.rhs):
                    wanted.setdefault(atom.of, []).append(atom.wrt.key)
    for of in wanted:
        if of in post:
            atom = next(r for eq in program.equations if eq.target.key in post
                        for r in deriv_refs(eq.rhs))
            raise NotSupportedError(
                f"{of} is computed from the derivative atom d{atom.of}/d{atom.wrt.key}, so "
                f"d{of}/d… would be a derivative of a derivative: not supported",
                line=atom.pos[0], column=atom.pos[1], source=program.source)
    derivations: list[ir.Derivation] = []
    for of, keys in wanted.items():
        derivations += derive(program, of, list(dict.fromkeys(keys)), domains=domains,
                              group=False)
    decls = [s for s in program.statements
             if not isinstance(s, (ir.Equation, ir.Claim, ir.Derivation))]
    pre = [eq for eq in program.equations if eq.target.key not in post]
    rest = [eq for eq in program.equations if eq.target.key in post]
    statements = (*decls, *pre, *derivations, *jacobians.values(), *rest)
    return program.replace(statements), derivations
