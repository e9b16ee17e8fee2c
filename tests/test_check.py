"""indexnet check: claims judged against the exact derivative, failures diagnosed."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from derive_programs import NAMES, move_letters, plant, programs, random_program
from hypothesis import given, settings
from hypothesis import strategies as st

import indexnet.check.confirm as confirm_module
from indexnet import ir
from indexnet.check.judge import Context, check, rel_error
from indexnet.errors import InternalError, ProgramSizeError
from indexnet.program import Program, parse

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> Program:
    return parse((EXAMPLES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["seed.ix", "calculus.ix", "layernorm.ix", "batchnorm.ix",
                                  "newton_logistic.ix", "attention.ix", "rnn_cell.ix",
                                  "conv1d.ix", "conv2d.ix", "maxpool.ix", "gaussian_nll.ix"])
def test_the_examples_claims_all_hold(name: str) -> None:
    report = load(name).check()
    assert report.ok, str(report)
    assert len(report) == len(load(name).claims) and not report.defects
    assert all(r.max_rel_error is not None and r.max_rel_error < 1e-9 for r in report)


def test_the_mistakes_are_caught_and_named() -> None:
    report = load("mistakes.ix").check()
    assert not report.ok and not any(r.ok for r in report)
    got = {r.line: r.diagnosis for r in report}
    assert got[17].startswith("wrong sign")
    assert got[19] == "missing term: lambda W2^h_k"
    assert got[21] == "missing activation derivative: f'(a1^n_h)"
    assert got[23].startswith("constant factor: the claim is 2 ×")
    assert got[25].startswith("transposed: k and h swapped in W2^k_h")
    assert got[27].startswith("derivative through the wrong variable: dL/dx2^n_h should be "
                              "dL/da1^n_h")
    assert got[29].startswith("elementwise derivative of softmax")


def test_report_text_and_json() -> None:
    report = load("mistakes.ix").check()
    text = str(report)
    assert text.splitlines()[0].split()[:5] == ["line", "claim", "einsum", "result", "max"]
    assert "0 of 7 claims hold" in text
    rows = report.to_json()
    assert {"line", "claim", "ok", "max_rel_error", "diagnosis"} <= set(rows[0])
    assert rows[0]["claim"] == "dL/da2^n_k" and rows[0]["ok"] is False


def test_a_claim_that_does_not_fit_fails_alone() -> None:
    program = parse("input x^n_d\nparam w^d_h\nsize n=3, d=4, h=5\nL = sum_{nh} x^n_d w^d_h\n"
                    "claim dL/dw^d_h = x^n_h\nclaim dL/dw^d_h = sum_n x^n_d")
    bad, good = program.check()
    assert not bad.ok and "does not fit" in bad.diagnosis and bad.max_rel_error is None
    assert good.ok


def test_a_claim_of_a_non_scalar_or_unknown_derivative_is_a_failed_claim() -> None:
    program = parse("input x^n\nparam w^n\nL = sum_n w^n x^n\nclaim dL/dx^n = w^n")
    assert program.check().ok
    program = parse("input x^n\nparam w^n\nL = sum_n w^n x^n\nclaim dL/dw^n = eye^n_m x^m")
    assert program.check().ok


def test_declarations_that_do_not_size_raise() -> None:
    program = parse("input x^n_d\nparam w^d\nsize n=3\nL = x^n_d w^n")
    with pytest.raises(ProgramSizeError):
        program.check({"n": 3, "d": 4})


def test_kinks_are_reported_not_judged() -> None:
    program = parse("input x^n\nparam w^n\nL = sum_n relu(w^n - w^n) x^n\nclaim dL/dw^n = 0")
    (r,) = program.check()
    assert not r.ok and r.status == "nondifferentiable" and "relu" in r.diagnosis


def test_relu_away_from_the_kink_is_judged() -> None:
    program = parse("input x^n\nparam w^n\nL = sum_n relu(w^n) x^n\n"
                    "claim dL/dw^n = relu'(w^n) x^n")
    assert program.check().ok


def test_a_wrong_exact_derivative_is_reported_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Context.run

    def broken(self: Context, arrays: dict[str, np.ndarray]) -> None:
        original(self, arrays)
        self.env["dL/dw_ℓ"] = self.env["dL/dw_ℓ"] * 1.001

    monkeypatch.setattr(Context, "run", broken)
    report = load("seed.ix").check()
    assert not report.ok and len(report.defects) == 1 and "dL/dw_ℓ" in report.defects[0]
    assert "INDEXNET DEFECT" in str(report)


def test_non_finite_programs_say_so() -> None:
    program = parse("input x^n\nparam w^n\nL = sum_n log(w^n) x^n\nclaim dL/dw^n = x^n / w^n")
    (r,) = program.check()
    assert not r.ok and "not finite" in r.diagnosis


def test_rel_error() -> None:
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.ones(2), np.ones(3)) == float("inf")


# -- a claim, or a correction tried, shaped unlike the derivative (each raised from NumPy) -----

MISFITS = {
    "transposed, does not fit": (
        "input X^i_j, c^i_k\nparam W^j_k\na^i_k = X^i_j W^j_k\nL = sum_{ik} c^i_k a^i_k\n"
        "claim dL/da^i_k = c^k_i",
        "transposed: k and i swapped in c^k_i (as written: does not fit: "),
    "a missing term without the derivative's letter": (
        "input x^n\nparam b_k, w^n\nsize n=3, k=5\ns = sum_n w^n x^n\n"
        "L = sum_k b_k s + sum_k square(b_k)\nclaim dL/db_m = 2 b_m",
        "no simple correction fits"),
    "a param the scalar does not depend on": (
        "input X^i_j, c^i_k\nparam W^j_k, b_k\na^i_k = X^i_j W^j_k\n"
        "L = sum_{ik} c^i_k a^i_k\nclaim dL/db_p = 0",
        "no simple correction fits (shape (6,), expected (5,))"),
}


@pytest.mark.parametrize(("text", "diagnosis"), list(MISFITS.values()), ids=list(MISFITS))
def test_a_claim_shaped_unlike_its_derivative_fails_with_a_diagnosis(text: str,
                                                                     diagnosis: str) -> None:
    sizes = {"i": 3, "j": 4, "k": 5}
    for report in (parse(text).check(sizes), check(parse(text), sizes)):
        (r,) = report
        assert not r.ok and r.diagnosis.startswith(diagnosis)


def test_the_confirming_function_is_indexnets_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected error in the program gradcheck confirms is indexnet's, not a caller's."""
    def broken_downstream(*args: object, **kwargs: object) -> tuple[object, dict[str, object]]:
        def compiled(env: object) -> object:
            raise ValueError("boom")

        return compiled, {}

    monkeypatch.setattr(confirm_module, "downstream", broken_downstream)
    for run in (lambda: load("seed.ix").check(), lambda: check(load("seed.ix"))):
        with pytest.raises(InternalError, match=r"confirming an exact derivative.*: boom"):
            run()


