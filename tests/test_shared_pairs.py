"""Contractions shared between a program's products (``indexnet.evaluate.shared``).

The reference is a direct NumPy computation: for L = Σ G ∘ (M₁ M₂ … Mₖ) the
gradient by Mᵢ is (M₁ … Mᵢ₋₁)ᵀ G (Mᵢ₊₁ … Mₖ)ᵀ, written with ``@``.
"""

from __future__ import annotations

import string
from functools import reduce

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from indexnet import ir, parse
from indexnet.einsum.plan import plan
from indexnet.einsum.subscripts import operand_shapes
from indexnet.evaluate.shared import shared_pairs

CHAIN = ("input A^i_j\nparam B^j_k, C^k_l\ny^i_l = A^i_j B^j_k C^k_l\n"
         "L = sum_{il} y^i_l y^i_l")


def _products(program: object) -> list[ir.Product]:
    return [p for s in program.statements if isinstance(s, (ir.Equation, ir.Derivation))  # type: ignore[attr-defined]
            for p in ir.iter_products(s.rhs)]


def test_a_derived_chain_costs_what_reverse_accumulation_costs() -> None:
    """y = A B C: the derivatives share the forward's A B, as a reverse pass would."""
    program = parse(CHAIN).derive()
    sizes = {"i": 300, "j": 400, "k": 500, "l": 600}
    alone = sum(plan(p.einsum, *operand_shapes(p.operands, sizes)).flops
                for p in _products(program) if p.einsum)
    compiled = program.compile({"A": (300, 400), "B": (400, 500), "C": (500, 600)})
    shared = sum(p.flops for p in compiled.plans)
    # reverse accumulation through the forward tree (A B) C: the forward 2·(i j k + i k l),
    # then dC = (A B)ᵀ dy, d(AB) = dy Cᵀ, dB = Aᵀ d(AB): 2·(i k l + i k l + i j k), plus L
    ni, nj, nk, nl = 300, 400, 500, 600
    reverse = 2 * (ni * nj * nk + ni * nk * nl) + 2 * (2 * ni * nk * nl + ni * nj * nk) \
        + 2 * ni * nl
    assert shared == reverse == 780_360_000
    assert alone == 900_360_000
    assert "ab,bc->ac" in [str(p.subscripts) for p in compiled.plans]


def test_the_derived_chain_is_right() -> None:
    program = parse(CHAIN).derive()
    arrays = program.random_inputs({"i": 3, "j": 4, "k": 5, "l": 6}, seed=2)
    out = program.evaluate(**arrays)
    a, b, c = arrays["A"], arrays["B"], arrays["C"]
    y = a @ b @ c
    np.testing.assert_allclose(out["dL/dB"], 2 * a.T @ y @ c.T, rtol=1e-12)
    np.testing.assert_allclose(out["dL/dC"], 2 * (a @ b).T @ y, rtol=1e-12)


def test_nothing_is_shared_when_it_would_cost_more() -> None:
    """Two products whose only common pair, u with v, costs more to share than it saves."""
    # alone, each product contracts u with its own small matrix first; the pair u·v is
    # an a×b intermediate (over n), more costly than both products planned alone
    program = parse("input u^n_a, v^n_b\nparam W^a_c, Z^a_c\n"
                    "p^c_b = u^n_a W^a_c v^n_b\nq^c_b = u^n_a Z^a_c v^n_b")
    sizes = {"n": 2, "a": 50, "b": 50, "c": 1}
    assert not shared_pairs(_products(program), sizes, "float64")
    # the same pair in two products that gain from it is shared
    found = shared_pairs(_products(program), {"n": 50, "a": 2, "b": 2, "c": 50}, "float64")
    assert {r.pair.einsum for r in found.values()} == {"ab,ac->bc"}


@st.composite
def chains(draw: st.DrawFn) -> tuple[str, list[str], list[tuple[int, int]], list[bool]]:
    """A chain M₁ … Mₖ (k = 3..5) with random sizes, each factor maybe written transposed."""
    k = draw(st.integers(3, 5))
    letters = string.ascii_lowercase[:k + 1]
    sizes = [draw(st.integers(1, 5)) for _ in range(k + 1)]
    transposed = [draw(st.booleans()) for _ in range(k)]
    names = [f"M{m}" for m in range(k)]
    factors = []
    for m in range(k):
        up, low = letters[m], letters[m + 1]
        factors.append(f"{names[m]}ᵀ_{low}^{up}" if transposed[m] else f"{names[m]}^{up}_{low}")
    decls = "".join(f"param {names[m]}^{letters[m + 1]}_{letters[m]}\n" if transposed[m] else
                    f"param {names[m]}^{letters[m]}_{letters[m + 1]}\n" for m in range(k))
    first, last = letters[0], letters[k]
    text = (f"input G^{first}_{last}\n{decls}"
            f"y^{first}_{last} = {' '.join(factors)}\n"
            f"L = sum_{{{first}{last}}} G^{first}_{last} y^{first}_{last}")
    shapes = [(sizes[m], sizes[m + 1]) for m in range(k)]
    return text, names, shapes, transposed


@settings(max_examples=60, deadline=None)
@given(chains(), st.integers(0, 2**16))
def test_derived_chains_equal_the_gradients_written_with_matmul(
    chain: tuple[str, list[str], list[tuple[int, int]], list[bool]], seed: int
) -> None:
    text, names, shapes, transposed = chain
    program = parse(text).derive()
    rng = np.random.default_rng(seed)
    mats = [rng.standard_normal(s) for s in shapes]
    arrays = {n: (m.T if t else m) for n, m, t in zip(names, mats, transposed)}
    g = rng.standard_normal((shapes[0][0], shapes[-1][1]))
    out = program.evaluate(G=g, **arrays)
    for m, name in enumerate(names):
        left = reduce(np.matmul, [np.eye(shapes[0][0]), *mats[:m]])
        right = reduce(np.matmul, [*mats[m + 1:], np.eye(shapes[-1][1])])
        want = left.T @ g @ right.T
        got = out[f"dL/d{name}"]
        np.testing.assert_allclose(got.T if transposed[m] else got, want, rtol=1e-9,
                                   atol=1e-12)
