"""Say how a failing claim is wrong, by trying the likely corrections.

In order: a constant factor of the whole claim (−1 is a wrong sign; 2, 1/2,
…; |n| or 1/|n| for a mean against a sum), two letters swapped in one
reference anywhere or in the whole claim, a missing or an extra term (which
term of the exact derivative), one term with the wrong sign, a ``dL/dX``
atom of the wrong tensor, one term missing a factor |n| or 1/|n|, one term
transposed, two factors of a chain in the wrong order, the wrong activation
derivative (or none) or a wrong variable (both readings given when both
fit), a non-symmetric matrix taken as symmetric, the claim being the
derivative of another tensor, softmax differentiated entry by entry. The
edits reach into parentheses and function arguments
(:mod:`indexnet.check.diagnose_edits`, :mod:`indexnet.check.diagnose_calls`).
The first correction that makes the claim equal to the exact derivative
names the mistake; when none does, the diagnosis says so and shows where the
error is largest by index: it never guesses.

>>> from indexnet.program import parse
>>> from indexnet.check.judge import check
>>> p = parse('''
... input x^n_d
... param W^d_h
... size n=5, d=3, h=4
... L = sum_{nh} sigmoid(x^n_d W^d_h)
... claim dL/dW^d_h = x^n_d
... ''')
>>> check(p).results[0].diagnosis
"missing activation derivative: sigmoid'(x^n_d W^d_h)"
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Callable, Iterator
from fractions import Fraction

import numpy as np

from .. import ir
from ..derive.reverse import derive
from ..errors import IndexnetError
from ..ir.elementwise import MATRIX_FUNCTIONS
from ..ir.module import resolve_function
from ..ir.terms import factor_key, rename_sum
from ..render import render_product
from .context import Context, claim_layout, rel_error
from .diagnose_calls import activation_edits, softmax_edits
from .diagnose_edits import (
    Edit,
    coefficient_edits,
    order_edits,
    scale_edits,
    sign_edits,
    symmetry_edits,
    term_transpose_edits,
    transpose_edits,
    variable_edits,
)

__all__ = ["diagnose"]

_FIT = 1e-6

#: How a constant factor starts; one that is no simple number (no "(multiply it by …)")
#: is only a fallback diagnosis.
_UNEXPLAINED = "constant factor: the claim is "


def _close(value: np.ndarray | None, exact: np.ndarray) -> bool:
    return value is not None and rel_error(value, exact) <= _FIT


def _ratio_text(r: float, sizes: dict[str, int]) -> str | None:
    for frac in (Fraction(2), Fraction(1, 2), Fraction(-2), Fraction(-1, 2), Fraction(3),
                 Fraction(1, 3), Fraction(4), Fraction(1, 4)):
        if abs(r - float(frac)) <= 1e-6 * abs(r):
            return str(frac)
    for letter, n in sizes.items():
        for value, text in ((n, f"{n} (the size of {letter})"),
                            (1 / n if n else 0, f"1/{n} (1 over the size of {letter})"),
                            (-n, f"-{n} (minus the size of {letter})")):
            if n > 1 and abs(r - value) <= 1e-6 * abs(r):
                return text
    return None


def _swap_letters(expr: ir.Sum, a: str, b: str) -> ir.Sum:
    """``expr`` with free letters ``a`` and ``b`` exchanged in its terms, its output kept."""
    return dataclasses.replace(rename_sum(expr, {a: b, b: a}), output=expr.output)


def _replace(expr: ir.Sum, t: int, j: int, new: ir.Factor | None) -> ir.Sum:
    p = expr.terms[t]
    factors = list(p.factors)
    if new is None:
        del factors[j]
    else:
        factors[j] = new
    return dataclasses.replace(expr, terms=(*expr.terms[:t],
                                            dataclasses.replace(p, factors=tuple(factors)),
                                            *expr.terms[t + 1:]))


def diagnose(ctx: Context, claim: ir.Claim) -> str:
    """The likely mistake in ``claim`` at the context's current draw, in words."""
    of, key = claim.of, claim.wrt.key
    exact = ctx.exact(of, key)
    layout = claim_layout(claim)

    def value(rhs: ir.Sum) -> np.ndarray | None:
        try:
            return ctx.evaluate(layout, rhs)
        except (IndexnetError, ValueError):
            return None

    def candidate(rhs: ir.Sum) -> np.ndarray | None:
        """The value of a correction, None unless it sizes and is shaped as the derivative."""
        found = value(rhs)
        return found if found is not None and found.shape == exact.shape else None

    def fits(rhs: ir.Sum) -> bool:
        return _close(candidate(rhs), exact)

    current = value(claim.rhs)
    rhs, program, shapes = claim.rhs, ctx.program, ctx.shapes()
    sizes = _sizes(ctx, claim)
    checks: list[Callable[[], str | None]] = [
        lambda: _factor(current, exact, sizes, claim),
        lambda: _scalar_factor(ctx, claim, current, exact),
        lambda: _transposed(claim, fits),
        lambda: _terms(ctx, claim, current, exact, candidate),
        lambda: _first(sign_edits(rhs), fits),
        lambda: _wrong_variable(ctx, claim, None, fits),
        lambda: _first(scale_edits(rhs, sizes), fits),
        lambda: _first(term_transpose_edits(rhs), fits),
        lambda: _first(order_edits(rhs), fits),
        lambda: _either(
            lambda: _activation(ctx, claim, fits) or _first(activation_edits(rhs, program), fits),
            lambda: _first(variable_edits(rhs, program.tensors, shapes, current is not None),
                           fits)),
        lambda: _first(symmetry_edits(rhs, shapes), fits),
        lambda: _first(transpose_edits(rhs, pairs=True), fits),
        lambda: _first(coefficient_edits(rhs), fits),
        lambda: _wrong_variable(ctx, claim, current, fits, atoms=False),
        lambda: _softmax(ctx, claim, current),
        lambda: _first(softmax_edits(rhs, program), fits),
        lambda: _assumed_symmetric(ctx, claim, current),
    ]
    weak = ""
    for test in checks:
        found = test()
        if found and found.startswith(_UNEXPLAINED) and "(" not in found:
            # a factor that is no simple number is likely another mistake (a wrong scalar
            # variable): the other corrections go first, this one is the fallback
            weak = weak or found
        elif found:
            return found
    if weak:
        return weak
    if current is None:
        return "does not fit, and no swap of two indices makes it fit"
    return _largest(claim, current, exact)


