"""Read tensor references: compact ``x^n_d``, document ``^n(x)_d``, labels, transposes.

The grammar of INDEX-LANGUAGE.md, section 1: the script groups ``^``/``_``
that carry index letters, the pre-scripts that touch a ``(``, the layer
labels and transpose marks inside the parentheses of the document form, and
the lookahead that tells a script group from a power (``x^2``) and a
document-form tensor from a parenthesis.

>>> ref = TensorParser("^n(x_ℓ)_d").prescripted()
>>> ref.name, ref.label, [i.letter for i in ref.indices], ref.form
('x', 'ℓ', ['n', 'd'], 'document')
"""

from __future__ import annotations

from ..errors import ProgramSyntaxError
from ..ir.elementwise import FUNCTIONS
from .ast import Index, Pos, TensorRef
from .cursor import LABEL_PARTS, TokenCursor, describe, is_label, is_letter
from .lexer import Token

__all__ = ["TensorParser"]

_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _is_transpose_mark(tok: Token) -> bool:
    """``T`` or ᵀ after a ``^``: the transpose, not an index."""
    return tok.kind == "T" or (tok.kind == "name" and tok.text == "T")


def _inverse_mark(toks: list[Token], k: int) -> bool:
    """Whether the tokens from ``k`` spell ``^{-1}``, the inverse mark of ``(A^{-1})``."""
    kinds = [t.kind for t in toks[k:k + 5]]
    return kinds == ["^", "{", "-", "number", "}"] and toks[k + 3].text == "1"


