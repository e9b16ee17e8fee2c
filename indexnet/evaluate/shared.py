"""Pairwise contractions that several products of a program share, computed once a call.

A derived program repeats work that reverse accumulation would share. With
``y = A B C`` and ``L = sum y²``, ``derive`` writes ``dL/dB = 2 Aᵀ y Cᵀ`` and
``dL/dC = 2 Bᵀ Aᵀ y``. Planned one product at a time, these contract A with y
twice, and ``dL/dC`` forms again the product A B that the forward pass already
formed. :func:`shared_pairs` finds the pairs of tensors that two or more
products (forward ones included) contract in the same way. It keeps a pair when
sharing it saves FLOPs: the pair contracted once, plus each product with the
pair's result in place of its two tensors, must cost fewer FLOPs than every
product planned alone. :class:`~indexnet.evaluate.execute.Compiled` then
computes each kept pair once per call, on first use, and plans the products
around it. On that example the derived program then costs what reverse
accumulation through the forward tree costs: 780 MFLOPs at i, j, k, l = 300,
400, 500, 600, against 900 planned product by product.

Only plain references are shared (``x^n_d``, ``xᵀ``, ``dL/da``). A power, a
function or a group is computed by its own node. A product reads at most one
shared pair.

>>> from indexnet.program import parse
>>> program = parse("input A^i_j\\nparam B^j_k, C^k_l\\ny^i_l = A^i_j B^j_k C^k_l\\n"
...                 "L = sum_{il} y^i_l y^i_l").derive()
>>> products = [p for s in program.statements if hasattr(s, "rhs")
...             for p in ir.iter_products(s.rhs)]
>>> found = shared_pairs(products, {"i": 30, "j": 40, "k": 50, "l": 60}, "float64")
>>> sorted((r.pair.einsum, r.einsum(p)) for p in products if (r := found.get(id(p))))
[('ab,bc->ac', 'ik,il->kl'), ('ab,bc->ac', 'ik,kl->il')]
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction  # noqa: F401 - the doctests'
from typing import Any

from .. import ir
from ..einsum.plan import plan
from ..einsum.subscripts import operand_shapes

__all__ = ["Rewrite", "SharedPair", "shared_pairs"]

#: Products with more array operands than this are left as they are (planning their
#: candidate rewrites would cost more than it saves).
MAX_OPERANDS = 12

#: How a shareable factor is named: ("ref", tensor key) or ("d", derivative key).
FactorKey = tuple[str, str]


@dataclass(frozen=True)
class SharedPair:
    """One contraction of two tensors, done once a call for every product that needs it.

    ``memo`` is the key its result is kept under during one call; ``factors``
    are the two references in the order of ``einsum``, whose letters are
    canonical (``a``, ``b``, … in order of first appearance).
    """

    memo: str
    factors: tuple[ir.Factor, ir.Factor]
    einsum: str


@dataclass(frozen=True)
class Rewrite:
    """A product that reads a :class:`SharedPair`: which of its array operands it replaces.

    ``positions`` index the product's array operands (``Product.operands``);
    ``letters`` are the pair's output letters in the product's own letters.
    """

    pair: SharedPair
    positions: tuple[int, int]
    letters: str

    def einsum(self, product: ir.Product) -> str:
        """The product's einsum with the pair's result first, in place of the two operands.

        >>> A, y, C = ir.Ref("A", None, "i", "j"), ir.Ref("y", None, "i", "l"), ir.Ref("C", None,
        ...                                                                          "k", "l")
        >>> p = ir.Product(Fraction(1), (), (A, y, C), "", "il", "jk")
        >>> pair = SharedPair("memo", (p.factors[0], p.factors[1]), "ab,ac->bc")
        >>> Rewrite(pair, (0, 1), "jl").einsum(p)
        'jl,kl->jk'
        """
        return _rewritten(product, self.positions, self.letters)


def _rewritten(product: ir.Product, positions: tuple[int, int], letters: str) -> str:
    """``product``'s einsum with ``letters`` first, in place of the operands at ``positions``."""
    rest = [t for k, t in enumerate(product.operands) if k not in positions]
    return f"{','.join([letters, *rest])}->{product.output}"


@dataclass(frozen=True)
class _Use:
    """A shareable pair in one product: its key, and how the product reads it."""

    key: tuple[Any, ...]
    product: ir.Product
    positions: tuple[int, int]  # the two array operands, ascending
    first: int  # which of them comes first in the canonical einsum
    einsum: str  # canonical letters
    letters: str  # the pair's output in the product's letters, in the einsum's order


