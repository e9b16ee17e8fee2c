"""The lowered form of index-language programs: what :class:`~indexnet.program.Program` holds.

Lowering (:mod:`indexnet.notation.lower`) turns the syntax tree into these
immutable nodes; evaluation, rendering and the lint only read them. A
right-hand side is a :class:`Sum` of :class:`Product` terms; a product holds
an exact coefficient, named constants and tensor factors, and knows its own
einsum string. Factors are tensor references, Kronecker deltas, function
calls, parenthesised sums, powers, reciprocals and derivative atoms.
Positions are kept for messages but never compared, so two spellings of one
program are equal.

>>> p = Product(Fraction(1), (), (Ref("x", None, "n", "d"), Ref("W", None, "d", "h")),
...             explicit="", summed="d", output="nh")
>>> p.einsum
'nd,dh->nh'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Union

from .numbers import format_number

__all__ = [
    "PRINTERS",
    "ActDecl",
    "Call",
    "Claim",
    "ConstDecl",
    "DerivRef",
    "Derivation",
    "Domain",
    "Equation",
    "Eye",
    "Factor",
    "Group",
    "Inverse",
    "Power",
    "Product",
    "Ref",
    "SizeDecl",
    "Slot",
    "Statement",
    "Sum",
    "TensorDecl",
    "TensorInfo",
    "Window",
    "deriv_key",
    "factor_output",
    "iter_products",
    "iter_refs",
    "size_letter",
    "size_name",
    "tensor_key",
]

Position = tuple[int, int]

#: How statements print themselves (``str``, ``_repr_latex_``, ``_repr_html_``).
#: The IR never imports a printer; :mod:`indexnet.render`, which sits above it,
#: installs its ``compact``, ``latex`` and ``html`` printers here when imported.
PRINTERS: dict[str, Callable[[Any], str]] = {}


def tensor_key(name: str, label: str | None) -> str:
    """The key a tensor goes by in a program: its name, or ``name_label``.

    >>> tensor_key("w", "ℓ-1")
    'w_ℓ-1'
    """
    return name if label is None else f"{name}_{label}"


@dataclass(frozen=True)
class Ref:
    """A tensor reference: ``upper`` and ``lower`` letters as written.

    ``written`` is the axis order of the array as written (upper, then
    lower); ``subscripts`` those of the stored operand (reversed for a
    transposed reference, so ``xᵀ_n^d`` and ``x^n_d`` both have ``nd``).
    """

    name: str
    label: str | None
    upper: str
    lower: str
    transposed: bool = False
    pos: Position = field(default=(0, 0), compare=False)

    @property
    def key(self) -> str:
        """The key the tensor goes by in its program (``name`` or ``name_label``)."""
        return tensor_key(self.name, self.label)

    @property
    def written(self) -> str:
        """The indices in the order written: upper, then lower."""
        return self.upper + self.lower

    @property
    def subscripts(self) -> str:
        """The indices in array-axis order (reversed for a transpose ``xᵀ``)."""
        return self.written[::-1] if self.transposed else self.written


@dataclass(frozen=True)
class Eye:
    """The Kronecker delta ``eye^i_j``: 1 where all its indices agree."""

    upper: str
    lower: str
    pos: Position = field(default=(0, 0), compare=False)

    @property
    def subscripts(self) -> str:
        """The indices in array-axis order: upper, then lower."""
        return self.upper + self.lower


@dataclass(frozen=True)
class Call:
    """A function applied entry by entry (softmax along ``index``).

    ``function`` is the name as written (a built-in, an ``act`` name or, in a
    program without declarations, a generic name); ``output`` is the union of
    the arguments' free letters. ``max_k`` reduces its ``index`` k away; a
    matrix function (``inv``, ``det``, ``logdet``) holds the rows and columns
    letters of its argument in ``index`` (two letters), which ``inv`` keeps as
    its ``output`` and ``det``/``logdet`` bind (their output is empty).
    """

    function: str
    label: str | None
    primes: int
    index: str | None
    args: tuple[Sum, ...]
    output: str
    pos: Position = field(default=(0, 0), compare=False)


@dataclass(frozen=True)
class Group:
    """A parenthesised sum that cannot merge into the product around it."""

    sum: Sum


@dataclass(frozen=True)
class Power:
    """``base`` raised to an exact power, entry by entry."""

    base: Factor
    exponent: Fraction


@dataclass(frozen=True)
class Inverse:
    """``1/base`` entry by entry (what ``/`` makes of a tensor divisor)."""

    base: Factor


@dataclass(frozen=True)
class DerivRef:
    """``dL/dX``: the derivative of scalar ``of`` with respect to ``wrt``.

    For a Jacobian ``dy^n_k/dx^m_d``, ``of`` is the key of y and ``top`` its
    reference; the atom's letters are ``top``'s, then ``wrt``'s.
    """

    of: str
    wrt: Ref
    pos: Position = field(default=(0, 0), compare=False)
    top: Ref | None = None

    @property
    def key(self) -> str:
        """The key under which evaluation stores this derivative (``dL/dW``, ``dy/dx``)."""
        return deriv_key(self.of, self.wrt.key)


#: One axis of a :class:`Window`: letters with their factors, plus an integer (``2t+k-1``).
Slot = tuple[tuple[tuple[str, int], ...], int]


@dataclass(frozen=True)
class Window:
    """``x^n_{t+k}``: tensor ``name`` (or ``eye``) read through index arithmetic (5.5).

    One slot per axis of the tensor, in written order (``upper`` of them
    upper); a slot maps letters to a position, ``Σ factor·letter + offset``.
    The value is a strided view whose axes are the distinct letters, in
    order of appearance (:attr:`subscripts`); einsum then contracts it as
    any operand, so a convolution is one einsum over a window view.

    >>> Window("x", None, ((( ("n", 1),), 0), ((("t", 1), ("k", 1)), 0)), 1).subscripts
    'ntk'
    """

    name: str
    label: str | None
    slots: tuple[Slot, ...]
    upper: int
    eye: bool = False
    pos: Position = field(default=(0, 0), compare=False)

    @property
    def key(self) -> str:
        """The key of the tensor read (``eye`` for a window of the Kronecker delta)."""
        return tensor_key(self.name, self.label)

    @property
    def subscripts(self) -> str:
        """The view's letters: every letter of the slots, once, in order."""
        return "".join(dict.fromkeys(c for terms, _ in self.slots for c, _ in terms))


