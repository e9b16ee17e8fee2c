"""A corpus of wrong hand-derived claims, each with its planted mistake, for measuring diagnoses.

Written from the mistakes people make when they derive gradients by hand
(courses, papers, code reviews), not from what the diagnosis code tries: each
case holds a program, the correct claim, the same claim with one mistake
planted, the mistake's category and what a diagnosis that names the mistake
must mention. A diagnosis *names* the planted mistake when it contains one of
its category's words and every mention (a mention given as a tuple is met by
any one of its strings); it is *unspecific* when it says that no simple
correction fits (or only that the claim does not fit); anything else is a
*wrong* diagnosis.

>>> len(CASES) >= 150 and len({c.program for c in CASES}) >= 30
True
>>> names_mistake(CASES[0], "wrong sign on one term: lambda W2^h_k should be +lambda W2^h_k")
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from indexnet.check.judge import check
from indexnet.program import parse

__all__ = ["CASES", "CATEGORIES", "PROGRAMS", "Case", "diagnose_all", "is_unspecific",
           "names_mistake", "rates"]

#: category -> (what the mistake is, the words of which a diagnosis naming it holds one)
CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "sign_term": ("a sign error on one term of a sum", ("sign",)),
    "chain": ("chain factors in the wrong order, or one factor transposed",
              ("transpos", "order")),
    "symmetry": ("symmetry assumed where there is none (2Sx for (S + Sᵀ)x)", ("symmetr",)),
    "activation": ("the wrong activation derivative (1 − z for 1 − z², σ′ for tanh′)",
                   ("activation",)),
    "mean": ("a missing or extra 1/|n| (mean against sum)", ("|", "size of", "mean")),
    "variable": ("a wrong variable that is not a dL/dX atom (x where x̂ is needed)",
                 ("variable",)),
    "softmax": ("softmax differentiated entry by entry inside a claim", ("softmax",)),
    # the mistakes indexnet named before this corpus, kept so that they stay named
    "sign": ("the whole claim with the wrong sign", ("sign",)),
    "factor": ("a constant factor", ("factor",)),
    "missing_term": ("a term of the derivative left out", ("missing term",)),
    "transposed": ("indices swapped so that the claim does not fit", ("transpos",)),
    "missing_activation": ("an activation derivative left out", ("activation",)),
    "atom": ("a dL/dX atom of the wrong tensor", ("wrong variable",)),
}

Mention = str | tuple[str, ...]


@dataclass(frozen=True)
class Case:
    """One wrong claim: ``wrong`` is ``right`` with the mistake of ``category`` planted."""

    program: str
    category: str
    right: str
    wrong: str
    mentions: tuple[Mention, ...] = ()
    batch: int = 1


def is_unspecific(diagnosis: str) -> bool:
    """Whether a diagnosis declines to name a mistake.

    >>> is_unspecific("no simple correction fits; the error is largest at n=0")
    True
    """
    return diagnosis.startswith(("no simple correction fits", "does not fit"))


def names_mistake(case: Case, diagnosis: str) -> bool:
    """Whether ``diagnosis`` names ``case``'s planted mistake (see the module docstring)."""
    if is_unspecific(diagnosis):
        return False
    low = diagnosis.lower()
    if not any(word in low for word in CATEGORIES[case.category][1]):
        return False
    for mention in case.mentions:
        options = (mention,) if isinstance(mention, str) else mention
        if not any(option in diagnosis for option in options):
            return False
    return True


N = ("|n|", "size of n")

#: name -> program text (without claims)
PROGRAMS: dict[str, str] = {
    "mlp_sigmoid_xent": """
input x^n_d
input y^n_k : onehot(k)
param W1^d_h, b1_h, W2^h_k, b2_k
const lambda = 0.01
size n=7, d=5, h=4, k=3
a1^n_h = x^n_d W1^d_h + b1_h
z1^n_h = sigmoid(a1^n_h)
a2^n_k = z1^n_h W2^h_k + b2_k
p^n_k = softmax[k](a2^n_k)
L = -sum_{nk} y^n_k log(p^n_k) + lambda/2 (sum_{dh} W1^d_h W1^d_h + sum_{hk} W2^h_k W2^h_k)
""",
    "mlp_tanh_mse": """
input x^n_d, t^n_k
param W1^d_h, W2^h_k
size n=6, d=4, h=5, k=3
a^n_h = x^n_d W1^d_h
z^n_h = tanh(a^n_h)
o^n_k = z^n_h W2^h_k
L = 1/2 sum_{nk} (o^n_k - t^n_k)^2
""",
    "mlp_relu_mse": """
input x^n_d, t^n_k
param W1^d_h, W2^h_k
size n=5, d=4, h=6, k=3
a^n_h = x^n_d W1^d_h
z^n_h = relu(a^n_h)
o^n_k = z^n_h W2^h_k
L = 1/2 sum_{nk} (o^n_k - t^n_k)^2
""",
    "mlp_tanh_xent_mean": """
input x^n_d
input y^n_k : onehot(k)
param W1^d_h, W2^h_k
size n=8, d=4, h=5, k=3
z^n_h = tanh(x^n_d W1^d_h)
p^n_k = softmax[k](z^n_h W2^h_k)
L = -mean_n sum_k y^n_k log(p^n_k)
""",
    "linreg_mean": """
input X^n_d, y^n
param w^d, c
size n=8, d=3
r^n = X^n_d w^d + c - y^n
L = 1/2 mean_n r^n r^n
""",
    "ridge_mean": """
input X^n_d, y^n
param w^d
const lambda = 0.1
size n=7, d=4
r^n = X^n_d w^d - y^n
L = 1/2 mean_n r^n r^n + lambda/2 w^d w^d
""",
    "logistic_binary": """
input X^n_d
input y^n : uniform(0, 1)
param w^d, c
size n=7, d=4
z^n = X^n_d w^d + c
p^n = sigmoid(z^n)
L = -sum_n (y^n log(p^n) + (1 - y^n) log(1 - p^n))
""",
    "softmax_reg_mean": """
input x^n_d
input y^n_k : onehot(k)
param W^d_k, b_k
const lambda = 0.001
size n=6, d=5, k=4
z^n_k = x^n_d W^d_k + b_k
p^n_k = softmax[k](z^n_k)
L = -mean_n sum_k y^n_k log(p^n_k) + lambda/2 sum_{dk} W^d_k W^d_k
""",
    "softmax_mse": """
input x^n_d, t^n_k
param W^d_k
size n=5, d=4, k=3
z^n_k = x^n_d W^d_k
p^n_k = softmax[k](z^n_k)
L = 1/2 sum_{nk} (p^n_k - t^n_k)^2
""",
    "attention": """
input Q^q_e, K^m_e, V^m_v, T^q_v
const scale = 0.5
size q=3, m=5, e=4, v=2
S^q_m = scale Q^q_e K^m_e
P^q_m = softmax[m](S^q_m)
O^q_v = P^q_m V^m_v
L = 1/2 sum_{qv} (O^q_v - T^q_v)^2
""",
    "self_attention": """
input X^n_d, T^n_v
param Wq^d_e, Wk^d_e, Wv^d_v
const scale = 0.5
size n=4, d=3, e=2, v=5
Q^n_e = X^n_d Wq^d_e
K^m_e = X^m_d Wk^d_e
U^m_v = X^m_d Wv^d_v
S^n_m = scale Q^n_e K^m_e
P^n_m = softmax[m](S^n_m)
O^n_v = P^n_m U^m_v
L = 1/2 sum_{nv} (O^n_v - T^n_v)^2
""",
    "rnn_cell": """
input x^n_d, h^n_i, t^n_j
param U^d_j, W^i_j, b_j
size n=4, d=3, i=5, j=5
a^n_j = x^n_d U^d_j + h^n_i W^i_j + b_j
z^n_j = tanh(a^n_j)
L = 1/2 sum_{nj} (z^n_j - t^n_j)^2
""",
    "rnn_two_steps": """
input x1^n_d, x2^n_d, h0^n_i, t^n_i
param U^d_i, W^i_j
size n=3, d=4, i=5
a1^n_j = x1^n_d U^d_j + h0^n_i W^i_j
h1^n_j = tanh(a1^n_j)
a2^n_j = x2^n_d U^d_j + h1^n_i W^i_j
h2^n_j = tanh(a2^n_j)
L = 1/2 sum_{nj} (h2^n_j - t^n_j)^2
""",
    "gru_gate": """
input x^n_d, h^n_j, t^n_j
param Wz^d_j, Wc^d_j
size n=5, d=3, j=4
z^n_j = sigmoid(x^n_d Wz^d_j)
c^n_j = tanh(x^n_d Wc^d_j)
o^n_j = z^n_j h^n_j + (1 - z^n_j) c^n_j
L = 1/2 sum_{nj} (o^n_j - t^n_j)^2
""",
    "lstm_cell": """
input c0^n_j, t^n_j
param ai^n_j, af^n_j, ag^n_j, ao^n_j
size n=3, j=4
ig^n_j = sigmoid(ai^n_j)
fg^n_j = sigmoid(af^n_j)
gg^n_j = tanh(ag^n_j)
og^n_j = sigmoid(ao^n_j)
c^n_j = fg^n_j c0^n_j + ig^n_j gg^n_j
th^n_j = tanh(c^n_j)
h^n_j = og^n_j th^n_j
L = 1/2 sum_{nj} (h^n_j - t^n_j)^2
""",
    "layernorm": """
input x^n_d, t^n_d
param g_d, b_d
const eps = 1e-5
size n=4, d=6
mu^n = mean_d x^n_d
c^n_d = x^n_d - mu^n
v^n = mean_d c^n_d c^n_d
s^n = sqrt(v^n + eps)
xh^n_d = c^n_d / s^n
y^n_d = g_d xh^n_d + b_d
L = 1/2 sum_{nd} (y^n_d - t^n_d)^2
r^n_d = dL/dy^n_d
""",
    "batchnorm": """
input x^n_d, t^n_d
param g_d, b_d
const eps = 1e-5
size n=6, d=3
mu_d = mean_n x^n_d
c^n_d = x^n_d - mu_d
v_d = mean_n c^n_d c^n_d
s_d = sqrt(v_d + eps)
xh^n_d = c^n_d / s_d
y^n_d = g_d xh^n_d + b_d
L = 1/2 sum_{nd} (y^n_d - t^n_d)^2
r^n_d = dL/dy^n_d
""",
    "rmsnorm": """
input x^n_d, t^n_d
param g_d
const eps = 1e-5
size n=4, d=5
m^n = mean_d x^n_d x^n_d
s^n = sqrt(m^n + eps)
xh^n_d = x^n_d / s^n
y^n_d = g_d xh^n_d
L = 1/2 sum_{nd} (y^n_d - t^n_d)^2
""",
    "quadratic_form": """
input S^i_k
param x^i
size i=4
Q = x_i S^i_k x^k
""",
    "quadratic_matrix": """
input S^i_k
param X^i_n
size i=4, n=3
f = X^i_n S^i_k X^k_n
""",
    "mahalanobis": """
input S^i_k, mu^i
param x^i
size i=5
e^i = x^i - mu^i
m = e^i S^i_k e^k
""",
    "bilinear": """
input A^i_j
param u^i, v^j
size i=4, j=3
B = u_i A^i_j v^j
""",
    "trace_chain": """
input A^i_j, C^k_i
param B^j_k
size i=4, j=4, k=4
T = A^i_j B^j_k C^k_i
""",
    "least_squares_matrix": """
input A^m_i, B^j_p, Y^m_p
param X^i_j
size m=5, i=3, j=4, p=2
R^m_p = A^m_i X^i_j B^j_p - Y^m_p
E = 1/2 sum_{mp} R^m_p R^m_p
""",
    "least_squares_square": """
input A^m_i, B^j_p, Y^m_p
param X^i_j
size m=4, i=4, j=4, p=4
R^m_p = A^m_i X^i_j B^j_p - Y^m_p
E = 1/2 sum_{mp} R^m_p R^m_p
""",
    "matrix_factorization": """
input R^u_m
param U^u_r, V^m_r
const lambda = 0.1
size u=5, m=4, r=3
E^u_m = U^u_r V^m_r - R^u_m
L = 1/2 sum_{um} E^u_m E^u_m + lambda/2 (sum_{ur} U^u_r U^u_r + sum_{mr} V^m_r V^m_r)
""",
    "tied_autoencoder": """
input x^n_d
param W^d_h
size n=5, d=4, h=3
z^n_h = sigmoid(x^n_d W^d_h)
r^n_d = z^n_h W^d_h - x^n_d
L = 1/2 sum_{nd} r^n_d r^n_d
""",
    "poisson_regression": """
input X^n_d
input y^n : positive
param w^d
size n=6, d=3
z^n = X^n_d w^d
L = sum_n (exp(z^n) - y^n z^n)
""",
    "gaussian_nll": """
input x^n_d
param mu_d
param s_d : positive
size n=5, d=3
L = sum_{nd} (log(s_d) + (x^n_d - mu_d)^2 / (2 s_d^2))
""",
    "swish": """
input x^n_d, t^n_h
param W^d_h
size n=4, d=3, h=5
a^n_h = x^n_d W^d_h
s^n_h = sigmoid(a^n_h)
y^n_h = a^n_h s^n_h
L = 1/2 sum_{nh} (y^n_h - t^n_h)^2
""",
    "glu": """
input x^n_d, t^n_h
param W^d_h, V^d_h
size n=4, d=3, h=5
u^n_h = x^n_d W^d_h
g^n_h = sigmoid(x^n_d V^d_h)
y^n_h = u^n_h g^n_h
L = 1/2 sum_{nh} (y^n_h - t^n_h)^2
""",
    "cosine": """
param u^i, v^i
size i=5
nu = sqrt(u^i u^i)
nv = sqrt(v^i v^i)
c = u^i v^i / nu / nv
""",
    "kl_softmax": """
input q^n_k : simplex(k)
param z^n_k
size n=4, k=5
p^n_k = softmax[k](z^n_k)
L = sum_{nk} p^n_k (log(p^n_k) - log(q^n_k))
""",
    "logsumexp_temp": """
input y^n
param a^n
const tau = 2
size n=6
L = tau log(sum_m exp(a^m / tau)) - a^n y^n
""",
    "mlp_softplus": """
input x^n_d, t^n_h
param W^d_h
size n=5, d=3, h=4
a^n_h = x^n_d W^d_h
z^n_h = softplus(a^n_h)
L = 1/2 sum_{nh} (z^n_h - t^n_h)^2
""",
    "logistic_l2_mean": """
input X^n_d
input y^n : uniform(0, 1)
param w^d
const lambda = 0.05
size n=9, d=4
z^n = X^n_d w^d
p^n = sigmoid(z^n)
L = -mean_n (y^n log(p^n) + (1 - y^n) log(1 - p^n)) + lambda/2 w^d w^d
""",
    "trace_axb": """
input A^i_j, B^k_i
param X^j_k
size i=4, j=4, k=4
T = A^i_j X^j_k B^k_i
""",
    "quadratic_bias": """
input S^i_k, b_i
param x^i
size i=5
f = x_i S^i_k x^k + b_i x^i
""",
    "residual_block": """
input x^n_d, t^n_d
param W^d_e
size n=4, d=5, e=5
z^n_e = tanh(x^n_d W^d_e)
y^n_e = x^n_e + z^n_e
L = 1/2 sum_{ne} (y^n_e - t^n_e)^2
""",
    "softmax_temperature": """
input x^n_d
input y^n_k : onehot(k)
param W^d_k
const tau = 3
size n=6, d=4, k=5
z^n_k = x^n_d W^d_k / tau
p^n_k = softmax[k](z^n_k)
L = -sum_{nk} y^n_k log(p^n_k)
""",
}