def _first(edits: Iterator[Edit], fits: Callable[[ir.Sum], bool]) -> str | None:
    """The words of the first edit that makes the claim equal to the derivative."""
    for words, rhs in edits:
        if fits(rhs):
            return words
    return None


def _either(first: Callable[[], str | None], second: Callable[[], str | None]) -> str | None:
    """The first diagnosis, with the second as an equivalent reading when both fit.

    A wrong activation derivative and a wrong variable can be one mistake seen
    twice (``a (1 − s)`` is ``y (1 − s)`` short of ``a σ'(a)`` when y = a s).
    """
    one, two = first(), second()
    if one and two:
        return f"{one} (equivalently, {two})"
    return one or two


def _sizes(ctx: Context, claim: ir.Claim) -> dict[str, int]:
    """The size of every letter of the program and of the claim (when the claim sizes)."""
    sizes = dict(ctx.sizes)
    with contextlib.suppress(IndexnetError, ValueError):
        sizes.update(ctx.compile_claim(claim_layout(claim), claim.rhs)[1])
    return sizes


def _factor(current: np.ndarray | None, exact: np.ndarray, sizes: dict[str, int],
            claim: ir.Claim) -> str | None:
    """The claim as a constant times the derivative: −1, a simple fraction, a size |n|.

    Any two scalars are multiples of each other, so a scalar claim is only
    called off by a constant that is simple (a small fraction or a size).
    """
    if current is None or current.shape != exact.shape:
        return None
    cc = float(np.vdot(current, current))
    if cc == 0 or not np.any(exact):
        return None
    a = float(np.vdot(current, exact)) / cc
    if not _close(a * current, exact):
        return None
    r = 1 / a
    if abs(r + 1) <= 1e-6:
        return "wrong sign: the claim is −1 × the derivative"
    mean = _mean_text(r, claim.rhs, sizes)
    if mean is not None:
        return mean
    text = _ratio_text(r, sizes)
    if text is None:
        if current.size <= 1:
            return None
        return f"{_UNEXPLAINED}{r:.4g} × the derivative"
    inverse = _ratio_text(a, sizes) or f"{a:.4g}"
    return f"constant factor: the claim is {text} × the derivative (multiply it by " \
        f"{inverse.split(' ')[0]})"