Factor = Union[Ref, Eye, Call, Group, Power, Inverse, DerivRef, Window]  # noqa: UP007


def factor_output(factor: Factor) -> str:
    """The letters of a factor as an einsum operand (repeats kept: ``A^i_i`` is ``ii``).

    >>> factor_output(Power(Ref("x", None, "", "ij", transposed=True), Fraction(2)))
    'ji'
    """
    while isinstance(factor, (Power, Inverse)):
        factor = factor.base
    if isinstance(factor, (Ref, Eye, Window)):
        return factor.subscripts
    if isinstance(factor, Call):
        return factor.output
    if isinstance(factor, Group):
        return factor.sum.output
    return (factor.top.subscripts if factor.top is not None else "") + factor.wrt.subscripts


@dataclass(frozen=True, eq=False)
class Product:
    """One product term: ``coefficient · Π consts^e · Π factors``, summed over ``summed``.

    ``explicit`` holds the letters an explicit ``sum_`` sums (rendering
    writes them back); ``output`` the letters that remain, in order.
    """

    coefficient: Fraction
    consts: tuple[tuple[str, Fraction], ...]
    factors: tuple[Factor, ...]
    explicit: str
    summed: str
    output: str
    pos: Position = field(default=(0, 0), compare=False)

    def _key(self) -> tuple[Any, ...]:
        # the constants multiply: their order is how they were written, not what they mean
        return (self.coefficient, tuple(sorted(self.consts)), self.factors, self.explicit,
                self.summed, self.output)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Product):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def operands(self) -> list[str]:
        """Einsum subscripts of the factors that are arrays (scalars left out)."""
        return [s for s in map(factor_output, self.factors) if s]

    @property
    def einsum(self) -> str | None:
        """The product's einsum string, or None when there is nothing to contract.

        A lone factor that already has the output's letters, in order, needs no
        einsum (``b_h`` in a sum, ``λ W^h_k``).
        """
        ops = self.operands
        if not ops or (len(ops) == 1 and ops[0] == self.output):
            return None
        return f"{','.join(ops)}->{self.output}"