# -- generated programs -----------------------------------------------------------------------


def claims_of(text: str) -> tuple[Program, list[ir.Claim]]:
    """The program with its exact derivatives for W, b, v, written as (correct) claims."""
    program = parse(text)
    derived = program.derive()
    claims = [ir.Claim(d.of, d.wrt, d.rhs, line=100 + k)
              for k, d in enumerate(derived.derivations)]
    return program, claims


def with_claims(program: Program, claims: list[ir.Claim]) -> Program:
    statements = tuple(s for s in program.statements if not isinstance(s, ir.Claim))
    return Program((*statements, *claims), program.tensors, program.source, program.implicit)


@settings(max_examples=25)
@given(programs())
def test_correct_claims_are_never_judged_wrong(text: str) -> None:
    program, claims = claims_of(text)
    report = check(with_claims(program, claims), draws=2)
    assert report.ok, str(report)


@settings(max_examples=25)
@given(programs(), st.sampled_from(sorted(NAMES)), st.integers(0, 2**16))
def test_planted_mistakes_are_always_judged_wrong(text: str, mistake: str, seed: int) -> None:
    rng = random.Random(seed)
    program, claims = claims_of(text)
    planted = [(k, plant(c, mistake, rng)) for k, c in enumerate(claims)]
    planted = [(k, c) for k, c in planted if c is not None]
    if not planted:
        return
    _, wrong = planted[0]
    report = check(with_claims(program, [wrong]), draws=2)
    assert not report.ok, f"{mistake}\n{text}\n{wrong}\n{report}"


