"""Small edits of a claim's right-hand side, anywhere in it, each with what it would fix.

A wrong claim is usually one slip away from right: one term with the wrong
sign, one term missing a 1/|n|, one factor transposed, two factors of a chain
in the wrong order, one tensor where another belongs, a non-symmetric matrix
treated as symmetric. Each generator here yields ``(words, corrected rhs)``
pairs; :mod:`indexnet.check.diagnose` keeps the first whose value equals the
exact derivative. Products inside parentheses and function arguments are
edited too (:func:`sites`), outer ones first.

>>> from indexnet.program import parse
>>> claim = parse('''
... param w^d
... input X^n_d
... L = w^d w^d
... claim dL/dw^d = 2 w^d - X^n_d
... ''').claims[0]
>>> [words for words, _ in sign_edits(claim.rhs)]
['wrong sign on one term: 2 w^d should be -2 w^d', 'wrong sign on one term: -X^n_d should be X^n_d']
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from fractions import Fraction

from .. import ir
from ..ir.terms import rename_factor, rename_sum
from ..render import render, render_product

__all__ = [
    "Edit",
    "coefficient_edits",
    "factor_text",
    "make_product",
    "order_edits",
    "ref_sites",
    "scale_edits",
    "sign_edits",
    "sites",
    "symmetry_edits",
    "term_transpose_edits",
    "transpose_edits",
    "variable_edits",
]

#: A correction: what it says is wrong, and the right-hand side it would make right.
Edit = tuple[str, ir.Sum]
Rebuild = Callable[[Sequence[ir.Product]], ir.Sum]
FactorWrap = Callable[[ir.Factor], ir.Factor]


def factor_text(*factors: ir.Factor) -> str:
    """Factors as the compact form writes them.

    >>> factor_text(ir.Ref("x", None, "n", "d"), ir.Ref("W", None, "d", "h"))
    'x^n_d W^d_h'
    """
    return render_product(ir.Product(Fraction(1), (), tuple(factors), "", "", ""))


def make_product(like: ir.Product, factors: Sequence[ir.Factor], output: str | None = None,
                 coefficient: Fraction | None = None) -> ir.Product:
    """``like`` with new factors: its summed letters recomputed, its output kept (or given).

    >>> p = make_product(ir.Product(Fraction(1), (), (), "", "", "nh"),
    ...                  [ir.Ref("x", None, "n", "d"), ir.Ref("W", None, "d", "h")])
    >>> p.summed, p.output
    ('d', 'nh')
    """
    out = like.output if output is None else output
    letters = dict.fromkeys(c for f in factors for c in ir.factor_output(f))
    summed = "".join(c for c in letters if c not in out)
    return dataclasses.replace(
        like, factors=tuple(factors), output=out, summed=summed,
        explicit="".join(c for c in like.explicit if c in summed),
        coefficient=like.coefficient if coefficient is None else coefficient)


def _rebase(outer: ir.Power | ir.Inverse) -> FactorWrap:
    """How to put a new base under ``outer`` (a power or a reciprocal)."""
    def wrap(base: ir.Factor) -> ir.Factor:
        return dataclasses.replace(outer, base=base)
    return wrap


def _reargue(call: ir.Call, a: int) -> Callable[[ir.Sum], ir.Factor]:
    """How to put a new argument ``a`` into ``call``."""
    def wrap(arg: ir.Sum) -> ir.Factor:
        return dataclasses.replace(call, args=(*call.args[:a], arg, *call.args[a + 1:]))
    return wrap


def _then(first: Callable[[ir.Sum], ir.Factor], then: FactorWrap) -> Callable[[ir.Sum], ir.Factor]:
    """``first``, then ``then``: an inner sum put back through two levels."""
    def wrap(s: ir.Sum) -> ir.Factor:
        return then(first(s))
    return wrap


def _inner(factor: ir.Factor) -> Iterator[tuple[ir.Sum, Callable[[ir.Sum], ir.Factor]]]:
    """The sums inside a factor, each with how to put an edited one back."""
    if isinstance(factor, (ir.Power, ir.Inverse)):
        rebase = _rebase(factor)
        for inner, wrap in _inner(factor.base):
            yield inner, _then(wrap, rebase)
    elif isinstance(factor, ir.Group):
        yield factor.sum, ir.Group
    elif isinstance(factor, ir.Call):
        for a, arg in enumerate(factor.args):
            yield arg, _reargue(factor, a)


def _with_factor(p: ir.Product, j: int, new: ir.Factor) -> ir.Product:
    return dataclasses.replace(p, factors=(*p.factors[:j], new, *p.factors[j + 1:]))


def sites(expr: ir.Sum, rebuild: Callable[[ir.Sum], ir.Sum] | None = None,
          ) -> Iterator[tuple[ir.Product, int, Rebuild]]:
    """Every product of ``expr``, outer ones first, with its sum's size and a rebuilder.

    The rebuilder takes the products that replace this one (none deletes it,
    two split it) and returns the whole right-hand side.

    >>> s = ir.Sum((ir.Product(Fraction(1), (), (ir.Ref("x", None, "i", ""),), "", "", "i"),),
    ...            "i")
    >>> [(render_product(p), n) for p, n, _ in sites(s)]
    [('x^i', 1)]
    """
    top = rebuild or (lambda s: s)
    for t, p in enumerate(expr.terms):
        def put(new: Sequence[ir.Product], t: int = t) -> ir.Sum:
            return top(dataclasses.replace(
                expr, terms=(*expr.terms[:t], *new, *expr.terms[t + 1:])))
        yield p, len(expr.terms), put
    for t, p in enumerate(expr.terms):
        for j, f in enumerate(p.factors):
            for inner, wrap in _inner(f):
                def outer(s: ir.Sum, t: int = t, j: int = j, p: ir.Product = p,
                          wrap: Callable[[ir.Sum], ir.Factor] = wrap) -> ir.Sum:
                    new = _with_factor(p, j, wrap(s))
                    return top(dataclasses.replace(
                        expr, terms=(*expr.terms[:t], new, *expr.terms[t + 1:])))
                yield from sites(inner, outer)


def ref_sites(expr: ir.Sum) -> Iterator[tuple[ir.Ref | ir.DerivRef,
                                             Callable[[ir.Ref | ir.DerivRef], ir.Sum]]]:
    """Every tensor reference and derivative atom (also under a power or ``/``), with a putter.

    >>> s = ir.Sum((ir.Product(Fraction(1), (), (ir.Ref("x", None, "i", ""),), "", "", "i"),),
    ...            "i")
    >>> [ref.name for ref, _ in ref_sites(s)]
    ['x']
    """
    for p, _, put in sites(expr):
        for j, f in enumerate(p.factors):
            base: ir.Factor = f
            wraps: list[FactorWrap] = []
            while isinstance(base, (ir.Power, ir.Inverse)):
                wraps.append(_rebase(base))
                base = base.base
            if isinstance(base, (ir.Ref, ir.DerivRef)):
                def place(new: ir.Ref | ir.DerivRef, p: ir.Product = p, j: int = j,
                          put: Rebuild = put, wraps: list[FactorWrap] = wraps) -> ir.Sum:
                    out: ir.Factor = new
                    for w in reversed(wraps):
                        out = w(out)
                    return put([_with_factor(p, j, out)])
                yield base, place


def _negated(p: ir.Product) -> ir.Product:
    return dataclasses.replace(p, coefficient=-p.coefficient)


def sign_edits(expr: ir.Sum) -> Iterator[Edit]:
    """One term of a sum of two or more with its sign flipped."""
    for p, n, put in sites(expr):
        if n >= 2 and p.coefficient != 0:
            yield (f"wrong sign on one term: {render_product(p)} should be "
                   f"{render_product(_negated(p))}"), put([_negated(p)])


#: Simple factors one term of a sum may be off by (−1 is a sign error, tried apart).
_TERM_FACTORS = (Fraction(2), Fraction(1, 2), Fraction(3), Fraction(1, 3), Fraction(4),
                 Fraction(1, 4))


def coefficient_edits(expr: ir.Sum) -> Iterator[Edit]:
    """One term of a sum of two or more with a wrong constant (2 λ I for λ I)."""
    for p, n, put in sites(expr):
        if n < 2 or p.coefficient == 0:
            continue
        for r in _TERM_FACTORS:
            fixed = dataclasses.replace(p, coefficient=p.coefficient / r)
            yield (f"constant factor {r} on one term: {render_product(p)} should be "
                   f"{render_product(fixed)}"), put([fixed])


def _size_letters(expr: ir.Sum, sizes: Mapping[str, int],
                  first: ir.Product | None = None) -> dict[int, list[str]]:
    """Sizes above 2 of the letters ``expr`` uses, each with its letters.

    The letters ``first`` sums come first, then those it uses, then the rest.
    """
    products = [*([first] if first is not None else []), *ir.iter_products(expr)]
    summed = [c for p in products for c in p.explicit + p.summed]
    used = [c for p in products for f in p.factors for c in ir.factor_output(f)]
    out: dict[int, list[str]] = {}
    for c in dict.fromkeys(summed + used + list(expr.output)):
        if sizes.get(c, 0) > 2:
            out.setdefault(sizes[c], []).append(c)
    return out


def _sizes_text(letters: Sequence[str]) -> str:
    """``|n|``, or ``|d| (= |e|)`` for letters of one size."""
    first = f"|{letters[0]}|"
    return first if len(letters) == 1 else \
        f"{first} (= {' = '.join(f'|{c}|' for c in letters[1:])})"


def scale_edits(expr: ir.Sum, sizes: Mapping[str, int]) -> Iterator[Edit]:
    """One term (not the whole claim) multiplied or divided by the size of an index it uses."""
    for p, _, put in sites(expr):
        if p.coefficient == 0:
            continue
        for size, letters in _size_letters(expr, sizes, p).items():
            text = _sizes_text(letters)
            n = letters[0]
            yield (f"a factor 1/{text} missing on the term {render_product(p)} (a mean over "
                   f"{n}, not a sum)"), put([dataclasses.replace(
                       p, coefficient=p.coefficient / size)])
            yield (f"a factor {text} missing on the term {render_product(p)} (a sum over {n}, "
                   f"not a mean)"), put([dataclasses.replace(
                       p, coefficient=p.coefficient * size)])


def _letters_of(ref: ir.Ref | ir.DerivRef) -> ir.Ref:
    return ref.wrt if isinstance(ref, ir.DerivRef) else ref


def _relettered(ref: ir.Ref | ir.DerivRef, written: str) -> ir.Ref | ir.DerivRef:
    """``ref`` with its written letters replaced (same split between upper and lower)."""
    inner = _letters_of(ref)
    n_up = len(inner.upper)
    new = dataclasses.replace(inner, upper=written[:n_up], lower=written[n_up:])
    return dataclasses.replace(ref, wrt=new) if isinstance(ref, ir.DerivRef) else new


def _ref_text(ref: ir.Ref | ir.DerivRef) -> str:
    return factor_text(ref)


def transpose_edits(expr: ir.Sum, pairs: bool = False) -> Iterator[Edit]:
    """Two indices of one reference (or derivative atom) swapped, anywhere in the claim.

    With ``pairs``, two matrices of one product transposed together instead
    (``A R B`` for ``Aᵀ R Bᵀ``).
    """
    if pairs:
        yield from _pair_transposes(expr)
        return
    for ref, place in ref_sites(expr):
        written = _letters_of(ref).written
        for a, b in itertools.combinations(range(len(written)), 2):
            if written[a] == written[b]:
                continue
            w = list(written)
            w[a], w[b] = w[b], w[a]
            yield (f"transposed: {written[a]} and {written[b]} swapped in {_ref_text(ref)}",
                   place(_relettered(ref, "".join(w))))


def _pair_transposes(expr: ir.Sum) -> Iterator[Edit]:
    """Two matrices of one product (references or ``inv(…)``), both transposed."""
    for p, _, put in sites(expr):
        mats = [(j, f, t) for j, f in enumerate(p.factors)
                for t in [_matrix_transposed(f)] if t is not None]
        for (i, f, new_f), (j, g, new_g) in itertools.combinations(mats, 2):
            new = _with_factor(_with_factor(p, i, new_f), j, new_g)
            yield (f"transposed: {factor_text(f)} and {factor_text(g)} should be "
                   f"{factor_text(new_f)} and {factor_text(new_g)}"), put([new])


def _matrix_transposed(f: ir.Factor) -> ir.Factor | None:
    """``f`` transposed, when it is a matrix: a reference with two letters, or ``inv(…)``."""
    if isinstance(f, (ir.Ref, ir.DerivRef)):
        written = _letters_of(f).written
        if len(written) == 2 and written[0] != written[1]:
            return _relettered(f, written[::-1])
        return None
    if isinstance(f, ir.Call) and f.function == "inv" and len(set(f.output)) == 2:
        a, b = f.output[0], f.output[1]
        return rename_factor(f, {a: b, b: a})
    return None


def order_edits(expr: ir.Sum) -> Iterator[Edit]:
    """Two factors of one product with their places in the chain exchanged (BᵀCᵀ for CᵀBᵀ).

    In index notation a factor's place in a matrix chain is its letters, so
    exchanging the places is exchanging the two references' letters.
    """
    for p, _, put in sites(expr):
        refs = [(j, f) for j, f in enumerate(p.factors)
                if isinstance(f, (ir.Ref, ir.DerivRef)) and len(_letters_of(f).written) >= 2]
        for (i, f), (j, g) in itertools.combinations(refs, 2):
            wf, wg = _letters_of(f).written, _letters_of(g).written
            if len(wf) != len(wg) or wf == wg:
                continue
            new = _with_factor(_with_factor(p, i, _relettered(f, wg)), j, _relettered(g, wf))
            yield (f"factors in the wrong order: {factor_text(f, g)} should be "
                   f"{factor_text(new.factors[i], new.factors[j])}"), put([new])


def variable_edits(expr: ir.Sum, tensors: Mapping[str, ir.TensorInfo],
                   shapes: Mapping[str, tuple[int, ...]], strict: bool = True) -> Iterator[Edit]:
    """One tensor reference replaced by another tensor of the program of the same shape.

    Then every reference to one tensor replaced (``1 − h2 h2`` for ``1 − h1 h1``). With
    ``strict`` off (for a claim that does not fit as written) any tensor of the same
    rank is tried. Derivative atoms are left to the caller.
    """
    refs = [(ref, place) for ref, place in ref_sites(expr) if isinstance(ref, ir.Ref)]
    for ref, place in refs:
        for info in _others(ref, tensors, shapes, strict):
            new = dataclasses.replace(ref, name=info.ref.name, label=info.ref.label)
            yield f"wrong variable: {_ref_text(ref)} should be {_ref_text(new)}", place(new)
    counts: dict[str, int] = {}
    for ref, _ in refs:
        counts[ref.key] = counts.get(ref.key, 0) + 1
    for key, count in counts.items():
        ref = next(r for r, _ in refs if r.key == key)
        for info in _others(ref, tensors, shapes, strict) if count > 1 else ():
            yield (f"wrong variable: {ref.name} should be {info.ref.name} throughout",
                   _renamed(expr, key, info.ref))


def _others(ref: ir.Ref, tensors: Mapping[str, ir.TensorInfo],
            shapes: Mapping[str, tuple[int, ...]], strict: bool) -> Iterator[ir.TensorInfo]:
    """The tensors that could stand where ``ref`` stands: same shape (same rank if not strict)."""
    shape = shapes.get(ref.key)
    for key, info in tensors.items():
        other = shapes.get(key)
        if key == ref.key or other is None or len(other) != len(ref.written):
            continue
        if not strict or other == shape:
            yield info


def _renamed(expr: ir.Sum, key: str, to: ir.Ref) -> ir.Sum:
    """``expr`` with every reference to tensor ``key`` made one to ``to``'s tensor."""
    for ref, place in ref_sites(expr):
        if isinstance(ref, ir.Ref) and ref.key == key:
            return _renamed(place(dataclasses.replace(ref, name=to.name, label=to.label)),
                            key, to)
    return expr