def _heldout() -> list[Case]:
    """A second batch, written after the diagnosis code and not tuned against (batch 2)."""
    def c(program: str, category: str, right: str, wrong: str,
          mentions: tuple[Mention, ...] = ()) -> Case:
        return Case(program, category, right, wrong, mentions, batch=2)

    return [
        c("mlp_softplus", "activation",
          "dL/da^n_h = sigmoid(a^n_h) dL/dz^n_h",
          "dL/da^n_h = softplus(a^n_h) dL/dz^n_h", (("softplus'", "sigmoid"),)),
        c("mlp_softplus", "activation",
          "dL/dW^d_h = xᵀ^d_n (sigmoid(a^n_h) (z^n_h - t^n_h))",
          "dL/dW^d_h = xᵀ^d_n (sigmoid(a^n_h) (1 - sigmoid(a^n_h)) (z^n_h - t^n_h))",
          (("softplus'", "sigmoid"),)),
        c("mlp_softplus", "variable",
          "dL/dW^d_h = xᵀ^d_n (sigmoid(a^n_h) (z^n_h - t^n_h))",
          "dL/dW^d_h = xᵀ^d_n (sigmoid(a^n_h) (a^n_h - t^n_h))", ("a", "z")),
        c("mlp_softplus", "sign_term",
          "dL/dz^n_h = z^n_h - t^n_h",
          "dL/dz^n_h = -z^n_h - t^n_h", ("z",)),
        c("logistic_l2_mean", "sign_term",
          "dL/dw^d = 1/|n| Xᵀ^d_n (p^n - y^n) + lambda w^d",
          "dL/dw^d = 1/|n| Xᵀ^d_n (p^n - y^n) - lambda w^d", ("lambda w",)),
        c("logistic_l2_mean", "mean",
          "dL/dw^d = 1/|n| Xᵀ^d_n (p^n - y^n) + lambda w^d",
          "dL/dw^d = Xᵀ^d_n (p^n - y^n) + lambda w^d", (N,)),
        c("logistic_l2_mean", "variable",
          "dL/dw^d = 1/|n| Xᵀ^d_n (p^n - y^n) + lambda w^d",
          "dL/dw^d = 1/|n| Xᵀ^d_n (z^n - y^n) + lambda w^d", ("z", "p")),
        c("logistic_l2_mean", "mean",
          "dL/dz^n = (p^n - y^n) / |n|",
          "dL/dz^n = p^n - y^n", (N,)),
        c("logistic_l2_mean", "activation",
          "dL/dz^n = dL/dp^n p^n (1 - p^n)",
          "dL/dz^n = dL/dp^n p^n", ("sigmoid",)),
        c("trace_axb", "chain",
          "dT/dX^j_k = Aᵀ^j_i Bᵀ^i_k",
          "dT/dX^j_k = Bᵀ^j_i Aᵀ^i_k"),
        c("trace_axb", "chain",
          "dT/dX^j_k = Aᵀ^j_i Bᵀ^i_k",
          "dT/dX^j_k = A^j_i Bᵀ^i_k", ("A",)),
        c("trace_axb", "chain",
          "dT/dA^i_j = Bᵀ^i_k Xᵀ^k_j",
          "dT/dA^i_j = Xᵀ^i_k Bᵀ^k_j"),
        c("trace_axb", "chain",
          "dT/dB^k_i = Xᵀ^k_j Aᵀ^j_i",
          "dT/dB^k_i = A^k_j X^j_i"),
        c("quadratic_bias", "symmetry",
          "df/dx^i = S^i_k x^k + S^k_i x^k + b_i",
          "df/dx^i = 2 S^i_k x^k + b_i", ("S",)),
        c("quadratic_bias", "sign_term",
          "df/dx^i = S^i_k x^k + S^k_i x^k + b_i",
          "df/dx^i = S^i_k x^k + S^k_i x^k - b_i", ("b",)),
        c("quadratic_bias", "missing_term",
          "df/dx^i = S^i_k x^k + S^k_i x^k + b_i",
          "df/dx^i = S^i_k x^k + S^k_i x^k", ("b",)),
        c("residual_block", "missing_term",
          "dL/dx^n_d = dL/dy^n_d + (1 - z^n_e z^n_e) dL/dy^n_e W^d_e",
          "dL/dx^n_d = (1 - z^n_e z^n_e) dL/dy^n_e W^d_e", ("dL/dy",)),
        c("residual_block", "activation",
          "dL/dx^n_d = dL/dy^n_d + (1 - z^n_e z^n_e) dL/dy^n_e W^d_e",
          "dL/dx^n_d = dL/dy^n_d + (1 - z^n_e) dL/dy^n_e W^d_e", ("tanh",)),
        c("residual_block", "chain",
          "dL/dx^n_d = dL/dy^n_d + (1 - z^n_e z^n_e) dL/dy^n_e W^d_e",
          "dL/dx^n_d = dL/dy^n_d + (1 - z^n_e z^n_e) dL/dy^n_e W^e_d", ("W",)),
        c("residual_block", "sign_term",
          "dL/dx^n_d = dL/dy^n_d + (1 - z^n_e z^n_e) dL/dy^n_e W^d_e",
          "dL/dx^n_d = dL/dy^n_d - (1 - z^n_e z^n_e) dL/dy^n_e W^d_e", ("W",)),
        c("residual_block", "variable",
          "dL/dW^d_e = xᵀ^d_n ((1 - z^n_e z^n_e) dL/dy^n_e)",
          "dL/dW^d_e = xᵀ^d_n ((1 - y^n_e y^n_e) dL/dy^n_e)", ("y", "z")),
        c("softmax_temperature", "factor",
          "dL/dW^d_k = xᵀ^d_n (p^n_k - y^n_k) / tau",
          "dL/dW^d_k = xᵀ^d_n (p^n_k - y^n_k)", ("3",)),
        c("softmax_temperature", "softmax",
          "dL/dz^n_k = p^n_k - y^n_k",
          "dL/dz^n_k = dL/dp^n_k p^n_k (1 - p^n_k)"),
        c("softmax_temperature", "softmax",
          "dL/dW^d_k = xᵀ^d_n dL/dz^n_k / tau",
          "dL/dW^d_k = xᵀ^d_n (p^n_k (1 - p^n_k) dL/dp^n_k) / tau"),
        c("softmax_temperature", "sign_term",
          "dL/dz^n_k = p^n_k - y^n_k",
          "dL/dz^n_k = p^n_k + y^n_k", ("y",)),
        c("attention", "softmax",
          "dL/dS^q_m = P^q_m (dL/dP^q_m - sum_l dL/dP^q_l P^q_l)",
          "dL/dS^q_m = P^q_m (1 - P^q_m) (O^q_v - T^q_v) V^m_v"),
        c("layernorm", "mean",
          "dL/dxh^n_d = r^n_d g_d",
          "dL/dxh^n_d = r^n_d g_d / |d|", (("|d|", "size of d"),)),
        c("batchnorm", "variable",
          "dL/dxh^n_d = r^n_d g_d",
          "dL/dxh^n_d = r^n_d b_d", ("b", "g")),
        c("gru_gate", "activation",
          "dL/dWz^d_j = xᵀ^d_n (z^n_j (1 - z^n_j) dL/dz^n_j)",
          "dL/dWz^d_j = xᵀ^d_n (z^n_j dL/dz^n_j)", ("sigmoid",)),
        c("mahalanobis", "symmetry",
          "dm/de^i = S^i_k e^k + S^k_i e^k",
          "dm/de^i = 2 S^k_i e^k", ("S",)),
        c("rnn_cell", "mean",
          "dL/dU^d_j = xᵀ^d_n dL/da^n_j",
          "dL/dU^d_j = mean_n xᵀ^d_n dL/da^n_j", (N,)),
        c("ridge_mean", "variable",
          "dL/dw^d = 1/|n| Xᵀ^d_n r^n + lambda w^d",
          "dL/dw^d = 1/|n| Xᵀ^d_n y^n + lambda w^d", ("y", "r")),
    ]


