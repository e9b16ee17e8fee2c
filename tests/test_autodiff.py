"""Reverse mode over programs: the seed's backprop, and gradients equal finite differences."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from derive_programs import programs
from hypothesis import given, settings

from indexnet import ir
from indexnet.check.gradcheck import gradcheck
from indexnet.derive.reverse import derive, gradients, scalar_of
from indexnet.errors import InvalidArgumentError, NotSupportedError
from indexnet.program import parse
from indexnet.seednet.seed import SEED

SEED_IX = Path(__file__).resolve().parent.parent / "examples" / "seed.ix"


def canonical(einsum: str) -> str:
    """An einsum string with letters renamed in order of first appearance."""
    names: dict[str, str] = {}
    return re.sub(r"[A-Za-z]", lambda m: names.setdefault(m.group(), "abcdefgh"[len(names)]),
                  einsum)


def seed_program():
    return parse(SEED_IX.read_text(encoding="utf-8"))


def test_the_seed_derives_to_its_backprop_equations() -> None:
    derived = {d.wrt.key: d for d in seed_program().derive().derivations}
    # layer by layer: each layer's δ, then its weight and bias gradients
    assert list(derived) == ["a_ℓ", "w_ℓ", "b_ℓ", "a_ℓ-1", "w_ℓ-1", "b_ℓ-1"]
    # (1.8): softmax with cross-entropy and one-hot targets gives ŷ − y
    assert str(derived["a_ℓ"]) == "dL/d^n(a_ℓ)_k = ŷ^n_k - y^n_k"
    want = {
        "w_ℓ": [SEED["weight_gradient"].einsum],                     # (1.4)
        "w_ℓ-1": [SEED["weight_gradient_hidden"].einsum],            # (1.5)-(1.7)
        "a_ℓ-1": [SEED["backprop"].einsum, SEED["hidden_error"].einsum],  # (1.9)
        "b_ℓ": [SEED["bias_gradient"].einsum],
        "b_ℓ-1": [SEED["bias_gradient"].einsum],
    }
    for key, einsums in want.items():
        assert [canonical(e) for e in derived[key].einsums()] == \
            [canonical(e) for e in einsums if e], key
    # the L2 term: + λ W
    assert str(derived["w_ℓ"]).endswith("+ λ ^h(w_ℓ)_k")


def test_the_seed_derivatives_equal_a_hand_written_backprop() -> None:
    program = seed_program()
    derived = program.derive()
    xs = program.random_inputs(seed=4)
    out = derived.evaluate(**xs)
    x, y = xs["x_ℓ-1"], xs["y"]
    w1, b1, w2, b2 = xs["w_ℓ-1"], xs["b_ℓ-1"], xs["w_ℓ"], xs["b_ℓ"]
    a1 = x @ w1 + b1
    x2 = 1 / (1 + np.exp(-a1))
    a2 = x2 @ w2 + b2
    e = np.exp(a2 - a2.max(axis=1, keepdims=True))
    yhat = e / e.sum(axis=1, keepdims=True)
    delta2 = yhat - y                                  # (1.8)
    delta1 = x2 * (1 - x2) * (delta2 @ w2.T)          # (1.9)
    lam = 0.01
    np.testing.assert_allclose(out["dL/dw_ℓ"], x2.T @ delta2 + lam * w2)   # (1.4)
    np.testing.assert_allclose(out["dL/dw_ℓ-1"], x.T @ delta1 + lam * w1)  # (1.7)
    np.testing.assert_allclose(out["dL/db_ℓ"], delta2.sum(axis=0))
    np.testing.assert_allclose(out["dL/db_ℓ-1"], delta1.sum(axis=0))


def test_derive_renders_and_reads_back_as_claims() -> None:
    program = seed_program()
    derived = program.derive()
    text = "\n".join(line for line in program.render().splitlines()
                     if not line.startswith("claim"))
    text += "\n" + "\n".join("claim " + str(d) for d in derived.derivations)
    report = parse(text).check()
    assert report.ok and len(report) == 6


def test_scalar_of_and_errors() -> None:
    program = seed_program()
    assert scalar_of(program) == "L"
    with pytest.raises(InvalidArgumentError, match="needs a scalar"):
        gradients(program, "a_ℓ")
    with pytest.raises(InvalidArgumentError, match="not a tensor"):
        gradients(program, "nope")
    with pytest.raises(InvalidArgumentError, match="unknown tensor"):
        derive(program, "L", ["nope"])


def test_gradients_accumulate_over_every_use() -> None:
    program = parse("input x^i\nparam w^i\nL = sum_i w^i x^i + sum_i w^i w^i + sum_i w^i")
    (d,) = program.derive().derivations
    xs = program.random_inputs(seed=1)
    np.testing.assert_allclose(program.derive().evaluate(**xs)["dL/dw"],
                               xs["x"] + 2 * xs["w"] + 1)
    assert len(d.rhs.terms) == 3


def test_kronecker_deltas_contract_and_traces_give_eye() -> None:
    program = parse("input A^i_j\nparam S^i_k\nT = S^i_i\nU = eye^i_j A^i_j")
    (d,) = program.derive("T").derivations
    assert str(d) == "dT/dS^i_k = eye^i_k"
    (d,) = program.derive("U", "A").derivations
    assert str(d) == "dU/dA^i_j = eye^i_j"


def test_softmax_goes_through_its_full_jacobian() -> None:
    program = parse("input c^n_k\nparam a^n_k\ny^n_k = softmax[k](a^n_k)\n"
                    "L = sum_{nk} c^n_k y^n_k")
    (d,) = program.derive().derivations
    xs = program.random_inputs(seed=2)
    got = program.derive().evaluate(**xs)["dL/da"]
    a, c = xs["a"], xs["c"]
    y = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(got, y * (c - (c * y).sum(axis=1, keepdims=True)))
    assert "sum" in str(d) or len(d.rhs.terms) == 2


def test_simplex_targets_give_yhat_minus_y_too() -> None:
    program = parse("input y^n_k : simplex(k)\nparam a^n_k\nyhat^n_k = softmax[k](a^n_k)\n"
                    "L = -sum_{nk} y^n_k log(yhat^n_k)")
    (d,) = program.derive().derivations
    assert str(d) == "dL/da^n_k = yhat^n_k - y^n_k"
    (d,) = program.derive(domains=False).derivations
    assert str(d) != "dL/da^n_k = yhat^n_k - y^n_k"


def test_a_derivative_through_a_derivative_is_refused() -> None:
    program = parse("input x^n\nL = x^n x^n\ng^n = dL/dx^n\nM = g^n g^n")
    with pytest.raises(NotSupportedError):
        program.derive("M", ["x"])


def test_derivative_atoms_anywhere_in_an_expression() -> None:
    program = parse("input x^n\nparam w^n\nL = sum_n exp(w^n) x^n\n"
                    "g^n = 3 sigmoid(dL/dw^n) + dL/dx^n w^n")
    xs = program.random_inputs(seed=0)
    out = program.evaluate(**xs)
    dw = np.exp(xs["w"]) * xs["x"]
    dx = np.exp(xs["w"])
    np.testing.assert_allclose(out["g"], 3 / (1 + np.exp(-dw)) + dx * xs["w"])
    assert list(out) == ["L", "g"]


def _check_against_fd(text: str) -> None:
    program = parse(text)
    derived = program.derive()
    xs = program.random_inputs(seed=0)
    out = derived.evaluate(**xs)
    params = {k: xs[k] for k in program.params}
    compiled = program.compile({k: v.shape for k, v in xs.items()})

    def f(p: dict[str, np.ndarray]) -> float:
        return float(compiled({**xs, **p})["L"])

    grads = {k: out[ir.deriv_key("L", k)] for k in program.params}
    report = gradcheck(f, params, grads, mode="full", rtol=1e-5, atol=1e-7)
    assert report.ok, f"{text}\n{report}\n" + "\n".join(map(str, derived.derivations))


@settings(max_examples=40)
@given(programs())
def test_derived_gradients_equal_finite_differences(text: str) -> None:
    _check_against_fd(text)


@pytest.mark.parametrize("text", [
    # repeated indices (a diagonal), powers, division, log, exp, sums, constants
    "input x^i\nparam A^i_j, u^i\nconst c = 3\nL = c sum_i A^i_i u^i + sum_{ij} A^i_j A^i_j / 2",
    "input x^i\nparam u^i\nL = log(sum_i exp(u^i x^i))",
    "input x^i : positive\nparam u^i : positive\nL = sum_i sqrt(u^i) / x^i + sum_i u^i^{-1}",
    "param u^i\nL = sum_i tanh(u^i) tanh'(u^i) + sum_i sigmoid'(u^i)",
    "input X^n_i\nparam w^i\ny^n = X^n_i w^i\nL = sum_n abs(y^n) + sum_n relu(y^n)",
    "param a^i_j\nB^i_j = a^i_j a^i_j\nL = sum_{ij} B^i_j (eye^i_j + 1)",
])
def test_corpus_of_rules_against_finite_differences(text: str) -> None:
    _check_against_fd(text)
