"""Matrix functions (INDEX-LANGUAGE.md, section 5.6): inv, det, logdet and the spd domain,
read in both spellings, rendered back, evaluated against NumPy, differentiated against central
finite differences and judged as claims."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexnet import ProgramError, parse
from indexnet.errors import ProgramSizeError
from indexnet.render import render

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

FUNCTIONS = """\
param A^i_j
input W^i_j, v^i
B^i_j = inv(A^i_j)
C^i_j = inv(A^j_i + 2 eye^i_j)
d = det(A^i_j)
l = logdet(A^i_j)
L = W^i_j B^i_j + v^i C^i_j v^j + d + l
"""


def central_differences(program, arrays, of, key, eps=1e-6):
    """d{of}/d{key} by central differences, entry by entry (the oracle)."""
    grad = np.zeros_like(arrays[key])
    for index in np.ndindex(arrays[key].shape):
        for sign in (1, -1):
            moved = {k: v.copy() for k, v in arrays.items()}
            moved[key][index] += sign * eps
            grad[index] += sign * float(program.evaluate(**moved)[of]) / (2 * eps)
    return grad


# -- evaluation --------------------------------------------------------------------------------


def test_inv_det_and_logdet_evaluate_as_numpy_does() -> None:
    program = parse(FUNCTIONS)
    arrays = program.random_inputs({"i": 4}, seed=3)
    out = program.evaluate(**arrays)
    a, w, v = arrays["A"], arrays["W"], arrays["v"]
    inv_a = np.linalg.inv(a)
    c = np.linalg.inv(a.T + 2 * np.eye(4))
    np.testing.assert_allclose(out["B"], inv_a)
    np.testing.assert_allclose(out["C"], c)
    np.testing.assert_allclose(out["d"], np.linalg.det(a))
    np.testing.assert_allclose(out["l"], np.linalg.slogdet(a)[1])
    want = (w * inv_a).sum() + v @ c @ v + np.linalg.det(a) + np.linalg.slogdet(a)[1]
    np.testing.assert_allclose(out["L"], want)


def test_inv_is_square_and_the_size_model_joins_its_letters() -> None:
    program = parse("input A^i_j\nB^i_j = inv(A^i_j)")
    assert program.random_inputs()["A"].shape == (3, 3)
    with pytest.raises(ProgramSizeError):
        parse("input A^i_j\nsize i=3, j=4\nB^i_j = inv(A^i_j)").random_inputs()


def test_the_document_form_is_the_same_program() -> None:
    compact = parse("input A^i_j, x^j\ny^i = inv(A^i_j) x^j\nz = det(A^i_j) + logdet(A^i_j)")
    document = parse("input (A)^i_j, (x)^j\n(y)^i = (A^{-1})^i_j (x)^j\n"
                     "z = det((A)^i_j) + logdet((A)^i_j)")
    assert compact == document


@pytest.mark.parametrize("form", ["compact", "document"])
def test_render_then_parse_gives_the_program_back(form: str) -> None:
    for text in (FUNCTIONS, (EXAMPLES / "gaussian_nll.ix").read_text(encoding="utf-8")):
        program = parse(text)
        assert parse(program.render(form)) == program
        # the derivatives, written in this form, read back as claims that hold
        derived = program.derive().derivations
        claims = "\n".join(f"claim {render(d, form)}" for d in derived)
        report = parse(f"{program.render(form)}\n{claims}").check()
        assert report.ok and len(report) == len(derived) + len(program.claims), str(report)


def test_latex_writes_the_inverse_det_and_log_det() -> None:
    latex = parse(FUNCTIONS).render("latex")
    assert "\\left(A^{-1}\\right)^{i}_{j}" in latex
    assert "\\det\\left(" in latex and "\\log\\left|\\det\\left(" in latex
    assert "\\right)^{-1}" in latex  # the inverse of a sum
    compact = parse(FUNCTIONS).render("compact")
    assert "inv(A^i_j)" in compact and "det(A^i_j)" in compact and "logdet(A^i_j)" in compact


# -- domains -----------------------------------------------------------------------------------


def test_spd_draws_symmetric_positive_definite_matrices() -> None:
    program = parse("input S^{bij} : spd(i,j)\nL = S^{bij} S^{bij}")
    s = program.random_inputs({"b": 2, "i": 5}, seed=1)["S"]
    assert s.shape == (2, 5, 5)
    np.testing.assert_allclose(s, np.swapaxes(s, 1, 2))
    assert np.linalg.eigvalsh(s).min() > 0.4


def test_a_matrix_a_function_reads_is_drawn_well_conditioned() -> None:
    program = parse("param A^i_j\nL = logdet(A^j_i)")
    for seed in range(5):
        a = program.random_inputs({"i": 6}, seed=seed)["A"]
        assert np.linalg.cond(a) < 4.5
        assert not np.allclose(a, a.T)


# -- derivatives -------------------------------------------------------------------------------


@given(seed=st.integers(0, 2**16), size=st.integers(1, 4))
@settings(max_examples=15, deadline=None)
def test_derivatives_match_central_differences(seed: int, size: int) -> None:
    program = parse(FUNCTIONS)
    arrays = program.random_inputs({"i": size}, seed=seed)
    derived = program.derive(confirm=False)
    got = derived.evaluate(**arrays)["dL/dA"]
    want = central_differences(program, arrays, "L", "A")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_the_classic_derivatives_are_derived() -> None:
    program = parse("param A^i_j\nL = logdet(A^i_j)")
    (derivation,) = program.derive().derivations
    assert str(derivation) == "dL/dA^i_j = inv(A^j_i)"


LOGDET = "param A^i_j\ninput W^i_j\nB^i_j = inv(A^i_j)\n"


@pytest.mark.parametrize(("text", "ok"), [
    ("L = logdet(A^i_j)\nclaim dL/dA^i_j = B^j_i", True),
    ("L = logdet(A^i_j)\nclaim dL/dA^i_j = inv(Aᵀ^i_j)", True),
    ("L = logdet(A^i_j)\nclaim dL/dA^i_j = B^i_j", False),  # not transposed
    ("L = det(A^i_j)\nclaim dL/dA^i_j = det(A^k_l) B^j_i", True),
    ("L = det(A^i_j)\nclaim dL/dA^i_j = B^j_i", False),
    ("L = W^i_j B^i_j\nclaim dL/dA^k_l = -B^i_k W^i_j B^l_j", True),
    ("L = W^i_j B^i_j\nclaim dL/dA^k_l = -B^k_i W^i_j B^j_l", False),
    ("L = W^i_j B^i_j\nclaim dL/dA^k_l = B^i_k W^i_j B^l_j", False),
])
def test_claims_are_judged(text: str, ok: bool) -> None:
    report = parse(LOGDET + text).check()
    assert report.ok is ok, str(report)
    assert not report.defects


def test_the_jacobian_of_the_inverse_is_a_claim() -> None:
    text = LOGDET + "L = W^i_j B^i_j\nclaim dB^i_j/dA^k_l = -B^i_k B^l_j\n"
    assert parse(text).check().ok
    wrong = text.replace("-B^i_k B^l_j", "-B^k_i B^j_l")
    assert not parse(wrong).check().ok


def test_the_gaussian_example_holds_and_derives_the_classic_formulas() -> None:
    program = parse((EXAMPLES / "gaussian_nll.ix").read_text(encoding="utf-8"))
    report = program.check()
    assert report.ok and not report.defects, str(report)
    assert not program.warnings
    derived = {str(d.wrt.name): str(d) for d in program.derive().derivations}
    assert "P^j_i" in derived["S"]


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message", "column"), [
    ("input x^i\ny^i = inv(x^i)", "has 1 (i)", 7),
    ("input T^{ijk}\nz = det(T^{ijk})", "has 3 (i, j, k)", 5),
    ("input A^i_j\nz = logdet(A^i_i)", "exactly two free indices", 5),
    ("input x^i\nz^i = 2 inv(x^i)", "exactly two free", 9),
    ("input A^i_j : spd(i,i)\nz = det(A^i_j)", "two different indices", None),
    ("input A^i_j\nact f = inv\nz = det(A^i_j)", "not an activation", None),
    ("input A^i_j\nz = det'(A^i_j)", "det' is not elementwise", None),
    ("input A^i_j\nclaim dz/d(A^{-1})^i_j = A^i_j\nz = det(A^i_j)", "is a factor", None),
    ("input A^i_j\nz = det(A^i_j)\nsize i=3, j=4", "need one size, but get 3 and 4", None),
])
def test_bad_input_is_an_error_with_line_column_and_caret(text: str, message: str,
                                                          column: int | None) -> None:
    with pytest.raises(ProgramError) as err:
        program = parse(text)
        program.random_inputs()
    assert message in err.value.message
    assert err.value.line >= 1 and "^" in str(err.value)
    if column is not None:
        assert err.value.line == 2 and err.value.column == column


def test_a_determinant_beside_a_contraction_derives() -> None:
    program = parse("param A^i_j\ninput x^k\nz = 2 det(A^i_j) x^k x^k")
    (derivation,) = program.derive().derivations  # confirmed by finite differences
    assert str(derivation).startswith("dz/dA^i_j = 2 inv(A^j_i) (x^k x^k det(A^")
    arrays = program.random_inputs(seed=2)
    got = program.derive().evaluate(**arrays)["dz/dA"]
    np.testing.assert_allclose(got, central_differences(program, arrays, "z", "A"),
                               rtol=1e-6, atol=1e-8)
