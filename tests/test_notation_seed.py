"""The seed's equations (1.1)-(1.9), in the seed's spelling, lower to seednet.seed's einsums."""

from __future__ import annotations

import re

import numpy as np
import pytest

from indexnet.program import parse
from indexnet.seednet.seed import SEED, seed_formulas


def canonical(einsum: str) -> str:
    """Rename letters in order of first appearance, so 'nd,dh->nh' == 'ab,bc->ac'."""
    names: dict[str, str] = {}
    return re.sub(r"[A-Za-z]", lambda m: names.setdefault(m.group(), "abcdefghij"[len(names)]),
                  einsum)


def statement(text: str):
    program = parse(text)
    return program.statements[-1]


# (seed key, the seed's spelling) — LaTeX as the lecture note writes it.
SEED_SPELLINGS = [
    ("forward", r"^n(a_\ell)_h = ^n(x_\ell)_d \cdot (w_\ell)_h^d + (b_\ell)_h"),
    ("activation", r"^n(x_{\ell+1})_h = f_\ell(^n(a_\ell)_h)"),
    ("softmax", r"^n(\hat{y})_h = \exp(^n(a_\ell)_h) / \sum_h \exp(^n(a_\ell)_h)"),
    ("loss", r"L = -\sum_n \sum_h ^n(y)_h \log ^n(\hat{y})_h"),
    ("weight_gradient",
     r"claim \frac{\partial L}{\partial (w_\ell)_h^d} = {}_n(x_\ell^T)^d \cdot ^n(\delta_\ell)_h"),
    ("weight_gradient_hidden",
     r"claim ∂L/∂(w_{\ell-1})_h^d = {}_n(x_{\ell-1}^T)^d \cdot ^n(\delta_{\ell-1})_h"),
    ("output_error",
     r"^n(\delta_\ell)_h = \text{loss}'(^n y_h, ^n \hat{y}_h) \odot f'_\ell({}^n(a_\ell)_h)"),
    ("backprop", r"^n(e)_h = \sum_d {}^n(\delta_\ell)_d \cdot (w_\ell^T)_h^d"),
    ("hidden_error",
     r"{}^n(\delta_{\ell-1})_h = f'_{\ell-1}({}^n(a_{\ell-1})_h) \odot {}^n(e)_h"),
    ("bias_gradient", r"claim \frac{\partial L}{\partial (b_\ell)_h} = \sum_n {}^n(\delta_\ell)_h"),
    ("l2_loss", r"L_2 = \frac{\lambda}{2} \sum_d \sum_h (w_\ell)_h^d (w_\ell)_h^d"),
    ("l2_gradient", r"claim ∂L₂/∂(w_\ell)_h^d = \lambda(w_\ell)_h^d"),
]


@pytest.mark.parametrize(("key", "text"), SEED_SPELLINGS, ids=[k for k, _ in SEED_SPELLINGS])
def test_seed_spelling_lowers_to_the_seed_einsum(key: str, text: str) -> None:
    text = text.replace("L_2 =", "Ltwo =")
    einsums = [canonical(e) for e in statement(text).einsums()]
    expected = SEED[key].einsum
    if expected is None:
        assert einsums == []
    else:
        assert canonical(expected) in einsums


def test_every_seed_formula_is_covered() -> None:
    assert {k for k, _ in SEED_SPELLINGS} == {f.key for f in seed_formulas()}


@pytest.mark.parametrize("formula", list(seed_formulas()), ids=lambda f: f.key)
def test_seed_notation_strings_parse(formula) -> None:
    """indexnet.seednet.seed's own notation strings are programs of the language too."""
    text = formula.notation
    if text.startswith("∂"):
        text = "claim " + text
    einsums = statement(text).einsums()
    if formula.einsum is not None and formula.key != "output_error":
        assert formula.einsum in einsums
    if formula.key in ("forward", "weight_gradient", "backprop", "bias_gradient", "l2_loss"):
        assert einsums == [formula.einsum]


def test_seed_loss_function_form() -> None:
    """(1.3) as the seed first writes it: an elementwise loss summed over n and h."""
    program = parse(r"L = \sum_n \sum_h \text{loss}(^n y_h, ^n \hat{y}_h)")
    assert program.einsums()[0][0] == "nh->"
    y = np.eye(3)[[0, 2]]
    p = np.full((2, 3), 0.25)
    assert program.evaluate(y=y, **{"ŷ": p})["L"] == pytest.approx(-2 * np.log(0.25))


def test_fused_hidden_error_equals_the_two_seed_steps() -> None:
    """The seed's last display fuses (1.9): f' ⊙ Σ_d δ_d (wᵀ) is one three-operand einsum."""
    fused = parse(
        "act f_{ℓ-1} = sigmoid\ninput ^n(a_{ℓ-1})_h, ^n(δ_ℓ)_d, (w_ℓ)_d^h\n"
        r"{}^n(\delta_{\ell-1})_h = f'_{\ell-1}({}^n(a_{\ell-1})_h) \sum_d {}^n(\delta_\ell)_d "
        r"\cdot (w_\ell)_d^h"
    )
    assert fused.einsums()[0][0] == "nh,nd,hd->nh"
    rng = np.random.default_rng(0)
    a, delta, w = rng.normal(size=(4, 3)), rng.normal(size=(4, 5)), rng.normal(size=(3, 5))
    out = fused.evaluate(**{"a_ℓ-1": a, "δ_ℓ": delta, "w_ℓ": w})["δ_ℓ-1"]
    s = 1 / (1 + np.exp(-a))
    np.testing.assert_allclose(out, s * (1 - s) * (delta @ w.T))


def test_seed_example_mirrors_the_seed() -> None:
    """examples/seed.ix: the forward pass and loss in document form, equations numbered."""
    from pathlib import Path

    text = (Path(__file__).parent.parent / "examples" / "seed.ix").read_text(encoding="utf-8")
    for number in ("(1.1)", "(1.2)", "(1.3)", "(1.4)", "(1.5)", "(1.8)", "(1.9)"):
        assert number in text
    program = parse(text)
    assert [e for e, _ in program.einsums()][:2] == ["nd,dh->nh", "nh,hk->nk"]
    assert program.warnings == []
    assert len(program.claims) == 6
