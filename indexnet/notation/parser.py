"""Read index-language text into a :class:`~indexnet.notation.ast.ProgramSyntax`.

A recursive-descent parser over the tokens of :mod:`~indexnet.notation.lexer`,
in three layers: :mod:`~indexnet.notation.tensors` reads tensor references,
:mod:`~indexnet.notation.expressions` the expressions built from them, and
this module the statements (declarations, equations, claims), one a line.
It decides only what the text says, not what it means: whether ``f(x)`` is a
function call or a product is left to lowering, which knows the names.
Every rejection raises :class:`~indexnet.errors.ProgramSyntaxError`
with the line, the column and what was expected.

>>> from indexnet.errors import ProgramSyntaxError
>>> stmt = parse_text("a^n_h = sigmoid(x^n_d W^d_h)").statements[0]
>>> type(stmt.rhs.terms[0][1].items[0][1]).__name__
'Apply'
>>> try:
...     parse_text("a = x^nd")
... except ProgramSyntaxError as err:
...     print(err)
line 1, column 8: one index after ^; write x^{nd} for two
  a = x^nd
         ^
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from ..ir.elementwise import FUNCTIONS
from .ast import (
    Claim,
    ConstDecl,
    Decl,
    Deriv,
    DomainSpec,
    Equation,
    FunctionDecl,
    Index,
    Pos,
    ProgramSyntax,
    SizeDecl,
    Statement,
    TensorRef,
)
from .cursor import END, is_letter
from .expressions import MAX_DEPTH, ExpressionParser
from .lexer import Token

__all__ = ["DOMAINS", "KEYWORDS", "MAX_DEPTH", "parse_text"]

#: Statement keywords (reserved at the start of a line only).
KEYWORDS = ("act", "claim", "const", "input", "param", "size")
#: Domains of ``input`` and ``param`` and what they take.
DOMAINS = {"normal": "", "positive": "", "uniform": "numbers", "onehot": "index",
           "simplex": "index", "spd": "indices"}


class _Many:
    """Several declarations written on one line; flattened by ``program()``."""

    def __init__(self, items: tuple[Statement, ...], pos: Pos) -> None:
        self.items = items
        self.pos = pos


class _Parser(ExpressionParser):
    """The statements of a program, one a line."""

    def program(self) -> ProgramSyntax:
        """Read every statement of the text."""
        statements: list[Statement] = []
        while self.tok.kind != "eof":
            if self.tok.kind == "newline":
                self.advance()
                continue
            stmt = self.statement()
            if isinstance(stmt, _Many):
                statements.extend(stmt.items)
            else:
                statements.append(stmt)
            if self.tok.kind not in END:
                raise self.error(self.unexpected())
        return ProgramSyntax(tuple(statements), self.source)

    def statement(self) -> Statement | _Many:
        """Read a declaration (it starts with a keyword) or an equation."""
        tok = self.tok
        nxt = self.peek()
        if (tok.kind == "name" and tok.text in KEYWORDS and nxt.kind not in ("=", "newline", "eof")
                and nxt.offset > tok.end):
            return self.declaration()
        lhs = self.factor(0)
        if isinstance(lhs, Deriv):
            raise self.error(
                "a derivative cannot be defined by an equation; state it with "
                "'claim dL/dX = …', or name it: delta^n_k = dL/da^n_k", tok)
        if not isinstance(lhs, TensorRef):
            raise self.error(
                "the left-hand side must be a tensor, such as a^n_h or ^n(a)_h", tok)
        self.expect("=", "expected '=' after the left-hand side")
        return Equation(lhs, self.expr(0), self.pos(tok))

    # -- declarations ------------------------------------------------------------------

    def declaration(self) -> Statement | _Many:
        """Read the statement after a keyword: input, param, const, act, size or claim."""
        kw = self.advance()
        keyword = kw.text
        if keyword in ("input", "param"):
            return self.tensor_decls(kw)
        if keyword == "const":
            return self._many(self.const_item)
        if keyword == "act":
            return self._many(self.act_item)
        if keyword == "size":
            return self.size_decl()
        return self.claim()

    def _many(self, item: Callable[[], Statement]) -> Statement | _Many:
        start = self.tok
        items = [item()]
        while self.tok.kind == ",":
            self.advance()
            items.append(item())
        return items[0] if len(items) == 1 else _Many(tuple(items), self.pos(start))

    def tensor_decls(self, kw: Token) -> Decl | _Many:
        """Read ``input x^n_d, y^n: onehot(n)`` after its keyword ``kw``."""
        keyword = kw.text
        decls: list[Decl] = []
        while True:
            start = self.tok
            tensor = self.factor(0)
            if not isinstance(tensor, TensorRef):
                raise self.error(f"{keyword} takes tensors, such as x^n_d or ^n(x)_d", start)
            domain = self.domain() if self.tok.kind == ":" else None
            decls.append(Decl(keyword, tensor, domain, self.pos(start)))
            if self.tok.kind != ",":
                break
            self.advance()
        if len(decls) == 1:
            return decls[0]
        return _Many(tuple(decls), self.pos(kw))

    def size_decl(self) -> SizeDecl:
        """Read ``size n=6, d=5``."""
        start = self.tok
        sizes: list[tuple[Index, int]] = []
        while True:
            letter = self.tok
            if not is_letter(letter):
                raise self.error("size takes index letters with sizes, as in size n=6, d=5")
            self.advance()
            self.expect("=", f"expected '=' after {letter.text}")
            value = self.tok
            if value.kind != "number" or not value.text.isdigit():
                raise self.error(f"the size of {letter.text} must be a whole number")
            if len(value.text.lstrip("0")) > 18:  # past 2**63 - 1, NumPy's largest axis
                raise self.error(f"the size of {letter.text} is out of range (at most "
                                 f"{2**63 - 1})", value)
            self.advance()
            sizes.append((Index(letter.text, True, self.pos(letter)), int(value.text)))
            if self.tok.kind != ",":
                break
            self.advance()
        return SizeDecl(tuple(sizes), self.pos(start))

    def claim(self) -> Claim:
        """Read ``claim dL/dW^d_h = …`` after its keyword."""
        start = self.tok
        lhs = self.factor(0)
        if not isinstance(lhs, Deriv):
            raise self.error("claim states a derivative: claim dL/dW^d_h = …", start)
        self.expect("=", "expected '=' after the derivative")
        return Claim(lhs, self.expr(0), self.pos(start))

    def const_item(self) -> ConstDecl:
        """Read ``lambda = 0.01`` (or ``eps = 1e-5``, ``c = 1/100``) of ``const``."""
        name = self.tok
        if name.kind != "name":
            raise self.error("const takes a name and a value, as in const lambda = 0.01")
        self.advance()
        self.expect("=", f"expected '=' after {name.text}")
        sign = self.sign()
        value = self.tok
        if value.kind != "number":
            raise self.error(f"the value of {name.text} must be a number")
        self.advance()
        number = sign * self.number(value)
        text = ("-" if sign < 0 else "") + value.text
        if self.tok.kind == "/":  # a fraction: 1/100
            self.advance()
            den = self.tok
            if den.kind != "number":
                raise self.error(f"the value of {name.text} must be a number, such as 1/100")
            self.advance()
            if self.number(den) == 0:
                raise self.error("division by zero", den)
            number /= self.number(den)
            text += "/" + den.text
        return ConstDecl(name.text, number, self.pos(name), text)

    def act_item(self) -> FunctionDecl:
        """Read ``f = sigmoid`` (or ``f_ℓ = sigmoid'``, ``g = softmax[k]``) of ``act``."""
        name = self.tok
        if name.kind != "name":
            raise self.error("act takes a name and a function, as in act f = sigmoid")
        self.advance()
        label = self.label() if self.tok.kind == "_" else None
        self.expect("=", f"expected '=' after {name.text}")
        func = self.tok
        if func.kind != "name" or func.text not in FUNCTIONS:
            raise self.error(
                f"act names a built-in function: {', '.join(sorted(FUNCTIONS))}")
        self.advance()
        primes = 0
        while self.tok.kind == "'":
            self.advance()
            primes += 1
        index = self.bracket_index() if self.tok.kind == "[" else None
        return FunctionDecl(name.text, label, func.text, primes, index, self.pos(name))

    # -- domains -----------------------------------------------------------------------

    def domain(self) -> DomainSpec:
        """Read ``: normal``, ``: uniform(a, b)`` or ``: onehot(k)`` after a declared tensor."""
        self.advance()  # ':'
        tok = self.tok
        if tok.kind != "name" or tok.text not in DOMAINS:
            raise self.error(f"expected a domain: {', '.join(DOMAINS)}")
        self.advance()
        kind = DOMAINS[tok.text]
        args: list[Fraction | Index] = []
        if kind:
            self.expect("(", f"expected '(' after {tok.text}")
            if kind == "index":
                args.append(self._domain_index(tok.text))
            elif kind == "indices":  # spd(i,j): the rows and the columns
                args.append(self._domain_index(tok.text, "spd(i,j)"))
                self.expect(",", "spd takes two index letters: spd(i,j)")
                args.append(self._domain_index(tok.text, "spd(i,j)"))
            else:
                args.extend(self._domain_numbers())
            self.expect(")", f"expected ')' to close {tok.text}(")
        return DomainSpec(tok.text, tuple(args), self.pos(tok))

    def _domain_index(self, domain: str, example: str = "") -> Index:
        """An index letter of ``onehot(k)``, ``simplex(k)`` or ``spd(i,j)``."""
        letter = self.tok
        if not is_letter(letter):
            if example:
                raise self.error(f"{domain}(…) takes two index letters, as in {example}")
            raise self.error(f"{domain}(…) takes one index letter, as in {domain}(k)")
        self.advance()
        return Index(letter.text, True, self.pos(letter))

    def _domain_numbers(self) -> list[Fraction]:
        """The two bounds of ``uniform(a, b)``."""
        bounds: list[Fraction] = []
        for k in range(2):
            if k:
                self.expect(",", "uniform takes two numbers: uniform(a, b)")
            sign = self.sign()
            if self.tok.kind != "number":
                raise self.error("uniform takes two numbers: uniform(a, b)")
            bounds.append(sign * self.number(self.advance()))
        return bounds


def parse_text(text: str) -> ProgramSyntax:
    """Parse a whole program (one statement a line) into its syntax tree.

    >>> [type(s).__name__ for s in parse_text("input x^n_d, y^n\\nz^n = x^n_d y^n").statements]
    ['Decl', 'Decl', 'Equation']
    """
    return _Parser(text).program()
