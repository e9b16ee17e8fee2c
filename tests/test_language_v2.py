"""Version 2 of the index language (INDEX-LANGUAGE.md, section 5): each construct read in
both spellings, rendered back, evaluated against NumPy and differentiated against finite
differences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexnet import ProgramSyntaxError, parse

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def central_differences(program, arrays, of, key, eps=1e-6):
    """d{of}/d{key} by central differences, entry by entry (the oracle)."""
    grad = np.zeros_like(arrays[key])
    for index in np.ndindex(arrays[key].shape):
        for sign in (1, -1):
            moved = {k: v.copy() for k, v in arrays.items()}
            moved[key][index] += sign * eps
            grad[index] += sign * float(program.evaluate(**moved)[of]) / (2 * eps)
    return grad


# -- mean_ (section 5.3) ---------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "input x^n_d\nm^n = mean_d x^n_d",
    "input ^n(x)_d\n^n(m) = mean_d ^n(x)_d",
    "input x^n_d\nm^n = 1/|d| sum_d x^n_d",
    "input x^n_d\nm^n = sum_d x^n_d / |d|",
])
def test_mean_is_one_over_the_size_times_the_sum(text: str) -> None:
    program = parse(text)
    x = np.arange(12.0).reshape(3, 4) ** 2
    assert np.allclose(program.evaluate(x=x)["m"], x.mean(axis=1))
    # every spelling means the same and is written back as mean_d
    assert program == parse("input x^n_d\nm^n = mean_d x^n_d")
    assert str(program).splitlines()[1] == "m^n = mean_d x^n_d"
    assert "\\operatorname{mean}_{d}" in program.render("latex")


def test_mean_over_two_indices_and_inside_a_product() -> None:
    program = parse("input x^n_d\nparam w_d\nL = 2 mean_{nd} x^n_d w_d + mean_n (1 + x^n_d w_d)")
    assert str(program).splitlines()[2] == \
        "L = 2 mean_{nd} x^n_d w_d + mean_n (1 + x^n_d w_d)"
    assert parse(str(program)) == program
    xs = program.random_inputs({"n": 3, "d": 5}, seed=2)
    x, w = xs["x"], xs["w"]
    want = 2 * (x * w).mean() + (1 + x @ w).mean()
    assert float(program.evaluate(**xs)["L"]) == pytest.approx(want, rel=1e-12)


@given(n=st.integers(1, 4), d=st.integers(1, 4), seed=st.integers(0, 2**16))
@settings(max_examples=25, deadline=None)
def test_derivatives_through_means_match_finite_differences(n: int, d: int, seed: int) -> None:
    program = parse("""input x^n_d