@settings(max_examples=25)
@given(programs(), st.integers(0, 2**16))
def test_claims_with_letters_moved_are_judged_never_raise(text: str, seed: int) -> None:
    rng = random.Random(seed)
    program, claims = claims_of(text)
    moved = move_letters(rng.choice(claims), rng)
    (result,) = check(with_claims(program, [moved]), draws=1, confirm=False)
    assert result.ok or result.diagnosis, str(moved)


def diagnosis_rate(cases: int, seed: int = 0) -> tuple[float, int, list[str]]:
    """The share of planted mistakes whose diagnosis names them, over ``cases`` cases."""
    rng = random.Random(seed)
    named = total = 0
    misses = []
    while total < cases:
        text = random_program(rng)
        program, claims = claims_of(text)
        mistake = rng.choice(sorted(NAMES))
        spots = [c for c in (plant(c, mistake, rng) for c in claims) if c is not None]
        if not spots:
            continue
        wrong = rng.choice(spots)
        (result,) = check(with_claims(program, [wrong]), draws=1, confirm=False)
        total += 1
        assert not result.ok
        if result.diagnosis.startswith(NAMES[mistake]):
            named += 1
        else:
            misses.append(f"{mistake}: {wrong} -> {result.diagnosis}")
    return named / total, total, misses


def test_the_diagnosis_names_the_mistake_in_at_least_95_percent_of_cases() -> None:
    rate, total, misses = diagnosis_rate(200)
    assert rate >= 0.95, f"{rate:.3f} of {total}\n" + "\n".join(misses)


# -- sharper diagnoses (issue 9): one slip anywhere in the claim, named --------------------------

SHARPER = {
    "sign of one term": (
        "param w^d\ninput X^n_d\nsize n=5, d=3\nL = w^d w^d + sum_{nd} X^n_d w^d",
        "dL/dw^d = 2 w^d - sum_n X^n_d",
        "wrong sign on one term: -sum_n X^n_d should be sum_n X^n_d"),
    "a mean where a sum belongs, on one term": (
        "param w^d\ninput X^n_d\nsize n=5, d=3\nL = w^d w^d + sum_{nd} X^n_d w^d",
        "dL/dw^d = 2 w^d + mean_n X^n_d",
        "a factor |n| missing on the term mean_n X^n_d (a sum over n, not a mean)"),
    "the chain in the wrong order": (
        "input A^i_j, C^k_i\nparam B^j_k\nsize i=4, j=4, k=4\nT = A^i_j B^j_k C^k_i",
        "dT/dB^j_k = Cᵀ^j_i Aᵀ^i_k",
        "factors in the wrong order: Cᵀ_i^j Aᵀ_k^i should be Cᵀ_k^i Aᵀ_i^j"),
    "symmetry assumed": (
        "input S^i_k\nparam x^i\nsize i=4\nQ = x_i S^i_k x^k",
        "dQ/dx^i = 2 S^i_k x^k",
        "symmetry assumed: S is not symmetric, so 2 S^i_k x^k should be "
        "S^i_k x^k + S^k_i x^k"),
    "1 - z for 1 - z^2": (
        "input x^n_d\nparam W^d_h\nsize n=4, d=3, h=5\nz^n_h = tanh(x^n_d W^d_h)\n"
        "L = sum_{nh} z^n_h",
        "dL/dW^d_h = xᵀ^d_n (1 - z^n_h)",
        "wrong activation derivative: (1 - z^n_h) should be tanh'(x^n_d W^d_h)"),
    "x where xh belongs": (
        "input x^n_d, t^n_d\nparam g_d\nsize n=4, d=3\nxh^n_d = x^n_d / sqrt(x^n_d x^n_d)\n"
        "L = sum_{nd} (g_d xh^n_d - t^n_d)",
        "dL/dg_d = sum_n x^n_d",
        "wrong variable: x^n_d should be xh^n_d"),
    "softmax entry by entry inside a product": (
        "input x^n_d, t^n_k\nparam W^d_k\nsize n=4, d=3, k=5\np^n_k = softmax[k](x^n_d W^d_k)\n"
        "L = 1/2 sum_{nk} (p^n_k - t^n_k)^2",
        "dL/dW^d_k = xᵀ^d_n (dL/dp^n_k p^n_k (1 - p^n_k))",
        "elementwise derivative of softmax: softmax[k]'s Jacobian is not diagonal"),
}