class TensorParser(TokenCursor):
    """The tensor references of the index language and the lookahead around them."""

    # -- tensors -----------------------------------------------------------------------

    def compact_tensor(self, upper: list[Index], lower: list[Index], start: Token,
                       name_tok: Token | None = None, skip: int = 0) -> TensorRef:
        """Read ``x^n_d`` or ``xᵀ_n^d`` (``upper``/``lower``: pre-scripts already read)."""
        tok = name_tok or self.tok
        if tok.kind != "name":
            raise self.error(f"expected a tensor name, got {describe(tok)}", tok)
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
        """Reject a function's name or ``sum`` where a tensor is named."""
        if name in FUNCTIONS:
            raise self.error(f"{name} is a function, not a tensor: write {name}(…)", tok)
        if name in ("sum",):
            raise self.error("sum is reserved for sums: sum_n …", tok)

    def doc_tensor(self, upper: list[Index], lower: list[Index], start: Token,
                   inverse_ok: bool = False) -> TensorRef:
        """Read ``(x_ℓ^T)^d_h`` from its ``(`` (``upper``/``lower``: its pre-scripts).

        Where a factor stands (``inverse_ok``), ``(A^{-1})^i_j`` is the matrix inverse.
        """
        self.expect("(", "expected '('")
        name_tok = self.tok
        if name_tok.kind != "name":
            raise self.error("expected a tensor name inside the parentheses, as in ^n(x)_d")
        self.advance()
        self.check_name(name_tok.text, name_tok)
        label: str | None = None
        transposed = inverse = False
        while True:
            if _inverse_mark(self.toks, self.i):
                if inverse:
                    raise self.error("inverted twice")
                if not inverse_ok:
                    raise self.error("a matrix inverse (A^{-1})^i_j is a factor, not a tensor "
                                     "to declare or differentiate by")
                for _ in range(5):
                    self.advance()
                inverse = True
            elif self.tok.kind == "_":
                if label is not None:
                    raise self.error("a tensor takes one layer label")
                self.advance()
                label = self.label_body()
            elif self.tok.kind == "T" or (self.tok.kind == "^"
                                          and _is_transpose_mark(self.peek())):
                if transposed:
                    raise self.error("transposed twice")
                if self.tok.kind == "^":
                    self.advance()
                self.advance()
                transposed = True
            else:
                break
        if self.tok.kind != ")":
            raise self.error(
                "inside the parentheses of a tensor stand its name, a layer label, ^T and "
                f"^{{-1}}, as in (x_ℓ^T) or (A^{{-1}}); got {describe(self.tok)}")
        self.advance()
        pre = (len(upper), len(lower))
        transposed = self.attached(upper, lower, name_tok.text, transposed)
        return TensorRef(name_tok.text, label, tuple(upper), tuple(lower), transposed,
                         "document", self.pos(start), pre, inverse)

    def prescripted(self, inverse_ok: bool = False) -> TensorRef:
        """Read a tensor that starts with scripts: ``^n(x)_d``, ``{}^n(x)``, ``^n x``."""
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
            return self.doc_tensor(upper, lower, start, inverse_ok)
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

    # -- script groups -----------------------------------------------------------------

    def script_group(self, caret: Token, owner: str) -> list[Index] | str:
        """Read what follows ``caret`` (^ or _): index letters, or ``'T'`` for a transpose."""
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
            if len(text) != 1 or not (text.isascii() and text.isalpha()):
                raise self._not_one_letter(tok, sym, owner)
            self.advance()
            return [Index(text, upper, self.pos(tok))]
        if tok.kind == "{":
            return self._script_braces(tok, upper, sym)
        if tok.kind == "{}":
            raise self.error(f"empty index group after {sym}")
        if tok.kind == "number":
            if upper:
                raise self.error(f"one digit after ^; write {owner or 'x'}^{{{tok.text}}} for "
                                 f"the power {tok.text}", tok, shift=1)
            raise self.error(
                "_ takes an index letter; a layer label goes inside the parentheses of the "
                "document form, as in (x_1)")
        raise self.error(f"expected an index letter or {{…}} after {sym}, got {describe(tok)}")

    def _not_one_letter(self, tok: Token, sym: str, owner: str) -> ProgramSyntaxError:
        """The error for a name after ``sym`` (^ or _) that is not one index letter."""
        text = tok.text
        first = text[0]
        if not (first.isascii() and first.isalpha()):
            hint = ""
            if first == "ℓ" or not first.isascii():
                hint = ("; a layer label such as ℓ belongs inside the parentheses of the "
                        "document form, as in (x_ℓ)")
            return self.error(
                f"{first!r} is not an index: an index is one letter a-z or A-Z{hint}")
        if text.isascii() and text.isalpha():
            count = _NUMBER_WORDS.get(len(text), str(len(text)))
            return self.error(f"one index after {sym}; write {owner}{sym}{{{text}}} for {count}",
                              tok, shift=1)
        return self.error(f"one index after {sym} (an index is one letter)", tok, shift=1)

    def _script_braces(self, tok: Token, upper: bool, sym: str) -> list[Index]:
        """Read the letters of ``x^{nd}`` (or the slots of ``x_{t+k}``) from ``tok``'s ``{``."""
        if self._arithmetic_ahead():
            return self._slots(tok, upper, sym)
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
                             f"{describe(self.tok)}")
        self.advance()
        if not letters:
            raise self.error(f"empty index group after {sym}", tok)
        return letters

    def _arithmetic_ahead(self) -> bool:
        """Whether the braces here hold index arithmetic (``+``, ``-``, a number, ``,``)."""
        j = self.i + 1
        while self.toks[j].kind not in ("}", "newline", "eof"):
            if self.toks[j].kind in ("+", "-", "number", ","):
                return True
            j += 1
        return False

    def _slots(self, tok: Token, upper: bool, sym: str) -> list[Index]:
        """Read ``{t+k}``, ``{2t+k-1}`` or ``{i+p, j+q}``: comma-separated slots (5.5)."""
        self.advance()  # '{'
        slots = [self._slot(upper, sym)]
        while self.tok.kind == ",":
            self.advance()
            slots.append(self._slot(upper, sym))
        if self.tok.kind != "}":
            raise self.error(f"expected ',' or '}}' after an index slot, got {describe(self.tok)}")
        self.advance()
        return slots

    def _slot(self, upper: bool, sym: str) -> Index:
        """One slot: letters, each with an optional positive factor, plus an optional integer."""
        start = self.tok
        terms: list[tuple[str, int]] = []
        offset = 0
        sign = 1
        if self.tok.kind in ("+", "-"):
            sign = 1 if self.advance().kind == "+" else -1
        while True:
            tok = self.tok
            factor: int | None = None
            if tok.kind == "number":
                value = self.number(tok)
                if value.denominator != 1:
                    raise self.error("index arithmetic takes whole numbers", tok)
                factor = int(value)
                before = self.advance()
                tok = self.tok
                touching = tok.kind == "name" and tok.offset == before.end
            else:
                touching = False
            if tok.kind == "name" and (factor is None or touching):
                terms.append(self._slot_letter(tok, sign, factor))
                self.advance()
            elif factor is not None:
                offset += sign * factor
            else:
                raise self.error(f"expected an index letter or a number in {sym}{{…}}, got "
                                 f"{describe(tok)}")
            if self.tok.kind not in ("+", "-"):
                break
            sign = 1 if self.advance().kind == "+" else -1
        if not terms:
            raise self.error(f"an index slot needs a letter, as in {sym}{{t+1}}", start)
        letters = [c for c, _ in terms]
        if len(set(letters)) != len(letters):
            raise self.error(f"{letters[0]} appears twice in one index slot: write it once, "
                             "with a factor (2t)", start)
        pos = self.pos(start)
        if len(terms) == 1 and terms[0][1] == 1 and offset == 0:
            return Index(terms[0][0], upper, pos)
        return Index(terms[0][0], upper, pos, tuple(terms), offset)

    def _slot_letter(self, tok: Token, sign: int, factor: int | None) -> tuple[str, int]:
        """A letter of a slot with its factor (``2t``), checked."""
        if len(tok.text) != 1 or not (tok.text.isascii() and tok.text.isalpha()):
            raise self.error(f"{tok.text!r} is not one index letter; write a slot of index "
                             "arithmetic as t+k or 2t+k", tok)
        if sign < 0:
            raise self.error(f"index arithmetic adds letters; -{tok.text} cannot name a "
                             "position on an axis", tok)
        if factor is not None and factor < 1:
            raise self.error("a letter's factor is a positive whole number, as in 2t", tok)
        return tok.text, factor if factor is not None else 1

    def bracket_index(self) -> Index:
        """Read the ``[k]`` of ``softmax[k]``."""
        self.advance()  # '['
        tok = self.tok
        if not is_letter(tok):
            raise self.error("expected one index letter in […], as in softmax[k]")
        self.advance()
        self.expect("]", "expected ']'")
        return Index(tok.text, False, self.pos(tok))

    # -- layer labels ------------------------------------------------------------------

    def label(self) -> str:
        """Read ``_ℓ`` or ``_{ℓ-1}`` from its ``_``."""
        self.advance()  # '_'
        return self.label_body()

    def label_body(self) -> str:
        """Read the label after a ``_``: a name, a number or ``{ℓ-1}``."""
        tok = self.tok
        if tok.kind in ("name", "number"):
            self.advance()
            return tok.text
        if tok.kind == "{":
            self.advance()
            parts: list[str] = []
            while self.tok.kind in LABEL_PARTS:
                parts.append(self.advance().text)
            if self.tok.kind != "}" or not parts:
                raise self.error("a layer label is a name, a number or {ℓ-1}")
            self.advance()
            return "".join(parts)
        raise self.error("expected a layer label such as ℓ or {ℓ-1} after _")

    # -- lookahead ---------------------------------------------------------------------

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
        """Whether the ``^`` here raises to a power (``^2``, ``^{-1}``), not an index."""
        nxt = self.peek()
        if nxt.kind == "number":
            return True
        if nxt.kind == "{":
            inner = self.peek(2)
            return inner.kind in ("number", "-", "+")
        return False

    def doc_group(self, j: int) -> tuple[int, bool, bool] | None:
        """Look at ``(`` at ``j``: (index of ')', scripts touch it after, document-only)."""
        toks = self.toks
        k = j + 1
        if toks[k].kind != "name":
            return None
        k += 1
        label: str | None = None
        transposed = inverse = False
        while True:
            kind = toks[k].kind
            if kind == "_" and label is None:
                scanned = self.label_ahead(k)
                if scanned is None:
                    return None
                label, k = scanned
            elif kind == "^" and not transposed and _is_transpose_mark(toks[k + 1]):
                transposed = True
                k += 2
            elif kind == "T" and not transposed:
                transposed = True
                k += 1
            elif _inverse_mark(toks, k):
                inverse = True
                k += 5
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
        doc_only = transposed or inverse or (label is not None and is_label(label))
        return k, scripts, doc_only