def _scalar_factor(ctx: Context, claim: ir.Claim, current: np.ndarray | None,
                   exact: np.ndarray) -> str | None:
    """The claim off by a scalar tensor of the program: ``inv(A)ᵀ`` for ``det(A) inv(A)ᵀ``."""
    if current is None or current.shape != exact.shape or not np.any(exact):
        return None
    cc = float(np.vdot(current, current))
    if cc == 0:
        return None
    a = float(np.vdot(current, exact)) / cc
    if not _close(a * current, exact):
        return None
    for key, info in ctx.program.tensors.items():
        if info.rank or key not in ctx.env or key == claim.wrt.key:
            continue
        value = float(np.asarray(ctx.env[key]))
        if value == 0 or abs(abs(value) - 1) < 1e-3:
            continue
        if abs(a - value) <= 1e-6 * abs(a):
            return f"missing factor {key}: the claim is 1/{key} × the derivative"
        if abs(a * value - 1) <= 1e-6:
            return f"extra factor {key}: the claim is {key} × the derivative"
    return None


def _claim_sizes(expr: ir.Sum, sizes: dict[str, int]) -> dict[int, list[str]]:
    """Sizes above 2 of the letters the claim uses, each with its letters (summed first)."""
    summed = [c for p in ir.iter_products(expr) for c in p.explicit + p.summed]
    used = [c for p in ir.iter_products(expr) for c in p.output] + list(expr.output)
    out: dict[int, list[str]] = {}
    for c in dict.fromkeys(summed + used):
        if sizes.get(c, 0) > 2:
            out.setdefault(sizes[c], []).append(c)
    return out


def _mean_text(r: float, expr: ir.Sum, sizes: dict[str, int]) -> str | None:
    """``r`` named as |n| or 1/|n| for a letter n of the claim: a mean against a sum.

    >>> from indexnet.program import parse
    >>> text = "input x^n; param w; L = w sum_n x^n; claim dL/dw = mean_n x^n"
    >>> rhs = parse(text.replace("; ", chr(10))).claims[0].rhs
    >>> _mean_text(1 / 3, rhs, {"n": 3})[:52]
    'constant factor: the claim is 1/|n| × the derivative'
    """
    for size, letters in _claim_sizes(expr, sizes).items():
        n = letters[0]
        names = f"|{n}|" + "".join(f" (= |{c}|)" for c in letters[1:])
        if abs(r * size - 1) <= 1e-6:
            return (f"constant factor: the claim is 1/{names} × the derivative (1/{size}: a mean "
                    f"over {n} where a sum belongs; multiply it by |{n}|)")
        if abs(r / size - 1) <= 1e-6:
            return (f"constant factor: the claim is {names} × the derivative ({size}: a sum over "
                    f"{n} where a mean belongs; divide it by |{n}|)")
    return None


