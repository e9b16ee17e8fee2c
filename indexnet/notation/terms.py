"""Lower expressions to einsum terms by the scope rules of the contract.

The scope rules (INDEX-LANGUAGE.md, section 2):

1. the letters of the left-hand side are free and never summed;
2. a factor's free letters pass up; a function passes its argument's through;
3. in a product, a letter in two or more factors is summed there unless it is
   free in the equation or occurs elsewhere in an enclosing term;
4. at the level of a whole term every remaining non-free letter is summed;
5. ``sum_n`` sums n over the rest of its product, whatever the convention says.

A parenthesised product, or the body of a ``sum_``, merges into the product
around it when no letter it sums occurs there, so each product term becomes
one einsum string and the planner sees every operand at once. Numbers and
constants become the coefficient of their product.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction

from .. import ir
from ..ir.elementwise import FUNCTIONS, MATRIX_FUNCTIONS
from ..render import render_product
from . import ast
from .names import Names, letters

__all__ = ["TermLowerer"]


@dataclass
class _Piece:
    """What one factor of a product contributes: a scalar, a factor or a whole product."""

    coefficient: Fraction = Fraction(1)
    consts: dict[str, Fraction] = field(default_factory=dict)
    factor: ir.Factor | None = None
    product: ir.Product | None = None


class TermLowerer(Names):
    """Sums, products and factors of the syntax tree as einsum terms of the IR."""

    def __init__(self, syntax: ast.ProgramSyntax) -> None:
        super().__init__(syntax)
        # by id, holding the node too: a temporary node (``\\frac``, ``W(x)``) freed while
        # its id is still a key would let a new node inherit its letters
        self._raw: dict[int, tuple[object, frozenset[str]]] = {}

    def raw(self, node: object) -> frozenset[str]:
        """Letters written in ``node``, less those bound by a sum inside it."""
        cached = self._raw.get(id(node))
        if cached is not None and cached[0] is node:
            return cached[1]
        out: frozenset[str]
        if isinstance(node, ast.TensorRef):
            key = ir.tensor_key(node.name, node.label)
            out = frozenset() if key in self.consts else frozenset(letters(node.indices))
        elif isinstance(node, ast.Apply):
            out = self._raw_call(node)
        elif isinstance(node, ast.Paren):
            out = self.raw(node.expr)
        elif isinstance(node, ast.Frac):
            out = self.raw(node.num) | self.raw(node.den)
        elif isinstance(node, ast.Power):
            out = self.raw(node.base)
        elif isinstance(node, ast.SumOver):
            out = self.raw(node.body) - set(letters(node.indices))
        elif isinstance(node, ast.Deriv):
            out = frozenset(letters(node.wrt.indices))
            if node.top is not None:
                out |= frozenset(letters(node.top.indices))
        elif isinstance(node, ast.Term):
            out = frozenset().union(*(self.raw(n) for _, n in node.items))
        elif isinstance(node, ast.Expr):
            out = frozenset().union(*(self.raw(t) for _, t in node.terms))
        else:
            out = frozenset()
        self._raw[id(node)] = (node, out)
        return out

    def _raw_call(self, node: ast.Apply) -> frozenset[str]:
        """The letters a call passes up: its arguments' less those it binds (max_k, det)."""
        if node.name in _SCALAR_OF_MATRIX:
            return frozenset()  # det(A^i_j): i and j are bound inside
        out = frozenset().union(*(self.raw(a) for a in node.args))
        if node.index is not None:
            out |= {node.index.letter}
            if node.name in FUNCTIONS and FUNCTIONS[node.name].reduces:
                out -= {node.index.letter}
        return out

    def expr(self, node: ast.Expr, protected: frozenset[str], top: bool, free: str) -> ir.Sum:
        """Lower a sum of terms; ``top``: the whole right-hand side, whose output is ``free``."""
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
        """Lower one product to an einsum term, summing its letters by the scope rules.

        ``protected`` letters occur outside the product and are not summed here;
        ``explicit`` are the letters of an enclosing ``sum_``.
        """
        items = term.items
        raws = [self.raw(node) for _, node in items]
        bound = frozenset(letters(explicit))
        coefficient = Fraction(sign)
        consts: dict[str, Fraction] = {}
        factors: list[ir.Factor] = []
        summed_here: list[str] = list(dict.fromkeys(letters(explicit)))
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
        """What one factor contributes to its product."""
        if isinstance(node, ast.Number):
            return _Piece(coefficient=node.value)
        if isinstance(node, ast.IndexSize):
            return _Piece(consts={ir.size_name(node.letter): Fraction(1)})
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
            product = self.product(node.body, 1, protected, False, free, node.indices)
            if node.mean:  # mean_n is 1/|n| sum_n
                consts = dict(product.consts)
                for letter in dict.fromkeys(letters(node.indices)):
                    name = ir.size_name(letter)
                    consts[name] = consts.get(name, Fraction(0)) - 1
                product = dataclasses.replace(product, consts=tuple(
                    (n, p) for n, p in consts.items() if p != 0))
            return _Piece(product=product)
        if isinstance(node, ast.Deriv):
            return _Piece(factor=self.deriv(node))
        return self.apply(node, protected, free)

    def tensor_piece(self, node: ast.TensorRef) -> _Piece:
        """A tensor reference as a factor: a constant, the Kronecker delta eye, or a tensor."""
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
            if any(i.compound for i in node.indices):
                return _Piece(factor=self.window(node, eye=True))
            return _Piece(factor=ir.Eye(letters(node.upper), letters(node.lower),
                                        (node.pos.line, node.pos.column)))
        if any(i.compound for i in node.indices):
            return _Piece(factor=self.window(node))
        return _Piece(factor=self.ref(node))

    def window(self, node: ast.TensorRef, eye: bool = False) -> ir.Window:
        """A read through index arithmetic, ``x^n_{t+k}`` (5.5): checked as a use of the tensor."""
        if node.transposed:
            raise self.error("index arithmetic reads a tensor as stored: write it without a "
                             "transpose", node.pos)
        if not eye:
            plain = dataclasses.replace(node, upper=tuple(_plain(i) for i in node.upper),
                                        lower=tuple(_plain(i) for i in node.lower))
            self.ref(plain)  # known, defined before, the right number of indices
        slots = tuple((i.terms or ((i.letter, 1),), i.offset) for i in node.indices)
        return ir.Window(node.name, node.label, slots, len(node.upper), eye,
                         (node.pos.line, node.pos.column))

    def invert(self, piece: _Piece, node: ast.Factor) -> _Piece:
        """The piece of ``/ node``: its inverse."""
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
        """The piece raised to the power of ``node``; numbers are raised exactly."""
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
        """A call: of a function, or of a tensor's name, read as a product (``W(x)``)."""
        if self.names_tensor(node):
            ref = ast.TensorRef(node.name, None, (), (), False, "compact", node.pos)
            term = ast.Term((("", ref), ("", ast.Paren(node.args[0], node.pos))), node.pos)
            return _Piece(product=self.product(term, 1, protected, False, free))
        function, _, index = self.function(node)
        if function in MATRIX_FUNCTIONS:
            return self.matrix_call(node, function, protected, free)
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
        if node.name in FUNCTIONS and FUNCTIONS[node.name].reduces:
            output = output.replace(index or "", "")  # max_k reduces k
        return _Piece(factor=ir.Call(node.name, node.label, node.primes,
                                    node.index.letter if node.index else None, tuple(args),
                                    output, (node.pos.line, node.pos.column)))

    def matrix_call(self, node: ast.Apply, function: str, protected: frozenset[str],
                    free: str) -> _Piece:
        """``inv(A^i_j)``, ``det(A^i_j)``, ``logdet(A^i_j)``: a function of a square matrix.

        The argument must have exactly two free letters, its rows and its
        columns (in the order the argument lays them out); they become the
        call's ``index``. ``inv`` keeps them as its own letters; ``det`` and
        ``logdet`` are scalars, whose letters are bound inside the call (so
        nothing outside protects them).
        """
        scalar = function in _SCALAR_OF_MATRIX
        (arg_node,) = node.args
        arg = self.expr(arg_node, frozenset() if scalar else protected, False,
                        "" if scalar else free)
        if len(arg.output) != 2:
            has = ", ".join(arg.output) or "none"
            raise self.error(
                f"{node.name} takes a square matrix: an argument with exactly two free indices "
                f"(rows, columns), as in {node.name}(A^i_j); this one has {len(arg.output)} "
                f"({has})", node.pos)
        return _Piece(factor=ir.Call(node.name, node.label, node.primes, arg.output, (arg,),
                                    "" if scalar else arg.output,
                                    (node.pos.line, node.pos.column)))


#: The matrix functions whose value is a scalar.
_SCALAR_OF_MATRIX = frozenset({"det", "logdet"})


def _unwrap(product: ir.Product) -> ir.Factor:
    """A lone plain factor stands for itself; anything else stays in parentheses."""
    if (product.coefficient == 1 and not product.consts and not product.explicit
            and len(product.factors) == 1
            and ir.factor_output(product.factors[0]) == product.output):
        return product.factors[0]
    return ir.Group(ir.Sum((product,), product.output))


def _plain(index: ast.Index) -> ast.Index:
    """A slot as a plain index (its first letter), to check a window as a tensor's use."""
    return ast.Index(index.letter, index.upper, index.pos)
