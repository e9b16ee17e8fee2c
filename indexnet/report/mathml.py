r"""MathML from the LaTeX that :mod:`indexnet.render` writes: formulas browsers lay out natively.

:func:`mathml` reads the small part of LaTeX that
:func:`~indexnet.render.render_latex` produces (scripts, prescripts written
``{}^{n}(x)_d``, ``\frac``, ``\sum`` with limits, ``\left( … \right)``,
``\operatorname``, ``\mathrm``, ``\text``, Greek letters, ``\hat``,
``\sqrt``, ``\odot``, thin spaces) and writes MathML Core, which Chromium,
Firefox and Safari typeset with no script and no web font. A command outside
that vocabulary is shown as written, in a ``<mtext class="tex-unknown">``, so
a formula never goes missing; :data:`UNKNOWN_CLASS` lets a test look for it.

>>> print(mathml(r"{}^{n}(x)_{d}").replace("<msub>", "\n<msub>"))
<math display="block"><msup><mrow></mrow><mi>n</mi></msup><mo stretchy="false">(</mo><mi>x</mi>
<msub><mo stretchy="false">)</mo><mi>d</mi></msub></math>
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html import escape

__all__ = ["UNKNOWN_CLASS", "mathml"]

#: The class of the ``<mtext>`` that shows a LaTeX command this writer does not know.
UNKNOWN_CLASS = "tex-unknown"

#: A plus or minus sign, which is a sign (prefix) rather than an operation after an operator.
_SIGNS = ("<mo>−</mo>", "<mo>+</mo>")
_OPERATOR_BEFORE = re.compile(r"^<mo(?![^>]*postfix)[^>]*>(?![)\]|])")
#: One element with text only (``<mi>n</mi>``): a script that needs no ``<mrow>`` around it.
_SINGLE = re.compile(r"^<(m[a-z]+)[^<>]*>[^<]*</\1>$")
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[0-9]+(?:\.[0-9]+)?|\s+|.", re.DOTALL)

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "ϕ", "varphi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "ell": "ℓ", "partial": "∂", "nabla": "∇", "infty": "∞",
}
_UPRIGHT_GREEK = {
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
_OPERATORS = {
    "odot": "⊙", "cdot": "⋅", "times": "×", "otimes": "⊗", "oplus": "⊕", "pm": "±",
    "to": "→", "rightarrow": "→", "leq": "≤", "geq": "≥", "neq": "≠", "approx": "≈",
    "in": "∈", "top": "⊤", "circ": "∘", "ldots": "…", "dots": "…", "cdots": "⋯", "mid": "∣",
}
#: Delimiters by command: the character, and the side it stands on ('' for either).
_FENCES = {"lvert": ("|", "prefix"), "rvert": ("|", "postfix"), "vert": ("|", ""),
           "Vert": ("‖", ""), "|": ("‖", ""), "lVert": ("‖", "prefix"),
           "rVert": ("‖", "postfix"), "langle": ("⟨", "prefix"), "rangle": ("⟩", "postfix"),
           "{": ("{", "prefix"), "}": ("}", "postfix"), "lbrace": ("{", "prefix"),
           "rbrace": ("}", "postfix")}
_FUNCTIONS = ("log", "ln", "exp", "tanh", "sinh", "cosh", "sin", "cos", "tan", "det", "tr",
              "arg", "dim", "ker")
#: Operators whose scripts go below them in display style (``\sum_{nk}``, ``\max_k``).
_LIMITS = {"sum": "∑", "prod": "∏", "max": "max", "min": "min", "lim": "lim",
           "argmax": "argmax", "argmin": "argmin"}
_SPACES = {",": "0.1667em", ":": "0.2222em", ">": "0.2222em", ";": "0.2778em",
           " ": "0.25em", "quad": "1em", "qquad": "2em"}
_ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304", "dot": "\u0307",
            "vec": "\u20d7"}
_TEXT_ESCAPES = {"textbackslash": "\\", "^": "^", "~": "~", "_": "_", "{": "{", "}": "}",
                 "#": "#", "$": "$", "%": "%", "&": "&", " ": " "}
_TEXT_COMMANDS = ("text", "textrm", "texttt", "mathrm", "operatorname", "mathit", "mathsf",
                  "mathtt", "textit")
#: Characters written as ``<mo>`` (``-`` as the minus sign), never stretched.
_PUNCT = {"-": "−", "+": "+", "=": "=", ",": ",", "/": "/", "(": "(", ")": ")", "[": "[",
          "]": "]", "|": "|", "<": "<", ">": ">", "!": "!", ":": ":", ";": ";", ".": ".",
          "*": "∗", "⊙": "⊙", "·": "⋅", "−": "−"}


def mathml(tex: str, display: bool = True) -> str:
    r"""``tex`` (LaTeX as :func:`~indexnet.render.render_latex` writes it) as a ``<math>`` element.

    ``display`` makes it a block formula, centred on its own line; without
    it the formula is inline but still set in display style (fractions full
    size, limits under ``\sum``), as the cells of a table want it.

    >>> print(mathml(r"\sum_{n} x", display=False))  # doctest: +ELLIPSIS
    <math displaystyle="true"><munder><mo movablelimits="true">∑</mo>...</math>
    """
    body = _Reader(tex).row()
    head = '<math display="block">' if display else '<math displaystyle="true">'
    return f"{head}{body}</math>"


@dataclass
class _Atom:
    """One piece of a formula: its MathML and whether scripts go under and over it."""

    xml: str
    limits: bool = False


def _mrow(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "<mrow>" + "".join(parts) + "</mrow>"


def _mo(char: str, stretchy: bool | None = None, form: str = "") -> str:
    attr = f' form="{form}"' if form else ""
    attr += "" if stretchy is None else f' stretchy="{"true" if stretchy else "false"}"'
    return f"<mo{attr}>{escape(char)}</mo>"


def _unknown(text: str) -> str:
    return f'<mtext class="{UNKNOWN_CLASS}">{escape(text)}</mtext>'


class _Reader:
    """A recursive-descent reader of the LaTeX subset, one token list per formula."""

    def __init__(self, tex: str) -> None:
        self.tokens = _TOKEN.findall(tex)
        self.at = 0

    def peek(self) -> str | None:
        while self.at < len(self.tokens) and self.tokens[self.at].isspace():
            self.at += 1
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            return ""
        self.at += 1
        return token

    # -- rows and scripts -------------------------------------------------------------------

    def row(self, stop: tuple[str, ...] = ()) -> str:
        """The atoms up to one of ``stop`` (not taken) or the end, each with its scripts."""
        parts: list[str] = []
        while True:
            token = self.peek()
            if token is None or token in stop:
                return "".join(parts)
            if token == "}" and "}" not in stop:  # an unmatched brace: drop it
                self.take()
                continue
            atom = self.atom()
            if atom is None:
                continue
            if atom.xml in _SIGNS and (not parts or _OPERATOR_BEFORE.match(parts[-1])):
                atom = _Atom(atom.xml.replace("<mo>", '<mo form="prefix">'))  # −x, = −x
            parts.append(self.scripted(atom))

    def scripted(self, atom: _Atom) -> str:
        """``atom`` with the ``^``, ``_`` and primes that follow it."""
        sub: str | None = None
        sup: list[str] = []
        primes = ""
        while (token := self.peek()) in ("^", "_", "'"):
            self.take()
            if token == "'":  # a prime stands beside its base (the font raises it), not above
                primes += "′"
            elif token == "^":
                sup.append(self.argument())
            elif sub is None:
                sub = self.argument()
            else:  # a double subscript: typeset it after the first
                sub = _mrow([sub, self.argument()])
        if primes:
            atom = _Atom(f'<mrow>{atom.xml}<mo lspace="0" rspace="0">{primes}</mo></mrow>',
                         atom.limits)
        if sub is None and not sup:
            return atom.xml
        over = _mrow(sup) if sup else None
        if atom.limits:
            if sub is not None and over is not None:
                return f"<munderover>{atom.xml}{sub}{over}</munderover>"
            if sub is not None:
                return f"<munder>{atom.xml}{sub}</munder>"
            return f"<mover>{atom.xml}{over}</mover>"
        if sub is not None and over is not None:
            return f"<msubsup>{atom.xml}{sub}{over}</msubsup>"
        if sub is not None:
            return f"<msub>{atom.xml}{sub}</msub>"
        return f"<msup>{atom.xml}{over}</msup>"

    def argument(self) -> str:
        """A command's argument or a script: a ``{…}`` group, else the next atom alone."""
        if self.peek() == "{":
            self.take()
            inner = self.row(("}",))
            self.take()
            return inner if _SINGLE.match(inner) else f"<mrow>{inner}</mrow>"
        atom = self.atom()
        return atom.xml if atom is not None else "<mrow></mrow>"

    def text_argument(self) -> str:
        """The characters of a ``{…}`` argument, as text: escapes and Greek commands spelled."""
        if self.peek() != "{":
            return self.take()
        self.take()
        out: list[str] = []
        depth = 0
        while self.at < len(self.tokens):
            token = self.tokens[self.at]
            self.at += 1
            if token == "}" and depth == 0:
                break
            depth += {"{": 1, "}": -1}.get(token, 0)
            if token in ("{", "}"):
                continue
            name = token[1:]
            if token.startswith("\\"):
                out.append(_TEXT_ESCAPES.get(name) or _GREEK.get(name)
                           or _UPRIGHT_GREEK.get(name) or token)
            else:
                out.append(token)
        return "".join(out)

    # -- atoms ---------------------------------------------------------------------------------

    def atom(self) -> _Atom | None:
        """The next atom (without its scripts); None for what takes no room (``&``, ``\\\\``)."""
        token = self.take()
        if not token:  # the end, where an argument or a script was due
            return None
        if token == "{":
            inner = self.row(("}",))
            self.take()
            return _Atom(f"<mrow>{inner}</mrow>")
        if token.startswith("\\"):
            return self.command(token[1:])
        if token[0].isdigit():
            return _Atom(f"<mn>{token}</mn>")
        if token in ("&", "^", "_"):
            return None
        if token == "'":
            return _Atom("<mo>′</mo>")
        if token == "/":  # a slash, not a division sign: no space around it
            return _Atom('<mo stretchy="false" lspace="0" rspace="0">/</mo>')
        if token in _PUNCT:
            stretchy = False if token in "()[]|" else None
            return _Atom(_mo(_PUNCT[token], stretchy))
        if token == "∂" or token.isalpha():
            return _Atom(f"<mi>{escape(token)}</mi>")
        return _Atom(_mo(token))

    def command(self, name: str) -> _Atom | None:
        """The atom of ``\\name`` (its arguments read too)."""
        if name in _SPACES:
            return _Atom(f'<mspace width="{_SPACES[name]}"></mspace>')
        if name in ("\\", "!", "begin", "end", "displaystyle", "nonumber"):
            if name in ("begin", "end"):
                self.text_argument()
            return None
        symbol = self.symbol(name)
        if symbol is not None:
            return _Atom(symbol)
        if name in _LIMITS:
            char = _LIMITS[name]
            xml = (f'<mo movablelimits="true">{char}</mo>' if len(char) == 1
                   else f"<mi>{char}</mi>")
            return _Atom(xml, limits=True)
        return self.structure(name)

    def symbol(self, name: str) -> str | None:
        """A command that is one symbol: a Greek letter, an operator, a fence, a function name."""
        if name in _GREEK:
            return f"<mi>{_GREEK[name]}</mi>"
        if name in _UPRIGHT_GREEK:
            return f'<mi mathvariant="normal">{_UPRIGHT_GREEK[name]}</mi>'
        if name in _OPERATORS:
            return _mo(_OPERATORS[name])
        if name in _FENCES:
            char, form = _FENCES[name]
            return _mo(char, stretchy=False, form=form)
        if name in _FUNCTIONS:
            return f"<mi>{name}</mi>"
        if len(name) == 1 and not name.isalpha():  # \{, \_, \%: the character itself
            return _mo(name) if name in "{}|" else f"<mi>{escape(name)}</mi>"
        return None

    def structure(self, name: str) -> _Atom | None:
        """A command with arguments: fractions, roots, accents, text, ``\\left … \\right``."""
        if name in ("frac", "dfrac", "tfrac"):
            top, bottom = self.argument(), self.argument()
            return _Atom(f"<mfrac>{top}{bottom}</mfrac>")
        if name == "sqrt":
            return _Atom(f"<msqrt>{self.argument()}</msqrt>")
        if name in _ACCENTS:
            return _Atom(self.accent(name))
        if name in _TEXT_COMMANDS:
            text = self.text_argument()
            if name in ("text", "textrm", "textit"):
                return _Atom(f"<mtext>{escape(text)}</mtext>")
            if name in ("texttt", "mathtt"):
                return _Atom(f'<mtext class="tt">{escape(text)}</mtext>')
            variant = ' mathvariant="normal"' if len(text) == 1 else ""
            limits = name == "operatorname" and text in _LIMITS
            return _Atom(f"<mi{variant}>{escape(text)}</mi>", limits=limits)
        if name == "left":
            return _Atom(self.fenced())
        if name == "right":  # a \right without its \left: show the delimiter
            fence = self.delimiter()
            return _Atom(_mo(fence, stretchy=False)) if fence else None
        return _Atom(_unknown("\\" + name))

    def accent(self, name: str) -> str:
        """``\\hat{y}`` as ŷ (a combining accent on one letter), else ``<mover>``."""
        if self.peek() == "{" and self.at + 2 < len(self.tokens) \
                and self.tokens[self.at + 2] == "}" and self.tokens[self.at + 1].isalpha():
            self.take()
            letter = self.take()
            self.take()
            return f"<mi>{unicodedata.normalize('NFC', letter + _ACCENTS[name])}</mi>"
        mark = {"hat": "^", "tilde": "~", "bar": "¯", "dot": "˙", "vec": "→"}[name]
        return f'<mover accent="true">{self.argument()}<mo>{escape(mark)}</mo></mover>'

    def delimiter(self) -> str:
        """The delimiter after ``\\left`` or ``\\right``: a character, a fence command, or none."""
        token = self.take()
        if token == ".":
            return ""
        if token.startswith("\\"):
            return _FENCES.get(token[1:], (token[1:], ""))[0]
        return token

    def fenced(self) -> str:
        """``\\left( … \\right)``: a row between delimiters that grow with it."""
        opening = self.delimiter()
        inner = self.row(("\\right",))
        closing = ""
        if self.peek() == "\\right":
            self.take()
            closing = self.delimiter()
        parts = [f'<mo fence="true" form="prefix">{escape(opening)}</mo>' if opening else "",
                 inner,
                 f'<mo fence="true" form="postfix">{escape(closing)}</mo>' if closing else ""]
        return "<mrow>" + "".join(parts) + "</mrow>"