def _transposed(claim: ir.Claim, fits: Callable[[ir.Sum], bool]) -> str | None:
    """Two indices swapped in one factor, else two free letters swapped in the whole claim.

    The second is the claim transposed: the right-hand side with ``a`` and
    ``b`` exchanged, laid out as the left-hand side still is.
    """
    found = _first(transpose_edits(claim.rhs), fits)
    if found:
        return found
    free = claim.free
    for a, b in itertools.combinations(free, 2):
        if fits(_swap_letters(claim.rhs, a, b)):
            return f"transposed: {a} and {b} swapped"
    return None


def _exact_terms(ctx: Context, claim: ir.Claim) -> list[ir.Product]:
    jacobian = ctx.jacobians.get((claim.of, claim.wrt.key))
    if claim.top is not None:  # a Jacobian's terms as worked out, in the claim's letters
        if jacobian is None:
            return []
        renamed = rename_sum(jacobian.rhs, dict(zip(jacobian.free, claim.free)))
        return [p for p in renamed.terms if p.coefficient != 0]
    known = ctx.program.tensors
    atoms = [f.wrt.key for p in ir.iter_products(claim.rhs) for f in p.factors
             if isinstance(f, ir.DerivRef) and f.of == claim.of and f.wrt.key in known]
    out: dict[str, ir.Product] = {}
    # as the claim writes it (its dL/dX atoms named), and as `indexnet derive` prints it
    for wrt in ([claim.wrt.key, *atoms], [claim.wrt.key, *atoms, *ctx.program.params]):
        try:
            found = derive(ctx.program, claim.of, list(dict.fromkeys(wrt)), domains=True)
        except IndexnetError:
            continue
        target = next((d for d in found if d.wrt.key == claim.wrt.key), None)
        if target is None:
            continue
        canon = ctx.program.tensors[claim.wrt.key].letters
        renamed = rename_sum(target.rhs, dict(zip(canon, claim.wrt.subscripts)))
        for p in renamed.terms:
            if p.coefficient != 0:
                out.setdefault(render_product(p), p)
    return list(out.values())


def _terms(ctx: Context, claim: ir.Claim, current: np.ndarray | None, exact: np.ndarray,
           value: Callable[[ir.Sum], np.ndarray | None]) -> str | None:
    """A term of the exact derivative missing, or an extra term (``value``: a term's value)."""
    if current is None or current.shape != exact.shape:
        return None
    out = claim.rhs.output
    terms = _exact_terms(ctx, claim)
    if len(terms) > 1:
        for p in terms:
            v = value(ir.Sum((p,), out))
            if v is not None and _close(current + v, exact):
                return f"missing term: {_term_text(p)}"
    if len(claim.rhs.terms) > 1:
        for p in claim.rhs.terms:
            v = value(ir.Sum((p,), out))
            if v is not None and _close(current - v, exact):
                return f"extra term: {_term_text(p)}"
    return None


def _term_text(p: ir.Product) -> str:
    text = render_product(p)
    return text


def _activation_factors(ctx: Context) -> list[ir.Call]:
    found: dict[tuple[object, ...], ir.Call] = {}
    for eq in ctx.program.equations:
        for p in ir.iter_products(eq.rhs):
            for f in p.factors:
                if isinstance(f, ir.Call) and f.function != "softmax" and f.primes == 0 \
                        and len(f.args) == 1:
                    resolved = resolve_function(ctx.program, f)
                    if resolved is None or resolved[0] in _NO_ACTIVATION:
                        continue
                    d = dataclasses.replace(f, primes=1)
                    found.setdefault(factor_key(d), d)
    for d_stmt in ctx.derivations:
        for p in ir.iter_products(d_stmt.rhs):
            for f in p.factors:
                if isinstance(f, ir.Call) and f.primes:
                    found.setdefault(factor_key(f), f)
    return list(found.values())