@dataclass(frozen=True)
class Sum:
    """Terms added together; a term lacking letters of ``output`` is broadcast over them."""

    terms: tuple[Product, ...]
    output: str


@dataclass(frozen=True)
class Domain:
    """Where random values of an input or param are drawn from: ``onehot('k')`` etc."""

    kind: str
    args: tuple[Fraction | str, ...] = ()

    def __str__(self) -> str:
        if not self.args:
            return self.kind
        args = ", ".join(a if isinstance(a, str) else format_number(a) for a in self.args)
        return f"{self.kind}({args})"


@dataclass(frozen=True)
class TensorDecl:
    """``input`` or ``param``: the tensor's layout as declared and its domain."""

    role: str
    ref: Ref
    domain: Domain | None
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ConstDecl:
    """``const lambda = 0.01``: a named exact scalar.

    ``text`` is the value as the source wrote it (``0.5``, ``1/2``, ``1e-5``),
    which rendering keeps; empty for a constant made otherwise.
    """

    name: str
    value: Fraction
    line: int = field(default=0, compare=False)
    text: str = field(default="", compare=False)

    @property
    def value_text(self) -> str:
        """The value as written, else as :func:`format_number` writes it.

        >>> half = Fraction(1, 2)
        >>> ConstDecl("eps", half, text="0.5").value_text, ConstDecl("c", half).value_text
        ('0.5', '1/2')
        """
        return self.text or format_number(self.value)


@dataclass(frozen=True)
class ActDecl:
    """``act f = sigmoid``: a name (and label) for a built-in function."""

    name: str
    label: str | None
    function: str
    primes: int
    index: str | None
    line: int = field(default=0, compare=False)

    @property
    def key(self) -> str:
        """The key of the function: its name, or ``name_label``."""
        return tensor_key(self.name, self.label)


@dataclass(frozen=True)
class SizeDecl:
    """``size n=6, d=5``: sizes for random checks."""

    sizes: tuple[tuple[str, int], ...]
    line: int = field(default=0, compare=False)


class _Statement:
    """What equations, claims and derivations share: their products, rendered forms."""

    rhs: Sum

    @property
    def summed(self) -> str:
        """Every letter summed somewhere in the right-hand side, in order of appearance."""
        seen: dict[str, None] = {}
        for product in iter_products(self.rhs):
            for letter in product.summed:
                seen.setdefault(letter)
        return "".join(seen)

    def einsums(self) -> list[str]:
        """The einsum strings of the right-hand side's products, inner ones first."""
        return [p.einsum for p in iter_products(self.rhs) if p.einsum]

    def _repr_latex_(self) -> str:
        printer = PRINTERS.get("latex")
        return f"$${printer(self)}$$" if printer else repr(self)

    def _repr_html_(self) -> str | None:
        """The statement as LaTeX math and, for an equation, its diagram (for notebooks)."""
        printer = PRINTERS.get("html")
        return printer(self) if printer else None

    def __str__(self) -> str:
        printer = PRINTERS.get("compact")
        return printer(self) if printer else repr(self)


@dataclass(frozen=True)
class Equation(_Statement):
    """``target = rhs``: defines ``target``; ``free`` are the target's letters.

    >>> import indexnet.program as prog
    >>> eq = prog.parse("a^n_h = x^n_d W^d_h + b_h").equations[0]
    >>> eq.free, eq.summed, eq.einsums()
    ('nh', 'd', ['nd,dh->nh'])
    """

    target: Ref
    rhs: Sum
    line: int = field(default=0, compare=False)
    text: str = field(default="", compare=False)

    @property
    def free(self) -> str:
        """The free indices: the target's."""
        return self.target.subscripts


@dataclass(frozen=True)
class Claim(_Statement):
    """``claim dL/dX = rhs``: a hand-derived derivative, for ``indexnet check``.

    ``top`` is the tensor on top of a Jacobian or second-derivative claim
    (``claim dg^d/dw^e = …``), else None. A claim that does not fit the
    program (``dL/db^n`` for a scalar ``b``) is kept with its ``problem``
    (the message, with line and column) and an empty right-hand side:
    ``check`` reports it as a failed claim and judges the others.
    """

    of: str
    wrt: Ref
    rhs: Sum
    line: int = field(default=0, compare=False)
    text: str = field(default="", compare=False)
    problem: str = ""
    top: Ref | None = None

    @property
    def free(self) -> str:
        """The free indices: those of the tensor on top (a Jacobian's), then the tensor below."""
        return (self.top.subscripts if self.top is not None else "") + self.wrt.subscripts