def shared_pairs(products: Sequence[ir.Product], sizes: dict[str, int],
                 dtype: Any) -> dict[int, Rewrite]:
    """The products (by ``id``) that should read a shared pair, and how.

    A pair is kept when it appears in two or more products and sharing it
    saves FLOPs (as ``optimize="auto"`` plans count them); pairs are taken
    greedily, largest saving first, each product reading at most one.
    """
    found: dict[tuple[Any, ...], list[_Use]] = {}
    for product in products:
        for use in _pairs_of(product):
            uses = found.setdefault(use.key, [])
            if all(u.product is not product for u in uses):  # one use per product
                uses.append(use)
    offers: list[tuple[SharedPair, list[_Use]]] = []
    for uses in found.values():
        if len(uses) >= 2:
            use = uses[0]
            arrays = _arrays(use.product)
            second = use.positions[1] if use.first == use.positions[0] else use.positions[0]
            pair = SharedPair(f"\x00shared {len(offers)}",
                              (arrays[use.first], arrays[second]), use.einsum)
            offers.append((pair, uses))
    rewrites: dict[int, Rewrite] = {}
    while offers:
        scored = []
        for pair, uses in offers:
            free = [u for u in uses if id(u.product) not in rewrites]
            saving = _saving(free, sizes, dtype) if len(free) >= 2 else 0
            if saving > 0:
                scored.append((saving, pair, free))
        if not scored:
            break
        _, pair, free = max(scored, key=lambda s: s[0])
        for use in free:
            rewrites[id(use.product)] = Rewrite(pair, use.positions, use.letters)
        offers = [(p, u) for p, u in offers if p is not pair]
    return rewrites


def _arrays(product: ir.Product) -> list[ir.Factor]:
    """The factors of ``product`` that are arrays, in the order of ``Product.operands``."""
    return [f for f in product.factors if ir.factor_output(f)]


def _pairs_of(product: ir.Product) -> list[_Use]:
    """Every shareable pair of ``product``.

    The key names the two tensors and how their letters meet, up to renaming
    (the smaller of the pair's two orders), so that equal keys mean the same
    contraction of the same arrays, with its result's axes in the same order.
    """
    terms = product.operands
    if product.einsum is None or not 3 <= len(terms) <= MAX_OPERANDS:
        return []
    arrays = _arrays(product)
    out = []
    for i in range(len(arrays)):
        for j in range(i + 1, len(arrays)):
            if _name(arrays[i]) is None or _name(arrays[j]) is None:
                continue
            if len(set(terms[i])) < len(terms[i]) or len(set(terms[j])) < len(terms[j]):
                continue  # a diagonal: left to the product's own plan
            others = set(product.output).union(*(t for k, t in enumerate(terms)
                                                 if k not in (i, j)))
            one, other = (_oriented(product, p, q, others) for p, q in ((i, j), (j, i)))
            if one is not None and other is not None:
                out.append(min(one, other, key=lambda u: u.key))
    return out


def _oriented(product: ir.Product, p: int, q: int, others: set[str]) -> _Use | None:
    """The pair (p, q) of ``product`` with p first; None when nothing is summed."""
    terms = product.operands
    order = terms[p] + terms[q]
    letters = "".join(dict.fromkeys(order))
    free = "".join(c for c in letters if c in others)
    if len(free) == len(letters):
        return None  # an outer product: nothing to save
    canon = {c: string.ascii_letters[k] for k, c in enumerate(letters)}

    def renamed(term: str) -> str:
        return "".join(canon[c] for c in term)

    arrays = _arrays(product)
    key = (_name(arrays[p]), renamed(terms[p]), _name(arrays[q]), renamed(terms[q]),
           renamed(free))
    einsum = f"{renamed(terms[p])},{renamed(terms[q])}->{renamed(free)}"
    return _Use(key, product, (min(p, q), max(p, q)), p, einsum, free)


def _name(factor: ir.Factor) -> tuple[str, str] | None:
    """The key of a plain reference (``x``, ``dL/da``), None for anything else."""
    if isinstance(factor, ir.Ref):
        return ("ref", factor.key)
    if isinstance(factor, ir.DerivRef) and factor.top is None:
        return ("d", ir.deriv_key(factor.of, factor.wrt.key))
    return None


def _saving(uses: list[_Use], sizes: dict[str, int], dtype: Any) -> int:
    """FLOPs saved by contracting the pair once for all ``uses`` (negative: it costs more)."""
    first = uses[0]
    terms = first.product.operands
    second = first.positions[1] if first.first == first.positions[0] else first.positions[0]
    pair_shapes = operand_shapes([terms[first.first], terms[second]], sizes)
    saving = -plan(first.einsum, *pair_shapes, dtype=dtype).flops
    for use in uses:
        product = use.product
        alone = plan(str(product.einsum), *operand_shapes(product.operands, sizes), dtype=dtype)
        rest = [t for k, t in enumerate(product.operands) if k not in use.positions]
        shared = plan(_rewritten(product, use.positions, use.letters),
                      *operand_shapes([use.letters, *rest], sizes), dtype=dtype)
        saving += alone.flops - shared.flops
    return saving
