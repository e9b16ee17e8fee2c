"""Read index-language text into a :class:`~indexnet.notation.ast.ProgramSyntax`.

A recursive-descent parser over the tokens of :mod:`~indexnet.notation.lexer`.
It decides only what the text says, not what it means: whether ``f(x)`` is a
function call or a product is left to lowering, which knows the names.
Every rejection raises :class:`~indexnet.errors.ProgramSyntaxError`
with the line, the column and what was expected.

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

from ..errors import ProgramSyntaxError
from ..ir.elementwise import FUNCTIONS
from .ast import (
    Apply,
    Claim,
    ConstDecl,
    Decl,
    Deriv,
    DomainSpec,
    Equation,
    Expr,
    Factor,
    Frac,
    FunctionDecl,
    Index,
    Number,
    Paren,
    Pos,
    Power,
    ProgramSyntax,
    SizeDecl,
    Statement,
    SumOver,
    TensorRef,
    Term,
)
from .lexer import Token, tokenize

__all__ = ["DOMAINS", "KEYWORDS", "MAX_DEPTH", "parse_text"]

#: Statement keywords (reserved at the start of a line only).
KEYWORDS = ("act", "claim", "const", "input", "param", "size")
#: Domains of ``input`` and ``param`` and what they take.
DOMAINS = {"normal": "", "positive": "", "uniform": "numbers", "onehot": "index",
           "simplex": "index"}
#: Deepest nesting of parentheses, functions and sums accepted.
MAX_DEPTH = 64

_END = frozenset({"newline", "eof"})
_FACTOR_START = frozenset({"name", "number", "(", "^", "_", "{}", "sum", "∂", "frac", "{"})
_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _is_label(text: str) -> bool:
    """A layer label, not indices: ℓ, ℓ-1, 2 (anything but plain ASCII letters)."""
    return bool(text) and not (text.isascii() and text.isalpha())


def _describe(tok: Token) -> str:
    if tok.kind == "newline":
        return "the end of the line"
    if tok.kind == "eof":
        return "the end of the text"
    return repr(tok.text)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.toks = tokenize(source)
        self.i = 0

    # -- token access ----------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def advance(self) -> Token:
        tok = self.toks[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def touches(self, j: int) -> bool:
        """Whether token ``j`` starts where token ``j - 1`` ends."""
        return j > 0 and self.toks[j].offset == self.toks[j - 1].end

    @staticmethod
    def pos(tok: Token) -> Pos:
        return Pos(tok.line, tok.column, tok.offset)

    def error(self, message: str, tok: Token | None = None, shift: int = 0) -> ProgramSyntaxError:
        tok = tok or self.tok
        return ProgramSyntaxError(message, line=tok.line, column=tok.column + shift,
                                  source=self.source)

    def expect(self, kind: str, message: str) -> Token:
        if self.tok.kind != kind:
            raise self.error(f"{message}, got {_describe(self.tok)}")
        return self.advance()

    # -- statements ------------------------------------------------------------------

    def program(self) -> ProgramSyntax:
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
            if self.tok.kind not in _END:
                raise self.error(self._unexpected())
        return ProgramSyntax(tuple(statements), self.source)

    def _unexpected(self) -> str:
        tok = self.tok
        if tok.kind == ")":
            return "unmatched ')'"
        if tok.kind == "'":
            return "a prime ' marks a function's derivative, as in sigmoid'(a)"
        if tok.kind == "=":
            return "a second '=': a statement defines one tensor"
        if tok.kind == "T":
            return "a transpose mark ᵀ follows a tensor name directly, as in xᵀ_n^d"
        return f"unexpected {_describe(tok)}: expected an operator or the end of the statement"

    def statement(self) -> Statement | _Many:
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

    def declaration(self) -> Statement | _Many:
        kw = self.advance()
        keyword = kw.text
        if keyword in ("input", "param"):
            raise_pos = self.pos(kw)
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
            return _Many(tuple(decls), raise_pos)
        if keyword == "const":
            return self._many(self.const_item)
        if keyword == "act":
            return self._many(self.act_item)
        if keyword == "size":
            start = self.tok
            sizes: list[tuple[Index, int]] = []
            while True:
                letter = self.tok
                if letter.kind != "name" or len(letter.text) != 1 or not (
                        letter.text.isascii() and letter.text.isalpha()):
                    raise self.error("size takes index letters with sizes, as in size n=6, d=5")
                self.advance()
                self.expect("=", f"expected '=' after {letter.text}")
                value = self.tok
                if value.kind != "number" or not value.text.isdigit():
                    raise self.error(f"the size of {letter.text} must be a whole number")
                self.advance()
                sizes.append((Index(letter.text, True, self.pos(letter)), int(value.text)))
                if self.tok.kind != ",":
                    break
                self.advance()
            return SizeDecl(tuple(sizes), self.pos(start))
        # claim
        start = self.tok
        lhs = self.factor(0)
        if not isinstance(lhs, Deriv):
            raise self.error("claim states a derivative: claim dL/dW^d_h = …", start)
        self.expect("=", "expected '=' after the derivative")
        return Claim(lhs, self.expr(0), self.pos(start))

    def _many(self, item: Callable[[], Statement]) -> Statement | _Many:
        start = self.tok
        items = [item()]
        while self.tok.kind == ",":
            self.advance()
            items.append(item())
        return items[0] if len(items) == 1 else _Many(tuple(items), self.pos(start))

    def const_item(self) -> ConstDecl:
        name = self.tok
        if name.kind != "name":
            raise self.error("const takes a name and a value, as in const lambda = 0.01")
        self.advance()
        self.expect("=", f"expected '=' after {name.text}")
        sign = 1
        if self.tok.kind in ("+", "-"):
            sign = -1 if self.advance().kind == "-" else 1
        value = self.tok
        if value.kind != "number":
            raise self.error(f"the value of {name.text} must be a number")
        self.advance()
        return ConstDecl(name.text, sign * _number(value, self), self.pos(name))

    def act_item(self) -> FunctionDecl:
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

    def domain(self) -> DomainSpec:
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
                letter = self.tok
                if letter.kind != "name" or len(letter.text) != 1 or not (
                        letter.text.isascii() and letter.text.isalpha()):
                    raise self.error(f"{tok.text}(…) takes one index letter, as in {tok.text}(k)")
                self.advance()
                args.append(Index(letter.text, True, self.pos(letter)))
            else:
                for k in range(2):
                    if k:
                        self.expect(",", "uniform takes two numbers: uniform(a, b)")
                    sign = 1
                    if self.tok.kind in ("+", "-"):
                        sign = -1 if self.advance().kind == "-" else 1
                    if self.tok.kind != "number":
                        raise self.error("uniform takes two numbers: uniform(a, b)")
                    args.append(sign * _number(self.advance(), self))
            self.expect(")", f"expected ')' to close {tok.text}(")
        return DomainSpec(tok.text, tuple(args), self.pos(tok))

    # -- expressions ------------------------------------------------------------------

    def expr(self, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise self.error(f"the expression is nested more than {MAX_DEPTH} levels deep")
        start = self.tok
        sign = "+"
        if self.tok.kind in ("+", "-"):
            sign = self.advance().kind
        terms = [(sign, self.term(depth))]
        while self.tok.kind in ("+", "-"):
            sign = self.advance().kind
            terms.append((sign, self.term(depth)))
        return Expr(tuple(terms), self.pos(start))

    def term(self, depth: int) -> Term:
        start = self.tok
        items: list[tuple[str, Factor]] = []
        op = ""
        while True:
            tok = self.tok
            if tok.kind in ("mul", "/"):
                if not items or op:
                    raise self.error(f"expected a factor before {tok.text!r}")
                op = "/" if tok.kind == "/" else tok.text
                self.advance()
                continue
            if tok.kind == "sum" or (tok.kind == "name" and tok.text == "sum"
                                     and self.peek().kind == "_"):
                items.append((op, self.sum_over(depth)))
                op = ""
                break
            if tok.kind not in _FACTOR_START:
                break
            items.append((op, self.factor(depth)))
            op = ""
        if op:
            raise self.error(f"expected a factor after {op!r}")
        if not items:
            if self.tok.kind == "'":
                raise self.error(self._unexpected())
            raise self.error(
                f"expected a term (a tensor, a number, a function or '('), got "
                f"{_describe(self.tok)}")
        return Term(tuple(items), self.pos(start))

    def sum_over(self, depth: int) -> SumOver:
        if depth > MAX_DEPTH:
            raise self.error(f"the expression is nested more than {MAX_DEPTH} levels deep")
        start = self.advance()
        if self.tok.kind != "_":
            raise self.error("a sum takes its index after _, as in sum_n or sum_{nk}")
        caret = self.advance()
        group = self.script_group(caret, "sum")
        if not isinstance(group, list):
            raise self.error("a sum takes index letters, as in sum_n", caret)
        if self.tok.kind in _END or self.tok.kind in ("+", "-", ")", ",", "]", "}", "="):
            raise self.error(f"expected what sum_{''.join(i.letter for i in group)} sums")
        body = self.term(depth + 1)
        return SumOver(tuple(group), body, self.pos(start))

    def factor(self, depth: int) -> Factor:
        if depth > MAX_DEPTH:
            raise self.error(f"the expression is nested more than {MAX_DEPTH} levels deep")
        base = self.primary(depth)
        powers = 0
        while True:
            tok = self.tok
            if tok.kind == "^" and self.power_follows():
                powers += 1
                if powers > MAX_DEPTH:
                    raise self.error(f"more than {MAX_DEPTH} powers in a row")
                base = Power(base, self.power_exponent(), base.pos)
                continue
            if tok.kind in ("^", "_") and not self.prescript_run():
                inner = base
                while isinstance(inner, Power):
                    inner = inner.base
                if isinstance(inner, TensorRef) and inner is not base:
                    raise self.error("indices come before a power: write x^n^2, not x^2^n")
                raise self.error(f"{tok.text} attaches indices to a tensor, and "
                                 f"{_kind_name(base)} is not a tensor")
            if tok.kind == "T":
                if isinstance(base, TensorRef):
                    raise self.error("a transpose mark ᵀ follows a tensor name directly, as in "
                                     "xᵀ_n^d")
                raise self.error(f"only a tensor can be transposed, and {_kind_name(base)} "
                                 "is not one")
            return base

    def primary(self, depth: int) -> Factor:
        tok = self.tok
        kind = tok.kind
        if kind == "number":
            self.advance()
            return Number(_number(tok, self), self.pos(tok))
        if kind == "(":
            group = self.doc_group(self.i)
            if group is not None and (group[1] or group[2]):
                return self.doc_tensor([], [], tok)
            self.advance()
            inner = self.expr(depth + 1)
            if self.tok.kind != ")":
                raise self.error(
                    f"expected ')' to close the '(' of line {tok.line}, column {tok.column}, "
                    f"got {_describe(self.tok)}")
            self.advance()
            return Paren(inner, self.pos(tok))
        if kind == "{":
            self.advance()
            inner = self.expr(depth + 1)
            self.expect("}", f"expected '}}' to close the '{{' of column {tok.column}")
            return Paren(inner, self.pos(tok))
        if kind in ("^", "_", "{}"):
            return self.prescripted()
        if kind == "frac":
            return self.frac(depth)
        if kind == "∂":
            return self.partial()
        if kind == "name":
            return self.named(depth)
        if kind == "T":
            raise self.error("a transpose mark ᵀ follows a tensor name directly, as in xᵀ_n^d")
        raise self.error(
            f"expected a tensor, a number, a function or '(', got {_describe(tok)}")

    def named(self, depth: int) -> Factor:
        tok = self.tok
        name = tok.text
        slash, den = self.peek(), self.peek(2)
        if (len(name) > 1 and name[0] == "d" and slash.kind == "/" and slash.offset == tok.end
                and den.kind == "name" and den.offset == slash.end and den.text[0] == "d"):
            return self.d_deriv()
        if name == "sum":
            raise self.error("a sum takes its index after _, as in sum_n")
        if self.call_follows():
            return self.apply(depth)
        if name in FUNCTIONS:
            nxt = self.peek()
            if nxt.kind in ("^", "_") and nxt.offset == tok.end:
                self.check_name(name, tok)
            if nxt.kind in _FACTOR_START:
                self.advance()
                arg = self.factor(depth + 1)
                expr = Expr((("+", Term((("", arg),), arg.pos)),), arg.pos)
                return Apply(name, None, 0, None, (expr,), False, self.pos(tok))
            raise self.error(f"{name} needs an argument: {name}(…)", tok)
        return self.compact_tensor([], [], tok)

    # -- tensors ----------------------------------------------------------------------

    def compact_tensor(self, upper: list[Index], lower: list[Index], start: Token,
                       name_tok: Token | None = None, skip: int = 0) -> TensorRef:
        tok = name_tok or self.tok
        if tok.kind != "name":
            raise self.error(f"expected a tensor name, got {_describe(tok)}", tok)
        self.advance()
        name = tok.text[skip:]
        self.check_name(name, tok)
        transposed = False
        if self.tok.kind == "T" and self.touches(self.i):
            self.advance()
            transposed = True
        transposed = self.attached(upper, lower, name, transposed)
        return TensorRef(name, None, tuple(upper), tuple(lower), transposed, "compact",
                         self.pos(start))

    def check_name(self, name: str, tok: Token) -> None:
        if name in FUNCTIONS:
            raise self.error(f"{name} is a function, not a tensor: write {name}(…)", tok)
        if name in ("sum",):
            raise self.error("sum is reserved for sums: sum_n …", tok)

    def doc_tensor(self, upper: list[Index], lower: list[Index], start: Token) -> TensorRef:
        open_tok = self.expect("(", "expected '('")
        name_tok = self.tok
        if name_tok.kind != "name":
            raise self.error("expected a tensor name inside the parentheses, as in ^n(x)_d")
        self.advance()
        self.check_name(name_tok.text, name_tok)
        label: str | None = None
        transposed = False
        while True:
            if self.tok.kind == "_":
                if label is not None:
                    raise self.error("a tensor takes one layer label")
                self.advance()
                label = self.label_body()
            elif self.tok.kind == "^" and (self.peek().kind == "T" or (
                    self.peek().kind == "name" and self.peek().text == "T")):
                if transposed:
                    raise self.error("transposed twice")
                self.advance()
                self.advance()
                transposed = True
            elif self.tok.kind == "T":
                if transposed:
                    raise self.error("transposed twice")
                self.advance()
                transposed = True
            else:
                break
        if self.tok.kind != ")":
            raise self.error(
                "inside the parentheses of a tensor stand its name, a layer label and ^T, "
                f"as in (x_ℓ^T); got {_describe(self.tok)}")
        self.advance()
        del open_tok
        pre = (len(upper), len(lower))
        transposed = self.attached(upper, lower, name_tok.text, transposed)
        return TensorRef(name_tok.text, label, tuple(upper), tuple(lower), transposed,
                         "document", self.pos(start), pre)

    def prescripted(self) -> TensorRef:
        start = self.tok
        upper: list[Index] = []
        lower: list[Index] = []
        empty_group = False
        while self.tok.kind in ("^", "_", "{}"):
            if self.tok.kind == "{}":
                empty_group = True
                self.advance()
                continue
            caret = self.advance()
            group = self.script_group(caret, "")
            if not isinstance(group, list):
                raise self.error("a transpose mark belongs inside the parentheses: _n(x^T)^d",
                                 caret)
            (upper if caret.kind == "^" else lower).extend(group)
        if self.tok.kind == "(":
            if not self.touches(self.i) and not empty_group:
                raise self.error("a pre-script must touch its '(': write ^n(x)_d")
            return self.doc_tensor(upper, lower, start)
        if self.tok.kind == "name" and (upper or lower):
            return self.compact_tensor(upper, lower, start)
        raise self.error(
            "these indices belong to no tensor: write them after a tensor (x^n) or "
            "directly before '(' (^n(x))", start)

    def attached(self, upper: list[Index], lower: list[Index], name: str,
                 transposed: bool) -> bool:
        """Read the script groups that belong to the tensor just read."""
        while self.tok.kind in ("^", "_"):
            if self.prescript_run() or (self.tok.kind == "^" and self.power_follows()):
                break
            caret = self.advance()
            group = self.script_group(caret, name)
            if isinstance(group, str):
                if transposed:
                    raise self.error("transposed twice", caret)
                transposed = True
            else:
                (upper if caret.kind == "^" else lower).extend(group)
        return transposed

    def script_group(self, caret: Token, owner: str) -> list[Index] | str:
        tok = self.tok
        upper = caret.kind == "^"
        sym = caret.text
        if tok.kind == "T":
            if not upper:
                raise self.error("the transpose mark goes after ^: x^T")
            self.advance()
            return "T"
        if tok.kind == "name":
            text = tok.text
            if upper and text == "T":
                self.advance()
                return "T"
            first = text[0]
            if not (first.isascii() and first.isalpha()):
                hint = ""
                if first == "ℓ" or not first.isascii():
                    hint = ("; a layer label such as ℓ belongs inside the parentheses of the "
                            "document form, as in (x_ℓ)")
                raise self.error(
                    f"{first!r} is not an index: an index is one letter a-z or A-Z{hint}")
            if len(text) > 1:
                if text.isascii() and text.isalpha():
                    count = _NUMBER_WORDS.get(len(text), str(len(text)))
                    raise self.error(
                        f"one index after {sym}; write {owner}{sym}{{{text}}} for {count}",
                        tok, shift=1)
                raise self.error(f"one index after {sym} (an index is one letter)", tok, shift=1)
            self.advance()
            return [Index(first, upper, self.pos(tok))]
        if tok.kind == "{":
            self.advance()
            letters: list[Index] = []
            while self.tok.kind == "name":
                part = self.tok
                for k, ch in enumerate(part.text):
                    if not (ch.isascii() and ch.isalpha()):
                        raise self.error(
                            f"{ch!r} is not an index: an index is one letter a-z or A-Z",
                            part, shift=k)
                    letters.append(Index(ch, upper, Pos(part.line, part.column + k,
                                                        part.offset + k)))
                self.advance()
            if self.tok.kind != "}":
                raise self.error(f"expected index letters and '}}' after {sym}{{, got "
                                 f"{_describe(self.tok)}")
            self.advance()
            if not letters:
                raise self.error(f"empty index group after {sym}", tok)
            return letters
        if tok.kind == "{}":
            raise self.error(f"empty index group after {sym}")
        if tok.kind == "number":
            if upper:
                raise self.error(f"one digit after ^; write {owner or 'x'}^{{{tok.text}}} for "
                                 f"the power {tok.text}", tok, shift=1)
            raise self.error(
                "_ takes an index letter; a layer label goes inside the parentheses of the "
                "document form, as in (x_1)")
        raise self.error(f"expected an index letter or {{…}} after {sym}, got {_describe(tok)}")

    def label(self) -> str:
        self.advance()  # '_'
        return self.label_body()

    def label_body(self) -> str:
        tok = self.tok
        if tok.kind in ("name", "number"):
            self.advance()
            return tok.text
        if tok.kind == "{":
            self.advance()
            parts: list[str] = []
            while self.tok.kind in ("name", "number", "+", "-"):
                parts.append(self.advance().text)
            if self.tok.kind != "}" or not parts:
                raise self.error("a layer label is a name, a number or {ℓ-1}")
            self.advance()
            return "".join(parts)
        raise self.error("expected a layer label such as ℓ or {ℓ-1} after _")

    # -- lookahead --------------------------------------------------------------------

    def _group_end(self, j: int) -> int | None:
        """Index just after the script group whose ^/_ is token ``j``, or None."""
        toks = self.toks
        k = j + 1
        if k >= len(toks):
            return None
        if toks[k].kind in ("name", "number", "T"):
            return k + 1
        if toks[k].kind == "{":
            while k < len(toks) and toks[k].kind not in ("}", "newline", "eof"):
                k += 1
            return k + 1 if k < len(toks) and toks[k].kind == "}" else None
        return None

    def prescript_run(self) -> bool:
        """Whether the script groups from here on are pre-scripts of a '(' they touch."""
        j = self.i
        if self.touches(j):
            return False
        while self.toks[j].kind in ("^", "_"):
            end = self._group_end(j)
            if end is None:
                return False
            for k in range(j + 1, end):
                if not self.touches(k):
                    return False
            j = end
            if self.toks[j].kind in ("^", "_") and not self.touches(j):
                return False
        return self.toks[j].kind == "(" and self.touches(j)

    def power_follows(self) -> bool:
        nxt = self.peek()
        if nxt.kind == "number":
            return True
        if nxt.kind == "{":
            inner = self.peek(2)
            return inner.kind in ("number", "-", "+")
        return False

    def power_exponent(self) -> Fraction:
        self.advance()  # '^'
        tok = self.tok
        if tok.kind == "number":
            if len(tok.text) > 1:
                raise self.error(f"one digit after ^; write x^{{{tok.text}}} for the power "
                                 f"{tok.text}", tok, shift=1)
            self.advance()
            return _number(tok, self)
        self.advance()  # '{'
        sign = 1
        if self.tok.kind in ("+", "-"):
            sign = -1 if self.advance().kind == "-" else 1
        if self.tok.kind != "number":
            raise self.error("expected a number in the power ^{…}")
        value = _number(self.advance(), self)
        self.expect("}", "expected '}' to close the power")
        return sign * value

    def doc_group(self, j: int) -> tuple[int, bool, bool] | None:
        """Look at ``(`` at ``j``: (index of ')', scripts touch it after, document-only)."""
        toks = self.toks
        k = j + 1
        if toks[k].kind != "name":
            return None
        k += 1
        label: str | None = None
        transposed = False
        while True:
            kind = toks[k].kind
            if kind == "_" and label is None:
                nxt = toks[k + 1] if k + 1 < len(toks) else toks[-1]
                if nxt.kind in ("name", "number"):
                    label = nxt.text
                    k += 2
                elif nxt.kind == "{":
                    m = k + 2
                    parts = []
                    while toks[m].kind in ("name", "number", "+", "-"):
                        parts.append(toks[m].text)
                        m += 1
                    if toks[m].kind != "}" or not parts:
                        return None
                    label = "".join(parts)
                    k = m + 1
                else:
                    return None
            elif kind == "^" and not transposed and (
                    toks[k + 1].kind == "T" or (toks[k + 1].kind == "name"
                                                and toks[k + 1].text == "T")):
                transposed = True
                k += 2
            elif kind == "T" and not transposed:
                transposed = True
                k += 1
            else:
                break
        if toks[k].kind != ")":
            return None
        after = toks[k + 1]
        scripts = after.kind in ("^", "_") and after.offset == toks[k].end
        if scripts and after.kind == "^":
            nxt = toks[k + 2]
            if nxt.kind == "number" or (nxt.kind == "{" and toks[k + 3].kind in
                                        ("number", "-", "+")):
                scripts = False
        doc_only = transposed or (label is not None and _is_label(label))
        return k, scripts, doc_only

    def call_follows(self) -> bool:
        """Whether the name here starts a call: f(…), f'(…), f_ℓ(…), softmax[k](…)."""
        toks = self.toks
        j = self.i + 1
        marked = False  # a prime or an [index]: a function even without '('
        labelled = False
        while True:
            kind = toks[j].kind
            if kind == "'" and toks[j].offset == toks[j - 1].end:
                marked = True
                j += 1
            elif kind == "_":
                nxt = toks[j + 1]
                if nxt.kind in ("name", "number") and _is_label(nxt.text):
                    labelled = True
                    j += 2
                elif nxt.kind == "{":
                    m = j + 2
                    parts = []
                    while toks[m].kind in ("name", "number", "+", "-"):
                        parts.append(toks[m].text)
                        m += 1
                    if toks[m].kind == "}" and _is_label("".join(parts)):
                        labelled = True
                        j = m + 1
                    else:
                        return False
                else:
                    return False
            elif kind == "[" and toks[j].offset == toks[j - 1].end:
                marked = True
                j += 1
                while toks[j].kind not in ("]", "newline", "eof"):
                    j += 1
                if toks[j].kind != "]":
                    return marked
                j += 1
            else:
                break
        if toks[j].kind == "(" and toks[j].offset == toks[j - 1].end:
            if not marked and not labelled:
                group = self.doc_group(j)
                if group is not None and group[1]:
                    return False
            return True
        return marked

    # -- calls and derivatives ------------------------------------------------------------

    def apply(self, depth: int) -> Apply:
        tok = self.advance()
        name = tok.text
        label: str | None = None
        primes = 0
        index: Index | None = None
        while True:
            if self.tok.kind == "'":
                self.advance()
                primes += 1
            elif self.tok.kind == "_" and label is None:
                label = self.label()
            elif self.tok.kind == "[" and index is None:
                index = self.bracket_index()
            else:
                break
        if self.tok.kind == "(" and self.touches(self.i):
            open_tok = self.advance()
            args = [self.expr(depth + 1)]
            while self.tok.kind == ",":
                self.advance()
                args.append(self.expr(depth + 1))
            if self.tok.kind != ")":
                raise self.error(
                    f"expected ')' to close {name}( of column {open_tok.column}, got "
                    f"{_describe(self.tok)}")
            self.advance()
            return Apply(name, label, primes, index, tuple(args), True, self.pos(tok))
        if name in FUNCTIONS and self.tok.kind in _FACTOR_START:
            arg = self.factor(depth + 1)
            expr = Expr((("+", Term((("", arg),), arg.pos)),), arg.pos)
            return Apply(name, label, primes, index, (expr,), False, self.pos(tok))
        spelled = name + "'" * primes
        if primes:
            raise self.error(f"a prime ' marks a function's derivative; expected '(' after "
                             f"{spelled}: {spelled}(…)")
        raise self.error(f"expected '(' after {spelled}: {spelled}(…)")

    def bracket_index(self) -> Index:
        self.advance()  # '['
        tok = self.tok
        if tok.kind != "name" or len(tok.text) != 1 or not (tok.text.isascii()
                                                            and tok.text.isalpha()):
            raise self.error("expected one index letter in […], as in softmax[k]")
        self.advance()
        self.expect("]", "expected ']'")
        return Index(tok.text, False, self.pos(tok))

    def d_deriv(self) -> Deriv:
        num = self.advance()
        self.advance()  # '/'
        den = self.tok
        if den.text == "d":
            self.advance()
            if self.tok.kind not in ("(", "^", "_", "{}") or not self.touches(self.i):
                raise self.error(f"expected the tensor after d{num.text[1:]}/d, as in "
                                 f"d{num.text[1:]}/dW^d_h or d{num.text[1:]}/d(w)^d_h")
            wrt = self.doc_tensor([], [], self.tok) if self.tok.kind == "(" else \
                self.prescripted()
        else:
            wrt = self.compact_tensor([], [], den, den, skip=1)
        return Deriv(num.text[1:], wrt, self.pos(num))

    def partial(self) -> Deriv:
        start = self.advance()
        name = self.tok
        if name.kind != "name":
            raise self.error("expected a name after ∂, as in ∂L/∂W")
        self.advance()
        self.expect("/", f"expected '/' after ∂{name.text}")
        self.expect("∂", f"expected ∂ after ∂{name.text}/")
        wrt = self.deriv_target()
        return Deriv(name.text, wrt, self.pos(start))

    def deriv_target(self) -> TensorRef:
        if self.tok.kind == "(":
            return self.doc_tensor([], [], self.tok)
        if self.tok.kind in ("^", "_", "{}"):
            return self.prescripted()
        if self.tok.kind == "name":
            return self.compact_tensor([], [], self.tok)
        raise self.error("expected the tensor the derivative is taken with respect to")

    def frac(self, depth: int) -> Factor:
        start = self.advance()
        self.expect("{", "expected '{' after \\frac")
        if self.tok.kind == "∂":
            self.advance()
            name = self.tok
            if name.kind != "name":
                raise self.error("expected a name after ∂")
            self.advance()
            self.expect("}", "expected '}' after the numerator")
            self.expect("{", "expected '{' for the denominator")
            self.expect("∂", "expected ∂ in the denominator")
            wrt = self.deriv_target()
            self.expect("}", "expected '}' after the denominator")
            return Deriv(name.text, wrt, self.pos(start))
        num = self.expr(depth + 1)
        self.expect("}", "expected '}' after the numerator of \\frac")
        self.expect("{", "expected '{' for the denominator of \\frac")
        den = self.expr(depth + 1)
        self.expect("}", "expected '}' after the denominator of \\frac")
        return Frac(num, den, self.pos(start))


class _Many:
    """Several declarations written on one line; flattened by ``program()``."""

    def __init__(self, items: tuple[Statement, ...], pos: Pos) -> None:
        self.items = items
        self.pos = pos


def _kind_name(node: Factor) -> str:
    if isinstance(node, Number):
        return "a number"
    if isinstance(node, Apply):
        return f"{node.name}(…)"
    if isinstance(node, (Paren, Frac)):
        return "a parenthesis"
    if isinstance(node, Power):
        return "a power"
    if isinstance(node, Deriv):
        return "a derivative"
    return "this"


def _number(tok: Token, parser: _Parser) -> Fraction:
    mantissa, _, exponent = tok.text.lower().partition("e")
    if (exponent and abs(int(exponent)) > 300) or len(mantissa) > 300:
        raise parser.error(f"the number {tok.text[:20]}… is out of range", tok)
    try:
        return Fraction(tok.text)
    except (ValueError, ZeroDivisionError):
        raise parser.error(f"{tok.text!r} is not a number", tok) from None


def parse_text(text: str) -> ProgramSyntax:
    """Parse a whole program (one statement a line) into its syntax tree.

    >>> [type(s).__name__ for s in parse_text("input x^n_d, y^n\\nz^n = x^n_d y^n").statements]
    ['Decl', 'Decl', 'Equation']
    """
    return _Parser(text).program()