@dataclass(frozen=True)
class Derivation(_Statement):
    """``dL/dX = rhs``: an exact derivative that :meth:`Program.derive` worked out.

    Evaluation stores it under :func:`deriv_key` (``dL/dW``), in ``X``'s own
    layout; a :class:`DerivRef` to it reads that array.

    >>> import indexnet.program as prog
    >>> d = prog.parse("input x^n_d\\nparam w^d\\nL = x^n_d w^d").derive("L").derivations[0]
    >>> d.key, d.einsums()
    ('dL/dw', ['nd->d'])
    """

    of: str
    wrt: Ref
    rhs: Sum
    line: int = field(default=0, compare=False)
    text: str = field(default="", compare=False)
    top: Ref | None = None

    @property
    def key(self) -> str:
        """The key under which evaluation stores this derivative (``dL/dW``)."""
        return deriv_key(self.of, self.wrt.key)

    @property
    def free(self) -> str:
        """The free indices: a Jacobian's tensor on top first, then the tensor differentiated by."""
        return (self.top.subscripts if self.top is not None else "") + self.wrt.subscripts


def size_name(letter: str) -> str:
    """The name under which a product's ``consts`` hold the size of index ``letter``: ``|n|``.

    >>> size_name("n"), size_letter("|n|"), size_letter("lambda")
    ('|n|', 'n', None)
    """
    return f"|{letter}|"


def size_letter(name: str) -> str | None:
    """The index whose size a ``consts`` name stands for (``|n|`` → ``n``), else None."""
    if len(name) >= 3 and name[0] == "|" and name[-1] == "|":
        return name[1:-1]
    return None


def deriv_key(of: str, key: str) -> str:
    """The key under which evaluation stores the derivative of ``of`` by tensor ``key``.

    >>> deriv_key("L", "w_ℓ")
    'dL/dw_ℓ'
    """
    return f"d{of}/d{key}"


Statement = Union[  # noqa: UP007
    TensorDecl, ConstDecl, ActDecl, SizeDecl, Equation, Claim, Derivation]


@dataclass(frozen=True)
class TensorInfo:
    """What a program knows of one tensor.

    ``role`` is ``input``, ``param``, ``defined`` (by an equation) or
    ``implicit`` (an input of a program without declarations, laid out as
    first used); ``ref`` is the layout as declared, defined or first used;
    ``style`` is ``post`` when the document form first wrote all its indices
    after the parentheses (``(w)^d_h``), ``pre`` when it wrote some before.
    """

    key: str
    role: str
    ref: Ref
    domain: Domain | None = None
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)
    style: str = field(default="", compare=False)

    @property
    def rank(self) -> int:
        """The number of indices the tensor carries."""
        return len(self.ref.written)

    @property
    def letters(self) -> str:
        """The letter of each axis of the stored array."""
        return self.ref.subscripts


def _factor_sums(factor: Factor) -> Iterator[Sum]:
    while isinstance(factor, (Power, Inverse)):
        factor = factor.base
    if isinstance(factor, Call):
        yield from factor.args
    elif isinstance(factor, Group):
        yield factor.sum


def iter_products(expr: Sum) -> Iterator[Product]:
    """Every product of ``expr``, inner products (inside factors) before their parents."""
    for term in expr.terms:
        for factor in term.factors:
            for inner in _factor_sums(factor):
                yield from iter_products(inner)
        yield term


def iter_refs(expr: Sum) -> Iterator[Ref]:
    """Every tensor reference inside ``expr`` (derivative targets included)."""
    for term in expr.terms:
        for factor in term.factors:
            base = factor
            while isinstance(base, (Power, Inverse)):
                base = base.base
            if isinstance(base, Ref):
                yield base
            elif isinstance(base, Window) and not base.eye:
                yield Ref(base.name, base.label, "", "", pos=base.pos)
            elif isinstance(base, DerivRef):
                yield base.wrt
                if base.top is not None:
                    yield base.top
            for inner in _factor_sums(base):
                yield from iter_refs(inner)
