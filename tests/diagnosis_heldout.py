"""A held-out corpus of wrong hand-derived claims, written apart from the diagnosis code.

The programs here are not those of tests/diagnosis_corpus.py nor of
examples/, and the cases were written without reading the diagnosis code (nor
the cases of the main corpus): each is a correct claim, checked to hold, and
the same claim with one mistake of issue 9's kinds planted, checked to fail.
The format and the scoring are those of tests/diagnosis_corpus.py (``Case``,
``CATEGORIES``, ``names_mistake``, ``rates``); the mentions were chosen before
any diagnosis was seen: for a sign error on one term, a name of the term; for
a missing or extra 1/|n|, the size (``|n|`` or "size of n"); for a wrong
variable, the variable that belongs there; none for the other kinds, whose
category word is enough.

Batch 2 (``batch=2``: seven more programs) was written later by a session
that had read the diagnosis code, though each case and its mentions were
written before any diagnosis of it was seen; the benchmark reports the
batches apart.

>>> len(HELDOUT) >= 60 and len({c.program for c in HELDOUT}) >= 12
True
>>> from diagnosis_corpus import PROGRAMS
>>> set(HELDOUT_PROGRAMS).isdisjoint(PROGRAMS)
True
"""

from __future__ import annotations

from collections.abc import Sequence

from diagnosis_corpus import CATEGORIES, Case, Mention, is_unspecific, names_mistake, rates

from indexnet.check.judge import check
from indexnet.program import parse

__all__ = ["CATEGORIES", "HELDOUT", "HELDOUT_PROGRAMS", "Case", "diagnose_heldout",
           "is_unspecific", "names_mistake", "rates"]


def _n(letter: str) -> tuple[str, ...]:
    """The mention of the size of an index: ``|n|`` or "size of n"."""
    return (f"|{letter}|", f"size of {letter}")


