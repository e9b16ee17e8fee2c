"""Give a syntax tree its meaning: names resolved, free and summed indices, einsum terms.

The scope rules of the contract (INDEX-LANGUAGE.md, section 2):

1. the letters of the left-hand side are free and never summed;
2. a factor's free letters pass up; a function passes its argument's through;
3. in a product, a letter in two or more factors is summed there unless it is
   free in the equation or occurs elsewhere in an enclosing term;
4. at the level of a whole term every remaining non-free letter is summed;
5. ``sum_n`` sums n over the rest of its product, whatever the convention says.

A parenthesised product, or the body of a ``sum_``, merges into the product
around it when no letter it sums occurs there, so each product term becomes
one einsum string and the planner sees every operand at once.

>>> from indexnet.notation.parser import parse_text
>>> program = lower(parse_text("a^n_h = sigmoid(x^n_d W^d_h) + b_h"))
>>> [p.einsum for p in program.equations[0].rhs.terms[0].factors[0].args[0].terms]
['nd,dh->nh']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from .. import ir
from ..errors import ProgramError, ProgramSyntaxError
from ..ir.elementwise import FUNCTIONS
from ..render import render_product
from . import ast

__all__ = ["lower"]


@dataclass
class _Piece:
    """What one factor of a product contributes: a scalar, a factor or a whole product."""

    coefficient: Fraction = Fraction(1)
    consts: dict[str, Fraction] = field(default_factory=dict)
    factor: ir.Factor | None = None
    product: ir.Product | None = None


def _letters(indices: Iterable[ast.Index]) -> str:
    return "".join(i.letter for i in indices)


class _Lowerer:
    def __init__(self, syntax: ast.ProgramSyntax) -> None:
        self.syntax = syntax
        self.source = syntax.source
        self.tensors: dict[str, ir.TensorInfo] = {}
        self.consts: dict[str, ir.ConstDecl] = {}
        self.acts: dict[str, ir.ActDecl] = {}
        self.defined_at: dict[str, int] = {}
        self.plain_names: set[str] = set()
        self.styles: dict[str, str] = {}
        self.explicit = any(isinstance(s, ast.Decl) for s in syntax.statements)
        self.current: str | None = None
        self.in_claim = False
        self._raw: dict[int, frozenset[str]] = {}

    # -- errors -----------------------------------------------------------------------

    def error(self, message: str, pos: ast.Pos, cls: type[ProgramError] = ProgramError
              ) -> ProgramError:
        return cls(message, line=pos.line, column=pos.column, source=self.source)

    # -- the program --------------------------------------------------------------------

    def run(self) -> tuple[tuple[ir.Statement, ...], dict[str, ir.TensorInfo], bool]:
        statements = self.syntax.statements
        for stmt in statements:
            self._collect(stmt)
        out: list[ir.Statement | None] = []
        claims: list[tuple[int, ast.Claim]] = []
        for stmt in statements:
            if isinstance(stmt, ast.Decl):
                out.append(self.declaration(stmt))
            elif isinstance(stmt, ast.ConstDecl):
                out.append(ir.ConstDecl(stmt.name, stmt.value, stmt.pos.line))
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

    def _collect(self, stmt: ast.Statement) -> None:
        """First pass: constants, functions and which tensors the program defines."""
        if isinstance(stmt, ast.ConstDecl):
            if stmt.name in self.consts:
                raise self.error(f"constant {stmt.name} is declared twice (first on line "
                                 f"{self.consts[stmt.name].line})", stmt.pos)
            if stmt.name in FUNCTIONS or stmt.name == "eye":
                raise self.error(f"{stmt.name} is built in and cannot be a constant", stmt.pos)
            self.consts[stmt.name] = ir.ConstDecl(stmt.name, stmt.value, stmt.pos.line)
        elif isinstance(stmt, ast.FunctionDecl):
            key = ir.tensor_key(stmt.name, stmt.label)
            if key in self.acts:
                raise self.error(f"function {key} is declared twice (first on line "
                                 f"{self.acts[key].line})", stmt.pos)
            if stmt.name in FUNCTIONS:
                raise self.error(f"{stmt.name} is built in; give the activation another name, "
                                 "as in act f = sigmoid", stmt.pos)
            if stmt.primes > 1:
                raise self.error("only first derivatives: act g = sigmoid'", stmt.pos)
            if stmt.function == "softmax" and stmt.index is None:
                raise self.error("softmax needs the index it normalises over: act f = softmax[k]",
                                 stmt.pos)
            if stmt.function != "softmax" and stmt.index is not None:
                raise self.error(f"{stmt.function} takes no [index]; only softmax[k] does",
                                 stmt.index.pos)
            if stmt.function == "softmax" and stmt.primes:
                raise self.error("softmax' is not an elementwise function", stmt.pos)
            self.acts[key] = ir.ActDecl(stmt.name, stmt.label, stmt.function, stmt.primes,
                                        stmt.index.letter if stmt.index else None, stmt.pos.line)
        elif isinstance(stmt, ast.Equation):
            key = ir.tensor_key(stmt.lhs.name, stmt.lhs.label)
            if key in self.defined_at:
                raise self.error(f"{key} is defined twice (first on line {self.defined_at[key]})",
                                 stmt.lhs.pos)
            self.defined_at[key] = stmt.pos.line
        for node in _walk_refs(stmt):
            key = ir.tensor_key(node.name, node.label)
            self.plain_names.add(key)
            if node.form == "document" and key not in self.styles:
                lead = node.lower if node.transposed else node.upper
                written_before = node.pre[1] if node.transposed else node.pre[0]
                if lead:
                    self.styles[key] = "pre" if written_before else "post"

    def declaration(self, stmt: ast.Decl) -> ir.TensorDecl:
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
        args: list[Fraction | str] = []
        for arg in spec.args:
            if isinstance(arg, ast.Index):
                if arg.letter not in _letters(ref.indices):
                    raise self.error(
                        f"{spec.kind}({arg.letter}): {ref.name} has no index {arg.letter} "
                        f"(it has {', '.join(_letters(ref.indices)) or 'none'})", arg.pos)
                args.append(arg.letter)
            else:
                args.append(arg)
        low, high = args[0] if args else None, args[-1] if args else None
        if spec.kind == "uniform" and isinstance(low, Fraction) and isinstance(high, Fraction) \
                and not low < high:
            raise self.error("uniform(a, b) needs a < b", spec.pos)
        return ir.Domain(spec.kind, tuple(args))

    def size_decl(self, stmt: ast.SizeDecl) -> ir.SizeDecl:
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
        self._distinct(lhs.indices, "the left-hand side")
        free = _letters(lhs.indices)
        self.current = key
        rhs = self.expr(stmt.rhs, frozenset(free), True, free)
        self.current = None
        target = ir.Ref(lhs.name, lhs.label, _letters(lhs.upper), _letters(lhs.lower), False,
                        (lhs.pos.line, lhs.pos.column))
        self.tensors[key] = ir.TensorInfo(key, "defined", target, None, lhs.pos.line,
                                          lhs.pos.column)
        return ir.Equation(target, rhs, stmt.pos.line, _line_text(self.source, stmt.pos.line))

    def claim(self, stmt: ast.Claim) -> ir.Claim:
        deriv = stmt.lhs
        wrt = deriv.wrt
        if wrt.transposed:
            raise self.error("take the derivative with respect to the tensor as stored, "
                             "without a transpose", wrt.pos)
        self._distinct(wrt.indices, "the derivative's tensor")
        lowered = self.deriv(deriv)
        free = _letters(wrt.indices)
        rhs = self.expr(stmt.rhs, frozenset(free), True, free)
        return ir.Claim(lowered.of, lowered.wrt, rhs, stmt.pos.line,
                        _line_text(self.source, stmt.pos.line))

    # -- expressions -------------------------------------------------------------------

    def raw(self, node: object) -> frozenset[str]:
        """Letters written in ``node``, less those bound by a sum inside it."""
        cached = self._raw.get(id(node))
        if cached is not None:
            return cached
        out: frozenset[str]
        if isinstance(node, ast.TensorRef):
            key = ir.tensor_key(node.name, node.label)
            out = frozenset() if key in self.consts else frozenset(_letters(node.indices))
        elif isinstance(node, ast.Apply):
            out = frozenset().union(*(self.raw(a) for a in node.args))
            if node.index is not None:
                out |= {node.index.letter}
        elif isinstance(node, ast.Paren):
            out = self.raw(node.expr)
        elif isinstance(node, ast.Frac):
            out = self.raw(node.num) | self.raw(node.den)
        elif isinstance(node, ast.Power):
            out = self.raw(node.base)
        elif isinstance(node, ast.SumOver):
            out = self.raw(node.body) - set(_letters(node.indices))
        elif isinstance(node, ast.Deriv):
            out = frozenset(_letters(node.wrt.indices))
        elif isinstance(node, ast.Term):
            out = frozenset().union(*(self.raw(n) for _, n in node.items))
        elif isinstance(node, ast.Expr):
            out = frozenset().union(*(self.raw(t) for _, t in node.terms))
        else:
            out = frozenset()
        self._raw[id(node)] = out
        return out

    def expr(self, node: ast.Expr, protected: frozenset[str], top: bool, free: str) -> ir.Sum:
        terms = [self.product(term, -1 if sign == "-" else 1, protected, top, free)
                 for sign, term in node.terms]
        if top:
            return ir.Sum(tuple(terms), free)
        seen: dict[str, None] = {}
        for term in terms:
            for letter in term.output:
                seen.setdefault(letter)
        output = "".join(seen)
        if not any(set(t.output) == set(output) for t in terms):
            self._disagree(node, terms, "sum")
        return ir.Sum(tuple(terms), output)

    def _disagree(self, node: ast.Expr, terms: list[ir.Product], what: str) -> None:
        widest = max(range(len(terms)), key=lambda k: len(set(terms[k].output)))
        for k, term in enumerate(terms):
            extra = sorted(set(term.output) - set(terms[widest].output))
            if extra:
                pos = node.terms[k][1].pos if what == "sum" else node.pos
                raise self.error(
                    f"the terms of this {what} disagree on their free indices: term {k + 1} "
                    f"({render_product(term)}) has {', '.join(extra)}, which term {widest + 1} "
                    f"({render_product(terms[widest])}) lacks; a term may lack indices only "
                    "when another term has them all", pos)

    def product(self, term: ast.Term, sign: int, protected: frozenset[str], top: bool,
                free: str, explicit: tuple[ast.Index, ...] = ()) -> ir.Product:
        items = term.items
        raws = [self.raw(node) for _, node in items]
        bound = frozenset(_letters(explicit))
        coefficient = Fraction(sign)
        consts: dict[str, Fraction] = {}
        factors: list[ir.Factor] = []
        summed_here: list[str] = list(dict.fromkeys(_letters(explicit)))
        for i, (op, node) in enumerate(items):
            others = frozenset().union(*(raws[:i] + raws[i + 1:]))
            piece = self.piece(node, protected | others | bound, free)
            if op == "/":
                piece = self.invert(piece, node)
            coefficient *= piece.coefficient
            for name, power in piece.consts.items():
                consts[name] = consts.get(name, Fraction(0)) + power
            if piece.factor is not None:
                factors.append(piece.factor)
            elif piece.product is not None:
                inner = piece.product
                if set(inner.explicit) & (others | bound | set(summed_here)):
                    factors.append(ir.Group(ir.Sum((inner,), inner.output)))
                else:
                    coefficient *= inner.coefficient
                    for name, power in inner.consts:
                        consts[name] = consts.get(name, Fraction(0)) + power
                    factors.extend(inner.factors)
                    summed_here.extend(c for c in inner.explicit if c not in summed_here)
        outputs = [ir.factor_output(f) for f in factors]
        order: dict[str, int] = {}
        for out in outputs:
            for letter in dict.fromkeys(out):
                order[letter] = order.get(letter, 0) + 1
        explicit_set = set(summed_here)
        summed = [c for c in order if c in explicit_set or (c not in protected and order[c] >= 2)
                  or (top and c not in free)]
        summed += [c for c in summed_here if c not in order]
        kept = [c for c in order if c not in summed]
        output = "".join(c for c in free if c in kept) if top else "".join(kept)
        return ir.Product(
            coefficient,
            tuple((n, p) for n, p in consts.items() if p != 0),
            tuple(factors),
            "".join(summed_here),
            "".join(summed),
            output,
            (term.pos.line, term.pos.column),
        )

    def piece(self, node: ast.Factor, protected: frozenset[str], free: str) -> _Piece:
        if isinstance(node, ast.Number):
            return _Piece(coefficient=node.value)
        if isinstance(node, ast.TensorRef):
            return self.tensor_piece(node)
        if isinstance(node, ast.Paren):
            inner = self.expr(node.expr, protected, False, free)
            if len(inner.terms) == 1:
                return _Piece(product=inner.terms[0])
            return _Piece(factor=ir.Group(inner))
        if isinstance(node, ast.Frac):
            term = ast.Term((("", ast.Paren(node.num, node.pos)),
                             ("/", ast.Paren(node.den, node.pos))), node.pos)
            return _Piece(product=self.product(term, 1, protected, False, free))
        if isinstance(node, ast.Power):
            return self.power(self.piece(node.base, protected, free), node)
        if isinstance(node, ast.SumOver):
            body_raw = self.raw(node.body)
            for index in node.indices:
                if index.letter not in body_raw:
                    raise self.error(f"sum_{index.letter}: index {index.letter} does not occur in "
                                     "what the sum covers", index.pos)
            return _Piece(product=self.product(node.body, 1, protected, False, free,
                                               node.indices))
        if isinstance(node, ast.Deriv):
            return _Piece(factor=self.deriv(node))
        return self.apply(node, protected, free)

    def tensor_piece(self, node: ast.TensorRef) -> _Piece:
        key = ir.tensor_key(node.name, node.label)
        if key in self.consts:
            if node.indices or node.transposed:
                raise self.error(f"{key} is a constant; it takes no indices", node.pos)
            return _Piece(consts={key: Fraction(1)})
        if node.name == "eye" and node.label is None:
            if node.transposed:
                raise self.error("eye is symmetric; it needs no transpose", node.pos)
            if not node.indices:
                raise self.error("eye needs indices, as in eye^i_j", node.pos)
            return _Piece(factor=ir.Eye(_letters(node.upper), _letters(node.lower),
                                        (node.pos.line, node.pos.column)))
        return _Piece(factor=self.ref(node))

    def ref(self, node: ast.TensorRef, check: bool = True) -> ir.Ref:
        key = ir.tensor_key(node.name, node.label)
        lowered = ir.Ref(node.name, node.label, _letters(node.upper), _letters(node.lower),
                         node.transposed, (node.pos.line, node.pos.column))
        if not check:
            return lowered
        info = self.tensors.get(key)
        if info is None:
            if key == self.current and not self.in_claim:
                raise self.error(f"{key} is used in its own definition", node.pos)
            if key in self.defined_at and not self.in_claim:
                raise self.error(f"{key} is used before it is defined (line "
                                 f"{self.defined_at[key]})", node.pos)
            if key in self.defined_at or key == self.current:
                return lowered  # a claim may mention any defined tensor
            if self.explicit:
                raise self.error(self._unknown(key), node.pos)
            info = ir.TensorInfo(key, "implicit", lowered, None, node.pos.line, node.pos.column)
            self.tensors[key] = info
            return lowered
        if len(lowered.written) != info.rank:
            raise self.error(
                f"{key} has {info.rank} ind{'ex' if info.rank == 1 else 'ices'} "
                f"({_spell(info.ref)}, line {info.line}) but {len(lowered.written)} here",
                node.pos)
        return lowered

    def _unknown(self, key: str) -> str:
        known = [k for k in self.tensors] + [k for k in self.defined_at if k not in self.tensors]
        text = f"unknown tensor {key!r}; known tensors: {', '.join(known) or 'none'}"
        if self.consts:
            text += f"; constants: {', '.join(self.consts)}"
        return text

    def deriv(self, node: ast.Deriv) -> ir.DerivRef:
        wrt = node.wrt
        key = ir.tensor_key(wrt.name, wrt.label)
        lowered = ir.Ref(wrt.name, wrt.label, _letters(wrt.upper), _letters(wrt.lower),
                         wrt.transposed, (wrt.pos.line, wrt.pos.column))
        info = self.tensors.get(key)
        if info is None and key not in self.defined_at:
            if self.explicit:
                raise self.error(self._unknown(key), wrt.pos)
        elif info is not None and len(lowered.written) != info.rank:
            raise self.error(f"{key} has {info.rank} indices ({_spell(info.ref)}) but "
                             f"{len(lowered.written)} here", wrt.pos)
        of = self.tensors.get(node.of)
        if of is not None and of.rank:
            raise self.error(f"d{node.of}/d… needs a scalar {node.of}, but {node.of} has indices "
                             f"{of.letters}", node.pos)
        if of is None and node.of not in self.defined_at and self.explicit:
            raise self.error(f"d{node.of}/d…: {node.of} is not a tensor of this program", node.pos)
        return ir.DerivRef(node.of, lowered, (node.pos.line, node.pos.column))

    def invert(self, piece: _Piece, node: ast.Factor) -> _Piece:
        if piece.factor is not None:
            return _Piece(factor=ir.Inverse(piece.factor))
        if piece.product is not None:
            inner = piece.product
            if inner.factors:
                return _Piece(factor=ir.Inverse(_unwrap(inner)))
            piece = _Piece(coefficient=inner.coefficient, consts=dict(inner.consts))
        if piece.coefficient == 0:
            raise self.error("division by zero", node.pos)
        return _Piece(coefficient=1 / piece.coefficient,
                      consts={n: -p for n, p in piece.consts.items()})

    def power(self, piece: _Piece, node: ast.Power) -> _Piece:
        exponent = node.exponent
        if piece.factor is not None:
            return _Piece(factor=ir.Power(piece.factor, exponent))
        if piece.product is not None:
            inner = piece.product
            if inner.factors:
                return _Piece(factor=ir.Power(_unwrap(inner), exponent))
            piece = _Piece(coefficient=inner.coefficient, consts=dict(inner.consts))
        coefficient = piece.coefficient
        if coefficient != 1:
            if exponent.denominator != 1:
                raise self.error("a number can be raised to a whole power only", node.pos)
            if coefficient == 0 and exponent < 0:
                raise self.error("division by zero", node.pos)
            bits = max(coefficient.numerator.bit_length(), coefficient.denominator.bit_length())
            if bits * abs(exponent) > 4096:
                raise self.error("the power of this number is too large", node.pos)
            coefficient = coefficient ** int(exponent)
        return _Piece(coefficient=coefficient,
                      consts={n: p * exponent for n, p in piece.consts.items()})

    def apply(self, node: ast.Apply, protected: frozenset[str], free: str) -> _Piece:
        key = ir.tensor_key(node.name, node.label)
        function: str | None = None
        primes = node.primes
        index = node.index.letter if node.index else None
        if node.name in FUNCTIONS:
            if node.label is not None:
                raise self.error(f"{node.name} is built in and takes no label", node.pos)
            function = node.name
        elif key in self.acts or (node.label is not None and node.name in self.acts):
            act = self.acts.get(key) or self.acts[node.name]
            function = act.function
            primes += act.primes
            index = index or act.index
        elif (not primes and node.label is None and node.index is None and node.parens
              and len(node.args) == 1 and (key in self.consts or key in self.tensors
                                           or key in self.defined_at or key in self.plain_names)):
            ref = ast.TensorRef(node.name, None, (), (), False, "compact", node.pos)
            term = ast.Term((("", ref), ("", ast.Paren(node.args[0], node.pos))), node.pos)
            return _Piece(product=self.product(term, 1, protected, False, free))
        elif self.explicit:
            raise self.error(
                f"unknown function {key!r}: declare it (act {node.name} = sigmoid), or write "
                f"'{node.name} (…)' with a space for a product; built in: "
                f"{', '.join(sorted(FUNCTIONS))}", node.pos)
        if function is not None:
            spec = FUNCTIONS[function]
            if len(node.args) != spec.arity:
                raise self.error(f"{node.name} takes {spec.arity} argument"
                                 f"{'s' if spec.arity > 1 else ''}, got {len(node.args)}", node.pos)
            if primes > 1:
                raise self.error("only first derivatives: f'(x)", node.pos)
            if primes and not spec.differentiable:
                raise self.error(f"{function}' is not elementwise: take derivatives with dL/dX",
                                 node.pos)
            if spec.indexed and index is None:
                raise self.error(f"{node.name} needs the index it normalises over: "
                                 f"{node.name}[k](…)", node.pos)
            if not spec.indexed and node.index is not None:
                raise self.error(f"{node.name} takes no [index]; only softmax[k] does",
                                 node.index.pos)
        elif primes > 1:
            raise self.error("only first derivatives: f'(x)", node.pos)
        raws = [self.raw(arg) for arg in node.args]
        extra = frozenset({index}) if index else frozenset()
        args = []
        for k, arg in enumerate(node.args):
            others = frozenset().union(*(raws[:k] + raws[k + 1:]))
            args.append(self.expr(arg, protected | others | extra, False, free))
        seen: dict[str, None] = {}
        for arg_sum in args:
            for letter in arg_sum.output:
                seen.setdefault(letter)
        output = "".join(seen)
        if len(args) > 1 and not any(set(a.output) == set(output) for a in args):
            raise self.error(f"the arguments of {node.name} disagree on their free indices "
                             f"({', '.join(a.output or '-' for a in args)})", node.pos)
        if index is not None and index not in output:
            raise self.error(f"{node.name}[{index}]: its argument has no free index {index} "
                             f"(it has {', '.join(output) or 'none'})", node.pos)
        return _Piece(factor=ir.Call(node.name, node.label, node.primes,
                                     node.index.letter if node.index else None, tuple(args),
                                     output, (node.pos.line, node.pos.column)))


def _unwrap(product: ir.Product) -> ir.Factor:
    """A lone plain factor stands for itself; anything else stays in parentheses."""
    if (product.coefficient == 1 and not product.consts and not product.explicit
            and len(product.factors) == 1
            and ir.factor_output(product.factors[0]) == product.output):
        return product.factors[0]
    return ir.Group(ir.Sum((product,), product.output))


def _spell(ref: ir.Ref) -> str:
    out = ref.name
    if ref.upper:
        out += "^" + (ref.upper if len(ref.upper) == 1 else "{" + ref.upper + "}")
    if ref.lower:
        out += "_" + (ref.lower if len(ref.lower) == 1 else "{" + ref.lower + "}")
    return out


def _line_text(source: str, line: int) -> str:
    lines = source.split("\n")
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return text.split("#", 1)[0].strip()


def _walk_refs(stmt: object) -> Iterable[ast.TensorRef]:
    """Tensor references written in plain (not as a function's name) in a statement."""
    stack: list[object] = [stmt]
    while stack:
        node = stack.pop(0)
        if isinstance(node, ast.TensorRef):
            yield node
        elif isinstance(node, (ast.Equation, ast.Claim)):
            stack.append(node.rhs)
            if isinstance(node, ast.Equation):
                stack.append(node.lhs)
        elif isinstance(node, ast.Decl):
            stack.append(node.tensor)
        elif isinstance(node, ast.Expr):
            stack.extend(t for _, t in node.terms)
        elif isinstance(node, ast.Term):
            stack.extend(n for _, n in node.items)
        elif isinstance(node, ast.Apply):
            stack.extend(node.args)
        elif isinstance(node, ast.Paren):
            stack.append(node.expr)
        elif isinstance(node, ast.Frac):
            stack.extend((node.num, node.den))
        elif isinstance(node, ast.Power):
            stack.append(node.base)
        elif isinstance(node, ast.SumOver):
            stack.append(node.body)


def lower(syntax: ast.ProgramSyntax) -> ir.Module:
    """Lower a syntax tree to a :class:`~indexnet.ir.Module` (see the module doc)."""

    try:
        statements, tensors, implicit = _Lowerer(syntax).run()
    except RecursionError:  # pragma: no cover - the parser bounds the depth first
        raise ProgramSyntaxError("the program is nested too deeply") from None
    return ir.Module(statements, tensors, syntax.source, implicit)