@pytest.mark.parametrize(("program", "claim", "diagnosis"), list(SHARPER.values()),
                         ids=list(SHARPER))
def test_one_slip_anywhere_in_a_claim_is_named(program: str, claim: str,
                                               diagnosis: str) -> None:
    (result,) = check(parse(f"{program}\nclaim {claim}"), draws=1, confirm=False)
    assert not result.ok and result.diagnosis.startswith(diagnosis), result.diagnosis


def test_a_scalar_claim_is_not_called_off_by_an_arbitrary_constant() -> None:
    """Two scalars are always multiples of each other: only a simple ratio is named."""
    program = parse("input X^n_d, y^n\nparam w^d, c\nsize n=8, d=3\nr^n = X^n_d w^d + c - y^n\n"
                    "L = 1/2 mean_n r^n r^n\nclaim dL/dc = mean_n (X^n_d w^d - c - y^n)")
    (result,) = check(program, draws=1, confirm=False)
    assert result.diagnosis == "wrong sign on one term: -c should be c"


def test_a_mean_where_a_sum_belongs_names_the_size() -> None:
    program = parse("input x^n_d\nparam b_d\nsize n=4, d=3\nL = sum_{nd} x^n_d b_d\n"
                    "claim dL/db_d = mean_n x^n_d")
    (result,) = check(program, draws=1, confirm=False)
    assert result.diagnosis.startswith("constant factor: the claim is 1/|n| × the derivative")


def test_two_readings_of_one_mistake_are_both_given() -> None:
    """relu'(a) a is relu(a) = z: a missing relu' and a for z are one mistake."""
    program = parse("input x^n_d, t^n_k\nparam W1^d_h, W2^h_k\nsize n=5, d=4, h=6, k=3\n"
                    "a^n_h = x^n_d W1^d_h\nz^n_h = relu(a^n_h)\no^n_k = z^n_h W2^h_k\n"
                    "L = 1/2 sum_{nk} (o^n_k - t^n_k)^2\n"
                    "claim dL/dW2^h_k = aᵀ^h_n (o^n_k - t^n_k)")
    (result,) = check(program, draws=1, confirm=False)
    assert result.diagnosis == ("missing activation derivative: relu'(a^n_h) (equivalently, "
                                "wrong variable: aᵀ_n^h should be zᵀ_n^h)")


