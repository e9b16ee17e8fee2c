"""Generated programs for the derive/check property tests (products, sums, broadcasts,
elementwise functions, softmax, repeated indices), with distinct sizes i=3, j=4, k=5,
and the planted mistakes that the checker must catch and name."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from indexnet import ir
from indexnet.ir.terms import map_letters, rename_sum

FUNCTIONS = ("sigmoid", "tanh", "square", "exp", "identity")
Pick = Callable[[Sequence[Any]], Any]


def build(pick: Pick) -> str:
    """The text of a small program whose scalar L depends on params W, b, v."""
    lines = ["input X^i_j, c^i_k, M^i_m, y^i_k : onehot(k)", "param W^j_k, b_k, v^k",
             "const lam = 0.1", "size i=3, j=4, k=5"]
    bias = pick((True, False))
    lines.append("a^i_k = X^i_j W^j_k" + (" + b_k" if bias else ""))
    f = pick((*FUNCTIONS, "softmax"))
    arg = pick(("a^i_k", "a^i_k v^k"))
    lines.append(f"z^i_k = softmax[k]({arg})" if f == "softmax" else f"z^i_k = {f}({arg})")
    body = {
        "linear": "sum_{ik} c^i_k z^i_k",
        "square": "1/2 sum_{ik} square(z^i_k - c^i_k)",
        "xent": "-sum_{ik} y^i_k log(square(z^i_k) + 1)",
        "inverse": "sum_{ik} c^i_k / (square(z^i_k) + 1)",
    }[pick(("linear", "square", "xent", "inverse"))]
    if pick((True, False)):
        body += " + lam/2 sum_{jk} W^j_k W^j_k"
    if pick((True, False)):
        body += " + sum_i M^i_i sum_k z^i_k"
    if bias and pick((True, False)):
        body += " + sum_k b_k v^k"
    if pick((True, False)):
        body += " + sum_k (v^k)^3"
    lines.append(f"L = {body}")
    return "\n".join(lines)


@st.composite
def programs(draw: st.DrawFn) -> str:
    """Hypothesis strategy of program texts (see :func:`build`)."""
    return build(lambda options: draw(st.sampled_from(list(options))))


def random_program(rng: random.Random) -> str:
    """A program text from a seeded generator (for measuring rates)."""
    return build(lambda options: rng.choice(list(options)))


# -- planted mistakes --------------------------------------------------------------------------

#: mistake -> the diagnosis kinds that name it
NAMES = {
    "swap": ("transposed",),
    "factor2": ("constant factor",),
    "sign": ("wrong sign",),
    "drop_term": ("missing term",),
    "drop_activation": ("missing activation derivative", "derivative through the wrong"),
}


def _with_terms(rhs: ir.Sum, terms: Sequence[ir.Product]) -> ir.Sum:
    return dataclasses.replace(rhs, terms=tuple(terms))


def plant(claim: ir.Claim, mistake: str, rng: random.Random) -> ir.Claim | None:
    """``claim`` with one mistake planted, or None when it has no place for it."""
    rhs = claim.rhs
    terms = list(rhs.terms)
    if mistake in ("sign", "factor2"):
        k = Fraction(-1) if mistake == "sign" else Fraction(2)
        if all(t.coefficient == 0 for t in terms):
            return None
        new = [dataclasses.replace(t, coefficient=t.coefficient * k) for t in terms]
        return dataclasses.replace(claim, rhs=_with_terms(rhs, new))
    if mistake == "drop_term":
        if len(terms) < 2:
            return None
        del terms[rng.randrange(len(terms))]
        return dataclasses.replace(claim, rhs=_with_terms(rhs, terms))
    if mistake == "swap":
        spots = [(t, j) for t, p in enumerate(terms) for j, f in enumerate(p.factors)
                 if isinstance(f, ir.Ref) and len(set(f.written)) >= 2]
        if not spots:
            return None
        t, j = rng.choice(spots)
        f = terms[t].factors[j]
        assert isinstance(f, ir.Ref)
        w = f.written
        new_w = w[1] + w[0] + w[2:]
        ref = dataclasses.replace(f, upper=new_w[:len(f.upper)], lower=new_w[len(f.upper):])
        factors = list(terms[t].factors)
        factors[j] = ref
        terms[t] = dataclasses.replace(terms[t], factors=tuple(factors))
        return dataclasses.replace(claim, rhs=_with_terms(rhs, terms))
    if mistake == "drop_activation":
        spots = [(t, j) for t, p in enumerate(terms) for j, f in enumerate(p.factors)
                 if isinstance(f, ir.Call) and f.primes]
        if not spots:
            return None
        t, j = rng.choice(spots)
        p = terms[t]
        factors = p.factors[:j] + p.factors[j + 1:]
        letters = "".join(dict.fromkeys(c for f in factors for c in ir.factor_output(f)))
        output = "".join(c for c in rhs.output if c in letters)
        summed = "".join(c for c in letters if c not in output)
        terms[t] = dataclasses.replace(p, factors=factors, output=output, summed=summed,
                                       explicit="".join(c for c in p.explicit if c in summed))
        return dataclasses.replace(claim, rhs=_with_terms(rhs, terms))
    raise ValueError(mistake)


# -- letters moved: claims whose shape may not fit the derivative -------------------------------


def move_letters(claim: ir.Claim, rng: random.Random) -> ir.Claim:
    """``claim`` with its letters moved as a hand may move them (it may then not even fit).

    Two indices of one tensor swapped (summed ones too), two free letters swapped
    in the whole right-hand side, or the derivative's letters renamed to fresh
    ones, sometimes with a term dropped (which leaves a fresh letter unsized).
    """
    rhs = claim.rhs
    free = claim.wrt.subscripts
    kind = rng.choice(("tensor", "whole", "rename"))
    if kind == "whole" and len(free) >= 2:
        a, b = rng.sample(free, 2)
        swapped = rename_sum(rhs, {a: b, b: a})
        return dataclasses.replace(claim, rhs=dataclasses.replace(swapped, output=rhs.output))
    if kind == "rename" and free:
        m = dict(zip(free, "pqrs"))
        new = rename_sum(rhs, m)
        if len(new.terms) > 1 and rng.random() < 0.5:
            new = _with_terms(new, new.terms[1:])
        w = claim.wrt
        wrt = dataclasses.replace(w, upper=map_letters(w.upper, m), lower=map_letters(w.lower, m))
        return dataclasses.replace(claim, wrt=wrt, rhs=new)
    spots = [(t, j) for t, p in enumerate(rhs.terms) for j, f in enumerate(p.factors)
             if isinstance(f, ir.Ref) and len(f.written) >= 2]
    if not spots:
        return claim
    t, j = rng.choice(spots)
    f = rhs.terms[t].factors[j]
    assert isinstance(f, ir.Ref)
    w = list(f.written)
    p, q = rng.sample(range(len(w)), 2)
    w[p], w[q] = w[q], w[p]
    ref = dataclasses.replace(f, upper="".join(w[:len(f.upper)]), lower="".join(w[len(f.upper):]))
    terms = list(rhs.terms)
    factors = list(terms[t].factors)
    factors[j] = ref
    terms[t] = dataclasses.replace(terms[t], factors=tuple(factors))
    return dataclasses.replace(claim, rhs=_with_terms(rhs, terms))