#: name -> program text (without claims)
HELDOUT_PROGRAMS: dict[str, str] = {
    "highway": """
input x^n_d, t^n_e
input P^d_e
param G^d_e, W^d_e
size n=5, d=3, e=4
h^n_e = tanh(x^n_d W^d_e)
g^n_e = sigmoid(x^n_d G^d_e)
c^n_e = x^n_d P^d_e
y^n_e = g^n_e h^n_e + (1 - g^n_e) c^n_e
L = 1/2 sum_{ne} (y^n_e - t^n_e)^2
""",
    "gated_tanh_unit": """
input x^n_d, t^n_h
param F^d_h, G^d_h
size n=6, d=3, h=4
u^n_h = tanh(x^n_d F^d_h)
s^n_h = sigmoid(x^n_d G^d_h)
y^n_h = u^n_h s^n_h
L = 1/2 mean_n sum_h (y^n_h - t^n_h)^2
""",
    "mlp3_tanh_mean": """
input x^n_d, t^n_k
param W1^d_h, W2^h_j, W3^j_k
size n=5, d=3, h=4, j=6, k=2
a1^n_h = x^n_d W1^d_h
z1^n_h = tanh(a1^n_h)
a2^n_j = z1^n_h W2^h_j
z2^n_j = tanh(a2^n_j)
o^n_k = z2^n_j W3^j_k
L = 1/2 mean_n sum_k (o^n_k - t^n_k)^2
""",
    "batch_centered_linear": """
input x^n_d, t^n_k
param W^d_k
size n=6, d=4, k=3
m_d = mean_n x^n_d
c^n_d = x^n_d - m_d
o^n_k = c^n_d W^d_k
L = 1/2 sum_{nk} (o^n_k - t^n_k)^2
""",
    "quadratic_affine": """
param A^i_j, b_i, x^j
size i=4, j=4
f = 1/2 x_i A^i_j x^j + b_i x^i
""",
    "matrix_square_bilinear": """
input u_i, v^k
param A^i_j
size i=5, j=5, k=5
g = u_i A^i_j A^j_k v^k
""",
    "trace_axbxt": """
input A^i_j, B^k_l
param X^j_k
size i=4, j=4, k=3, l=3
T = A^i_j X^j_k B^k_l X^i_l
""",
    "frobenius_axb_ridge": """
input A^i_j, B^k_l, C^i_l
param X^j_k
const lambda = 0.3
size i=4, j=4, k=3, l=3
R^i_l = A^i_j X^j_k B^k_l - C^i_l
L = 1/2 sum_{il} R^i_l R^i_l + lambda/2 sum_{jk} X^j_k X^j_k
""",
    "attention_pooling": """
input K^m_e, V^m_v, t_v
param w^e
size m=5, e=3, v=2
s^m = K^m_e w^e
a^m = softmax[m](s^m)
o_v = a^m V^m_v
L = 1/2 sum_v (o_v - t_v)^2
""",
    "softmax_soft_labels": """
input x^n_d
input y^n_k : simplex(k)
param W^d_k, b_k
const tau = 2
const lambda = 0.1
size n=7, d=3, k=4
z^n_k = (x^n_d W^d_k + b_k) / tau
p^n_k = softmax[k](z^n_k)
L = -mean_n sum_k y^n_k log(p^n_k) + lambda/2 sum_{dk} W^d_k W^d_k
""",
    "poisson_l2_mean": """
input X^n_d
input y^n : positive
param w^d, c
const lambda = 0.05
size n=8, d=3
z^n = X^n_d w^d + c
mu^n = exp(z^n)
L = mean_n (mu^n - y^n z^n) + lambda/2 w^d w^d
""",
    "generalized_ridge": """
input X^n_d, y^n, S^d_e
param w^d
size n=7, d=4, e=4
r^n = X^n_d w^d - y^n
L = 1/2 sum_n r^n r^n + 1/2 w^d S^d_e w^e
""",
    "squared_hinge": """
input X^n_d, y^n
param w^d
const lambda = 0.1
size n=9, d=3
m^n = 1 - y^n X^n_d w^d
L = 1/2 sum_n relu(m^n)^2 + lambda/2 w^d w^d
""",
    "leaky_rnn": """
input x^n_d, h^n_i, t^n_j
param U^d_j, W^i_j
const alpha = 0.3
size n=4, d=3, i=5, j=5
u^n_j = tanh(x^n_d U^d_j + h^n_i W^i_j)
hn^n_j = (1 - alpha) h^n_j + alpha u^n_j
L = 1/2 sum_{nj} (hn^n_j - t^n_j)^2
""",
    "multilabel_sigmoid_mean": """
input x^n_d
input y^n_k : uniform(0, 1)
param W^d_k
size n=6, d=4, k=3
a^n_k = x^n_d W^d_k
p^n_k = sigmoid(a^n_k)
L = -mean_n sum_k (y^n_k log(p^n_k) + (1 - y^n_k) log(1 - p^n_k))
""",
    "gru_reset_candidate": """
input x^n_d, h^n_i, t^n_j
param U^d_j, R^i_j, W^i_j
size n=4, d=3, i=5, j=5
r^n_j = sigmoid(h^n_i R^i_j)
c^n_j = tanh(x^n_d U^d_j + r^n_i h^n_i W^i_j)
L = 1/2 sum_{nj} (c^n_j - t^n_j)^2
""",
    "softmax_policy_entropy": """
input q_k
param th_k
const beta = 0.2
size k=6
p_k = softmax[k](th_k)
J = -sum_k q_k p_k + beta sum_k p_k log(p_k)
""",
    "hopfield_energy": """
input J^i_j, b_i
param u^j
size i=5, j=5
s^j = tanh(u^j)
E = -1/2 s_i J^i_j s^j - b_i s^i
""",
    # batch 2: written after the diagnosis code changed (symmetry of two matrices, pairs of
    # transposed factors), each case before any diagnosis of it was seen
    "lyapunov_residual": """
input A^i_j, Q^i_k
param P^j_k
size i=4, j=4, k=4
R^i_k = A^j_i P^j_k + P^i_j A^j_k - Q^i_k
L = 1/2 sum_{ik} R^i_k R^i_k
""",
    "bilinear_coupling": """
input v^j
param u^i, C^i_j
size i=4, j=4
E = u_i C^i_j v^j + 1/2 u_i C^i_j u^j
""",
    "trace_xtax": """
input A^i_j
param X^j_k
size i=4, j=4, k=3
T = X^i_k A^i_j X^j_k
""",
    "product_of_quadratics": """
param x^i, y^k
input A^i_j, B^k_l
size i=4, j=4, k=3, l=3
q = x_i A^i_j x^j
r = y_k B^k_l y^l
T = q r
""",
    "tanh_regression_mean": """
input X^n_d, t^n
param w^d
size n=6, d=3
h^n = tanh(X^n_d w^d)
L = mean_n (h^n - t^n)^2
""",
    "softmax_gating_mixture": """
input x^d, F^m_k, t_k
param W^m_d
size m=4, d=3, k=2
g^m = softmax[m](W^m_d x^d)
y_k = g^m F^m_k
L = 1/2 sum_k (y_k - t_k)^2
""",
    "matrix_cube_bilinear": """
input u_i, v^l
param A^i_j
size i=4, j=4, k=4, l=4
g = u_i A^i_j A^j_k A^k_l v^l
""",
}


