"""Read expressions: sums of terms, products of factors, calls, sums and derivatives.

The grammar of INDEX-LANGUAGE.md, section 2 (``expr``, ``term``, ``factor``)
over the tensor references of :mod:`~indexnet.notation.tensors`. Whether
``f(x)`` is a call or a product is decided by the text alone (``f(x)`` a
call, ``f (x)`` a product); lowering, which knows the names, may still read
a call of a tensor's name as a product.

>>> expr = ExpressionParser("2 x^n_d W^d_h + sigmoid(b_h)").expr(0)
>>> [[type(f).__name__ for _, f in term.items] for _, term in expr.terms]
[['Number', 'TensorRef', 'TensorRef'], ['Apply']]
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from ..errors import ProgramSyntaxError
from ..ir.elementwise import FUNCTIONS
from .ast import (
    Apply,
    Deriv,
    Expr,
    Factor,
    Frac,
    Index,
    IndexSize,
    Number,
    Paren,
    Pos,
    Power,
    SumOver,
    TensorRef,
    Term,
)
from .cursor import END, describe, is_label, is_letter
from .tensors import TensorParser

__all__ = ["FACTOR_START", "MAX_DEPTH", "ExpressionParser"]

#: Deepest nesting of parentheses, functions and sums accepted.
MAX_DEPTH = 64
#: Token kinds that can start a factor.
#: The words that reduce over the indices after ``_``: ``sum_n``, ``mean_n``.
REDUCTIONS = frozenset({"sum", "mean"})
#: The functions that reduce over the one index after ``_``: ``max_k(…)``, ``min_k(…)``.
REDUCERS = frozenset(name for name, f in FUNCTIONS.items() if f.reduces)
FACTOR_START = frozenset({"name", "number", "(", "^", "_", "{}", "sum", "∂", "frac", "{", "|"})


def _kind_name(node: Factor) -> str:
    """What a message calls a factor that is not a tensor."""
    if isinstance(node, (Number, IndexSize)):
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


def _bare_argument(arg: Factor) -> Expr:
    """The one-factor expression that ``sigmoid x`` applies its function to."""
    return Expr((("+", Term((("", arg),), arg.pos)),), arg.pos)


class ExpressionParser(TensorParser):
    """The expressions of the index language, down to their factors."""

    def unexpected(self) -> str:
        """The message for a token that cannot continue the statement here."""
        tok = self.tok
        if tok.kind == ")":
            return "unmatched ')'"
        if tok.kind == "'":
            return "a prime ' marks a function's derivative, as in sigmoid'(a)"
        if tok.kind == "=":
            return "a second '=': a statement defines one tensor"
        if tok.kind == "T":
            return "a transpose mark ᵀ follows a tensor name directly, as in xᵀ_n^d"
        return f"unexpected {describe(tok)}: expected an operator or the end of the statement"

    def _too_deep(self) -> ProgramSyntaxError:
        return self.error(f"the expression is nested more than {MAX_DEPTH} levels deep")

    # -- sums and products -------------------------------------------------------------

    def expr(self, depth: int) -> Expr:
        """Read terms joined by ``+`` and ``-``, with an optional leading sign."""
        if depth > MAX_DEPTH:
            raise self._too_deep()
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
        """Read factors multiplied (side by side, or by * · ⊙ ×) or divided by ``/``."""
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
            if tok.kind == "sum" or (tok.kind == "name" and tok.text in REDUCTIONS
                                     and self.peek().kind == "_"):
                items.append((op, self.sum_over(depth)))
                op = ""
                break
            if tok.kind not in FACTOR_START:
                break
            items.append((op, self.factor(depth)))
            op = ""
        if op:
            raise self.error(f"expected a factor after {op!r}")
        if not items:
            if self.tok.kind == "'":
                raise self.error(self.unexpected())
            raise self.error(
                f"expected a term (a tensor, a number, a function or '('), got "
                f"{describe(self.tok)}")
        return Term(tuple(items), self.pos(start))

    def sum_over(self, depth: int) -> SumOver:
        """Read ``sum_n`` (or ``mean_n``) and the rest of the product, which it sums over n."""
        if depth > MAX_DEPTH:
            raise self._too_deep()
        start = self.advance()
        word = "mean" if start.text == "mean" else "sum"
        if self.tok.kind != "_":
            raise self.error(f"a {word} takes its index after _, as in {word}_n or {word}_{{nk}}")
        caret = self.advance()
        group = self.script_group(caret, word)
        if not isinstance(group, list):
            raise self.error(f"a {word} takes index letters, as in {word}_n", caret)
        if self.tok.kind in END or self.tok.kind in ("+", "-", ")", ",", "]", "}", "="):
            raise self.error(f"expected what {word}_{''.join(i.letter for i in group)} "
                             f"{'averages' if word == 'mean' else 'sums'}")
        body = self.term(depth + 1)
        return SumOver(tuple(group), body, self.pos(start), mean=word == "mean")

    # -- factors -----------------------------------------------------------------------

    def factor(self, depth: int) -> Factor:
        """Read a primary and the powers after it (``x^n^2``)."""
        if depth > MAX_DEPTH:
            raise self._too_deep()
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

    def power_exponent(self) -> Fraction:
        """Read the ``^2`` or ``^{-1/2}`` of a power from its ``^``."""
        self.advance()  # '^'
        tok = self.tok
        if tok.kind == "number":
            if len(tok.text) > 1:
                raise self.error(f"one digit after ^; write x^{{{tok.text}}} for the power "
                                 f"{tok.text}", tok, shift=1)
            self.advance()
            return self.number(tok)
        self.advance()  # '{'
        sign = self.sign()
        if self.tok.kind != "number":
            raise self.error("expected a number in the power ^{…}")
        value = self.number(self.advance())
        if self.tok.kind == "/":  # a fraction: x^{1/2}, x^{-3/2}
            self.advance()
            den = self.tok
            if den.kind != "number":
                raise self.error("expected a number after '/' in the power ^{…}")
            self.advance()
            if self.number(den) == 0:
                raise self.error("division by zero", den)
            value /= self.number(den)
        self.expect("}", "expected '}' to close the power")
        return sign * value

    def primary(self, depth: int) -> Factor:
        """Read one factor without its powers."""
        tok = self.tok
        kind = tok.kind
        if kind == "number":
            self.advance()
            return Number(self.number(tok), self.pos(tok))
        if kind == "|":
            return self.index_size()
        if kind == "(":
            group = self.doc_group(self.i)
            if group is not None and (group[1] or group[2]):
                return _inverted(self.doc_tensor([], [], tok, inverse_ok=True))
            self.advance()
            inner = self.expr(depth + 1)
            if self.tok.kind != ")":
                raise self.error(
                    f"expected ')' to close the '(' of line {tok.line}, column {tok.column}, "
                    f"got {describe(self.tok)}")
            self.advance()
            return Paren(inner, self.pos(tok))
        if kind == "{":
            self.advance()
            inner = self.expr(depth + 1)
            self.expect("}", f"expected '}}' to close the '{{' of column {tok.column}")
            return Paren(inner, self.pos(tok))
        if kind in ("^", "_", "{}"):
            return _inverted(self.prescripted(inverse_ok=True))
        if kind == "frac":
            return self.frac(depth)
        if kind == "∂":
            return self.partial()
        if kind == "name":
            return self.named(depth)
        if kind == "T":
            raise self.error("a transpose mark ᵀ follows a tensor name directly, as in xᵀ_n^d")
        raise self.error(
            f"expected a tensor, a number, a function or '(', got {describe(tok)}")

    def index_size(self) -> IndexSize:
        """Read ``|n|``, the size of index n; ``|`` wraps a single index letter only."""
        bar = self.tok
        self.advance()
        tok = self.tok
        if not is_letter(tok):
            raise self.error(f"|…| wraps a single index letter, as in |n|, got {describe(tok)}; "
                             "write abs(…) for an absolute value", tok)
        self.advance()
        if self.tok.kind != "|":
            raise self.error(f"expected '|' to close |{tok.text}|, got {describe(self.tok)}; "
                             "|…| wraps a single index letter, and abs(…) is the absolute "
                             "value", self.tok)
        self.advance()
        return IndexSize(tok.text, self.pos(bar))

    def named(self, depth: int) -> Factor:
        """Read what starts with a name: a derivative dL/dx, a call, or a tensor."""
        tok = self.tok
        name = tok.text
        slash, den = self.peek(), self.peek(2)
        if (len(name) > 1 and name[0] == "d" and slash.kind == "/" and slash.offset == tok.end
                and den.kind == "name" and den.offset == slash.end and den.text[0] == "d"):
            return self.d_deriv()
        if len(name) > 1 and name[0] == "d" and slash.kind in ("^", "_", "{}", "T") \
                and slash.offset == tok.end:
            jacobian = self.d_jacobian()
            if jacobian is not None:
                return jacobian
        if name == "sum":
            raise self.error("a sum takes its index after _, as in sum_n")
        if name in REDUCERS and self.peek().kind == "_":
            return self.apply(depth)
        if self.call_follows():
            return self.apply(depth)
        if name in FUNCTIONS:
            nxt = self.peek()
            if nxt.kind in ("^", "_") and nxt.offset == tok.end:
                self.check_name(name, tok)
            if nxt.kind in FACTOR_START:
                self.advance()
                arg = self.factor(depth + 1)
                return Apply(name, None, 0, None, (_bare_argument(arg),), False, self.pos(tok))
            raise self.error(f"{name} needs an argument: {name}(…)", tok)
        return self.compact_tensor([], [], tok)

    # -- calls -------------------------------------------------------------------------

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
                scanned = self.label_ahead(j)
                if scanned is None or not is_label(scanned[0]):
                    return False
                labelled = True
                j = scanned[1]
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

    def apply(self, depth: int) -> Apply:
        """Read a call: its name, primes, label and [index], then ``(args)`` or one factor."""
        tok = self.advance()
        name = tok.text
        label: str | None = None
        primes = 0
        index: Index | None = None
        while True:
            if self.tok.kind == "'":
                self.advance()
                primes += 1
            elif self.tok.kind == "_" and label is None and name in REDUCERS:
                self.advance()  # max_k: the index it reduces
                if not is_letter(self.tok):
                    raise self.error(f"{name}_ takes one index letter, as in {name}_k(…)")
                index = Index(self.tok.text, False, self.pos(self.tok))
                self.advance()
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
                    f"{describe(self.tok)}")
            self.advance()
            return Apply(name, label, primes, index, tuple(args), True, self.pos(tok))
        if name in FUNCTIONS and self.tok.kind in FACTOR_START:
            arg = self.factor(depth + 1)
            return Apply(name, label, primes, index, (_bare_argument(arg),), False,
                         self.pos(tok))
        spelled = name + "'" * primes
        if primes:
            raise self.error(f"a prime ' marks a function's derivative; expected '(' after "
                             f"{spelled}: {spelled}(…)")
        raise self.error(f"expected '(' after {spelled}: {spelled}(…)")

    # -- derivatives and fractions -----------------------------------------------------

    def d_deriv(self) -> Deriv:
        """Read ``dL/dW^d_h`` or ``dL/d(w)^d_h``."""
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

    def d_jacobian(self) -> Deriv | None:
        """Read ``dy^n_k/dx^m_d`` (a Jacobian), or None (the cursor unmoved) if it is not one.

        It is one when the tensor ``dy^n_k`` touches a ``/`` that touches ``d…``.
        """
        start, mark = self.tok, self.i
        try:
            top = self.compact_tensor([], [], start, start, skip=1)
        except ProgramSyntaxError:
            self.i = mark
            return None
        slash, den = self.tok, self.peek()
        before = self.toks[self.i - 1]
        if not (slash.kind == "/" and slash.offset == before.end and den.kind == "name"
                and den.offset == slash.end and den.text[0] == "d"):
            self.i = mark
            return None
        self.advance()
        if den.text == "d":
            self.advance()
            wrt = self.deriv_target()
        else:
            wrt = self.compact_tensor([], [], den, den, skip=1)
        return _derivative(top, wrt, self.pos(start))

    def partial(self) -> Deriv:
        """Read ``∂L/∂W`` or the Jacobian ``∂y^n_k/∂x^m_d`` (``∂^n(y)_k/∂^m(x)_d``)."""
        start = self.advance()
        if self.tok.kind not in ("name", "(", "^", "_", "{}"):
            raise self.error("expected a name after ∂, as in ∂L/∂W")
        top = self.deriv_target()
        self.expect("/", f"expected '/' after ∂{top.name}")
        self.expect("∂", f"expected ∂ after ∂{top.name}/")
        wrt = self.deriv_target()
        return _derivative(top, wrt, self.pos(start))

    def deriv_target(self) -> TensorRef:
        """Read the tensor a derivative is taken with respect to, in either form."""
        if self.tok.kind == "(":
            return self.doc_tensor([], [], self.tok)
        if self.tok.kind in ("^", "_", "{}"):
            return self.prescripted()
        if self.tok.kind == "name":
            return self.compact_tensor([], [], self.tok)
        raise self.error("expected the tensor the derivative is taken with respect to")

    def frac(self, depth: int) -> Factor:
        r"""Read ``\frac{a}{b}``, or the derivative ``\frac{∂L}{∂W}``."""
        start = self.advance()
        self.expect("{", "expected '{' after \\frac")
        if self.tok.kind == "∂":
            self.advance()
            if self.tok.kind not in ("name", "(", "^", "_", "{}"):
                raise self.error("expected a name after ∂")
            top = self.deriv_target()
            self.expect("}", "expected '}' after the numerator")
            self.expect("{", "expected '{' for the denominator")
            self.expect("∂", "expected ∂ in the denominator")
            wrt = self.deriv_target()
            self.expect("}", "expected '}' after the denominator")
            return _derivative(top, wrt, self.pos(start))
        num = self.expr(depth + 1)
        self.expect("}", "expected '}' after the numerator of \\frac")
        self.expect("{", "expected '{' for the denominator of \\frac")
        den = self.expr(depth + 1)
        self.expect("}", "expected '}' after the denominator of \\frac")
        return Frac(num, den, self.pos(start))


def _derivative(top: TensorRef, wrt: TensorRef, pos: Pos) -> Deriv:
    """``d top/d wrt``: a scalar's derivative when ``top`` has no indices, else a Jacobian."""
    key = top.name if top.label is None else f"{top.name}_{top.label}"
    if not top.indices and not top.transposed:
        return Deriv(key, wrt, pos)
    return Deriv(key, wrt, pos, top)


def _inverted(ref: TensorRef) -> Factor:
    """``(A^{-1})^i_j`` as the call ``inv(A^i_j)``; any other reference as itself."""
    if not ref.inverse:
        return ref
    plain = dataclasses.replace(ref, inverse=False)
    arg = Expr((("", Term((("", plain),), ref.pos)),), ref.pos)
    return Apply("inv", None, 0, None, (arg,), True, ref.pos)