def _cases() -> list[Case]:
    c = Case
    out = [
        # -- an MLP with sigmoid, softmax cross-entropy and L2 -------------------------
        c("mlp_sigmoid_xent", "sign_term",
          "dL/dW2^h_k = z1ᵀ^h_n dL/da2^n_k + lambda W2^h_k",
          "dL/dW2^h_k = z1ᵀ^h_n dL/da2^n_k - lambda W2^h_k", ("lambda W2",)),
        c("mlp_sigmoid_xent", "sign_term",
          "dL/dW1^d_h = xᵀ^d_n dL/da1^n_h + lambda W1^d_h",
          "dL/dW1^d_h = xᵀ^d_n dL/da1^n_h - lambda W1^d_h", ("lambda W1",)),
        c("mlp_sigmoid_xent", "sign_term",
          "dL/dW2^h_k = z1ᵀ^h_n (p^n_k - y^n_k) + lambda W2^h_k",
          "dL/dW2^h_k = z1ᵀ^h_n (y^n_k - p^n_k) + lambda W2^h_k", ("z1",)),
        c("mlp_sigmoid_xent", "activation",
          "dL/da1^n_h = z1^n_h (1 - z1^n_h) dL/da2^n_k W2ᵀ^k_h",
          "dL/da1^n_h = (1 - z1^n_h z1^n_h) dL/da2^n_k W2ᵀ^k_h", (("sigmoid", "1 - z1"),)),
        c("mlp_sigmoid_xent", "activation",
          "dL/da1^n_h = z1^n_h (1 - z1^n_h) dL/da2^n_k W2ᵀ^k_h",
          "dL/da1^n_h = z1^n_h dL/da2^n_k W2ᵀ^k_h", (("sigmoid", "1 - z1"),)),
        c("mlp_sigmoid_xent", "activation",
          "dL/da1^n_h = sigmoid'(a1^n_h) dL/dz1^n_h",
          "dL/da1^n_h = sigmoid(a1^n_h) dL/dz1^n_h", ("sigmoid'",)),
        c("mlp_sigmoid_xent", "activation",
          "dL/dW1^d_h = xᵀ^d_n (z1^n_h (1 - z1^n_h) dL/dz1^n_h) + lambda W1^d_h",
          "dL/dW1^d_h = xᵀ^d_n ((1 - z1^n_h) dL/dz1^n_h) + lambda W1^d_h",
          (("sigmoid", "z1^n_h (1 - z1^n_h)"),)),
        c("mlp_sigmoid_xent", "softmax",
          "dL/dW2^h_k = z1ᵀ^h_n (p^n_k - y^n_k) + lambda W2^h_k",
          "dL/dW2^h_k = z1ᵀ^h_n (dL/dp^n_k p^n_k (1 - p^n_k)) + lambda W2^h_k"),
        c("mlp_sigmoid_xent", "softmax",
          "dL/db2_k = sum_n (p^n_k - y^n_k)",
          "dL/db2_k = sum_n dL/dp^n_k p^n_k (1 - p^n_k)"),
        c("mlp_sigmoid_xent", "variable",
          "dL/dW2^h_k = z1ᵀ^h_n dL/da2^n_k + lambda W2^h_k",
          "dL/dW2^h_k = a1ᵀ^h_n dL/da2^n_k + lambda W2^h_k", ("a1", "z1")),
        c("mlp_sigmoid_xent", "variable",
          "dL/dz1^n_h = (p^n_k - y^n_k) W2ᵀ^k_h",
          "dL/dz1^n_h = (a2^n_k - y^n_k) W2ᵀ^k_h", ("a2", "p")),
        c("mlp_sigmoid_xent", "mean",
          "dL/db2_k = sum_n dL/da2^n_k",
          "dL/db2_k = mean_n dL/da2^n_k", (N,)),
        c("mlp_sigmoid_xent", "mean",
          "dL/db1_h = sum_n dL/da1^n_h",
          "dL/db1_h = 1/|n| sum_n dL/da1^n_h", (N,)),
        c("mlp_sigmoid_xent", "sign",
          "dL/da2^n_k = p^n_k - y^n_k",
          "dL/da2^n_k = y^n_k - p^n_k"),
        c("mlp_sigmoid_xent", "missing_term",
          "dL/dW1^d_h = xᵀ^d_n dL/da1^n_h + lambda W1^d_h",
          "dL/dW1^d_h = xᵀ^d_n dL/da1^n_h", ("lambda W1",)),
        c("mlp_sigmoid_xent", "atom",
          "dL/dW1^d_h = xᵀ^d_n dL/da1^n_h + lambda W1^d_h",
          "dL/dW1^d_h = xᵀ^d_n dL/dz1^n_h + lambda W1^d_h", ("dL/da1",)),
        # -- an MLP with tanh and squared error ----------------------------------------
        c("mlp_tanh_mse", "activation",
          "dL/da^n_h = (1 - z^n_h z^n_h) dL/do^n_k W2ᵀ^k_h",
          "dL/da^n_h = (1 - z^n_h) dL/do^n_k W2ᵀ^k_h", ("tanh",)),
        c("mlp_tanh_mse", "activation",
          "dL/da^n_h = (1 - z^n_h z^n_h) dL/do^n_k W2ᵀ^k_h",
          "dL/da^n_h = z^n_h (1 - z^n_h) dL/do^n_k W2ᵀ^k_h", ("tanh",)),
        c("mlp_tanh_mse", "activation",
          "dL/da^n_h = tanh'(a^n_h) dL/dz^n_h",
          "dL/da^n_h = sigmoid'(a^n_h) dL/dz^n_h", ("tanh",)),
        c("mlp_tanh_mse", "activation",
          "dL/dW1^d_h = xᵀ^d_n ((1 - z^n_h z^n_h) dL/dz^n_h)",
          "dL/dW1^d_h = xᵀ^d_n ((1 - z^n_h) dL/dz^n_h)", ("tanh",)),
        c("mlp_tanh_mse", "activation",
          "dL/da^n_h = (1 - tanh(a^n_h)^2) dL/dz^n_h",
          "dL/da^n_h = (1 - tanh(a^n_h)) dL/dz^n_h", ("tanh",)),
        c("mlp_tanh_mse", "activation",
          "dL/dW1^d_h = xᵀ^d_n (tanh'(a^n_h) (o^n_k - t^n_k) W2ᵀ^k_h)",
          "dL/dW1^d_h = xᵀ^d_n (sigmoid'(a^n_h) (o^n_k - t^n_k) W2ᵀ^k_h)", ("tanh",)),
        c("mlp_tanh_mse", "variable",
          "dL/dW2^h_k = zᵀ^h_n (o^n_k - t^n_k)",
          "dL/dW2^h_k = aᵀ^h_n (o^n_k - t^n_k)", ("a", "z")),
        c("mlp_tanh_mse", "variable",
          "dL/dW2^h_k = zᵀ^h_n dL/do^n_k",
          "dL/dW2^h_k = aᵀ^h_n dL/do^n_k", ("a", "z")),
        c("mlp_tanh_mse", "sign_term",
          "dL/do^n_k = o^n_k - t^n_k",
          "dL/do^n_k = o^n_k + t^n_k", ("t",)),
        c("mlp_tanh_mse", "mean",
          "dL/dW2^h_k = zᵀ^h_n (o^n_k - t^n_k)",
          "dL/dW2^h_k = mean_n zᵀ^h_n (o^n_k - t^n_k)", (N,)),
        c("mlp_tanh_mse", "missing_activation",
          "dL/da^n_h = (1 - z^n_h z^n_h) dL/do^n_k W2ᵀ^k_h",
          "dL/da^n_h = dL/do^n_k W2ᵀ^k_h", ("tanh",)),
        # -- an MLP with relu ------------------------------------------------------------
        c("mlp_relu_mse", "activation",
          "dL/da^n_h = relu'(a^n_h) dL/dz^n_h",
          "dL/da^n_h = relu(a^n_h) dL/dz^n_h", ("relu'",)),
        c("mlp_relu_mse", "activation",
          "dL/dW1^d_h = xᵀ^d_n (relu'(a^n_h) (o^n_k - t^n_k) W2ᵀ^k_h)",
          "dL/dW1^d_h = xᵀ^d_n (z^n_h (o^n_k - t^n_k) W2ᵀ^k_h)", ("relu'",)),
        c("mlp_relu_mse", "variable",
          "dL/dW2^h_k = zᵀ^h_n (o^n_k - t^n_k)",
          "dL/dW2^h_k = aᵀ^h_n (o^n_k - t^n_k)", ("a", "z")),
        c("mlp_relu_mse", "transposed",
          "dL/dz^n_h = (o^n_k - t^n_k) W2ᵀ^k_h",
          "dL/dz^n_h = (o^n_k - t^n_k) W2^k_h", ("W2",)),
        c("mlp_relu_mse", "sign_term",
          "dL/dW1^d_h = xᵀ^d_n (relu'(a^n_h) (o^n_k - t^n_k) W2ᵀ^k_h)",
          "dL/dW1^d_h = xᵀ^d_n (relu'(a^n_h) (o^n_k + t^n_k) W2ᵀ^k_h)", ("t",)),
        # -- tanh MLP with a mean cross-entropy ------------------------------------------
        c("mlp_tanh_xent_mean", "mean",
          "dL/dW2^h_k = 1/|n| zᵀ^h_n (p^n_k - y^n_k)",
          "dL/dW2^h_k = zᵀ^h_n (p^n_k - y^n_k)", (N,)),
        c("mlp_tanh_xent_mean", "mean",
          "dL/dW1^d_h = 1/|n| xᵀ^d_n ((1 - z^n_h z^n_h) (p^n_k - y^n_k) W2ᵀ^k_h)",
          "dL/dW1^d_h = xᵀ^d_n ((1 - z^n_h z^n_h) (p^n_k - y^n_k) W2ᵀ^k_h)", (N,)),
        c("mlp_tanh_xent_mean", "mean",
          "dL/dz^n_h = 1/|n| (p^n_k - y^n_k) W2ᵀ^k_h",
          "dL/dz^n_h = (p^n_k - y^n_k) W2ᵀ^k_h", (N,)),
        c("mlp_tanh_xent_mean", "activation",
          "dL/dW1^d_h = 1/|n| xᵀ^d_n ((1 - z^n_h z^n_h) (p^n_k - y^n_k) W2ᵀ^k_h)",
          "dL/dW1^d_h = 1/|n| xᵀ^d_n ((1 - z^n_h) (p^n_k - y^n_k) W2ᵀ^k_h)", ("tanh",)),
        c("mlp_tanh_xent_mean", "activation",
          "dL/dW1^d_h = xᵀ^d_n ((1 - z^n_h z^n_h) dL/dz^n_h)",
          "dL/dW1^d_h = xᵀ^d_n (z^n_h (1 - z^n_h) dL/dz^n_h)", ("tanh",)),
        c("mlp_tanh_xent_mean", "softmax",
          "dL/dW2^h_k = zᵀ^h_n (dL/dp^n_k p^n_k - p^n_k sum_j dL/dp^n_j p^n_j)",
          "dL/dW2^h_k = zᵀ^h_n (dL/dp^n_k p^n_k (1 - p^n_k))"),
        c("mlp_tanh_xent_mean", "sign_term",
          "dL/dW2^h_k = 1/|n| zᵀ^h_n (p^n_k - y^n_k)",
          "dL/dW2^h_k = 1/|n| zᵀ^h_n (p^n_k + y^n_k)", ("y",)),
        # -- linear regression, mean squared error ---------------------------------------
        c("linreg_mean", "mean",
          "dL/dw^d = 1/|n| Xᵀ^d_n r^n",
          "dL/dw^d = Xᵀ^d_n r^n", (N,)),
        c("linreg_mean", "mean",
          "dL/dc = mean_n r^n",
          "dL/dc = sum_n r^n", (N,)),
        c("linreg_mean", "mean",
          "dL/dr^n = r^n / |n|",
          "dL/dr^n = r^n", (N,)),
        c("linreg_mean", "sign_term",
          "dL/dw^d = 1/|n| Xᵀ^d_n (X^n_e w^e + c - y^n)",
          "dL/dw^d = 1/|n| Xᵀ^d_n (X^n_e w^e + c + y^n)", ("y",)),
        c("linreg_mean", "sign_term",
          "dL/dc = mean_n (X^n_d w^d + c - y^n)",
          "dL/dc = mean_n (X^n_d w^d - c - y^n)", ("c",)),
        c("linreg_mean", "variable",
          "dL/dw^d = 1/|n| Xᵀ^d_n r^n",
          "dL/dw^d = 1/|n| Xᵀ^d_n y^n", ("y", "r")),
        # -- ridge regression with a mean ------------------------------------------------
        c("ridge_mean", "mean",
          "dL/dw^d = 1/|n| Xᵀ^d_n r^n + lambda w^d",
          "dL/dw^d = Xᵀ^d_n r^n + lambda w^d", (N,)),
        c("ridge_mean", "mean",
          "dL/dw^d = 1/|n| Xᵀ^d_n r^n + lambda w^d",
          "dL/dw^d = 1/|n| Xᵀ^d_n r^n + lambda/|n| w^d", (N,)),
        c("ridge_mean", "mean",
          "dL/dw^d = mean_n Xᵀ^d_n r^n + lambda w^d",
          "dL/dw^d = Xᵀ^d_n r^n / |n| / |n| + lambda w^d", (N,)),
        c("ridge_mean", "sign_term",
          "dL/dw^d = 1/|n| Xᵀ^d_n r^n + lambda w^d",
          "dL/dw^d = 1/|n| Xᵀ^d_n r^n - lambda w^d", ("lambda w",)),
        c("ridge_mean", "sign_term",
          "dL/dw^d = 1/|n| Xᵀ^d_n (X^n_e w^e - y^n) + lambda w^d",
          "dL/dw^d = 1/|n| Xᵀ^d_n (y^n - X^n_e w^e) + lambda w^d", ("X",)),
        c("ridge_mean", "factor",
          "dL/dw^d = 1/|n| Xᵀ^d_n r^n + lambda w^d",
          "dL/dw^d = 2/|n| Xᵀ^d_n r^n + 2 lambda w^d", ("2",)),
        # -- binary logistic regression --------------------------------------------------
        c("logistic_binary", "sign_term",
          "dL/dz^n = p^n - y^n",
          "dL/dz^n = p^n + y^n", ("y",)),
        c("logistic_binary", "sign",
          "dL/dw^d = Xᵀ^d_n (p^n - y^n)",
          "dL/dw^d = Xᵀ^d_n (y^n - p^n)"),
        c("logistic_binary", "activation",
          "dL/dz^n = dL/dp^n p^n (1 - p^n)",
          "dL/dz^n = dL/dp^n (1 - p^n p^n)", ("sigmoid",)),
        c("logistic_binary", "activation",
          "dL/dz^n = dL/dp^n p^n (1 - p^n)",
          "dL/dz^n = dL/dp^n (1 - p^n)", ("sigmoid",)),
        c("logistic_binary", "activation",
          "dL/dz^n = dL/dp^n sigmoid'(z^n)",
          "dL/dz^n = dL/dp^n tanh'(z^n)", ("sigmoid",)),
        c("logistic_binary", "variable",
          "dL/dw^d = Xᵀ^d_n (p^n - y^n)",
          "dL/dw^d = Xᵀ^d_n (z^n - y^n)", ("z", "p")),
        c("logistic_binary", "mean",
          "dL/dc = sum_n (p^n - y^n)",
          "dL/dc = mean_n (p^n - y^n)", (N,)),
        c("logistic_binary", "sign_term",
          "dL/dp^n = (1 - y^n) / (1 - p^n) - y^n / p^n",
          "dL/dp^n = (1 - y^n) / (1 - p^n) + y^n / p^n", ("y",)),
        # -- softmax regression, mean cross-entropy, L2 -----------------------------------
        c("softmax_reg_mean", "mean",
          "dL/dW^d_k = 1/|n| xᵀ^d_n (p^n_k - y^n_k) + lambda W^d_k",
          "dL/dW^d_k = xᵀ^d_n (p^n_k - y^n_k) + lambda W^d_k", (N,)),
        c("softmax_reg_mean", "mean",
          "dL/db_k = mean_n (p^n_k - y^n_k)",
          "dL/db_k = sum_n (p^n_k - y^n_k)", (N,)),
        c("softmax_reg_mean", "mean",
          "dL/dz^n_k = (p^n_k - y^n_k) / |n|",
          "dL/dz^n_k = p^n_k - y^n_k", (N,)),
        c("softmax_reg_mean", "sign_term",
          "dL/dW^d_k = 1/|n| xᵀ^d_n (p^n_k - y^n_k) + lambda W^d_k",
          "dL/dW^d_k = 1/|n| xᵀ^d_n (p^n_k - y^n_k) - lambda W^d_k", ("lambda W",)),
        c("softmax_reg_mean", "softmax",
          "dL/dW^d_k = xᵀ^d_n dL/dz^n_k + lambda W^d_k",
          "dL/dW^d_k = xᵀ^d_n (dL/dp^n_k p^n_k (1 - p^n_k)) + lambda W^d_k"),
        c("softmax_reg_mean", "variable",
          "dL/dW^d_k = 1/|n| xᵀ^d_n (p^n_k - y^n_k) + lambda W^d_k",
          "dL/dW^d_k = 1/|n| xᵀ^d_n (z^n_k - y^n_k) + lambda W^d_k", ("z", "p")),
        c("softmax_reg_mean", "missing_term",
          "dL/dW^d_k = 1/|n| xᵀ^d_n (p^n_k - y^n_k) + lambda W^d_k",
          "dL/dW^d_k = 1/|n| xᵀ^d_n (p^n_k - y^n_k)", ("lambda W",)),
        # -- softmax with a squared error ------------------------------------------------
        c("softmax_mse", "softmax",
          "dL/dz^n_k = p^n_k ((p^n_k - t^n_k) - sum_j (p^n_j - t^n_j) p^n_j)",
          "dL/dz^n_k = (p^n_k - t^n_k) p^n_k (1 - p^n_k)"),
        c("softmax_mse", "softmax",
          "dL/dW^d_k = xᵀ^d_n dL/dz^n_k",
          "dL/dW^d_k = xᵀ^d_n ((p^n_k - t^n_k) p^n_k (1 - p^n_k))"),
        c("softmax_mse", "softmax",
          "dL/dW^d_k = xᵀ^d_n dL/dz^n_k",
          "dL/dW^d_k = xᵀ^d_n (dL/dp^n_k p^n_k (1 - p^n_k))"),
        c("softmax_mse", "sign_term",
          "dL/dz^n_k = p^n_k ((p^n_k - t^n_k) - sum_j (p^n_j - t^n_j) p^n_j)",
          "dL/dz^n_k = p^n_k ((p^n_k - t^n_k) + sum_j (p^n_j - t^n_j) p^n_j)", ("p",)),
        c("softmax_mse", "variable",
          "dL/dp^n_k = p^n_k - t^n_k",
          "dL/dp^n_k = z^n_k - t^n_k", ("z", "p")),
        # -- attention (scores, softmax, values) ------------------------------------------
        c("attention", "softmax",
          "dL/dS^q_m = P^q_m (dL/dP^q_m - sum_l dL/dP^q_l P^q_l)",
          "dL/dS^q_m = dL/dP^q_m P^q_m (1 - P^q_m)"),
        c("attention", "softmax",
          "dL/dQ^q_e = scale dL/dS^q_m K^m_e",
          "dL/dQ^q_e = scale (dL/dP^q_m P^q_m (1 - P^q_m)) K^m_e"),
        c("attention", "softmax",
          "dL/dK^m_e = scale dL/dSᵀ^m_q Q^q_e",
          "dL/dK^m_e = scale (P^q_m (1 - P^q_m) dL/dP^q_m) Q^q_e"),
        c("attention", "softmax",
          "dL/dQ^q_e = scale dL/dS^q_m K^m_e",
          "dL/dQ^q_e = scale (P^q_m (1 - P^q_m) (O^q_v - T^q_v) V^m_v) K^m_e"),
        c("attention", "chain",
          "dL/dP^q_m = dL/dO^q_v Vᵀ^v_m",
          "dL/dP^q_m = dL/dO^q_v V^v_m", ("V",)),
        c("attention", "chain",
          "dL/dV^m_v = Pᵀ^m_q dL/dO^q_v",
          "dL/dV^m_v = P^m_q dL/dO^q_v", ("P",)),
        c("attention", "sign_term",
          "dL/dS^q_m = P^q_m (dL/dP^q_m - sum_l dL/dP^q_l P^q_l)",
          "dL/dS^q_m = P^q_m (dL/dP^q_m + sum_l dL/dP^q_l P^q_l)", ("P",)),
        c("attention", "variable",
          "dL/dV^m_v = Pᵀ^m_q dL/dO^q_v",
          "dL/dV^m_v = Sᵀ^m_q dL/dO^q_v", ("S", "P")),
        c("attention", "sign",
          "dL/dP^q_m = (O^q_v - T^q_v) Vᵀ^v_m",
          "dL/dP^q_m = (T^q_v - O^q_v) Vᵀ^v_m"),
        c("attention", "factor",
          "dL/dQ^q_e = scale dL/dS^q_m K^m_e",
          "dL/dQ^q_e = dL/dS^q_m K^m_e", ("2",)),
        c("attention", "atom",
          "dL/dQ^q_e = scale dL/dS^q_m K^m_e",
          "dL/dQ^q_e = scale dL/dP^q_m K^m_e", ("dL/dS",)),
        # -- self-attention with projections (n and m are one size) ----------------------
        c("self_attention", "chain",
          "dL/dK^m_e = scale dL/dS^n_m Q^n_e",
          "dL/dK^m_e = scale dL/dS^m_n Q^n_e", ("dL/dS",)),
        c("self_attention", "chain",
          "dL/dQ^n_e = scale dL/dS^n_m K^m_e",
          "dL/dQ^n_e = scale dL/dS^m_n K^m_e", ("dL/dS",)),
        c("self_attention", "chain",
          "dL/dU^m_v = Pᵀ^m_n dL/dO^n_v",
          "dL/dU^m_v = P^m_n dL/dO^n_v", ("P",)),
        c("self_attention", "softmax",
          "dL/dWq^d_e = scale Xᵀ^d_n dL/dS^n_m K^m_e",
          "dL/dWq^d_e = scale Xᵀ^d_n (dL/dP^n_m P^n_m (1 - P^n_m)) K^m_e"),
        c("self_attention", "softmax",
          "dL/dQ^n_e = scale dL/dS^n_m K^m_e",
          "dL/dQ^n_e = scale (P^n_m (1 - P^n_m) dL/dO^n_v U^m_v) K^m_e"),
        c("self_attention", "variable",
          "dL/dWv^d_v = Xᵀ^d_m Pᵀ^m_n dL/dO^n_v",
          "dL/dWv^d_v = Xᵀ^d_m Sᵀ^m_n dL/dO^n_v", ("S", "P")),
        c("self_attention", "atom",
          "dL/dWq^d_e = Xᵀ^d_n dL/dQ^n_e",
          "dL/dWq^d_e = Xᵀ^d_n dL/dK^n_e", ("dL/dQ",)),
        # -- a recurrent cell --------------------------------------------------------------
        c("rnn_cell", "activation",
          "dL/da^n_j = (1 - z^n_j z^n_j) (z^n_j - t^n_j)",
          "dL/da^n_j = (1 - z^n_j) (z^n_j - t^n_j)", ("tanh",)),
        c("rnn_cell", "activation",
          "dL/da^n_j = (1 - z^n_j z^n_j) (z^n_j - t^n_j)",
          "dL/da^n_j = z^n_j (1 - z^n_j) (z^n_j - t^n_j)", ("tanh",)),
        c("rnn_cell", "activation",
          "dL/dU^d_j = xᵀ^d_n ((1 - z^n_j z^n_j) dL/dz^n_j)",
          "dL/dU^d_j = xᵀ^d_n ((1 - z^n_j) dL/dz^n_j)", ("tanh",)),
        c("rnn_cell", "activation",
          "dL/dW^i_j = hᵀ^i_n (tanh'(a^n_j) dL/dz^n_j)",
          "dL/dW^i_j = hᵀ^i_n (sigmoid'(a^n_j) dL/dz^n_j)", ("tanh",)),
        c("rnn_cell", "chain",
          "dL/dh^n_i = dL/da^n_j Wᵀ^j_i",
          "dL/dh^n_i = dL/da^n_j W^j_i", ("W",)),
        c("rnn_cell", "chain",
          "dL/dW^i_j = hᵀ^i_n dL/da^n_j",
          "dL/dW^i_j = dL/daᵀ^i_n h^n_j"),
        c("rnn_cell", "mean",
          "dL/db_j = sum_n dL/da^n_j",
          "dL/db_j = mean_n dL/da^n_j", (N,)),
        c("rnn_cell", "variable",
          "dL/dW^i_j = hᵀ^i_n dL/da^n_j",
          "dL/dW^i_j = zᵀ^i_n dL/da^n_j", ("z", "h")),
        c("rnn_cell", "missing_activation",
          "dL/dW^i_j = hᵀ^i_n ((1 - z^n_j z^n_j) (z^n_j - t^n_j))",
          "dL/dW^i_j = hᵀ^i_n (z^n_j - t^n_j)", ("tanh",)),
        # -- two steps of a recurrent network (W shared) -----------------------------------
        c("rnn_two_steps", "missing_term",
          "dL/dW^i_j = h0ᵀ^i_n dL/da1^n_j + h1ᵀ^i_n dL/da2^n_j",
          "dL/dW^i_j = h1ᵀ^i_n dL/da2^n_j", ("h0",)),
        c("rnn_two_steps", "sign_term",
          "dL/dW^i_j = h0ᵀ^i_n dL/da1^n_j + h1ᵀ^i_n dL/da2^n_j",
          "dL/dW^i_j = h0ᵀ^i_n dL/da1^n_j - h1ᵀ^i_n dL/da2^n_j", ("h1",)),
        c("rnn_two_steps", "chain",
          "dL/dW^i_j = h0ᵀ^i_n dL/da1^n_j + h1ᵀ^i_n dL/da2^n_j",
          "dL/dW^i_j = h0ᵀ^i_n dL/da1^n_j + dL/da2ᵀ^i_n h1^n_j", (("h1", "dL/da2"),)),
        c("rnn_two_steps", "chain",
          "dL/dh1^n_i = dL/da2^n_j Wᵀ^j_i",
          "dL/dh1^n_i = dL/da2^n_j W^j_i", ("W",)),
        c("rnn_two_steps", "activation",
          "dL/da1^n_j = (1 - h1^n_j h1^n_j) dL/dh1^n_j",
          "dL/da1^n_j = (1 - h1^n_j) dL/dh1^n_j", ("tanh",)),
        c("rnn_two_steps", "variable",
          "dL/da1^n_j = (1 - h1^n_j h1^n_j) dL/dh1^n_j",
          "dL/da1^n_j = (1 - h2^n_j h2^n_j) dL/dh1^n_j", ("h2", "h1")),
        c("rnn_two_steps", "variable",
          "dL/dU^d_i = x1ᵀ^d_n dL/da1^n_i + x2ᵀ^d_n dL/da2^n_i",
          "dL/dU^d_i = x1ᵀ^d_n dL/da1^n_i + x1ᵀ^d_n dL/da2^n_i", ("x1", "x2")),
        # -- a GRU-style gate ------------------------------------------------------------
        c("gru_gate", "sign_term",
          "dL/dz^n_j = dL/do^n_j (h^n_j - c^n_j)",
          "dL/dz^n_j = dL/do^n_j (h^n_j + c^n_j)", ("c",)),
        c("gru_gate", "sign_term",
          "dL/dc^n_j = dL/do^n_j (1 - z^n_j)",
          "dL/dc^n_j = dL/do^n_j (1 + z^n_j)", ("z",)),
        c("gru_gate", "activation",
          "dL/dWz^d_j = xᵀ^d_n (z^n_j (1 - z^n_j) dL/dz^n_j)",
          "dL/dWz^d_j = xᵀ^d_n ((1 - z^n_j z^n_j) dL/dz^n_j)", ("sigmoid",)),
        c("gru_gate", "activation",
          "dL/dWc^d_j = xᵀ^d_n ((1 - c^n_j c^n_j) dL/dc^n_j)",
          "dL/dWc^d_j = xᵀ^d_n (c^n_j (1 - c^n_j) dL/dc^n_j)", ("tanh",)),
        c("gru_gate", "activation",
          "dL/dWc^d_j = xᵀ^d_n ((1 - c^n_j c^n_j) dL/dc^n_j)",
          "dL/dWc^d_j = xᵀ^d_n ((1 - c^n_j) dL/dc^n_j)", ("tanh",)),
        c("gru_gate", "variable",
          "dL/dc^n_j = dL/do^n_j (1 - z^n_j)",
          "dL/dc^n_j = dL/do^n_j (1 - h^n_j)", ("h", "z")),
        c("gru_gate", "missing_term",
          "dL/dz^n_j = dL/do^n_j (h^n_j - c^n_j)",
          "dL/dz^n_j = dL/do^n_j h^n_j", ("c",)),
        # -- an LSTM cell ----------------------------------------------------------------
        c("lstm_cell", "activation",
          "dL/dc^n_j = dL/dh^n_j og^n_j (1 - th^n_j th^n_j)",
          "dL/dc^n_j = dL/dh^n_j og^n_j (1 - th^n_j)", ("tanh",)),
        c("lstm_cell", "activation",
          "dL/dag^n_j = dL/dc^n_j ig^n_j (1 - gg^n_j gg^n_j)",
          "dL/dag^n_j = dL/dc^n_j ig^n_j gg^n_j (1 - gg^n_j)", ("tanh",)),
        c("lstm_cell", "activation",
          "dL/dao^n_j = dL/dh^n_j th^n_j og^n_j (1 - og^n_j)",
          "dL/dao^n_j = dL/dh^n_j th^n_j (1 - og^n_j og^n_j)", ("sigmoid",)),
        c("lstm_cell", "activation",
          "dL/dai^n_j = dL/dc^n_j gg^n_j ig^n_j (1 - ig^n_j)",
          "dL/dai^n_j = dL/dc^n_j gg^n_j ig^n_j", ("sigmoid",)),
        c("lstm_cell", "variable",
          "dL/daf^n_j = dL/dc^n_j c0^n_j fg^n_j (1 - fg^n_j)",
          "dL/daf^n_j = dL/dc^n_j c^n_j fg^n_j (1 - fg^n_j)", ("c0",)),
        c("lstm_cell", "variable",
          "dL/dao^n_j = dL/dh^n_j th^n_j og^n_j (1 - og^n_j)",
          "dL/dao^n_j = dL/dh^n_j c^n_j og^n_j (1 - og^n_j)", ("th",)),
        c("lstm_cell", "variable",
          "dL/dag^n_j = dL/dc^n_j ig^n_j (1 - gg^n_j gg^n_j)",
          "dL/dag^n_j = dL/dc^n_j fg^n_j (1 - gg^n_j gg^n_j)", ("ig",)),
        # -- layer normalisation ---------------------------------------------------------
        c("layernorm", "variable",
          "dL/dg_d = sum_n r^n_d xh^n_d",
          "dL/dg_d = sum_n r^n_d x^n_d", ("xh",)),
        c("layernorm", "variable",
          "dL/dg_d = sum_n r^n_d xh^n_d",
          "dL/dg_d = sum_n r^n_d c^n_d", ("xh",)),
        c("layernorm", "variable",
          "dL/dx^n_d = (r^n_d g_d - mean_e r^n_e g_e - xh^n_d mean_e r^n_e g_e xh^n_e) / s^n",
          "dL/dx^n_d = (r^n_d g_d - mean_e r^n_e g_e - x^n_d mean_e r^n_e g_e xh^n_e) / s^n",
          ("xh",)),
        c("layernorm", "mean",
          "dL/dx^n_d = (r^n_d g_d - mean_e r^n_e g_e - xh^n_d mean_e r^n_e g_e xh^n_e) / s^n",
          "dL/dx^n_d = (r^n_d g_d - sum_e r^n_e g_e - xh^n_d mean_e r^n_e g_e xh^n_e) / s^n",
          (("|e|", "|d|", "size of e", "size of d"),)),
        c("layernorm", "mean",
          "dL/dx^n_d = (r^n_d g_d - mean_e r^n_e g_e - xh^n_d mean_e r^n_e g_e xh^n_e) / s^n",
          "dL/dx^n_d = (r^n_d g_d - mean_e r^n_e g_e - xh^n_d sum_e r^n_e g_e xh^n_e) / s^n",
          (("|e|", "|d|", "size of e", "size of d"),)),
        c("layernorm", "sign_term",
          "dL/dx^n_d = (r^n_d g_d - mean_e r^n_e g_e - xh^n_d mean_e r^n_e g_e xh^n_e) / s^n",
          "dL/dx^n_d = (r^n_d g_d + mean_e r^n_e g_e - xh^n_d mean_e r^n_e g_e xh^n_e) / s^n",
          ("g",)),
        c("layernorm", "sign_term",
          "dL/dx^n_d = (r^n_d g_d - mean_e r^n_e g_e - xh^n_d mean_e r^n_e g_e xh^n_e) / s^n",
          "dL/dx^n_d = (r^n_d g_d - mean_e r^n_e g_e + xh^n_d mean_e r^n_e g_e xh^n_e) / s^n",
          ("xh",)),
        c("layernorm", "mean",
          "dL/dg_d = sum_n r^n_d xh^n_d",
          "dL/dg_d = mean_n r^n_d xh^n_d", (N,)),
        c("layernorm", "factor",
          "dL/dv^n = dL/ds^n / s^n / 2",
          "dL/dv^n = dL/ds^n / s^n", ("2",)),
        c("layernorm", "mean",
          "dL/dc^n_d = dL/dxh^n_d / s^n + 2/|d| c^n_d dL/dv^n",
          "dL/dc^n_d = dL/dxh^n_d / s^n + 2 c^n_d dL/dv^n", (("|d|", "size of d"),)),
        c("layernorm", "sign_term",
          "dL/dc^n_d = dL/dxh^n_d / s^n + 2/|d| c^n_d dL/dv^n",
          "dL/dc^n_d = dL/dxh^n_d / s^n - 2/|d| c^n_d dL/dv^n", ("dL/dv",)),
        # -- batch normalisation ---------------------------------------------------------
        c("batchnorm", "mean",
          "dL/db_d = sum_n r^n_d",
          "dL/db_d = mean_n r^n_d", (N,)),
        c("batchnorm", "mean",
          "dL/dx^n_d = g_d / s_d (r^n_d - mean_m r^m_d - xh^n_d mean_m r^m_d xh^m_d)",
          "dL/dx^n_d = g_d / s_d (r^n_d - sum_m r^m_d - xh^n_d mean_m r^m_d xh^m_d)",
          (("|m|", "|n|", "size of m", "size of n"),)),
        c("batchnorm", "mean",
          "dL/dx^n_d = g_d / s_d (r^n_d - mean_m r^m_d - xh^n_d mean_m r^m_d xh^m_d)",
          "dL/dx^n_d = g_d / s_d (r^n_d - mean_m r^m_d - xh^n_d sum_m r^m_d xh^m_d)",
          (("|m|", "|n|", "size of m", "size of n"),)),
        c("batchnorm", "variable",
          "dL/dg_d = sum_n r^n_d xh^n_d",
          "dL/dg_d = sum_n r^n_d c^n_d", ("xh",)),
        c("batchnorm", "variable",
          "dL/dx^n_d = g_d / s_d (r^n_d - mean_m r^m_d - xh^n_d mean_m r^m_d xh^m_d)",
          "dL/dx^n_d = g_d / s_d (r^n_d - mean_m r^m_d - x^n_d mean_m r^m_d xh^m_d)",
          ("xh",)),
        c("batchnorm", "sign_term",
          "dL/dx^n_d = g_d / s_d (r^n_d - mean_m r^m_d - xh^n_d mean_m r^m_d xh^m_d)",
          "dL/dx^n_d = g_d / s_d (r^n_d + mean_m r^m_d - xh^n_d mean_m r^m_d xh^m_d)",
          ("r",)),
        c("batchnorm", "sign",
          "dL/dmu_d = -sum_n dL/dc^n_d",
          "dL/dmu_d = sum_n dL/dc^n_d"),
        c("batchnorm", "mean",
          "dL/dc^n_d = dL/dxh^n_d / s_d + 2/|n| c^n_d dL/dv_d",
          "dL/dc^n_d = dL/dxh^n_d / s_d + 2 c^n_d dL/dv_d", (N,)),
        c("batchnorm", "sign_term",
          "dL/dc^n_d = dL/dxh^n_d / s_d + 2/|n| c^n_d dL/dv_d",
          "dL/dc^n_d = dL/dxh^n_d / s_d - 2/|n| c^n_d dL/dv_d", ("dL/dv",)),
        # -- RMS normalisation -----------------------------------------------------------
        c("rmsnorm", "mean",
          "dL/dx^n_d = (dL/dxh^n_d - xh^n_d mean_e dL/dxh^n_e xh^n_e) / s^n",
          "dL/dx^n_d = (dL/dxh^n_d - xh^n_d sum_e dL/dxh^n_e xh^n_e) / s^n",
          (("|e|", "|d|", "size of e", "size of d"),)),
        c("rmsnorm", "variable",
          "dL/dg_d = sum_n (y^n_d - t^n_d) xh^n_d",
          "dL/dg_d = sum_n (y^n_d - t^n_d) x^n_d", ("xh",)),
        c("rmsnorm", "variable",
          "dL/dx^n_d = (dL/dxh^n_d - xh^n_d mean_e dL/dxh^n_e xh^n_e) / s^n",
          "dL/dx^n_d = (dL/dxh^n_d - x^n_d mean_e dL/dxh^n_e xh^n_e) / s^n", ("xh",)),
        c("rmsnorm", "sign_term",
          "dL/dx^n_d = (dL/dxh^n_d - xh^n_d mean_e dL/dxh^n_e xh^n_e) / s^n",
          "dL/dx^n_d = (dL/dxh^n_d + xh^n_d mean_e dL/dxh^n_e xh^n_e) / s^n", ("xh",)),
        c("rmsnorm", "factor",
          "dL/dm^n = -1/2 sum_d dL/dxh^n_d xh^n_d / s^n / s^n",
          "dL/dm^n = -sum_d dL/dxh^n_d xh^n_d / s^n / s^n", ("2",)),
        c("rmsnorm", "sign_term",
          "dL/dg_d = sum_n (y^n_d - t^n_d) xh^n_d",
          "dL/dg_d = sum_n (y^n_d + t^n_d) xh^n_d", ("t",)),
        # -- matrix calculus: quadratic forms ---------------------------------------------
        c("quadratic_form", "symmetry",
          "dQ/dx^i = S^i_k x^k + Sᵀ^i_k x^k",
          "dQ/dx^i = 2 S^i_k x^k", ("S",)),
        c("quadratic_form", "symmetry",
          "dQ/dx^i = S^i_k x^k + Sᵀ^i_k x^k",
          "dQ/dx^i = 2 Sᵀ^i_k x^k", ("S",)),
        c("quadratic_form", "symmetry",
          "dQ/dx^i = S^i_k x^k + S^k_i x^k",
          "dQ/dx^i = 2 x^k S^k_i", ("S",)),
        c("quadratic_form", "missing_term",
          "dQ/dx^i = S^i_k x^k + Sᵀ^i_k x^k",
          "dQ/dx^i = S^i_k x^k", ("S",)),
        c("quadratic_form", "sign_term",
          "dQ/dx^i = S^i_k x^k + Sᵀ^i_k x^k",
          "dQ/dx^i = S^i_k x^k - Sᵀ^i_k x^k", ("S",)),
        c("quadratic_matrix", "symmetry",
          "df/dX^i_n = S^i_k X^k_n + S^k_i X^k_n",
          "df/dX^i_n = 2 S^i_k X^k_n", ("S",)),
        c("quadratic_matrix", "symmetry",
          "df/dX^i_n = S^i_k X^k_n + S^k_i X^k_n",
          "df/dX^i_n = 2 S^k_i X^k_n", ("S",)),
        c("quadratic_matrix", "sign_term",
          "df/dX^i_n = S^i_k X^k_n + S^k_i X^k_n",
          "df/dX^i_n = S^i_k X^k_n - S^k_i X^k_n", ("S",)),
        c("quadratic_matrix", "missing_term",
          "df/dX^i_n = S^i_k X^k_n + S^k_i X^k_n",
          "df/dX^i_n = S^i_k X^k_n", ("S",)),
        c("mahalanobis", "symmetry",
          "dm/dx^i = S^i_k e^k + S^k_i e^k",
          "dm/dx^i = 2 S^i_k e^k", ("S",)),
        c("mahalanobis", "symmetry",
          "dm/dmu^i = -S^i_k e^k - S^k_i e^k",
          "dm/dmu^i = -2 S^i_k e^k", ("S",)),
        c("mahalanobis", "symmetry",
          "dm/de^i = S^i_k e^k + Sᵀ^i_k e^k",
          "dm/de^i = 2 Sᵀ^i_k e^k", ("S",)),
        c("mahalanobis", "variable",
          "dm/dx^i = S^i_k e^k + S^k_i e^k",
          "dm/dx^i = S^i_k e^k + S^k_i x^k", ("x", "e")),
        c("mahalanobis", "sign_term",
          "dm/dmu^i = -S^i_k e^k - S^k_i e^k",
          "dm/dmu^i = -S^i_k e^k + S^k_i e^k", ("S",)),
        c("mahalanobis", "sign",
          "dm/dmu^i = -S^i_k e^k - S^k_i e^k",
          "dm/dmu^i = S^i_k e^k + S^k_i e^k"),
        # -- matrix calculus: bilinear forms and traces -----------------------------------
        c("bilinear", "transposed",
          "dB/dA^i_j = u^i v^j",
          "dB/dA^i_j = u^j v^i"),
        c("bilinear", "transposed",
          "dB/dv^j = Aᵀ^j_i u^i",
          "dB/dv^j = A^j_i u^i", ("A",)),
        c("bilinear", "variable",
          "dB/du^i = A^i_j v^j",
          "dB/du^i = A^i_j u^j", ("u", "v")),
        c("trace_chain", "chain",
          "dT/dA^i_j = Cᵀ^i_k Bᵀ^k_j",
          "dT/dA^i_j = Bᵀ^i_k Cᵀ^k_j"),
        c("trace_chain", "chain",
          "dT/dB^j_k = Aᵀ^j_i Cᵀ^i_k",
          "dT/dB^j_k = Cᵀ^j_i Aᵀ^i_k"),
        c("trace_chain", "chain",
          "dT/dC^k_i = Bᵀ^k_j Aᵀ^j_i",
          "dT/dC^k_i = Aᵀ^k_j Bᵀ^j_i"),
        c("trace_chain", "chain",
          "dT/dB^j_k = Aᵀ^j_i Cᵀ^i_k",
          "dT/dB^j_k = A^j_i Cᵀ^i_k", ("A",)),
        c("trace_chain", "chain",
          "dT/dC^k_i = Bᵀ^k_j Aᵀ^j_i",
          "dT/dC^k_i = A^k_j B^j_i"),
        c("trace_chain", "factor",
          "dT/dB^j_k = Aᵀ^j_i Cᵀ^i_k",
          "dT/dB^j_k = 2 Aᵀ^j_i Cᵀ^i_k", ("2",)),
        # -- matrix calculus: least squares with two matrices -----------------------------
        c("least_squares_matrix", "chain",
          "dE/dX^i_j = Aᵀ^i_m R^m_p Bᵀ^p_j",
          "dE/dX^i_j = Aᵀ^i_m R^m_p B^p_j", ("B",)),
        c("least_squares_matrix", "chain",
          "dE/dX^i_j = Aᵀ^i_m R^m_p Bᵀ^p_j",
          "dE/dX^i_j = A^i_m R^m_p Bᵀ^p_j", ("A",)),
        c("least_squares_matrix", "sign_term",
          "dE/dX^i_j = Aᵀ^i_m (A^m_k X^k_l B^l_p - Y^m_p) Bᵀ^p_j",
          "dE/dX^i_j = Aᵀ^i_m (A^m_k X^k_l B^l_p + Y^m_p) Bᵀ^p_j", ("Y",)),
        c("least_squares_matrix", "variable",
          "dE/dX^i_j = Aᵀ^i_m R^m_p Bᵀ^p_j",
          "dE/dX^i_j = Aᵀ^i_m Y^m_p Bᵀ^p_j", ("Y", "R")),
        c("least_squares_square", "chain",
          "dE/dX^i_j = Aᵀ^i_m R^m_p Bᵀ^p_j",
          "dE/dX^i_j = Aᵀ^i_m R^m_p B^p_j", ("B",)),
        c("least_squares_square", "chain",
          "dE/dX^i_j = Aᵀ^i_m R^m_p Bᵀ^p_j",
          "dE/dX^i_j = A^i_m R^m_p Bᵀ^p_j", ("A",)),
        c("least_squares_square", "chain",
          "dE/dB^j_p = Xᵀ^j_i Aᵀ^i_m R^m_p",
          "dE/dB^j_p = Aᵀ^j_i Xᵀ^i_m R^m_p"),
        c("least_squares_square", "chain",
          "dE/dA^m_i = R^m_p Bᵀ^p_j Xᵀ^j_i",
          "dE/dA^m_i = R^m_p Xᵀ^p_j Bᵀ^j_i"),
        c("least_squares_square", "variable",
          "dE/dX^i_j = Aᵀ^i_m R^m_p Bᵀ^p_j",
          "dE/dX^i_j = Aᵀ^i_m Y^m_p Bᵀ^p_j", ("Y", "R")),
        # -- matrix factorisation with L2 ----------------------------------------------------
        c("matrix_factorization", "sign_term",
          "dL/dU^u_r = E^u_m V^m_r + lambda U^u_r",
          "dL/dU^u_r = E^u_m V^m_r - lambda U^u_r", ("lambda U",)),
        c("matrix_factorization", "variable",
          "dL/dU^u_r = E^u_m V^m_r + lambda U^u_r",
          "dL/dU^u_r = R^u_m V^m_r + lambda U^u_r", ("R", "E")),
        c("matrix_factorization", "transposed",
          "dL/dV^m_r = Eᵀ^m_u U^u_r + lambda V^m_r",
          "dL/dV^m_r = E^m_u U^u_r + lambda V^m_r", ("E",)),
        c("matrix_factorization", "sign_term",
          "dL/dV^m_r = (U^u_s V^m_s - R^u_m) U^u_r + lambda V^m_r",
          "dL/dV^m_r = (U^u_s V^m_s + R^u_m) U^u_r + lambda V^m_r", ("R",)),
        c("matrix_factorization", "mean",
          "dL/dV^m_r = Eᵀ^m_u U^u_r + lambda V^m_r",
          "dL/dV^m_r = 1/|u| Eᵀ^m_u U^u_r + lambda V^m_r", (("|u|", "size of u"),)),
        c("matrix_factorization", "missing_term",
          "dL/dV^m_r = Eᵀ^m_u U^u_r + lambda V^m_r",
          "dL/dV^m_r = Eᵀ^m_u U^u_r", ("lambda V",)),
        # -- a tied autoencoder ----------------------------------------------------------
        c("tied_autoencoder", "missing_term",
          "dL/dW^d_h = rᵀ^d_n z^n_h + xᵀ^d_n (z^n_h (1 - z^n_h) dL/dz^n_h)",
          "dL/dW^d_h = xᵀ^d_n (z^n_h (1 - z^n_h) dL/dz^n_h)", ("r",)),
        c("tied_autoencoder", "sign_term",
          "dL/dW^d_h = rᵀ^d_n z^n_h + xᵀ^d_n (z^n_h (1 - z^n_h) dL/dz^n_h)",
          "dL/dW^d_h = rᵀ^d_n z^n_h - xᵀ^d_n (z^n_h (1 - z^n_h) dL/dz^n_h)", ("x",)),
        c("tied_autoencoder", "activation",
          "dL/dW^d_h = rᵀ^d_n z^n_h + xᵀ^d_n (z^n_h (1 - z^n_h) dL/dz^n_h)",
          "dL/dW^d_h = rᵀ^d_n z^n_h + xᵀ^d_n ((1 - z^n_h z^n_h) dL/dz^n_h)", ("sigmoid",)),
        c("tied_autoencoder", "variable",
          "dL/dW^d_h = rᵀ^d_n z^n_h + xᵀ^d_n (z^n_h (1 - z^n_h) dL/dz^n_h)",
          "dL/dW^d_h = xᵀ^d_n z^n_h + xᵀ^d_n (z^n_h (1 - z^n_h) dL/dz^n_h)", ("r",)),
        c("tied_autoencoder", "chain",
          "dL/dz^n_h = r^n_d W^d_h",
          "dL/dz^n_h = r^n_d Wᵀ^d_h", ("W",)),
        # -- Poisson regression ----------------------------------------------------------
        c("poisson_regression", "sign_term",
          "dL/dw^d = Xᵀ^d_n (exp(z^n) - y^n)",
          "dL/dw^d = Xᵀ^d_n (exp(z^n) + y^n)", ("y",)),
        c("poisson_regression", "mean",
          "dL/dw^d = Xᵀ^d_n (exp(z^n) - y^n)",
          "dL/dw^d = mean_n Xᵀ^d_n (exp(z^n) - y^n)", (N,)),
        c("poisson_regression", "missing_term",
          "dL/dz^n = exp(z^n) - y^n",
          "dL/dz^n = exp(z^n)", ("y",)),
        # -- a Gaussian negative log-likelihood -------------------------------------------
        c("gaussian_nll", "mean",
          "dL/ds_d = |n| / s_d - sum_n (x^n_d - mu_d)^2 / s_d^3",
          "dL/ds_d = 1 / s_d - sum_n (x^n_d - mu_d)^2 / s_d^3", (N,)),
        c("gaussian_nll", "sign_term",
          "dL/ds_d = |n| / s_d - sum_n (x^n_d - mu_d)^2 / s_d^3",
          "dL/ds_d = |n| / s_d + sum_n (x^n_d - mu_d)^2 / s_d^3", ("x",)),
        c("gaussian_nll", "sign",
          "dL/dmu_d = -sum_n (x^n_d - mu_d) / s_d^2",
          "dL/dmu_d = sum_n (x^n_d - mu_d) / s_d^2"),
        c("gaussian_nll", "mean",
          "dL/dmu_d = -sum_n (x^n_d - mu_d) / s_d^2",
          "dL/dmu_d = -mean_n (x^n_d - mu_d) / s_d^2", (N,)),
        c("gaussian_nll", "sign_term",
          "dL/dmu_d = sum_n (mu_d - x^n_d) / s_d^2",
          "dL/dmu_d = sum_n (mu_d + x^n_d) / s_d^2", ("x",)),
        # -- swish -----------------------------------------------------------------------
        c("swish", "activation",
          "dL/da^n_h = dL/dy^n_h (s^n_h + a^n_h s^n_h (1 - s^n_h))",
          "dL/da^n_h = dL/dy^n_h (s^n_h + a^n_h (1 - s^n_h s^n_h))", ("sigmoid",)),
        c("swish", "activation",
          "dL/da^n_h = dL/dy^n_h (s^n_h + a^n_h s^n_h (1 - s^n_h))",
          "dL/da^n_h = dL/dy^n_h (s^n_h + a^n_h (1 - s^n_h))", ("sigmoid",)),
        c("swish", "sign_term",
          "dL/da^n_h = dL/dy^n_h (s^n_h + a^n_h s^n_h (1 - s^n_h))",
          "dL/da^n_h = dL/dy^n_h (s^n_h - a^n_h s^n_h (1 - s^n_h))", ("a",)),
        c("swish", "missing_term",
          "dL/da^n_h = dL/dy^n_h (s^n_h + a^n_h s^n_h (1 - s^n_h))",
          "dL/da^n_h = dL/dy^n_h s^n_h", ("a",)),
        c("swish", "variable",
          "dL/dW^d_h = xᵀ^d_n (dL/dy^n_h (s^n_h + a^n_h s^n_h (1 - s^n_h)))",
          "dL/dW^d_h = xᵀ^d_n (dL/dy^n_h (s^n_h + y^n_h s^n_h (1 - s^n_h)))", ("y", "a")),
        # -- a gated linear unit ---------------------------------------------------------
        c("glu", "variable",
          "dL/dW^d_h = xᵀ^d_n (dL/dy^n_h g^n_h)",
          "dL/dW^d_h = xᵀ^d_n (dL/dy^n_h u^n_h)", ("u", "g")),
        c("glu", "activation",
          "dL/dV^d_h = xᵀ^d_n (dL/dy^n_h u^n_h g^n_h (1 - g^n_h))",
          "dL/dV^d_h = xᵀ^d_n (dL/dy^n_h u^n_h (1 - g^n_h g^n_h))", ("sigmoid",)),
        c("glu", "activation",
          "dL/dV^d_h = xᵀ^d_n (dL/dy^n_h u^n_h g^n_h (1 - g^n_h))",
          "dL/dV^d_h = xᵀ^d_n (dL/dy^n_h u^n_h g^n_h)", ("sigmoid",)),
        c("glu", "variable",
          "dL/dV^d_h = xᵀ^d_n (dL/dy^n_h u^n_h g^n_h (1 - g^n_h))",
          "dL/dV^d_h = xᵀ^d_n (dL/dy^n_h g^n_h g^n_h (1 - g^n_h))", ("u",)),
        c("glu", "sign_term",
          "dL/dy^n_h = y^n_h - t^n_h",
          "dL/dy^n_h = y^n_h + t^n_h", ("t",)),
        # -- cosine similarity -----------------------------------------------------------
        c("cosine", "sign_term",
          "dc/du^i = v^i / nu / nv - c u^i / nu / nu",
          "dc/du^i = v^i / nu / nv + c u^i / nu / nu", ("u",)),
        c("cosine", "variable",
          "dc/du^i = v^i / nu / nv - c u^i / nu / nu",
          "dc/du^i = v^i / nu / nv - c v^i / nu / nu", ("u",)),
        c("cosine", "missing_term",
          "dc/du^i = v^i / nu / nv - c u^i / nu / nu",
          "dc/du^i = v^i / nu / nv", ("u",)),
        # -- KL divergence through a softmax ----------------------------------------------
        c("kl_softmax", "softmax",
          "dL/dz^n_k = p^n_k (dL/dp^n_k - sum_j dL/dp^n_j p^n_j)",
          "dL/dz^n_k = dL/dp^n_k p^n_k (1 - p^n_k)"),
        c("kl_softmax", "softmax",
          "dL/dz^n_k = p^n_k (log(p^n_k) - log(q^n_k) - sum_j p^n_j (log(p^n_j) - log(q^n_j)))",
          "dL/dz^n_k = p^n_k (1 - p^n_k) (log(p^n_k) - log(q^n_k) + 1)"),
        c("kl_softmax", "sign_term",
          "dL/dp^n_k = log(p^n_k) - log(q^n_k) + 1",
          "dL/dp^n_k = log(p^n_k) + log(q^n_k) + 1", ("q",)),
        c("kl_softmax", "variable",
          "dL/dp^n_k = log(p^n_k) - log(q^n_k) + 1",
          "dL/dp^n_k = log(z^n_k) - log(q^n_k) + 1", ("z", "p")),
        # -- log-sum-exp with a temperature -----------------------------------------------
        c("logsumexp_temp", "sign_term",
          "dL/da^n = softmax[n](a^n / tau) - y^n",
          "dL/da^n = softmax[n](a^n / tau) + y^n", ("y",)),
        c("logsumexp_temp", "factor",
          "dL/da^n = softmax[n](a^n / tau) - y^n",
          "dL/da^n = 2 softmax[n](a^n / tau) - 2 y^n", ("2",)),
        c("logsumexp_temp", "missing_term",
          "dL/da^n = softmax[n](a^n / tau) - y^n",
          "dL/da^n = softmax[n](a^n / tau)", ("y",)),
    ]
    return out