param g_d
mu^n = mean_d x^n_d g_d
v^n = mean_d (x^n_d g_d - mu^n)^2
L = mean_n sqrt(v^n + 1)""")
    arrays = program.random_inputs({"n": n, "d": d}, seed=seed)
    derived = program.derive()
    got = derived.evaluate(**arrays)["dL/dg"]
    assert np.allclose(got, central_differences(program, arrays, "L", "g"), rtol=1e-5,
                       atol=1e-8)


@pytest.mark.parametrize(("text", "message"), [
    ("y^n = mean_{} x^n_d", "empty index group after _"),
    ("y^n = mean_d", "expected what mean_d averages"),
])
def test_mean_written_wrongly(text: str, message: str) -> None:
    with pytest.raises(ProgramSyntaxError) as err:
        parse(text)
    assert message in err.value.message and err.value.line == 1 and err.value.column > 0


def test_layernorm_holds_at_any_size_and_a_hard_coded_size_does_not() -> None:
    text = (EXAMPLES / "layernorm.ix").read_text(encoding="utf-8")
    for sizes in ({"n": 4, "d": 6}, {"n": 2, "d": 9}):
        assert parse(text).check(sizes).ok
    # the same backward pass with the mean written as 1/6 sum: right at d = 6 only
    wrong = text.replace("mean_e r^n_e g_e xh^n_e", "1/6 sum_e r^n_e g_e xh^n_e")
    assert parse(wrong).check({"n": 4, "d": 6}).ok
    assert not parse(wrong).check({"n": 4, "d": 9}).results[2].ok


# -- Jacobians and second derivatives (section 5.7) -----------------------------------------


def numeric_jacobian(program, arrays, of, key, eps=1e-6):
    """d{of}/d{key} by central differences, laid out as of's axes then key's (the oracle)."""
    base = np.asarray(program.evaluate(**arrays)[of])
    jac = np.zeros(base.shape + arrays[key].shape)
    for index in np.ndindex(arrays[key].shape):
        moved = [{k: v.copy() for k, v in arrays.items()} for _ in range(2)]
        moved[0][key][index] += eps
        moved[1][key][index] -= eps
        up, down = (np.asarray(program.evaluate(**m)[of]) for m in moved)
        jac[(..., *index)] = (up - down) / (2 * eps)
    return jac


@pytest.mark.parametrize("text", [
    "input x^n\nparam w^d\ny^n_k = x^n w^k\nclaim dy^n_k/dw^d = x^n eye^k_d",
    "input x^n\nparam w^d\ny^n_k = x^n w^k\nclaim ∂y^n_k/∂w^d = x^n eye^k_d",
    "input ^n(x)\nparam (w)^d\n^n(y)_k = ^n(x) (w)^k\nclaim ∂^n(y)_k/∂(w)^d = ^n(x) eye^k_d",
    "input x^n\nparam w^d\ny^n_k = x^n w^k\nclaim \\frac{∂y^n_k}{∂w^d} = x^n eye^k_d",
])
def test_jacobian_atoms_read_in_every_spelling(text: str) -> None:
    program = parse(text)
    (claim,) = program.claims
    assert (claim.of, claim.wrt.key, claim.free) == ("y", "w", "nkd")
    assert parse(str(program)) == program == parse(program.render("document"))
    assert program.check().ok


JACOBIAN_PROGRAMS = {
    "a matrix product": ("input x^n_d\nparam W^d_h\ny^n_h = x^n_d W^d_h\n"
                         "J^{nh}_{de} = dy^n_h/dW^d_e", "y", "W"),
    "an activation": ("input x^n_d\nparam w^d\na^n = tanh(x^n_d w^d)\n"
                      "J^n_e = da^n/dw^e", "a", "w"),
    "a softmax": ("input x^n_d\nparam W^d_k\nz^n_k = softmax[k](x^n_d W^d_k)\n"
                  "J^{nk}_{dj} = dz^n_k/dW^d_j", "z", "W"),
    "a Hessian": ("input x^n_d\nparam w^d\na^n = x^n_d w^d\nL = sum_n log(1 + exp(a^n))\n"
                  "g^d = dL/dw^d\nH^d_e = dg^d/dw^e", "g", "w"),
    "a Hessian through a δ": ("input x^n_d\nparam w^d\na^n = sigmoid(x^n_d w^d)\n"
                              "L = sum_n a^n a^n a^n\ndelta^n = dL/da^n\n"
                              "g_d = sum_n delta^n x^n_d\nH_{de} = dg_d/dw^e", "g", "w"),
}


@pytest.mark.parametrize(("text", "of", "key"), list(JACOBIAN_PROGRAMS.values()),
                         ids=list(JACOBIAN_PROGRAMS))
@given(seed=st.integers(0, 2**16))
@settings(max_examples=5, deadline=None)
def test_jacobians_equal_finite_differences(text: str, of: str, key: str, seed: int) -> None:
    program = parse(text)
    jac_key = program.equations[-1].target.key
    arrays = program.random_inputs({"n": 3, "d": 2, "h": 2, "k": 3}, seed=seed)
    got = program.evaluate(**arrays)[jac_key]
    want = numeric_jacobian(program, arrays, of, key)
    np.testing.assert_allclose(got, want.reshape(got.shape), rtol=1e-5, atol=1e-7)


def test_newton_logistic_hessian_claim_holds_and_planted_mistakes_fail() -> None:
    text = (EXAMPLES / "newton_logistic.ix").read_text(encoding="utf-8")
    for sizes in ({"n": 7, "d": 3}, {"n": 4, "d": 5}):
        report = parse(text).check(sizes)
        assert report.ok and not report.defects, str(report)
    hessian = "claim dg^d/dw^e = Xᵀ_n^d s^n Xᵀ_n^e + lambda eye^{de}"
    for wrong in ("claim dg^d/dw^e = Xᵀ_n^d p^n (1 - p^n) Xᵀ_n^e",      # λI dropped
                  "claim dg^d/dw^e = Xᵀ_n^d p^n Xᵀ_n^e + lambda eye^{de}",  # σ' as σ
                  "claim dg^d/dw^e = 2 Xᵀ_n^d p^n (1 - p^n) Xᵀ_n^e + lambda eye^{de}"):
        report = parse(text.replace(hessian, wrong)).check()
        assert [r.ok for r in report] == [True, False, True], wrong


def test_a_wrong_exact_jacobian_is_caught_by_finite_differences(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    import indexnet.check.context as context

    real = context.jacobian

    def doubled(*args):
        found = real(*args)
        terms = tuple(dataclasses.replace(p, coefficient=2 * p.coefficient)
                      for p in found.rhs.terms)
        return dataclasses.replace(found, rhs=dataclasses.replace(found.rhs, terms=terms))

    monkeypatch.setattr(context, "jacobian", doubled)
    text = "input x^n\nparam w^d\ny^n_k = tanh(x^n w^k)\nclaim dy^n_k/dw^d = x^n eye^k_d"
    report = parse(text).check()
    assert report.defects and "disagrees with central finite differences" in report.defects[0]
    assert not report.ok


@pytest.mark.parametrize(("text", "message"), [
    ("input x^n\ny^n = x^n\nclaim dy^n/dx^n = 1", "index n appears twice"),
    ("input x^n\ny^n = x^n\nJ = dy^n_k/dx^m", "y has 1 index (y^n) but 2 here"),
    ("input x^n\ny^n = x^n\nJ^n_m = dyᵀ^n/dx^m", "without a transpose"),
])
def test_jacobian_atoms_written_wrongly(text: str, message: str) -> None:
    from indexnet import ProgramError

    if text.splitlines()[-1].startswith("claim"):
        (claim,) = parse(text).claims
        assert message in claim.problem
        return
    with pytest.raises(ProgramError) as err:
        parse(text)
    assert message in err.value.message and err.value.line == 3


def test_derive_writes_the_jacobians_equations_read() -> None:
    text = JACOBIAN_PROGRAMS["a Hessian"][0]
    derived = parse(text).derive()
    printed = [str(d) for d in derived.derivations]
    assert printed[0].startswith("dL/dw^d = ") and printed[1].startswith("dg^d/dw^f = ")  # e: H


# -- max_ and min_ over an index (section 5.4) ---------------------------------------------


MAXPOOL = """input x^n_t
param w_t
z^n = max_t(x^n_t w_t)
m^n = min_t(x^n_t)
L = sum_n z^n z^n + sum_n m^n
"""


def test_max_and_min_read_render_and_evaluate() -> None:
    program = parse(MAXPOOL)
    assert str(program).splitlines()[2:4] == ["z^n = max_t(x^n_t w_t)", "m^n = min_t(x^n_t)"]
    assert parse(str(program)) == program == parse(program.render("document"))
    assert "\\max_{t}\\left(" in program.render("latex")
    assert program == parse(MAXPOOL.replace("max_t(", "max[t]("))
    arrays = program.random_inputs({"n": 4, "t": 5}, seed=3)
    out = program.evaluate(**arrays)
    x, w = arrays["x"], arrays["w"]
    np.testing.assert_allclose(out["z"], (x * w).max(axis=1))
    np.testing.assert_allclose(out["m"], x.min(axis=1))


@given(seed=st.integers(0, 2**16))
@settings(max_examples=20, deadline=None)
def test_max_derives_the_one_hot_subgradient(seed: int) -> None:
    program = parse(MAXPOOL.replace("input x", "param x"))
    arrays = program.random_inputs({"n": 3, "t": 4}, seed=seed)
    derived = program.derive(confirm=False)
    values = derived.evaluate(**arrays)
    for key in ("w", "x"):
        want = central_differences(program, arrays, "L", key)
        np.testing.assert_allclose(values[f"dL/d{key}"], want, rtol=1e-5, atol=1e-7)


def test_argmax_claims_are_judged_and_ties_are_not() -> None:
    claim = "claim dL/dw_t = sum_n 2 z^n argmax[t](x^n_t w_t) x^n_t\n"
    assert parse(MAXPOOL + claim).check().ok
    wrong = claim.replace("argmax", "argmin")
    assert not parse(MAXPOOL + wrong).check().ok
    tie = parse("input x^n_t : onehot(t)\nz^n = min_t(x^n_t)\nL = sum_n z^n z^n\n"
                "claim dL/dx^n_t = 2 z^n argmin[t](x^n_t)").check()
    (result,) = tie.results
    assert result.status == "nondifferentiable" and "a tie in min_t" in result.diagnosis


@pytest.mark.parametrize(("text", "message"), [
    ("input x^n_t\nz^n = max_(x^n_t)", "max_ takes one index letter"),
    ("input x^n_t\nz^n = max_k(x^n_t)", "its argument has no free index k"),
    ("input x^n_t\nz^n_t = max'_t(x^n_t)", "max needs an argument"),
])
def test_max_written_wrongly(text: str, message: str) -> None:
    from indexnet import ProgramError

    with pytest.raises(ProgramError) as err:
        parse(text)
    assert message in err.value.message and err.value.line == 2


# -- index arithmetic (section 5.5) --------------------------------------------------------


CONV = "input x^n_s\nparam w^k\nz^n_t = x^n_{t+k} w^k"


@pytest.mark.parametrize("text", [
    CONV,
    "input x^n_s\nparam w^k\nz^n_t = x^n_{2t+k+1} w^k",
    "input X^{nd}_{ab}\nparam K^{cpq}_d\nY^{nc}_{ij} = X^{nd}_{2i+p, 2j+q} K^{cpq}_d",
    "input ^n(x)_s\nparam (w)^k\n^n(z)_t = ^n(x)_{t+k} (w)^k",
])
def test_index_arithmetic_reads_and_writes_back(text: str) -> None:
    program = parse(text)
    assert parse(str(program)) == program == parse(program.render("document"))
    assert "_{" in program.render("latex")


def test_a_convolution_is_one_einsum_over_a_window_view() -> None:
    program = parse(CONV)
    assert program.einsums()[0][0] == "ntk,k->nt"
    # |s| = |t| + |k| - 1 when no size is given ("valid")
    assert program.size_model.resolve({}, {"n": 2, "t": 5, "k": 3}) == \
        {"n": 2, "t": 5, "k": 3, "s": 7}
    # and |t| = |s| - |k| + 1 from the arrays
    out = program.evaluate(x=np.ones((2, 9)), w=np.ones(4))
    assert out["z"].shape == (2, 6)


@given(n=st.integers(1, 3), t=st.integers(1, 5), k=st.integers(1, 4), seed=st.integers(0, 99))
@settings(max_examples=30, deadline=None)
def test_windows_evaluate_as_numpy_convolutions(n: int, t: int, k: int, seed: int) -> None:
    program = parse(CONV + "\ny^n_t = x^n_{2t+k+1} w^k")
    arrays = program.random_inputs({"n": n, "t": t, "k": k}, seed=seed)
    x, w = arrays["x"], arrays["w"]
    assert x.shape == (n, 2 * (t - 1) + (k - 1) + 2)  # the farthest position + 1
    out = program.evaluate(**arrays)
    full = np.stack([np.correlate(row, w, mode="valid") for row in x])
    np.testing.assert_allclose(out["z"], full[:, :out["z"].shape[1]])
    np.testing.assert_allclose(out["y"], full[:, 1::2][:, :t])


def test_conv2d_with_stride_equals_explicit_loops() -> None:
    program = parse((EXAMPLES / "conv2d.ix").read_text(encoding="utf-8"))
    arrays = program.random_inputs(seed=5)
    X, K = arrays["X"], arrays["K"]
    got = program.evaluate(**arrays)["Y"]
    want = np.zeros(got.shape)
    for n, c, i, j in np.ndindex(*got.shape):
        want[n, c, i, j] = sum(X[n, d, 2 * i + p, 2 * j + q] * K[c, p, q, d]
                               for d in range(X.shape[1]) for p in range(K.shape[1])
                               for q in range(K.shape[2]))
    np.testing.assert_allclose(got, want)


@pytest.mark.parametrize("name", ["conv1d.ix", "conv2d.ix", "maxpool.ix"])
@given(seed=st.integers(0, 2**16))
@settings(max_examples=5, deadline=None)
def test_window_derivatives_match_finite_differences(name: str, seed: int) -> None:
    text = (EXAMPLES / name).read_text(encoding="utf-8").replace("input x", "param x") \
        .replace("input X", "param X")
    program = parse("\n".join(line for line in text.splitlines()
                              if not line.startswith(("claim", "g^n_t"))))
    arrays = program.random_inputs(seed=seed)
    values = program.derive(confirm=False).evaluate(**arrays)
    for key in program.params:
        want = central_differences(program, arrays, "L", key)
        np.testing.assert_allclose(values[f"dL/d{key}"], want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(("text", "message"), [
    ("input x^n_s\nparam w^k\nz^n_t = x^n_{t-k} w^k", "index arithmetic adds letters"),
    ("input x^n_s\nparam w^k\nz^n_t = x^n_{t+t} w^k", "t appears twice in one index slot"),
    ("input x^n_{s+1}\nz^n = x^n_s", "reads a tensor on a right-hand side"),
    ("input x^n_s\nz^n_{t+1} = x^n_t", "a left-hand side names each axis with one letter"),
    ("input x^n_s\nparam w^k\nz^n_t = x^n_{t+kk} w^k", "'kk' is not one index letter"),
    ("input x^n_s\nparam w^k\nz^n_t = x^n_{t+1/2} w^k", "expected ',' or '}' after an index slot"),
    ("input x^n_s\nparam w^k\nz^n_t = x^n_{t+0.5} w^k", "whole numbers"),
    ("input x^n_s\nz^n_t = xᵀ_{t+1}^n", "without a transpose"),
])
def test_index_arithmetic_written_wrongly(text: str, message: str) -> None:
    from indexnet import ProgramError

    with pytest.raises(ProgramError) as err:
        parse(text)
    assert message in err.value.message and err.value.line >= 1 and err.value.column >= 1


@pytest.mark.parametrize(("text", "sizes", "message"), [
    ("input x^n_s\nparam w^k\nz^n_t = x^n_{t+k} w^k", {"s": 4, "t": 3, "k": 3},
     "the slot t+k reaches 4 (|t|=3, |k|=3) but axis 1 of x has size 4"),
    ("input x^n_s\nz^n_t = x^n_{t-1}", {"t": 3}, "reaches -1 (at 0)"),
])
def test_a_window_past_its_axis_is_an_error(text: str, sizes: dict, message: str) -> None:
    from indexnet import ProgramSizeError

    with pytest.raises(ProgramSizeError) as err:
        parse(text).random_inputs(sizes)
    assert message in err.value.message and err.value.line == len(text.splitlines())
