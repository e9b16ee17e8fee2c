"""The syntax tree of the index language: immutable nodes with source positions.

The parser builds these and nothing else; :mod:`indexnet.notation.lower`
gives them meaning. Every node has a ``pos`` (line, column, offset of its
first character) so that later errors can point at it.

>>> from indexnet.notation.parser import parse_text
>>> eq = parse_text("a^n_h = x^n_d W^d_h").statements[0]
>>> eq.lhs.name, [i.letter for i in eq.lhs.upper], eq.lhs.pos.column
('a', ['n'], 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Union

__all__ = [
    "Apply",
    "Claim",
    "ConstDecl",
    "Decl",
    "Deriv",
    "DomainSpec",
    "Equation",
    "Expr",
    "Factor",
    "Frac",
    "FunctionDecl",
    "Index",
    "IndexSize",
    "Number",
    "Paren",
    "Pos",
    "Power",
    "ProgramSyntax",
    "SizeDecl",
    "Statement",
    "SumOver",
    "TensorRef",
    "Term",
]


@dataclass(frozen=True)
class Pos:
    """Where a node starts: 1-based line and column, 0-based offset in the text."""

    line: int
    column: int
    offset: int


@dataclass(frozen=True)
class Index:
    """One index letter, upper (``^``) or lower (``_``), or a slot of index arithmetic.

    A slot ``2t+k-1`` (section 5.5) has ``terms`` ``(("t", 2), ("k", 1))`` and
    ``offset`` -1; its ``letter`` is its first letter, for messages.
    """

    letter: str
    upper: bool
    pos: Pos = field(compare=False)
    terms: tuple[tuple[str, int], ...] = ()
    offset: int = 0

    @property
    def compound(self) -> bool:
        """Whether the slot holds index arithmetic rather than one letter."""
        return bool(self.terms)

    @property
    def letters(self) -> str:
        """Every letter of the slot, in order."""
        return "".join(c for c, _ in self.terms) if self.terms else self.letter


@dataclass(frozen=True)
class TensorRef:
    """A tensor (or a constant: the parser cannot tell) with its indices as written.

    ``upper`` and ``lower`` keep the order written; ``label`` is the layer
    label of the document form (``ℓ-1`` in ``(w_{ℓ-1})``); ``form`` is
    ``'compact'`` or ``'document'``; ``pre`` counts the upper and lower
    indices written before the name (``^n(x)_d``: one upper), which rendering
    imitates.
    """

    name: str
    label: str | None
    upper: tuple[Index, ...]
    lower: tuple[Index, ...]
    transposed: bool
    form: str
    pos: Pos = field(compare=False)
    pre: tuple[int, int] = field(default=(0, 0), compare=False)
    inverse: bool = False  # (A^{-1})^i_j: the matrix inverse, read as inv(A^i_j)

    @property
    def indices(self) -> tuple[Index, ...]:
        """Indices in axis order: upper as written, then lower as written."""
        return self.upper + self.lower


@dataclass(frozen=True)
class Number:
    """A numeric literal, kept exact."""

    value: Fraction
    pos: Pos = field(compare=False)


@dataclass(frozen=True)
class IndexSize:
    """``|n|``: the number of values index ``n`` takes (INDEX-LANGUAGE.md, section 5.2)."""

    letter: str
    pos: Pos = field(compare=False)


@dataclass(frozen=True)
class Apply:
    """``name(args)``: a function call, or a tensor times a parenthesis (decided by lowering).

    ``primes`` counts ``'`` marks; ``index`` is softmax's ``[k]``; ``parens``
    is False for ``log x`` written without parentheses.
    """

    name: str
    label: str | None
    primes: int
    index: Index | None
    args: tuple[Expr, ...]
    parens: bool
    pos: Pos = field(compare=False)


@dataclass(frozen=True)
class Paren:
    """A parenthesised expression."""

    expr: Expr
    pos: Pos = field(compare=False)


@dataclass(frozen=True)
class Frac:
    """LaTeX's ``\\frac{num}{den}``."""

    num: Expr
    den: Expr
    pos: Pos = field(compare=False)


@dataclass(frozen=True)
class Power:
    """``base^2``, ``base^{-1}``: an elementwise power."""

    base: Factor
    exponent: Fraction
    pos: Pos = field(compare=False)


@dataclass(frozen=True)
class SumOver:
    """``sum_n`` (Σ_n, \\sum_n) over the rest of the product, ``body``; ``mean_n`` with ``mean``."""

    indices: tuple[Index, ...]
    body: Term
    pos: Pos = field(compare=False)
    mean: bool = False


@dataclass(frozen=True)
class Deriv:
    """``dL/dX`` or ``∂L/∂X``: the derivative of ``of`` with respect to ``wrt``.

    ``top`` is the tensor on top with its indices for a Jacobian ``dy^n_k/dx^m_d``
    (``of`` is then its key); None for a scalar ``of``.
    """

    of: str
    wrt: TensorRef
    pos: Pos = field(compare=False)
    top: TensorRef | None = None


Factor = Union[  # noqa: UP007
    TensorRef, Number, IndexSize, Apply, Paren, Frac, Power, SumOver, Deriv]


@dataclass(frozen=True)
class Term:
    """A product: factors with the operator written before each ('' for juxtaposition)."""

    items: tuple[tuple[str, Factor], ...]
    pos: Pos = field(compare=False)


@dataclass(frozen=True)
class Expr:
    """A sum of terms, each with its sign ``'+'`` or ``'-'``."""

    terms: tuple[tuple[str, Term], ...]
    pos: Pos = field(compare=False)


@dataclass(frozen=True)
class DomainSpec:
    """A domain after ``:`` in a declaration: ``onehot(k)``, ``uniform(-1, 1)``."""

    kind: str
    args: tuple[Fraction | Index, ...]
    pos: Pos = field(compare=False)


@dataclass(frozen=True)
class Decl:
    """``input`` or ``param``: one tensor and its optional domain."""

    role: str
    tensor: TensorRef
    domain: DomainSpec | None
    pos: Pos = field(compare=False)


@dataclass(frozen=True)
class ConstDecl:
    """``const lambda = 0.01``; ``text`` is the value as written (``0.01``, ``1/100``)."""

    name: str
    value: Fraction
    pos: Pos = field(compare=False)
    text: str = field(default="", compare=False)


@dataclass(frozen=True)
class FunctionDecl:
    """``act f = sigmoid`` (``label`` for ``act f_{ℓ-1} = …``, ``index`` for softmax[k])."""

    name: str
    label: str | None
    function: str
    primes: int
    index: Index | None
    pos: Pos = field(compare=False)


@dataclass(frozen=True)
class SizeDecl:
    """``size n=6, d=5``."""

    sizes: tuple[tuple[Index, int], ...]
    pos: Pos = field(compare=False)


@dataclass(frozen=True)
class Equation:
    """``lhs = rhs``: defines the tensor on the left."""

    lhs: TensorRef
    rhs: Expr
    pos: Pos = field(compare=False)


@dataclass(frozen=True)
class Claim:
    """``claim dL/dX = rhs``: a hand-derived derivative, judged by ``indexnet check``."""

    lhs: Deriv
    rhs: Expr
    pos: Pos = field(compare=False)


Statement = Union[Decl, ConstDecl, FunctionDecl, SizeDecl, Equation, Claim]  # noqa: UP007


@dataclass(frozen=True)
class ProgramSyntax:
    """A whole program as read: its statements in order and the text they came from."""

    statements: tuple[Statement, ...]
    source: str = field(compare=False, repr=False)