#: every case of the corpus, in the order written
CASES: list[Case] = _cases() + _heldout()


def diagnose_all(cases: Sequence[Case] = CASES) -> list[tuple[Case, bool, str]]:
    """Each case with whether ``check`` failed it and its diagnosis.

    The wrong claims of one program are checked together (each claim is
    judged on its own), on one draw, without the finite-difference step.
    """
    out: list[tuple[Case, bool, str]] = []
    for name in dict.fromkeys(c.program for c in cases):
        group = [c for c in cases if c.program == name]
        text = PROGRAMS[name] + "\n" + "\n".join(f"claim {c.wrong}" for c in group)
        report = check(parse(text), draws=1, confirm=False)
        out += [(c, not r.ok, r.diagnosis) for c, r in zip(group, report, strict=True)]
    return out


def rates(results: Sequence[tuple[Case, bool, str]]) -> dict[str, tuple[int, int, int]]:
    """Per category (and ``all``): (cases, named the planted mistake, wrong diagnoses).

    >>> rates([(CASES[0], True, "no simple correction fits")])
    {'sign_term': (1, 0, 0), 'all': (1, 0, 0)}
    """
    out: dict[str, tuple[int, int, int]] = {}
    for case, _, diagnosis in results:
        named = names_mistake(case, diagnosis)
        wrong = not named and not is_unspecific(diagnosis)
        for key in (case.category, "all"):
            n, k, w = out.get(key, (0, 0, 0))
            out[key] = (n + 1, k + named, w + wrong)
    return out
