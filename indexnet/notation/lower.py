"""Give a syntax tree its meaning: names resolved, free and summed indices, einsum terms.

Lowering reads the statements of a :class:`~indexnet.notation.ast.ProgramSyntax`
twice: a first pass records the names (:mod:`~indexnet.notation.names`), a
second turns declarations into tensor declarations and each equation's and
claim's right-hand side into sums of einsum terms by the scope rules of the
contract (:mod:`~indexnet.notation.terms`). Claims are lowered last, once
every equation is known.

>>> from indexnet.notation.parser import parse_text
>>> program = lower(parse_text("a^n_h = sigmoid(x^n_d W^d_h) + b_h"))
>>> [p.einsum for p in program.equations[0].rhs.terms[0].factors[0].args[0].terms]
['nd,dh->nh']
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from .. import ir
from ..errors import ProgramError, ProgramSyntaxError
from . import ast
from .names import letters
from .terms import TermLowerer

__all__ = ["lower"]


class _Lowerer(TermLowerer):
    """The statements of a program, lowered in two passes."""

    def run(self) -> tuple[tuple[ir.Statement, ...], dict[str, ir.TensorInfo], bool]:
        """Lower every statement: (statements, tensors by key, whether inputs are implicit)."""
        statements = self.syntax.statements
        for stmt in statements:
            self.collect(stmt)
        out: list[ir.Statement | None] = []
        claims: list[tuple[int, ast.Claim]] = []
        for stmt in statements:
            if isinstance(stmt, ast.Decl):
                out.append(self.declaration(stmt))
            elif isinstance(stmt, ast.ConstDecl):
                out.append(ir.ConstDecl(stmt.name, stmt.value, stmt.pos.line, stmt.text))
            elif isinstance(stmt, ast.FunctionDecl):
                out.append(self.acts[ir.tensor_key(stmt.name, stmt.label)])
            elif isinstance(stmt, ast.SizeDecl):
                out.append(self.size_decl(stmt))
            elif isinstance(stmt, ast.Equation):
                out.append(self.equation(stmt))
            else:
                claims.append((len(out), stmt))
                out.append(None)  # lowered below, once every equation is known
        self.in_claim = True
        for k, claim in claims:
            out[k] = self.claim(claim)
        tensors = {key: dataclasses.replace(info, style=self.styles.get(key, ""))
                   for key, info in self.tensors.items()}
        return tuple(s for s in out if s is not None), tensors, not self.explicit

    def declaration(self, stmt: ast.Decl) -> ir.TensorDecl:
        """Lower ``input``/``param``: a tensor declared once, as stored."""
        ref = stmt.tensor
        key = ir.tensor_key(ref.name, ref.label)
        if key in self.tensors:
            first = self.tensors[key]
            raise self.error(f"{key} is declared twice (first on line {first.line})", ref.pos)
        if key in self.defined_at:
            raise self.error(f"{key} is declared as {stmt.role} but defined by the equation on "
                             f"line {self.defined_at[key]}", ref.pos)
        if key in self.consts:
            raise self.error(f"{key} is already a constant", ref.pos)
        if ref.name == "eye" and ref.label is None:
            raise self.error("eye is the built-in Kronecker delta", ref.pos)
        if ref.transposed:
            raise self.error("declare a tensor as it is stored, without a transpose", ref.pos)
        self._distinct(ref.indices, "a declaration")
        domain = None
        if stmt.domain is not None:
            domain = self.domain(stmt.domain, ref)
        lowered = self.ref(ref, check=False)
        info = ir.TensorInfo(key, stmt.role, lowered, domain, ref.pos.line, ref.pos.column)
        self.tensors[key] = info
        return ir.TensorDecl(stmt.role, lowered, domain, ref.pos.line)

    def domain(self, spec: ast.DomainSpec, ref: ast.TensorRef) -> ir.Domain:
        """Lower a declared tensor's domain: its index letters must be the tensor's."""
        args: list[Fraction | str] = []
        for arg in spec.args:
            if isinstance(arg, ast.Index):
                if arg.letter not in letters(ref.indices):
                    raise self.error(
                        f"{spec.kind}({arg.letter}): {ref.name} has no index {arg.letter} "
                        f"(it has {', '.join(letters(ref.indices)) or 'none'})", arg.pos)
                args.append(arg.letter)
            else:
                args.append(arg)
        if spec.kind == "spd" and args[0] == args[1]:
            raise self.error(f"spd({args[0]},{args[1]}) needs two different indices: the rows "
                             "and the columns of the matrix", spec.pos)
        low, high = args[0] if args else None, args[-1] if args else None
        if spec.kind == "uniform" and isinstance(low, Fraction) and isinstance(high, Fraction) \
                and not low < high:
            raise self.error("uniform(a, b) needs a < b", spec.pos)
        return ir.Domain(spec.kind, tuple(args))

    def size_decl(self, stmt: ast.SizeDecl) -> ir.SizeDecl:
        """Lower ``size n=6``: each letter once, each size at least 1."""
        seen: set[str] = set()
        for index, value in stmt.sizes:
            if index.letter in seen:
                raise self.error(f"the size of {index.letter} is given twice", index.pos)
            if value < 1:
                raise self.error(f"the size of {index.letter} must be at least 1", index.pos)
            seen.add(index.letter)
        return ir.SizeDecl(tuple((i.letter, v) for i, v in stmt.sizes), stmt.pos.line)

    def _distinct(self, indices: tuple[ast.Index, ...], where: str) -> None:
        seen: set[str] = set()
        for index in indices:
            if index.letter in seen:
                raise self.error(f"index {index.letter} appears twice in {where}; each axis "
                                 "needs its own letter", index.pos)
            seen.add(index.letter)

    def equation(self, stmt: ast.Equation) -> ir.Equation:
        """Lower an equation that defines a new tensor from the ones before it."""
        lhs = stmt.lhs
        key = ir.tensor_key(lhs.name, lhs.label)
        if key in self.consts:
            raise self.error(f"{key} is a constant and cannot be redefined", lhs.pos)
        info = self.tensors.get(key)
        if info is not None:
            what = {"implicit": "an implicit input", "input": "an input", "param": "a param",
                    "defined": "already defined"}[info.role]
            raise self.error(f"{key} is {what} (line {info.line}); an equation cannot define it",
                             lhs.pos)
        if lhs.name == "eye" and lhs.label is None:
            raise self.error("eye is the built-in Kronecker delta", lhs.pos)
        if lhs.transposed:
            raise self.error("the left-hand side cannot be transposed: name the tensor as it "
                             "is stored", lhs.pos)
        for index in lhs.indices:
            if index.compound:
                raise self.error("index arithmetic (t+k) reads a tensor on a right-hand side; "
                                 "a left-hand side names each axis with one letter", index.pos)
        self._distinct(lhs.indices, "the left-hand side")
        free = letters(lhs.indices)
        self.current = key
        rhs = self.expr(stmt.rhs, frozenset(free), True, free)
        self.current = None
        target = ir.Ref(lhs.name, lhs.label, letters(lhs.upper), letters(lhs.lower), False,
                        (lhs.pos.line, lhs.pos.column))
        self.tensors[key] = ir.TensorInfo(key, "defined", target, None, lhs.pos.line,
                                          lhs.pos.column)
        return ir.Equation(target, rhs, stmt.pos.line, _line_text(self.source, stmt.pos.line))

    def claim(self, stmt: ast.Claim) -> ir.Claim:
        """Lower ``claim dL/dW = …``; one that does not fit keeps its problem instead.

        A claim is a guess that may be wrong: its name, index and size errors
        do not stop the program, they make the claim a failed one.
        """
        try:
            return self._claim(stmt)
        except ProgramError as err:
            wrt = stmt.lhs.wrt
            ref = ir.Ref(wrt.name, wrt.label, letters(wrt.upper), letters(wrt.lower),
                         wrt.transposed, (wrt.pos.line, wrt.pos.column))
            where = f" (line {err.line}, column {err.column})" if err.line else ""
            return ir.Claim(stmt.lhs.of, ref, ir.Sum((), ""), stmt.pos.line,
                            _line_text(self.source, stmt.pos.line),
                            problem=f"{err.message}{where}")

    def _claim(self, stmt: ast.Claim) -> ir.Claim:
        deriv = stmt.lhs
        wrt = deriv.wrt
        if wrt.transposed:
            raise self.error("take the derivative with respect to the tensor as stored, "
                             "without a transpose", wrt.pos)
        self._distinct(wrt.indices, "the derivative's tensor")
        lowered = self.deriv(deriv)
        free = ir.factor_output(lowered)
        rhs = self.expr(stmt.rhs, frozenset(free), True, free)
        return ir.Claim(lowered.of, lowered.wrt, rhs, stmt.pos.line,
                        _line_text(self.source, stmt.pos.line), top=lowered.top)


def _line_text(source: str, line: int) -> str:
    lines = source.split("\n")
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return text.split("#", 1)[0].strip()


def lower(syntax: ast.ProgramSyntax) -> ir.Module:
    """Lower a syntax tree to a :class:`~indexnet.ir.Module` (see the module doc)."""
    try:
        statements, tensors, implicit = _Lowerer(syntax).run()
    except RecursionError:  # pragma: no cover - the parser bounds the depth first
        raise ProgramSyntaxError("the program is nested too deeply") from None
    return ir.Module(statements, tensors, syntax.source, implicit)