#: Mistakes the diagnosis learned in the round of issue 9's sharper diagnoses (part 2).
SHARPER_2 = {
    "two matrices taken as symmetric (tr(A X B Xᵀ))": (
        "input A^i_j, B^k_l\nparam X^j_k\nsize i=4, j=4, k=3, l=3\nT = A^i_j X^j_k B^k_l X^i_l",
        "dT/dX^p_q = 2 A^p_j X^j_k B^k_q",
        "symmetry assumed: A and B are not symmetric"),
    "a matrix used twice taken as symmetric": (
        "param u^i, C^i_j\nsize i=4, j=4, k=4\nE = u_i C^i_j C^j_k u^k",
        "dE/du^p = 2 C^p_j C^j_k u^k",
        "symmetry assumed: C is not symmetric"),
    "a claim no edit reaches that holds only for a symmetric matrix": (
        "input A^i_j, B^k_l\nparam X^j_k\nsize i=4, j=4, k=3, l=3\nT = A^i_j X^j_k B^k_l X^i_l",
        "dT/dX^p_q = (A^p_j + A^j_p) X^j_k B^k_q",
        "symmetry assumed: B is not symmetric, but the claim holds only where B = Bᵀ"),
    "two factors of a chain transposed": (
        "input A^i_j, B^k_l, C^i_l\nparam X^j_k\nsize i=4, j=4, k=3, l=3\n"
        "R^i_l = A^i_j X^j_k B^k_l - C^i_l\nL = 1/2 sum_{il} R^i_l R^i_l",
        "dL/dX^j_k = A^j_i R^i_l B^l_k",
        "transposed: A^j_i and B^l_k should be A^i_j and B^k_l"),
    "one term off by a simple constant": (
        "param A^i_j\ninput x^j, y_i\nsize i=3, j=3\nL = logdet(A^i_j) + y_i inv(A^i_j) x^j",
        "dL/dA^p_q = 2 inv(A^q_p) - y_i inv(A^i_p) inv(A^q_j) x^j",
        "constant factor 2 on one term: 2 inv(A^q_p) should be inv(A^q_p)"),
    "both inverses of a product transposed": (
        "param A^i_j\ninput B^i_j\nsize i=3, j=3\nL = sum_{ij} B^i_j inv(A^i_j)",
        "dL/dA^p_q = -inv(A^p_i) B^i_j inv(A^j_q)",
        "transposed: inv(A^p_i) and inv(A^j_q) should be inv(A^i_p) and inv(A^q_j)"),
    "the determinant's factor left out": (
        "param A^i_j\nsize i=3, j=3\nD = det(A^i_j)\nL = D",
        "dL/dA^p_q = inv(A^q_p)",
        "missing factor D: the claim is 1/D × the derivative"),
    "a Hessian claim without its ridge term": (
        "input X^n_d\ninput y^n : uniform(0, 1)\nparam w^d\nconst lambda = 1/100\n"
        "size n=7, d=3\np^n = sigmoid(X^n_d w^d)\n"
        "L = -sum_n (y^n log(p^n) + (1 - y^n) log(1 - p^n)) + lambda/2 w_d w^d\ng^d = dL/dw^d",
        "dg^d/dw^e = Xᵀ_n^d p^n (1 - p^n) Xᵀ_n^e",
        "missing term: lambda eye"),
    "a Jacobian with the activation's value for its derivative": (
        "input X^n_d\nparam w^d\nsize n=7, d=3\np^n = sigmoid(X^n_d w^d)\nL = sum_n p^n",
        "dp^n/dw^d = p^n Xᵀ_n^d",
        "wrong activation derivative: p^n should be sigmoid'"),
}


@pytest.mark.parametrize(("program", "claim", "diagnosis"), list(SHARPER_2.values()),
                         ids=list(SHARPER_2))
def test_more_slips_are_named(program: str, claim: str, diagnosis: str) -> None:
    (result,) = check(parse(f"{program}\nclaim {claim}"), draws=1, confirm=False)
    assert not result.ok and result.diagnosis.startswith(diagnosis), result.diagnosis


def test_an_unexplained_constant_gives_way_to_a_wrong_scalar_variable() -> None:
    """The claim is q/r × the derivative: the wrong scalar, not an arbitrary constant."""
    program = parse("param x^i, y^k\ninput A^i_j, B^k_l\nsize i=4, j=4, k=3, l=3\n"
                    "q = x_i A^i_j x^j\nr = y_k B^k_l y^l\nT = q r\n"
                    "claim dT/dx^p = (A^p_j x^j + x_i A^i_p) q")
    (result,) = check(program, draws=1, confirm=False)
    assert result.diagnosis.startswith("wrong variable: q should be r"), result.diagnosis


def test_a_derivative_zero_by_cancellation_is_judged_against_its_terms() -> None:
    """Σ_i softmax = 1: dL/dV is rounding noise on either side, and a real error still shows."""
    text = ("param V^j_n\ninput x_i\nsize i=3, j=3, n=2\n"
            "z_i = softmax[i](0.1 sum_{jn} V^j_n x^i)\nL = -sum_i z_i\n")
    exact = "sum_i z_i x^i - sum_{ia} z_i z_a x^a"
    report = parse(f"{text}claim dL/dV^j_n = {exact}\nclaim dL/dV^j_n = 0\n"
                   f"claim dL/dV^j_n = sum_i z_i x^i\n").check()
    assert [r.ok for r in report] == [True, True, False], str(report)