def _cases() -> list[Case]:
    cases: list[Case] = []

    def add(program: str, category: str, right: str, wrong: str,
            *mentions: Mention) -> None:
        cases.append(Case(program, category, right, wrong, tuple(mentions)))

    # highway layer: y = g ⊙ tanh(xW) + (1 − g) ⊙ xP
    p = "highway"
    add(p, "sign_term", "dL/dg^n_e = dL/dy^n_e (h^n_e - c^n_e)",
        "dL/dg^n_e = dL/dy^n_e (h^n_e + c^n_e)", "c^n_e")
    add(p, "activation", "dL/dW^d_e = xᵀ_n^d (dL/dy^n_e g^n_e (1 - h^n_e h^n_e))",
        "dL/dW^d_e = xᵀ_n^d (dL/dy^n_e g^n_e (1 - h^n_e))")
    add(p, "activation",
        "dL/dG^d_e = xᵀ_n^d (dL/dy^n_e (h^n_e - c^n_e) g^n_e (1 - g^n_e))",
        "dL/dG^d_e = xᵀ_n^d (dL/dy^n_e (h^n_e - c^n_e) (1 - g^n_e g^n_e))")
    add(p, "sign_term",
        "dL/dx^n_d = dL/dh^n_e (1 - h^n_e h^n_e) Wᵀ_d^e"
        " + dL/dg^n_e g^n_e (1 - g^n_e) Gᵀ_d^e + dL/dy^n_e (1 - g^n_e) Pᵀ_d^e",
        "dL/dx^n_d = dL/dh^n_e (1 - h^n_e h^n_e) Wᵀ_d^e"
        " + dL/dg^n_e g^n_e (1 - g^n_e) Gᵀ_d^e - dL/dy^n_e (1 - g^n_e) Pᵀ_d^e", "P")
    add(p, "variable", "dL/dW^d_e = xᵀ_n^d (dL/dh^n_e (1 - h^n_e h^n_e))",
        "dL/dW^d_e = xᵀ_n^d (dL/dh^n_e (1 - y^n_e y^n_e))", "h")

    # gated tanh unit (WaveNet): y = tanh(xF) ⊙ σ(xG), mean over the batch
    p = "gated_tanh_unit"
    add(p, "mean", "dL/dy^n_h = (y^n_h - t^n_h) / |n|", "dL/dy^n_h = y^n_h - t^n_h", _n("n"))
    add(p, "activation", "dL/dF^d_h = xᵀ_n^d (dL/dy^n_h s^n_h (1 - u^n_h u^n_h))",
        "dL/dF^d_h = xᵀ_n^d (dL/dy^n_h s^n_h (1 - u^n_h))")
    add(p, "activation", "dL/dG^d_h = xᵀ_n^d (dL/dy^n_h u^n_h s^n_h (1 - s^n_h))",
        "dL/dG^d_h = xᵀ_n^d (dL/dy^n_h u^n_h (1 - s^n_h s^n_h))")
    add(p, "sign_term",
        "dL/dx^n_d = dL/dy^n_h (s^n_h (1 - u^n_h u^n_h) Fᵀ_d^h"
        " + u^n_h s^n_h (1 - s^n_h) Gᵀ_d^h)",
        "dL/dx^n_d = dL/dy^n_h (s^n_h (1 - u^n_h u^n_h) Fᵀ_d^h"
        " - u^n_h s^n_h (1 - s^n_h) Gᵀ_d^h)", "G")
    add(p, "activation",
        "dL/dx^n_d = dL/dy^n_h (s^n_h (1 - u^n_h u^n_h) Fᵀ_d^h"
        " + u^n_h s^n_h (1 - s^n_h) Gᵀ_d^h)",
        "dL/dx^n_d = dL/dy^n_h (s^n_h u^n_h (1 - u^n_h) Fᵀ_d^h"
        " + u^n_h s^n_h (1 - s^n_h) Gᵀ_d^h)")
    add(p, "variable", "dL/dF^d_h = xᵀ_n^d (dL/dy^n_h s^n_h (1 - u^n_h u^n_h))",
        "dL/dF^d_h = xᵀ_n^d (dL/dy^n_h s^n_h (1 - y^n_h y^n_h))", "u")

    # three-layer tanh MLP, mean squared error
    p = "mlp3_tanh_mean"
    add(p, "mean", "dL/do^n_k = (o^n_k - t^n_k) / |n|", "dL/do^n_k = o^n_k - t^n_k", _n("n"))
    add(p, "mean", "dL/dW3^j_k = z2ᵀ_n^j dL/do^n_k",
        "dL/dW3^j_k = 1/|n| z2ᵀ_n^j dL/do^n_k", _n("n"))
    add(p, "variable", "dL/dW3^j_k = z2ᵀ_n^j dL/do^n_k",
        "dL/dW3^j_k = a2ᵀ_n^j dL/do^n_k", "z2")
    add(p, "activation", "dL/da2^n_j = dL/do^n_k W3ᵀ_j^k (1 - z2^n_j z2^n_j)",
        "dL/da2^n_j = dL/do^n_k W3ᵀ_j^k (1 - z2^n_j)")
    add(p, "activation", "dL/da2^n_j = dL/do^n_k W3ᵀ_j^k (1 - z2^n_j z2^n_j)",
        "dL/da2^n_j = dL/do^n_k W3ᵀ_j^k z2^n_j (1 - z2^n_j)")
    add(p, "variable", "dL/dW2^h_j = z1ᵀ_n^h (dL/do^n_k W3ᵀ_j^k (1 - z2^n_j z2^n_j))",
        "dL/dW2^h_j = a1ᵀ_n^h (dL/do^n_k W3ᵀ_j^k (1 - z2^n_j z2^n_j))", "z1")
    add(p, "activation", "dL/dW1^d_h = xᵀ_n^d (dL/da2^n_j W2ᵀ_h^j (1 - z1^n_h z1^n_h))",
        "dL/dW1^d_h = xᵀ_n^d (dL/da2^n_j W2ᵀ_h^j (1 - z1^n_h))")
    add(p, "mean", "dL/dW1^d_h = xᵀ_n^d (dL/da2^n_j W2ᵀ_h^j (1 - z1^n_h z1^n_h))",
        "dL/dW1^d_h = 1/|n| xᵀ_n^d (dL/da2^n_j W2ᵀ_h^j (1 - z1^n_h z1^n_h))", _n("n"))

    # a linear layer on batch-centred inputs
    p = "batch_centered_linear"
    add(p, "variable", "dL/dW^d_k = cᵀ_n^d (o^n_k - t^n_k)",
        "dL/dW^d_k = xᵀ_n^d (o^n_k - t^n_k)", "c")
    add(p, "mean", "dL/dx^n_d = dL/dc^n_d - mean_m dL/dc^m_d",
        "dL/dx^n_d = dL/dc^n_d - sum_m dL/dc^m_d", (*_n("n"), *_n("m")))
    add(p, "sign_term", "dL/dx^n_d = dL/dc^n_d - mean_m dL/dc^m_d",
        "dL/dx^n_d = dL/dc^n_d + mean_m dL/dc^m_d", "dL/dc^m_d")
    add(p, "mean", "dL/dx^n_d = (dL/do^n_k - mean_m dL/do^m_k) Wᵀ_d^k",
        "dL/dx^n_d = (dL/do^n_k - sum_m dL/do^m_k) Wᵀ_d^k", (*_n("n"), *_n("m")))

    # f = ½ xᵀAx + bᵀx with A not symmetric
    p = "quadratic_affine"
    add(p, "symmetry", "df/dx^k = 1/2 (A^k_j x^j + x_i A^i_k) + b_k",
        "df/dx^k = A^k_j x^j + b_k")
    add(p, "symmetry", "df/dx^k = 1/2 (A^k_j x^j + x_i A^i_k) + b_k",
        "df/dx^k = x_i A^i_k + b_k")
    add(p, "sign_term", "df/dx^k = 1/2 (A^k_j x^j + x_i A^i_k) + b_k",
        "df/dx^k = 1/2 (A^k_j x^j + x_i A^i_k) - b_k", "b")
    add(p, "sign_term", "df/dx^k = 1/2 (A^k_j x^j + x_i A^i_k) + b_k",
        "df/dx^k = 1/2 (A^k_j x^j - x_i A^i_k) + b_k", "A")

    # g = uᵀ A A v
    p = "matrix_square_bilinear"
    add(p, "chain", "dg/dA^p_q = u_p A^q_k v^k + u_i A^i_p v^q",
        "dg/dA^p_q = u_p A^k_q v^k + u_i A^i_p v^q")
    add(p, "chain", "dg/dA^p_q = u_p A^q_k v^k + u_i A^i_p v^q",
        "dg/dA^p_q = u_p A^q_k v^k + u_i A^p_i v^q")
    add(p, "sign_term", "dg/dA^p_q = u_p A^q_k v^k + u_i A^i_p v^q",
        "dg/dA^p_q = u_p A^q_k v^k - u_i A^i_p v^q", "u_i")

    # T = tr(A X B Xᵀ)
    p = "trace_axbxt"
    add(p, "symmetry", "dT/dX^p_q = A^p_j X^j_k B^k_q + A^i_p X^i_l B^q_l",
        "dT/dX^p_q = 2 A^p_j X^j_k B^k_q")
    add(p, "chain", "dT/dX^p_q = A^p_j X^j_k B^k_q + A^i_p X^i_l B^q_l",
        "dT/dX^p_q = A^p_j X^j_k B^k_q + A^p_i X^i_l B^q_l")
    add(p, "chain", "dT/dX^p_q = A^p_j X^j_k B^k_q + A^i_p X^i_l B^q_l",
        "dT/dX^p_q = A^p_j X^j_k B^k_q + A^i_p X^i_l B^l_q")
    add(p, "sign_term", "dT/dX^p_q = A^p_j X^j_k B^k_q + A^i_p X^i_l B^q_l",
        "dT/dX^p_q = A^p_j X^j_k B^k_q - A^i_p X^i_l B^q_l", "B^q_l")
    add(p, "symmetry", "dT/dX^p_q = A^p_j X^j_k B^k_q + A^i_p X^i_l B^q_l",
        "dT/dX^p_q = 2 A^i_p X^i_l B^q_l")

    # ½‖A X B − C‖² + λ/2 ‖X‖²
    p = "frobenius_axb_ridge"
    add(p, "chain", "dL/dX^j_k = A^i_j R^i_l B^k_l + lambda X^j_k",
        "dL/dX^j_k = A^j_i R^i_l B^k_l + lambda X^j_k")
    add(p, "chain", "dL/dX^j_k = A^i_j R^i_l B^k_l + lambda X^j_k",
        "dL/dX^j_k = A^i_j R^i_l B^l_k + lambda X^j_k")
    add(p, "chain", "dL/dX^j_k = A^i_j R^i_l B^k_l + lambda X^j_k",
        "dL/dX^j_k = A^j_i R^i_l B^l_k + lambda X^j_k")
    add(p, "sign_term", "dL/dX^j_k = A^i_j R^i_l B^k_l + lambda X^j_k",
        "dL/dX^j_k = A^i_j R^i_l B^k_l - lambda X^j_k", "lambda X")
    add(p, "chain", "dL/dA^i_j = R^i_l B^k_l X^j_k",
        "dL/dA^i_j = R^i_l B^l_k X^j_k")

    # attention pooling with a learned query
    p = "attention_pooling"
    add(p, "softmax", "dL/ds^m = a^m (dL/da^m - sum_j a^j dL/da^j)",
        "dL/ds^m = dL/da^m a^m (1 - a^m)")
    add(p, "sign_term", "dL/ds^m = a^m (dL/da^m - sum_j a^j dL/da^j)",
        "dL/ds^m = a^m (dL/da^m + sum_j a^j dL/da^j)", "dL/da^j")
    add(p, "softmax", "dL/dw^e = K^m_e a^m (dL/da^m - sum_j a^j dL/da^j)",
        "dL/dw^e = K^m_e dL/da^m a^m (1 - a^m)")
    add(p, "softmax", "dL/dw^e = K^m_e a^m (V^m_v (o_v - t_v) - sum_j a^j V^j_v (o_v - t_v))",
        "dL/dw^e = K^m_e a^m (1 - a^m) V^m_v (o_v - t_v)")

    # softmax regression with temperature, soft labels, L2, mean over the batch
    p = "softmax_soft_labels"
    add(p, "mean", "dL/dz^n_k = (p^n_k - y^n_k) / |n|", "dL/dz^n_k = p^n_k - y^n_k", _n("n"))
    add(p, "softmax", "dL/dz^n_k = dL/dp^n_k p^n_k - p^n_k sum_j dL/dp^n_j p^n_j",
        "dL/dz^n_k = dL/dp^n_k p^n_k (1 - p^n_k)")
    add(p, "sign_term", "dL/dW^d_k = xᵀ_n^d (p^n_k - y^n_k) / (tau |n|) + lambda W^d_k",
        "dL/dW^d_k = xᵀ_n^d (p^n_k - y^n_k) / (tau |n|) - lambda W^d_k", "lambda W")
    add(p, "mean", "dL/dW^d_k = xᵀ_n^d (p^n_k - y^n_k) / (tau |n|) + lambda W^d_k",
        "dL/dW^d_k = xᵀ_n^d (p^n_k - y^n_k) / tau + lambda W^d_k", _n("n"))
    add(p, "variable", "dL/dW^d_k = xᵀ_n^d (p^n_k - y^n_k) / (tau |n|) + lambda W^d_k",
        "dL/dW^d_k = xᵀ_n^d (z^n_k - y^n_k) / (tau |n|) + lambda W^d_k", "p")
    add(p, "mean", "dL/db_k = mean_n (p^n_k - y^n_k) / tau",
        "dL/db_k = sum_n (p^n_k - y^n_k) / tau", _n("n"))

    # Poisson regression, exp link, L2, mean over the batch
    p = "poisson_l2_mean"
    add(p, "mean", "dL/dw^d = mean_n X^n_d (mu^n - y^n) + lambda w^d",
        "dL/dw^d = sum_n X^n_d (mu^n - y^n) + lambda w^d", _n("n"))
    add(p, "sign_term", "dL/dw^d = mean_n X^n_d (mu^n - y^n) + lambda w^d",
        "dL/dw^d = mean_n X^n_d (mu^n - y^n) - lambda w^d", "lambda w")
    add(p, "variable", "dL/dw^d = mean_n X^n_d (mu^n - y^n) + lambda w^d",
        "dL/dw^d = mean_n X^n_d (z^n - y^n) + lambda w^d", "mu")
    add(p, "mean", "dL/dc = mean_n (mu^n - y^n)", "dL/dc = sum_n (mu^n - y^n)", _n("n"))
    add(p, "sign_term", "dL/dc = mean_n (mu^n - y^n)", "dL/dc = mean_n (mu^n + y^n)", "y")

    # least squares with a non-symmetric quadratic penalty ½ wᵀSw
    p = "generalized_ridge"
    add(p, "symmetry", "dL/dw^d = X^n_d r^n + 1/2 (S^d_e w^e + w^e S^e_d)",
        "dL/dw^d = X^n_d r^n + S^d_e w^e")
    add(p, "sign_term", "dL/dw^d = X^n_d r^n + 1/2 (S^d_e w^e + w^e S^e_d)",
        "dL/dw^d = X^n_d r^n - 1/2 (S^d_e w^e + w^e S^e_d)", "S")
    add(p, "symmetry", "dL/dw^d = X^n_d (X^n_e w^e - y^n) + 1/2 (S^d_e w^e + w^e S^e_d)",
        "dL/dw^d = X^n_d (X^n_e w^e - y^n) + w^e S^e_d")

    # squared hinge loss with L2
    p = "squared_hinge"
    add(p, "sign_term", "dL/dw^d = -X^n_d y^n relu(m^n) + lambda w^d",
        "dL/dw^d = X^n_d y^n relu(m^n) + lambda w^d", "X")
    add(p, "activation", "dL/dw^d = -X^n_d y^n relu(m^n) + lambda w^d",
        "dL/dw^d = -X^n_d y^n relu'(m^n) + lambda w^d")

    # leaky recurrent cell: h' = (1 − α) h + α tanh(xU + hW)
    p = "leaky_rnn"
    add(p, "sign_term",
        "dL/dh^n_i = (1 - alpha) dL/dhn^n_i + alpha dL/dhn^n_j (1 - u^n_j u^n_j) Wᵀ_i^j",
        "dL/dh^n_i = (1 - alpha) dL/dhn^n_i - alpha dL/dhn^n_j (1 - u^n_j u^n_j) Wᵀ_i^j",
        "W")
    add(p, "chain",
        "dL/dh^n_i = (1 - alpha) dL/dhn^n_i + alpha dL/dhn^n_j (1 - u^n_j u^n_j) Wᵀ_i^j",
        "dL/dh^n_i = (1 - alpha) dL/dhn^n_i + alpha dL/dhn^n_j (1 - u^n_j u^n_j) W^j_i")
    add(p, "activation",
        "dL/dh^n_i = (1 - alpha) dL/dhn^n_i + alpha dL/dhn^n_j (1 - u^n_j u^n_j) Wᵀ_i^j",
        "dL/dh^n_i = (1 - alpha) dL/dhn^n_i + alpha dL/dhn^n_j u^n_j (1 - u^n_j) Wᵀ_i^j")
    add(p, "activation", "dL/dU^d_j = xᵀ_n^d (alpha dL/dhn^n_j (1 - u^n_j u^n_j))",
        "dL/dU^d_j = xᵀ_n^d (alpha dL/dhn^n_j (1 - u^n_j))")
    add(p, "variable", "dL/dU^d_j = xᵀ_n^d (alpha dL/dhn^n_j (1 - u^n_j u^n_j))",
        "dL/dU^d_j = xᵀ_n^d (alpha dL/dhn^n_j (1 - hn^n_j hn^n_j))", "u")
    add(p, "variable", "dL/dW^i_j = hᵀ_n^i (alpha dL/dhn^n_j (1 - u^n_j u^n_j))",
        "dL/dW^i_j = hnᵀ_n^i (alpha dL/dhn^n_j (1 - u^n_j u^n_j))", "h")

    # multi-label logistic regression, mean over the batch
    p = "multilabel_sigmoid_mean"
    add(p, "mean", "dL/da^n_k = (p^n_k - y^n_k) / |n|", "dL/da^n_k = p^n_k - y^n_k", _n("n"))
    add(p, "activation", "dL/da^n_k = dL/dp^n_k p^n_k (1 - p^n_k)",
        "dL/da^n_k = dL/dp^n_k (1 - p^n_k p^n_k)")
    add(p, "variable", "dL/dW^d_k = xᵀ_n^d (p^n_k - y^n_k) / |n|",
        "dL/dW^d_k = xᵀ_n^d (a^n_k - y^n_k) / |n|", "p")
    add(p, "mean", "dL/dW^d_k = xᵀ_n^d (p^n_k - y^n_k) / |n|",
        "dL/dW^d_k = xᵀ_n^d (p^n_k - y^n_k)", _n("n"))
    add(p, "sign_term", "dL/dW^d_k = xᵀ_n^d (p^n_k - y^n_k) / |n|",
        "dL/dW^d_k = xᵀ_n^d (p^n_k + y^n_k) / |n|", "y")

    # GRU candidate with a reset gate
    p = "gru_reset_candidate"
    add(p, "activation", "dL/dW^i_j = r^n_i h^n_i dL/dc^n_j (1 - c^n_j c^n_j)",
        "dL/dW^i_j = r^n_i h^n_i dL/dc^n_j (1 - c^n_j)")
    add(p, "chain", "dL/dr^n_i = dL/dc^n_j (1 - c^n_j c^n_j) W^i_j h^n_i",
        "dL/dr^n_i = dL/dc^n_j (1 - c^n_j c^n_j) W^j_i h^n_i")
    add(p, "activation", "dL/dR^i_j = hᵀ_n^i (dL/dr^n_j r^n_j (1 - r^n_j))",
        "dL/dR^i_j = hᵀ_n^i (dL/dr^n_j (1 - r^n_j r^n_j))")
    add(p, "variable", "dL/dR^i_j = hᵀ_n^i (dL/dr^n_j r^n_j (1 - r^n_j))",
        "dL/dR^i_j = cᵀ_n^i (dL/dr^n_j r^n_j (1 - r^n_j))", "h")
    add(p, "activation", "dL/dU^d_j = xᵀ_n^d (dL/dc^n_j (1 - c^n_j c^n_j))",
        "dL/dU^d_j = xᵀ_n^d (dL/dc^n_j c^n_j (1 - c^n_j))")

    # a softmax policy: expected reward with an entropy term
    p = "softmax_policy_entropy"
    add(p, "softmax", "dJ/dth_k = p_k (dJ/dp_k - sum_j p_j dJ/dp_j)",
        "dJ/dth_k = dJ/dp_k p_k (1 - p_k)")
    add(p, "sign_term", "dJ/dth_k = p_k (dJ/dp_k - sum_j p_j dJ/dp_j)",
        "dJ/dth_k = p_k (dJ/dp_k + sum_j p_j dJ/dp_j)", "dJ/dp_j")
    add(p, "softmax",
        "dJ/dth_k = -p_k (q_k - sum_j p_j q_j) + beta p_k (log(p_k) - sum_j p_j log(p_j))",
        "dJ/dth_k = -q_k p_k (1 - p_k) + beta p_k (log(p_k) - sum_j p_j log(p_j))")

    # Hopfield-like energy with a non-symmetric coupling, s = tanh(u)
    p = "hopfield_energy"
    add(p, "symmetry", "dE/ds^k = -1/2 (J^k_j s^j + s_i J^i_k) - b_k",
        "dE/ds^k = -J^k_j s^j - b_k")
    add(p, "activation", "dE/du^k = dE/ds^k (1 - s^k s^k)", "dE/du^k = dE/ds^k (1 - s^k)")
    add(p, "activation", "dE/du^k = dE/ds^k (1 - s^k s^k)", "dE/du^k = dE/ds^k s^k (1 - s^k)")
    add(p, "symmetry", "dE/du^k = (-1/2 (J^k_j s^j + s_i J^i_k) - b_k) (1 - s^k s^k)",
        "dE/du^k = (-J^k_j s^j - b_k) (1 - s^k s^k)")
    add(p, "sign_term", "dE/du^k = (-1/2 (J^k_j s^j + s_i J^i_k) - b_k) (1 - s^k s^k)",
        "dE/du^k = (-1/2 (J^k_j s^j + s_i J^i_k) + b_k) (1 - s^k s^k)", "b")
    return cases


