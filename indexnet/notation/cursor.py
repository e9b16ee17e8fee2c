"""A cursor over the tokens of :mod:`~indexnet.notation.lexer`, shared by the parsers.

It reads one token at a time, looks ahead without moving, turns a token into a
:class:`~indexnet.notation.ast.Pos`, a number or a layer label, and builds the
:class:`~indexnet.errors.ProgramSyntaxError` (line, column, source line) that
every rejection raises.

>>> cursor = TokenCursor("x_{ℓ-1} = 2")
>>> cursor.label_ahead(1)
('ℓ-1', 7)
>>> cursor.number(cursor.peek(8))
Fraction(2, 1)
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import ProgramSyntaxError
from .ast import Pos
from .lexer import Token, tokenize

__all__ = ["END", "LABEL_PARTS", "TokenCursor", "describe", "is_label", "is_letter"]

#: Token kinds that end a statement.
END = frozenset({"newline", "eof"})
#: Token kinds that may stand in a braced layer label: _{ℓ-1}, _{l+1}.
LABEL_PARTS = ("name", "number", "+", "-")


def is_label(text: str) -> bool:
    """A layer label, not indices: ℓ, ℓ-1, 2 (anything but plain ASCII letters)."""
    return bool(text) and not (text.isascii() and text.isalpha())


def is_letter(tok: Token) -> bool:
    """Whether ``tok`` is one index letter, a-z or A-Z."""
    text = tok.text
    return tok.kind == "name" and len(text) == 1 and text.isascii() and text.isalpha()


def describe(tok: Token) -> str:
    """How a message names ``tok``: its text quoted, or the end of the line or text."""
    if tok.kind == "newline":
        return "the end of the line"
    if tok.kind == "eof":
        return "the end of the text"
    return repr(tok.text)


class TokenCursor:
    """The tokens of one text, a position among them, and the error they raise."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.toks = tokenize(source)
        self.i = 0

    # -- token access ----------------------------------------------------------------

    @property
    def tok(self) -> Token:
        """The token at the cursor."""
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Token:
        """The token ``k`` places ahead (the last token past the end)."""
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def advance(self) -> Token:
        """Step past the token at the cursor (never past the end) and return it."""
        tok = self.toks[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def touches(self, j: int) -> bool:
        """Whether token ``j`` starts where token ``j - 1`` ends."""
        return j > 0 and self.toks[j].offset == self.toks[j - 1].end

    def sign(self) -> int:
        """Read an optional ``+`` or ``-``: -1 after a minus, else 1."""
        if self.tok.kind in ("+", "-"):
            return -1 if self.advance().kind == "-" else 1
        return 1

    # -- values ------------------------------------------------------------------------

    @staticmethod
    def pos(tok: Token) -> Pos:
        """Where ``tok`` stands, as the syntax tree records it."""
        return Pos(tok.line, tok.column, tok.offset)

    def number(self, tok: Token) -> Fraction:
        """The exact value of the number token ``tok``."""
        mantissa, _, exponent = tok.text.lower().partition("e")
        # lengths first: a number of thousands of digits is refused before Python reads it
        if len(exponent) > 5 or (exponent and abs(int(exponent)) > 300) or len(mantissa) > 300:
            raise self.error(f"the number {tok.text[:20]}… is out of range (at most 300 digits "
                             "and an exponent within ±300)", tok)
        try:
            return Fraction(tok.text)
        except (ValueError, ZeroDivisionError):
            raise self.error(f"{tok.text!r} is not a number", tok) from None

    def label_ahead(self, j: int) -> tuple[str, int] | None:
        """Look at the ``_`` at ``j``: (the label after it, index past it), or None.

        A label is one name or number (``_ℓ``, ``_2``) or a braced run of them
        with signs (``_{ℓ-1}``); this only looks, it reads nothing.
        """
        toks = self.toks
        nxt = toks[j + 1] if j + 1 < len(toks) else toks[-1]
        if nxt.kind in ("name", "number"):
            return nxt.text, j + 2
        if nxt.kind != "{":
            return None
        m = j + 2
        parts = []
        while toks[m].kind in LABEL_PARTS:
            parts.append(toks[m].text)
            m += 1
        if toks[m].kind != "}" or not parts:
            return None
        return "".join(parts), m + 1

    # -- errors ------------------------------------------------------------------------

    def error(self, message: str, tok: Token | None = None, shift: int = 0) -> ProgramSyntaxError:
        """The syntax error at ``tok`` (default: the cursor), ``shift`` columns right."""
        tok = tok or self.tok
        return ProgramSyntaxError(message, line=tok.line, column=tok.column + shift,
                                  source=self.source)

    def expect(self, kind: str, message: str) -> Token:
        """Read a token of ``kind``, or raise ``message`` naming what stands there."""
        if self.tok.kind != kind:
            raise self.error(f"{message}, got {describe(self.tok)}")
        return self.advance()
