"""The seed document's equations as data: number, index notation, einsum, matrix form.

The seed derives the feed-forward and back-propagation formulas of a fully
connected network in upper/lower index notation. Each formula here keeps the
seed's own letters: ``n`` runs over the examples of a batch, ``d`` over a
layer's inputs, ``h`` over its outputs. The same formulas serve every layer
(indices are local to an equation), so the network in :mod:`indexnet.seednet.nn`
uses nothing but these strings for its products.

>>> SEED["weight_gradient"].einsum
'nd,nh->dh'
>>> SEED["weight_gradient"].matrix
'∂L/∂W = Xᵀ Δ'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = ["SEED", "SeedFormula", "seed_formulas"]


@dataclass(frozen=True)
class SeedFormula:
    """One formula of the seed.

    ``einsum`` is the product the formula computes (``None`` for a purely
    elementwise one); ``elementwise`` says what else happens around it.
    """

    key: str
    equation: str
    title: str
    notation: str
    einsum: str | None
    matrix: str
    elementwise: str = ""

    def __str__(self) -> str:
        product = self.einsum or "(elementwise)"
        return f"{self.equation:>10}  {self.title}: {self.notation}   [{product}]  {self.matrix}"


_FORMULAS = (
    SeedFormula(
        "forward", "(1.1)", "pre-activation",
        "^n(a_ℓ)_h = ^n(x_ℓ)_d (w_ℓ)^d_h + (b_ℓ)_h",
        "nd,dh->nh", "A = X W + b", "add the bias b_h to every row n",
    ),
    SeedFormula(
        "activation", "(1.1)", "activation",
        "^n(x_{ℓ+1})_h = f_ℓ(^n(a_ℓ)_h)",
        None, "X_{ℓ+1} = f(A)", "f applied entry by entry",
    ),
    SeedFormula(
        "softmax", "(1.2)", "softmax output",
        "^n(ŷ)_h = exp(^n(a_ℓ)_h) / Σ_h exp(^n(a_ℓ)_h)",
        "nh->n", "Ŷ = exp(A) / (exp(A) 1)", "exp, then divide each row by its sum",
    ),
    SeedFormula(
        "loss", "(1.3)", "cross-entropy loss",
        "L = −Σ_n Σ_h ^n(y)_h log ^n(ŷ)_h",
        "nh,nh->", "L = −⟨Y, log Ŷ⟩", "log of the probabilities",
    ),
    SeedFormula(
        "weight_gradient", "(1.4)", "weight gradient, last layer",
        "∂L/∂(w_ℓ)^d_h = _n(x_ℓ^T)^d ^n(δ_ℓ)_h",
        "nd,nh->dh", "∂L/∂W = Xᵀ Δ",
    ),
    SeedFormula(
        "weight_gradient_hidden", "(1.5)–(1.7)", "weight gradient, layer ℓ−1",
        "∂L/∂(w_{ℓ−1})^d_h = _n(x_{ℓ−1}^T)^d ^n(δ_{ℓ−1})_h",
        "nd,nh->dh", "∂L/∂W_{ℓ−1} = X_{ℓ−1}ᵀ Δ_{ℓ−1}",
    ),
    SeedFormula(
        "output_error", "(1.8)", "error signal, last layer",
        "^n(δ_ℓ)_h = loss'(y, ŷ) ⊙ f'_ℓ(^n(a_ℓ)_h)",
        "nh,nh->nh", "Δ_ℓ = loss' ⊙ f'(A_ℓ)",
        "softmax with cross-entropy simplifies to Ŷ − Y",
    ),
    SeedFormula(
        "backprop", "(1.9)", "error signal sent back through W_ℓ",
        "^n(e)_h = Σ_d ^n(δ_ℓ)_d (w_ℓ^T)^d_h",
        "nd,hd->nh", "E = Δ_ℓ W_ℓᵀ",
    ),
    SeedFormula(
        "hidden_error", "(1.9)", "error signal, layer ℓ−1",
        "^n(δ_{ℓ−1})_h = f'_{ℓ−1}(^n(a_{ℓ−1})_h) ⊙ ^n(e)_h",
        "nh,nh->nh", "Δ_{ℓ−1} = f'(A_{ℓ−1}) ⊙ (Δ_ℓ W_ℓᵀ)",
    ),
    SeedFormula(
        "bias_gradient", "bias", "bias gradient (both layers)",
        "∂L/∂(b_ℓ)_h = Σ_n ^n(δ_ℓ)_h",
        "nh->h", "∂L/∂b = 1ᵀ Δ",
    ),
    SeedFormula(
        "l2_loss", "L2", "L2 penalty",
        "L₂ = λ/2 Σ_d Σ_h (w_ℓ)^d_h (w_ℓ)^d_h",
        "dh,dh->", "λ/2 ‖W‖²_F",
    ),
    SeedFormula(
        "l2_gradient", "L2", "L2 gradient",
        "∂L₂/∂(w_ℓ)^d_h = λ (w_ℓ)^d_h",
        None, "λ W", "scale the weights by λ",
    ),
)

#: The seed's formulas by key, in the order the seed derives them.
SEED: Mapping[str, SeedFormula] = {formula.key: formula for formula in _FORMULAS}


def seed_formulas() -> Iterator[SeedFormula]:
    """Iterate over the seed's formulas in the document's order.

    >>> [f.equation for f in seed_formulas()][:3]
    ['(1.1)', '(1.1)', '(1.2)']
    """
    return iter(_FORMULAS)