def _cases_batch2() -> list[Case]:
    """Batch 2, written (and its mentions chosen) before any of its diagnoses was seen."""
    cases: list[Case] = []

    def add(program: str, category: str, right: str, wrong: str,
            *mentions: Mention) -> None:
        cases.append(Case(program, category, right, wrong, tuple(mentions), batch=2))

    p = "lyapunov_residual"
    right = "dL/dP^p_q = A^p_i R^i_q + R^p_k A^q_k"
    add(p, "chain", right, "dL/dP^p_q = A^i_p R^i_q + R^p_k A^q_k")
    add(p, "chain", right, "dL/dP^p_q = A^p_i R^i_q + R^p_k A^k_q")
    add(p, "sign_term", right, "dL/dP^p_q = A^p_i R^i_q - R^p_k A^q_k", "R^p_k")
    p = "bilinear_coupling"
    right = "dE/du^k = C^k_j v^j + 1/2 (C^k_j u^j + u_i C^i_k)"
    add(p, "symmetry", right, "dE/du^k = C^k_j v^j + C^k_j u^j")
    add(p, "sign_term", right, "dE/du^k = C^k_j v^j - 1/2 (C^k_j u^j + u_i C^i_k)",
        "C^k_j u^j")
    add(p, "chain", right, "dE/du^k = C^j_k v^j + 1/2 (C^k_j u^j + u_i C^i_k)")
    add(p, "chain", "dE/dC^p_q = u_p v^q + 1/2 u_p u^q", "dE/dC^p_q = v_p u^q + 1/2 u_p u^q")
    p = "trace_xtax"
    right = "dT/dX^p_q = A^p_j X^j_q + A^i_p X^i_q"
    add(p, "symmetry", right, "dT/dX^p_q = 2 A^p_j X^j_q")
    add(p, "symmetry", right, "dT/dX^p_q = 2 A^i_p X^i_q")
    add(p, "sign_term", right, "dT/dX^p_q = A^p_j X^j_q - A^i_p X^i_q", "A^i_p")
    p = "product_of_quadratics"
    right = "dT/dx^p = (A^p_j x^j + x_i A^i_p) r"
    add(p, "symmetry", right, "dT/dx^p = 2 A^p_j x^j r")
    add(p, "symmetry", "dT/dy^p = q (B^p_l y^l + y_k B^k_p)", "dT/dy^p = 2 q y_k B^k_p")
    add(p, "sign_term", right, "dT/dx^p = (A^p_j x^j - x_i A^i_p) r", "x_i A^i_p")
    add(p, "variable", right, "dT/dx^p = (A^p_j x^j + x_i A^i_p) q", "r")
    p = "tanh_regression_mean"
    right = "dL/dw^d = 2/|n| (h^n - t^n) (1 - h^n h^n) X^n_d"
    add(p, "mean", right, "dL/dw^d = 2 (h^n - t^n) (1 - h^n h^n) X^n_d", _n("n"))
    add(p, "activation", right, "dL/dw^d = 2/|n| (h^n - t^n) h^n (1 - h^n) X^n_d")
    add(p, "activation", right, "dL/dw^d = 2/|n| (h^n - t^n) (1 - h^n) X^n_d")
    add(p, "sign_term", right, "dL/dw^d = 2/|n| (h^n + t^n) (1 - h^n h^n) X^n_d", "t^n")
    p = "softmax_gating_mixture"
    right = "dL/dW^m_d = g^m (dL/dg^m - g^j dL/dg^j) x^d"
    add(p, "softmax", right, "dL/dW^m_d = g^m (1 - g^m) dL/dg^m x^d")
    add(p, "sign_term", right, "dL/dW^m_d = g^m (dL/dg^m + g^j dL/dg^j) x^d", "dL/dg^j")
    p = "matrix_cube_bilinear"
    right = ("dg/dA^p_q = u_p A^q_k A^k_l v^l + u_i A^i_p A^q_l v^l"
             " + u_i A^i_j A^j_p v^q")
    add(p, "chain", right, "dg/dA^p_q = u_p A^q_k A^k_l v^l + u_i A^p_i A^q_l v^l"
        " + u_i A^i_j A^j_p v^q")
    add(p, "chain", right, "dg/dA^p_q = u_p A^q_k A^k_l v^l + u_i A^i_p A^q_l v^l"
        " + u_i A^j_i A^j_p v^q")
    add(p, "sign_term", right, "dg/dA^p_q = u_p A^q_k A^k_l v^l + u_i A^i_p A^q_l v^l"
        " - u_i A^i_j A^j_p v^q", "v^q")
    return cases


#: the held-out wrong claims
HELDOUT: list[Case] = _cases() + _cases_batch2()


def diagnose_heldout(cases: Sequence[Case] = HELDOUT) -> list[tuple[Case, bool, str]]:
    """Each case with whether ``check`` failed it and its diagnosis (as ``diagnose_all``)."""
    out: list[tuple[Case, bool, str]] = []
    for name in dict.fromkeys(c.program for c in cases):
        group = [c for c in cases if c.program == name]
        text = HELDOUT_PROGRAMS[name] + "\n" + "\n".join(f"claim {c.wrong}" for c in group)
        report = check(parse(text), draws=1, confirm=False)
        out += [(c, not r.ok, r.diagnosis) for c, r in zip(group, report, strict=True)]
    return out
