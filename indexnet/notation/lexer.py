"""Scan index-language text into tokens with line, column and adjacency.

Comments (``#`` to the end of the line) and line continuations (a ``\\`` at
the end of a line) disappear here; LaTeX spellings are normalised (``\\delta``
→ δ, ``\\ell`` → ℓ, ``\\hat{y}`` → ŷ, ``\\cdot`` → ·, ``\\sum`` → Σ, ``−`` → -),
so the parser sees one spelling only. Whether two tokens touch (no space
between) matters to the parser, so every token keeps its start and end.

>>> [t.text for t in tokenize(r"^n(a_\\ell)_h = \\sum_d x")][:8]
['^', 'n', '(', 'a', '_', 'ℓ', ')', '_']
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ..errors import ProgramSyntaxError

__all__ = ["Token", "tokenize"]

#: Token kinds. ``name`` and ``number`` carry text; ``mul`` is one of * · ⊙ ×;
#: ``T`` is a transpose mark (ᵀ, \top); ``sum`` is Σ, ∑ or \sum; ``{}`` is
#: LaTeX's empty group.
KINDS = (
    "name", "number", "^", "_", "{", "}", "{}", "(", ")", "[", "]", ",", ":", "=",
    "+", "-", "mul", "/", "'", "T", "sum", "∂", "frac", "|", "newline", "eof",
)

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ",
    "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ",
    "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "ell": "ℓ",
}
_SYMBOLS = {
    "cdot": ("mul", "·"), "odot": ("mul", "⊙"), "times": ("mul", "×"), "ast": ("mul", "*"),
    "sum": ("sum", "Σ"), "partial": ("∂", "∂"), "frac": ("frac", "\\frac"), "top": ("T", "ᵀ"),
    "intercal": ("T", "ᵀ"),
}
_FUNCTION_COMMANDS = frozenset({"exp", "log", "tanh", "sqrt"})
_WRAPPERS = frozenset({"text", "mathrm", "operatorname", "mathit", "textrm", "vec", "mathbf",
                       "boldsymbol", "bm"})
_IGNORED = frozenset({"left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr", "limits",
                      "displaystyle"})
_SPACES = frozenset({"quad", "qquad"})
_SINGLE = {
    "^": "^", "_": "_", "{": "{", "}": "}", "(": "(", ")": ")", "[": "[", "]": "]",
    ",": ",", ":": ":", "=": "=", "+": "+", "-": "-", "−": "-", "*": "mul", "·": "mul",
    "⋅": "mul", "⊙": "mul", "×": "mul", "/": "/", "'": "'", "′": "'", "ᵀ": "T", "Σ": "sum",
    "∑": "sum", "∂": "∂", "|": "|",
}
_NOT_NAME = frozenset("ᵀΣ")


@dataclass(frozen=True)
class Token:
    """One token: its kind, its normalised text and where it stands.

    ``line`` and ``column`` are 1-based; ``offset`` and ``end`` index the
    whole text, so ``a.end == b.offset`` means a and b touch.
    """

    kind: str
    text: str
    line: int
    column: int
    offset: int
    end: int


def _name_start(ch: str) -> bool:
    return ch.isalpha() and ch not in _NOT_NAME


def _name_char(ch: str) -> bool:
    if ch in _NOT_NAME:
        return False
    return ch.isalpha() or ch.isdigit() or unicodedata.category(ch) in ("Mn", "Mc")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.line = 1
        self.line_start = 0
        self.tokens: list[Token] = []

    def error(self, message: str, offset: int) -> ProgramSyntaxError:
        start = self.text.rfind("\n", 0, offset) + 1
        line = self.text.count("\n", 0, offset) + 1
        return ProgramSyntaxError(message, line=line, column=offset - start + 1, source=self.text)

    def add(self, kind: str, text: str, start: int, end: int) -> None:
        self.tokens.append(
            Token(kind, text, self.line, start - self.line_start + 1, start, end)
        )

    def newline(self, at: int) -> None:
        self.line += 1
        self.line_start = at + 1

    def run(self) -> list[Token]:
        text = self.text
        n = len(text)
        while self.i < n:
            ch = text[self.i]
            start = self.i
            if ch == "\n":
                self.add("newline", "\n", start, start + 1)
                self.newline(start)
                self.i += 1
            elif ch in " \t\r\f\v\u00a0":
                self.i += 1
            elif ch == "#":
                end = text.find("\n", start)
                self.i = n if end == -1 else end
            elif ch == "\\":
                self.command()
            elif ch == "{" and text[start + 1 : start + 2] == "}":
                self.add("{}", "{}", start, start + 2)
                self.i += 2
            elif (ch.isdigit() and ch.isascii()) or (
                    ch == "." and text[start + 1 : start + 2].isdigit()):
                self.number()
            elif _name_start(ch):
                self.name(start, "")
            elif ch in _SINGLE:
                self.add(_SINGLE[ch], "-" if ch == "−" else "'" if ch == "′" else ch,
                         start, start + 1)
                self.i += 1
            else:
                raise self.error(f"unexpected character {ch!r}", start)
        self.add("eof", "", n, n)
        return self.tokens

    def number(self) -> None:
        text, start = self.text, self.i
        j = start
        while j < len(text) and text[j].isascii() and text[j].isdigit():
            j += 1
        if j < len(text) and text[j] == ".":
            j += 1
            while j < len(text) and text[j].isascii() and text[j].isdigit():
                j += 1
        if j < len(text) and text[j] in "eE":
            k = j + 1
            if k < len(text) and text[k] in "+-":
                k += 1
            if k < len(text) and text[k].isascii() and text[k].isdigit():
                while k < len(text) and text[k].isascii() and text[k].isdigit():
                    k += 1
                j = k
        self.add("number", text[start:j], start, j)
        self.i = j

    def name(self, start: int, prefix: str) -> None:
        """Read a name from ``self.i`` (``prefix`` already decoded from a command)."""
        text = self.text
        j = self.i
        chars = [prefix]
        if not prefix:
            chars.append(text[j])
            j += 1
        while j < len(text):
            if _name_char(text[j]):
                chars.append(text[j])
                j += 1
            elif text[j] == "\\" and text[j + 1 : j + 2].isalpha():
                word, k = self._word(j + 1)
                if word in _GREEK:
                    chars.append(_GREEK[word])
                    j = k
                else:
                    break
            else:
                break
        self.add("name", unicodedata.normalize("NFC", "".join(chars)), start, j)
        self.i = j

    def _word(self, j: int) -> tuple[str, int]:
        k = j
        while k < len(self.text) and self.text[k].isascii() and self.text[k].isalpha():
            k += 1
        return self.text[j:k], k

    def _braced(self, j: int, command: str) -> tuple[str, int]:
        """Read ``{content}`` (after optional spaces) from ``j``; decode Greek commands."""
        text = self.text
        while j < len(text) and text[j] == " ":
            j += 1
        if j >= len(text) or text[j] != "{":
            if j < len(text) and _name_start(text[j]):  # \hat y
                return text[j], j + 1
            raise self.error(f"expected '{{' after \\{command}", j)
        close = text.find("}", j)
        newline = text.find("\n", j)
        if close == -1 or (newline != -1 and newline < close):
            raise self.error(f"'{{' after \\{command} is never closed", j)
        inner = text[j + 1 : close].strip()
        out = []
        k = 0
        while k < len(inner):
            if inner[k] == "\\":
                word, end = self._word_in(inner, k + 1)
                if word not in _GREEK:
                    raise self.error(f"\\{word} cannot stand inside \\{command}{{…}}", j + 1 + k)
                out.append(_GREEK[word])
                k = end
            elif _name_char(inner[k]):
                out.append(inner[k])
                k += 1
            else:
                raise self.error(
                    f"\\{command}{{…}} takes a name, not {inner[k]!r}", j + 1 + k
                )
        if not out:
            raise self.error(f"\\{command}{{}} is empty", j)
        return "".join(out), close + 1

    @staticmethod
    def _word_in(text: str, k: int) -> tuple[str, int]:
        end = k
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        return text[k:end], end

    def command(self) -> None:
        text, start = self.text, self.i
        nxt = text[start + 1 : start + 2]
        if not nxt.isalpha() or not nxt.isascii():
            rest = start + 1
            while rest < len(text) and text[rest] in " \t\r":
                rest += 1
            if rest >= len(text) or text[rest] in "\n#":
                # a line continuation: skip the backslash, the comment and the newline
                end = text.find("\n", rest)
                if end == -1:
                    self.i = len(text)
                else:
                    self.newline(end)
                    self.i = end + 1
                return
            if nxt in ",;:! ":
                self.i = start + 2
                return
            if nxt in "{}":
                self.add(nxt, nxt, start, start + 2)
                self.i = start + 2
                return
            raise self.error(f"unexpected {text[start:start + 2]!r}", start)
        word, end = self._word(start + 1)
        if word in _GREEK:
            self.i = end
            self.name(start, _GREEK[word])
        elif word in _SYMBOLS:
            kind, symbol = _SYMBOLS[word]
            self.add(kind, symbol, start, end)
            self.i = end
        elif word in _FUNCTION_COMMANDS:
            self.add("name", word, start, end)
            self.i = end
        elif word == "hat":
            base, stop = self._braced(end, word)
            self.i = stop
            self.name(start, unicodedata.normalize("NFC", base[0] + "\u0302" + base[1:]))
        elif word in _WRAPPERS:
            inner, stop = self._braced(end, word)
            self.i = stop
            self.name(start, inner)
        elif word in _IGNORED or word in _SPACES:
            self.i = end
        else:
            raise self.error(f"unknown command \\{word}", start)


def tokenize(text: str) -> list[Token]:
    """Scan ``text``; the last token is ``eof``.

    >>> [(t.kind, t.text) for t in tokenize("x^{nd} ⊙ 2")][2:]
    [('{', '{'), ('name', 'nd'), ('}', '}'), ('mul', '⊙'), ('number', '2'), ('eof', '')]
    """
    if not isinstance(text, str):
        raise ProgramSyntaxError(f"a program is text, not {type(text).__name__}")
    return _Scanner(text).run()