def _activation(ctx: Context, claim: ir.Claim, fits: Callable[[ir.Sum], bool]) -> str | None:
    for call in _activation_factors(ctx):
        letters = set(call.output)
        free = claim.rhs.output
        for t, p in enumerate(claim.rhs.terms):
            if not letters <= set(p.output) | set(p.summed) | set(free):
                continue
            present = set(p.output) | set(p.summed) | letters
            output = "".join(c for c in free if c in present)
            summed = "".join(c for c in dict.fromkeys(p.summed + call.output) if c not in output)
            new = dataclasses.replace(p, factors=(call, *p.factors), output=output,
                                      summed=summed)
            rhs = dataclasses.replace(claim.rhs, terms=(*claim.rhs.terms[:t], new,
                                                        *claim.rhs.terms[t + 1:]))
            if fits(rhs):
                text = render_product(ir.Product(Fraction(1), (), (call,), "", "", ""))
                return f"missing activation derivative: {text}"
    return None


def _wrong_variable(ctx: Context, claim: ir.Claim, current: np.ndarray | None,
                    fits: Callable[[ir.Sum], bool], atoms: bool = True) -> str | None:
    program = ctx.program
    for t, p in enumerate(claim.rhs.terms if atoms else ()):
        for j, f in enumerate(p.factors):
            if not isinstance(f, ir.DerivRef):
                continue
            rank = len(f.wrt.written)
            for key, info in program.tensors.items():
                if key == f.wrt.key or info.rank != rank:
                    continue
                if ir.deriv_key(f.of, key) not in ctx.available:
                    continue
                new = dataclasses.replace(f, wrt=dataclasses.replace(
                    f.wrt, name=info.ref.name, label=info.ref.label))
                if fits(_replace(claim.rhs, t, j, new)):
                    old_text = render_product(ir.Product(Fraction(1), (), (f,), "", "", ""))
                    new_text = render_product(ir.Product(Fraction(1), (), (new,), "", "", ""))
                    why = ""
                    for eq in program.equations:
                        if eq.target.key == f.wrt.key and any(
                                isinstance(g, ir.Call) and g.function != "softmax"
                                for q in eq.rhs.terms for g in q.factors) and any(
                                r.key == key for r in ir.iter_refs(eq.rhs)):
                            why = f" (it misses the activation derivative between {key} and " \
                                f"{f.wrt.key})"
                    return (f"derivative through the wrong variable: {old_text} should be "
                            f"{new_text}{why}")
    if current is not None and claim.top is None:
        for key in program.tensors:
            if key == claim.wrt.key or ir.deriv_key(claim.of, key) not in ctx.available:
                continue
            other = ctx.exact(claim.of, key)
            if other.shape == current.shape and _close(current, other):
                return (f"derivative through the wrong variable: the claim is d{claim.of}/d{key}, "
                        f"not d{claim.of}/d{claim.wrt.key}")
    return None


def _softmax(ctx: Context, claim: ir.Claim, current: np.ndarray | None) -> str | None:
    if current is None:
        return None
    for eq in ctx.program.equations:
        terms = eq.rhs.terms
        if len(terms) != 1 or len(terms[0].factors) != 1:
            continue
        call = terms[0].factors[0]
        if not isinstance(call, ir.Call):
            continue
        resolved = resolve_function(ctx.program, call)
        if resolved is None or resolved[0] != "softmax":
            continue
        arg = call.args[0].terms
        if len(arg) != 1 or len(arg[0].factors) != 1 or not isinstance(arg[0].factors[0],
                                                                         ir.Ref):
            continue
        ref = arg[0].factors[0]
        if ref.key != claim.wrt.key or ref.subscripts != eq.free:
            continue
        dkey = ir.deriv_key(claim.of, eq.target.key)
        if dkey not in ctx.available:
            continue
        g = ctx.env[dkey]
        y = ctx.env[eq.target.key]
        if _close(current, g * y * (1 - y)):
            name = eq.target.name
            return (f"elementwise derivative of softmax: its Jacobian is not diagonal "
                    f"(∂{name}_k/∂a_j = {name}_k(δ_kj − {name}_j)); the claim uses only "
                    f"{name}(1 − {name}); add −{name} Σ_k (d{claim.of}/d{name}) {name}")
    return None