def term_transpose_edits(expr: ir.Sum) -> Iterator[Edit]:
    """One term of a sum transposed: two of its free letters swapped, the others' kept."""
    for p, n, put in sites(expr):
        if n < 2:
            continue
        for a, b in itertools.combinations(p.output, 2):
            swapped = rename_sum(ir.Sum((p,), p.output), {a: b, b: a}).terms[0]
            new = dataclasses.replace(swapped, output=p.output)
            yield (f"transposed: {a} and {b} swapped in the term {render_product(p)}",
                   put([new]))


def symmetry_edits(expr: ir.Sum, shapes: Mapping[str, tuple[int, ...]]) -> Iterator[Edit]:
    """``2 S x`` made ``S x + Sᵀ x``: square factors of a term taken as symmetric.

    One square factor first (``2 S x`` for ``(S + Sᵀ) x``), then two or three
    together: the derivative of ``tr(A X B Xᵀ)`` is ``A X B + Aᵀ X Bᵀ``, which
    is ``2 A X B`` only when both A and B are symmetric.
    """
    found = [(p, put, [j for j, f in enumerate(p.factors) if _square(f, shapes)])
             for p, _, put in sites(expr)]
    for count in (1, 2, 3):
        for p, put, square in found:
            for chosen in itertools.combinations(square, count):
                half = dataclasses.replace(p, coefficient=p.coefficient / 2)
                other = half
                for j in chosen:
                    f = p.factors[j]
                    assert isinstance(f, ir.Ref)
                    other = _with_factor(other, j, _relettered(f, f.written[::-1]))
                both = render(ir.Sum((half, other), p.output))
                distinct = list(dict.fromkeys(_ref_name(p.factors[j]) for j in chosen))
                names = " and ".join(distinct)
                verb = "is" if len(distinct) == 1 else "are"
                yield (f"symmetry assumed: {names} {verb} not symmetric, so "
                       f"{render_product(p)} should be {both}"), put([half, other])


def _ref_name(f: ir.Factor) -> str:
    return f.name if isinstance(f, ir.Ref) else ""


def _square(f: ir.Factor, shapes: Mapping[str, tuple[int, ...]]) -> bool:
    """Whether ``f`` is a reference to a square matrix with two different letters."""
    if not isinstance(f, ir.Ref) or len(f.written) != 2 or f.written[0] == f.written[1]:
        return False
    shape = shapes.get(f.key)
    return shape is not None and len(shape) == 2 and shape[0] == shape[1]
