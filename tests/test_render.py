"""Rendering: compact, document and LaTeX forms, matrix forms, loop nests, einsum strings."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from indexnet.errors import InvalidArgumentError
from indexnet.ir import format_number
from indexnet.program import parse
from indexnet.render import (
    einsum_equation,
    latex_name,
    loop_nest,
    matrix_form,
    render,
    render_latex,
)


def eq(text: str):
    return parse(text).equations[-1]


SEED_NET = ("input ^n(x)_d\nparam (w)_h^d, (b)_h\nconst λ = 0.5\n"
            "^n(a)_h = ^n(x)_d (w)^d_h + (b)_h\nL = λ/2 sum_{dh} (w)^d_h (w)^d_h")


def test_compact_and_document_forms() -> None:
    program = parse(SEED_NET)
    assert program.render("compact").splitlines() == [
        "input x^n_d",
        "param w^d_h",
        "param b_h",
        "const λ = 0.5",
        "a^n_h = x^n_d w^d_h + b_h",
        "L = λ/2 sum_{dh} w^d_h w^d_h",
    ]
    assert program.render("document").splitlines() == [
        "input ^n(x)_d",
        "param (w)_h^d",
        "param (b)_h",
        "const λ = 0.5",
        "^n(a)_h = ^n(x)_d (w)_h^d + (b)_h",
        "L = λ/2 Σ_{dh} (w)_h^d (w)_h^d",
    ]


def test_document_form_as_the_seed_prints_it() -> None:
    assert render(eq("g^d_h = xᵀ_n^d δ^n_h"), "document") == "^d(g)_h = _n(x^T)^d ^n(δ)_h"
    assert render(eq("y^n_h = f'(a^n_h) ⊙ e^n_h"), "document") == \
        "^n(y)_h = f'(^n(a)_h) ⊙ ^n(e)_h"
    assert render(eq("^n(a_{ℓ-1})_h = x^n_h - 1"), "document") == "^n(a_{ℓ-1})_h = ^n(x)_h − 1"
    # labelled tensors fall back to the document spelling in the compact form
    assert render(eq("^n(a_{ℓ-1})_h = x^n_h"), "compact") == "^n(a_{ℓ-1})_h = x^n_h"


def test_numbers_and_coefficients() -> None:
    assert format_number(Fraction(1, 100)) == "0.01"
    assert format_number(Fraction(-5, 2)) == "-5/2"  # a rational stays one (spec 5.1)
    assert format_number(Fraction(1, 2)) == "1/2"
    assert format_number(Fraction(-1, 20)) == "-1/20"
    assert format_number(Fraction(1, 3)) == "1/3"
    assert format_number(Fraction(5, 2) / 10) == "1/4"
    assert format_number(Fraction(-125, 100)) == "-5/4"
    assert format_number(Fraction(123, 1000)) == "0.123"
    assert render(eq("y = 1/3 x")) == "y = 1/3 x"
    assert render(eq("y = x / 2")) == "y = 1/2 x"
    # a constant keeps its spelling, whatever it is
    for text in ("0.5", "1/2", "-1/100", "1e-5", "2.50", "0.01"):
        assert render(parse(f"const c = {text}\ninput x\ny = c x")).splitlines()[0] == \
            f"const c = {text}"
    assert render(eq("const c = 2\ny = c x/4")) == "y = c/4 x"
    assert render(eq("const c = 2\ny = x/c")) == "y = 1/c x"
    assert render(eq("y = -x^n z_n + 2 u")) == "y = -x^n z_n + 2 u"


def test_latex_is_katex_friendly() -> None:
    program = parse(SEED_NET)
    latex = render_latex(program)
    assert latex.count("{") == latex.count("}")
    assert "{}^{n}(a)_{h} &= {}^{n}(x)_{d}\\,(w)_{h}^{d} + (b)_{h}" in latex
    assert "\\frac{\\lambda}{2}" in latex and "\\sum_{dh}" in latex
    assert "−" not in latex
    softmax = render_latex(eq("p^n_k = softmax[k](a^n_k) / sqrt(s) + abs(x^n_k)"))
    assert "\\operatorname{softmax}_{k}" in softmax and "\\sqrt{s}" in softmax
    assert "\\left|{}^{n}(x)_{k}\\right|" in softmax


def test_latex_names() -> None:
    assert [latex_name(n) for n in ("δ", "lambda", "ŷ", "W1", "yhat", "x")] == [
        "\\delta", "\\lambda", "\\hat{y}", "W1", "\\mathrm{yhat}", "x"]


def test_unknown_form() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown form 'markdown'"):
        render(eq("y = x"), "markdown")


@pytest.mark.parametrize(("text", "form"), [
    ("a^n_h = x^n_d W^d_h + b_h", "a = x W + b"),
    ("g^d_h = xᵀ_n^d δ^n_h", "g = xᵀ δ"),
    ("e^n_h = δ^n_d Wᵀ^d_h", "e = δ Wᵀ"),
    ("db_h = δ^n_h", "db = Σ_n δ"),
    ("t = A^i_i", "t = tr(A)"),
    ("d^i = A^i_i", "d = diag(A)"),
    ("o^i_j = u^i v_j", "o = u vᵀ"),
    ("h^n_h = a^n_h ⊙ b^n_h", "h = a ⊙ b"),
    ("h^n_h = a^n_h bᵀ^n_h", "h = a ⊙ bᵀ"),
    ("q = u^i A^i_j v^j", "q = uᵀ A v"),
    ("r^j = u^i A^i_j", "r = Aᵀ u"),
    ("c^i_l = A^i_j B^j_k C^k_l", "c = A B C"),
    ("n = W^d_h W^d_h", "n = ‖W‖²"),
    ("p = A^i_j B^i_j", "p = ⟨A, B⟩"),
    ("t = A^i_j B^j_i", "t = ⟨A, Bᵀ⟩"),
    ("t = A^i_j B^j_k C^k_i", "t = tr(A B C)"),
    ("s^n_h = a^n_h v_h", "s = a diag(v)"),
    ("s^n_h = v^n a^n_h", "s = diag(v) a"),
    ("y^n_h = sigmoid(x^n_d W^d_h)", "y = sigmoid(x W)"),
    ("const lambda = 1\nL = -lambda/2 W^d_h W^d_h", "L = −lambda/2 ‖W‖²"),
    ("c^b^i_k = A^b^i_j B^b^j_k", None),
    ("c^n_h = A^n_h B^n_h C^h", None),
])
def test_matrix_forms(text: str, form: str | None) -> None:
    found = matrix_form(eq(text))
    assert found.text == form, found
    if form is None:
        assert str(found).startswith("no matrix form: ")


def test_loop_nest() -> None:
    assert loop_nest(eq("a^n_h = x^n_d W^d_h + b_h")).splitlines() == [
        "for n, h:",
        "    a[n,h] = 0",
        "    for d:",
        "        a[n,h] += x[n,d]·W[d,h]",
        "    a[n,h] += b[h]",
    ]
    assert loop_nest(eq("y^n_k = softmax[k](a^n_k)")).splitlines() == [
        "for n:",
        "    y[n,:] = softmax(a[n,:])",
    ]
    nest = loop_nest(eq("const lambda = 2\n"
                        "L = -sum_{nk} y^n_k log(p^n_k) + lambda/2 (u^i u^i + v^j v^j)"))
    assert nest.splitlines() == [
        "t1 = 0",
        "for i:",
        "    t1 += u[i]·u[i]",
        "for j:",
        "    t1 += v[j]·v[j]",
        "L = 0",
        "for n, k:",
        "    L -= y[n,k]·log(p[n,k])",
        "L += lambda/2·t1",
    ]


def test_loop_nest_hoists_inner_products() -> None:
    lines = loop_nest(eq("y^n = sigmoid(x^n_d w^d) / 2")).splitlines()
    assert lines == [
        "for n:",
        "    t1[n] = 0",
        "    for d:",
        "        t1[n] += x[n,d]·w[d]",
        "for n:",
        "    y[n] = 1/2·sigmoid(t1[n])",
    ]


@pytest.mark.parametrize(("subscripts", "text"), [
    ("nd,dh->nh", "out^n_h = A^n_d B^d_h"),
    ("nd,nh->dh", "out^d_h = A^n_d B^n_h"),
    ("ii->", "out = A^i_i"),
    ("ij->", "out = A^i_j"),
    ("i,j->ij", "out^i_j = A^i B^j"),
    ("abc,cd->abd", "out^a_{bd} = A^a_{bc} B^c_d"),
])
def test_einsum_strings_as_equations(subscripts: str, text: str) -> None:
    assert einsum_equation(subscripts) == text
    assert eq(text).einsums() in ([subscripts], [])


def test_loop_nest_of_a_claim_that_does_not_fit_names_its_problem() -> None:
    # once an IndexError (the claim's right-hand side is empty when it does not fit)
    from indexnet.render import loop_nest

    p = parse("param b\ninput x^n\nL = sum_n (b + x^n)\nclaim dL/db^n = 1\n")
    text = loop_nest(p.claims[0])
    assert text.startswith("# no loops: ") and "b has 0 indices" in text


def test_divisors_sharing_a_letter_the_term_sums_are_summed_outside_their_bar() -> None:
    # dL/du^j = sum_k 1 / (2 s_k W_{jk}) with s_k = (u^b / W_{bk})^{1/2}: under one bar
    # without the sum, rule 3 would sum k inside the parentheses (another formula)
    text = "param W_{jk} : uniform(1, 2)\nparam u^j : uniform(1, 2)\nsize j=2, k=3\n" \
           "L = sum_k (u^j / W_{jk})^{0.5}\n"
    derived = parse(text).derive("L", confirm=False)
    du = next(d for d in derived.derivations if d.wrt.key == "u")
    assert str(du) == "dL/du^j = sum_k 1 / (2 (u^b / W_{bk})^{1/2} W_{jk})"
    assert "\\sum_{k} \\frac{1}{2\\," in render_latex(derived).splitlines()[-2]
    arrays = derived.random_inputs(seed=3)
    again = parse(f"{text}claim {du}\n")  # the printed text reads back as the same formula
    assert again.check(draws=1).ok
    dw = next(d for d in derived.derivations if d.wrt.key == "W")  # k free: one bar, no sum
    assert str(dw) == "dL/dW_{jk} = -u^j / (2 (u^b / W_{bk})^{1/2} W_{jk}^2)"
    exact = derived.evaluate(**arrays)["dL/du"]
    u, w = arrays["u"], arrays["W"]
    np.testing.assert_allclose(exact, (1 / (2 * np.sqrt(u @ (1 / w)) * w)).sum(axis=1),
                               rtol=1e-12)