#: Functions whose derivative is no activation derivative a claim could miss.
_NO_ACTIVATION = frozenset({"softmax", "exp", "identity", "log", "square", "max", "min",
                            "argmax", "argmin", *MATRIX_FUNCTIONS})

#: Domains a symmetrised draw stays in (the mean of a matrix and its transpose).
_SYMMETRISABLE = (None, "normal", "uniform", "positive")


def _assumed_symmetric(ctx: Context, claim: ir.Claim, current: np.ndarray | None) -> str | None:
    """The claim holds once some square matrices are made symmetric: symmetry assumed.

    However the claim writes it (``2 A X B`` for ``A X B + Aᵀ X Bᵀ``, or a
    hand-simplified form no edit reaches), a claim derived as if inputs or
    params A, B were symmetric equals the derivative on a draw where they
    are, and only there. One matrix is tried, then two together.
    """
    if current is None:
        return None
    program = ctx.program
    shapes = ctx.shapes()
    square = [k for k in program.inputs if program.tensors[k].rank == 2
              and len(set(shapes[k])) == 1 and shapes[k][0] > 1
              and _kind(program.tensors[k].domain) in _SYMMETRISABLE]
    if not square:
        return None
    saved = ctx.env
    arrays = {k: saved[k] for k in program.inputs}
    try:
        for count in (1, 2):
            for chosen in itertools.combinations(square[:6], count):
                found = _symmetric_draws(ctx, claim, arrays, chosen)
                if found:
                    return found
    finally:
        ctx.env = saved
    return None


def _kind(domain: ir.Domain | None) -> str | None:
    return None if domain is None else domain.kind


def _symmetric_draws(ctx: Context, claim: ir.Claim, arrays: dict[str, np.ndarray],
                     chosen: tuple[str, ...]) -> str | None:
    """The claim against the derivative on a draw where ``chosen`` are made symmetric.

    The claim holds there and only there: it was derived as if they were
    symmetric. (Factors transposed in the claim, ``A R B`` for ``Aᵀ R Bᵀ``,
    also hold there; :func:`~indexnet.check.diagnose_edits.transpose_edits`
    names those first.)
    """
    names = " and ".join(chosen)
    ctx.run({**arrays, **{k: (arrays[k] + arrays[k].T) / 2 for k in chosen}})
    exact = ctx.exact(claim.of, claim.wrt.key)
    try:
        value = ctx.evaluate(claim_layout(claim), claim.rhs)
    except (IndexnetError, ValueError):
        return None
    if not (np.any(exact) and _close(value, exact)):
        return None
    verb = "is" if len(chosen) == 1 else "are"
    where = ", ".join(f"{k} = {k}ᵀ" for k in chosen)
    return f"symmetry assumed: {names} {verb} not symmetric, but the claim holds only where {where}"


def _largest(claim: ir.Claim, current: np.ndarray, exact: np.ndarray) -> str:
    if current.shape != exact.shape:
        return f"no simple correction fits (shape {current.shape}, expected {exact.shape})"
    diff = np.abs(current - exact)
    if diff.ndim == 0:
        return (f"no simple correction fits (claim {float(current):.4g}, exact "
                f"{float(exact):.4g})")
    where = np.unravel_index(int(np.argmax(diff)), diff.shape)
    letters = claim.free
    at = ", ".join(f"{c}={i}" for c, i in zip(letters, where))
    return (f"no simple correction fits; the error is largest at {at} (claim "
            f"{float(current[where]):.4g}, exact {float(exact[where]):.4g})")
