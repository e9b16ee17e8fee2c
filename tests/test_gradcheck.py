"""Tests of gradcheck: correct gradients pass, planted mistakes fail and are located."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import indexnet.check.gradcheck as gradcheck_module
from indexnet.check.gradcheck import GRADCHECK_MODES, GradcheckReport, TensorCheck, gradcheck
from indexnet.errors import GradcheckError, InternalError, InvalidArgumentError, NonFiniteError

SETTINGS = settings(deadline=None, max_examples=30)
MODES = pytest.mark.parametrize("mode", GRADCHECK_MODES)


def arrays(shape: tuple[int, ...] | st.SearchStrategy, bound: float = 1.0) -> st.SearchStrategy:
    return hnp.arrays(
        np.float64, shape, elements=st.floats(-bound, bound, allow_nan=False, width=64)
    )


# ------------------------------------------------------------------ functions and their gradients


def quadratic(p):
    x, a, b = p["x"], p["A"], p["b"]
    return 0.5 * x @ a @ x + b @ x


def quadratic_grads(p):
    x, a, b = p["x"], p["A"], p["b"]
    return {"x": 0.5 * (a + a.T) @ x + b, "A": 0.5 * np.outer(x, x), "b": x.copy()}


def tanh_sum(p):
    return np.sum(np.tanh(p["W"] @ p["x"]))


def tanh_sum_grads(p):
    s = 1.0 - np.tanh(p["W"] @ p["x"]) ** 2
    return {"W": np.outer(s, p["x"]), "x": p["W"].T @ s}


def logsumexp(p):
    x = p["x"]
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def logsumexp_grads(p):
    e = np.exp(p["x"] - np.max(p["x"]))
    return {"x": e / e.sum()}


@st.composite
def quadratic_params(draw):
    n = draw(st.integers(1, 5))
    return {"x": draw(arrays(n)), "A": draw(arrays((n, n))), "b": draw(arrays(n))}


@st.composite
def tanh_params(draw, square: bool = False):
    m = draw(st.integers(1, 5))
    n = m if square else draw(st.integers(1, 5))
    return {"W": draw(arrays((m, n))), "x": draw(arrays(n, bound=2.0))}


def grad_norm(grads) -> float:
    return math.sqrt(sum(float(np.sum(g**2)) for g in grads.values()))


# ------------------------------------------------------------------ correct gradients pass


@SETTINGS
@given(params=quadratic_params(), mode=st.sampled_from(GRADCHECK_MODES))
def test_quadratic_form_passes(params, mode):
    report = gradcheck(quadratic, params, quadratic_grads, mode=mode)
    assert report.ok or report.vacuous, str(report)  # vacuous: a point of zeros
    assert [e.name for e in report.entries] == ["x", "A", "b"]
    assert all(e.max_rel_error <= report.rtol for e in report.entries)


@SETTINGS
@given(params=tanh_params(), mode=st.sampled_from(GRADCHECK_MODES))
def test_sum_of_tanh_passes(params, mode):
    report = gradcheck(tanh_sum, params, tanh_sum_grads, mode=mode)
    assert report.ok or report.vacuous, str(report)


@SETTINGS
@given(x=arrays(st.integers(1, 8), bound=5.0), mode=st.sampled_from(GRADCHECK_MODES))
def test_logsumexp_passes(x, mode):
    report = gradcheck(logsumexp, {"x": x}, logsumexp_grads, mode=mode)
    assert report.ok or report.vacuous, str(report)
    assert report.joint is None  # one tensor: the joint check would repeat it


def test_full_mode_checks_every_entry_with_index_tuples():
    p = {"W": np.arange(6.0).reshape(2, 3) / 7, "x": np.array([0.3, -1.0, 2.0])}
    report = gradcheck(tanh_sum, p, tanh_sum_grads, mode="full")
    assert report.ok
    assert [(e.name, e.shape, e.checks) for e in report.entries] == [
        ("W", (2, 3), 6),
        ("x", (3,), 3),
    ]
    assert all(isinstance(e.worst_index, tuple) for e in report.entries)
    assert report.joint is None and report.directions is None


def test_directional_mode_has_per_tensor_and_joint_rows():
    p = {"W": np.arange(6.0).reshape(2, 3) / 7, "x": np.array([0.3, -1.0, 2.0])}
    report = gradcheck(tanh_sum, p, tanh_sum_grads, directions=5)
    assert report.ok
    assert [(e.name, e.checks) for e in report.entries] == [("W", 5), ("x", 5)]
    assert report.joint is not None and report.joint.checks == 5 and report.joint.shape == (9,)
    assert all(isinstance(e.worst_index, int) for e in report.entries)


def test_scalar_and_empty_tensors():
    def f(p):
        return p["s"] ** 3 + np.sum(p["e"])

    params = {"s": 1.5, "e": np.zeros(0)}
    grads = {"s": 3 * 1.5**2, "e": np.zeros(0)}
    for mode in GRADCHECK_MODES:
        report = gradcheck(f, params, grads, mode=mode)
        assert report.ok, str(report)
        s, e = report.entries
        assert s.shape == () and e.shape == (0,) and e.checks == 0 and e.worst_index is None
    assert gradcheck(f, params, grads, mode="full").entries[0].worst_index == ()


def test_pass_criterion_is_isclose_with_max_of_magnitudes():
    # f is linear, so the numeric derivative is c up to ~1e-10 relative roundoff.
    c = np.array([2.0, -3.0, 0.0])
    x = np.array([0.5, 1.0, -1.0])

    def f(p):
        return float(c @ p["x"])

    rtol, atol = 1e-4, 1e-6
    inside = c * (1 + 0.5 * rtol) + np.array([0, 0, 0.5 * atol])
    outside_rel = c * (1 + 3 * rtol)
    outside_abs = c + np.array([0, 0, 3 * atol])
    kwargs = {"mode": "full", "rtol": rtol, "atol": atol}
    assert gradcheck(f, {"x": x}, {"x": inside}, **kwargs).ok
    report = gradcheck(f, {"x": x}, {"x": outside_rel}, **kwargs)
    assert not report.ok and report.entries[0].worst_index in {(0,), (1,)}
    assert report.entries[0].max_rel_error > rtol
    report = gradcheck(f, {"x": x}, {"x": outside_abs}, **kwargs)
    assert not report.ok and report.entries[0].worst_index == (2,)
    # the reported relative error has the floor atol / rtol: 3e-6 / (3e-6 + 1e-2)
    assert report.entries[0].max_rel_error == pytest.approx(3 * atol / (3 * atol + atol / rtol))


# ------------------------------------------------------------------ planted mistakes


def plant(kind: str, g: np.ndarray, index: tuple[int, ...]) -> np.ndarray:
    if kind == "factor 2":
        return 2 * g
    if kind == "sign":
        return -g
    if kind == "transpose":
        return g.T.copy()
    bad = g.copy()
    bad[index] += 0.5
    return bad


@SETTINGS
@given(
    params=tanh_params(square=True),
    kind=st.sampled_from(["factor 2", "sign", "transpose", "one entry"]),
    data=st.data(),
)
def test_full_mode_locates_planted_mistake(params, kind, data):
    true = tanh_sum_grads(params)
    g = true["W"]
    index = data.draw(st.tuples(*(st.integers(0, n - 1) for n in g.shape)), label="index")
    bad = plant(kind, g, index)
    assume(np.max(np.abs(bad - g)) > 1e-3)
    report = gradcheck(tanh_sum, params, {**true, "W": bad}, mode="full")
    assert not report.ok
    w, x = report.entries
    assert not w.ok and x.ok and not w.nonfinite
    assert report.failures == [w]
    assert isinstance(w.worst_index, tuple)
    if kind == "one entry":
        assert w.worst_index == index
    # the worst pair is the planted analytic value against the true derivative
    assert w.analytic == bad[w.worst_index]
    assert w.numeric == pytest.approx(g[w.worst_index], rel=1e-6, abs=1e-8)
    assert w.analytic != pytest.approx(w.numeric)
    # and it is an entry whose relative error is the largest
    rel = np.abs(bad - g) / (np.maximum(np.abs(bad), np.abs(g)) + report.atol / report.rtol)
    assert w.max_rel_error == pytest.approx(rel.max(), rel=1e-4)


@SETTINGS
@given(
    params=tanh_params(),
    kind=st.sampled_from(["factor 2", "sign"]),
    wrong=st.sampled_from(["W", "x"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_directional_mode_catches_factor_two_and_sign(params, kind, wrong, seed):
    true = tanh_sum_grads(params)
    assume(np.linalg.norm(true[wrong]) > 1e-2)
    grads = {**true, wrong: plant(kind, true[wrong], ())}
    report = gradcheck(tanh_sum, params, grads, seed=seed)
    assert not report.ok
    assert [e.name for e in report.entries if not e.ok] == [wrong]
    assert report.joint is not None and not report.joint.ok
    worst = next(e for e in report.entries if e.name == wrong)
    assert isinstance(worst.worst_index, int) and 0 <= worst.worst_index < 8
    factor = 2.0 if kind == "factor 2" else -1.0
    assert worst.analytic == pytest.approx(factor * worst.numeric, rel=1e-4, abs=1e-9)


def test_raise_on_failure_carries_the_report():
    p = {"x": np.array([1.0, 2.0])}
    with pytest.raises(GradcheckError) as info:
        gradcheck(logsumexp, p, {"x": np.array([0.5, 0.5])}, raise_on_failure=True)
    assert isinstance(info.value, AssertionError)
    assert isinstance(info.value.report, GradcheckReport) and not info.value.report.ok
    assert "FAIL" in str(info.value)
    assert gradcheck(logsumexp, p, logsumexp_grads, raise_on_failure=True).ok


# ------------------------------------------------------------------ non-finite values fail


@MODES
def test_nan_in_gradient_fails_and_names_tensor_and_index(mode):
    p = {"W": np.ones((2, 3)) / 3, "x": np.array([0.3, -1.0, 2.0])}
    grads = tanh_sum_grads(p)
    grads["W"][1, 2] = np.nan
    report = gradcheck(tanh_sum, p, grads, mode=mode)
    assert not report.ok
    w, x = report.entries
    assert w.nonfinite and not w.ok and w.max_rel_error == math.inf and x.ok
    assert "nan" in w.message and "[1, 2]" in w.message
    if mode == "full":
        assert w.worst_index == (1, 2)


@MODES
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_f_value_fails(mode, bad):
    # f is finite at params but not beyond x[1] = 2.0 + eps/2: every check involving x[1] fails
    def f(p):
        x = p["x"]
        return float(np.sum(x**2)) if x[1] <= 2.0 + 1e-7 else bad

    x = np.array([1.0, 2.0])
    report = gradcheck(f, {"x": x, "y": np.ones(2)}, {"x": 2 * x, "y": np.zeros(2)}, mode=mode)
    assert not report.ok and math.isfinite(report.value)
    check = report.entries[0]
    assert check.name == "x" and check.nonfinite and not check.ok
    assert repr(float(bad)) in check.message and "x" in check.message
    assert report.entries[1].ok
    if mode == "full":
        assert check.worst_index == (1,) and "x[1] + eps" in check.message
    assert check.name in str(report) and "FAIL" in str(report)


def test_nonfinite_f_at_params_fails():
    def f(p):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(p["x"][0])

    report = gradcheck(f, {"x": [0.0, 1.0]}, {"x": [0.0, 0.0]})
    assert not report.ok and math.isinf(report.value)
    assert any("f(params)" in m for m in report.messages)


def test_nan_never_passes_even_with_loose_tolerance():
    report = gradcheck(
        lambda p: float("nan"), {"x": [1.0]}, {"x": [np.nan]}, mode="full", rtol=1e9, atol=1e9
    )
    assert not report.ok and report.entries[0].nonfinite


# ------------------------------------------------------------------ inputs are left alone


@MODES
def test_params_and_grads_are_not_mutated(mode):
    w = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    x = [0.5, -1.0, 2.0]  # a list: converted, never modified
    grads = tanh_sum_grads({"W": w.astype(np.float64), "x": np.array(x)})
    w_before, grads_before = w.copy(), {k: v.copy() for k, v in grads.items()}
    seen = []

    def f(p):
        seen.append({k: (v.dtype, v.flags.writeable) for k, v in p.items()})
        return tanh_sum(p)

    gradcheck(f, {"W": w, "x": x}, grads, mode=mode)
    assert w.dtype == np.float32 and np.array_equal(w, w_before) and w.flags.writeable
    assert x == [0.5, -1.0, 2.0]
    assert all(np.array_equal(grads[k], grads_before[k]) for k in grads)
    assert all(d == np.float64 and not writeable for s in seen for d, writeable in s.values())


def test_f_cannot_mutate_its_arguments():
    def f(p):
        p["x"][0] = 5.0
        return 0.0

    with pytest.raises(ValueError, match="read-only"):
        gradcheck(f, {"x": [1.0]}, {"x": [0.0]})


def test_same_seed_same_directions():
    p = {"W": np.ones((3, 2)) / 5, "x": np.array([1.0, -2.0])}
    bad = {**tanh_sum_grads(p), "W": 1.5 * tanh_sum_grads(p)["W"]}
    a, b = (gradcheck(tanh_sum, p, bad, seed=7) for _ in range(2))
    c = gradcheck(tanh_sum, p, bad, seed=8)
    assert [e.analytic for e in a.entries] == [e.analytic for e in b.entries]
    assert [e.analytic for e in a.entries] != [e.analytic for e in c.entries]


# ------------------------------------------------------------------ the report


def test_report_string_shows_names_and_both_numbers():
    p = {"W": np.ones((2, 3)) / 3, "x": np.array([0.3, -1.0, 2.0])}
    grads = tanh_sum_grads(p)
    grads["x"] = grads["x"] * 1.1
    report = gradcheck(tanh_sum, p, grads, mode="full")
    text = str(report)
    assert not bool(report)
    lines = text.splitlines()
    assert "FAIL" in lines[0] and "full" in lines[0]
    w_row = next(line for line in lines if line.startswith("W "))
    x_row = next(line for line in lines if line.startswith("x "))
    assert "(2, 3)" in w_row and " ok" in w_row
    x = report.entries[1]
    assert "(3,)" in x_row and "FAIL" in x_row
    assert f"{x.analytic:.10e}" in x_row and f"{x.numeric:.10e}" in x_row
    assert "[" + ", ".join(map(str, x.worst_index)) + "]" in x_row
    assert f"{x.max_rel_error:.3e}" in x_row


def test_report_string_of_directional_mode_names_the_joint_row():
    p = {"W": np.ones((2, 3)) / 3, "x": np.array([0.3, -1.0, 2.0])}
    text = str(gradcheck(tanh_sum, p, tanh_sum_grads))
    assert "directional" in text and "8 directions" in text and "(all jointly)" in text


def test_tensorcheck_is_a_plain_record():
    c = TensorCheck("W", (2,), 0.1, False, (1,), 2.0, 1.0)
    assert not c.nonfinite and c.message == "" and c.checks == 0


# ------------------------------------------------------------------ a 200k-parameter network


def network(shapes: tuple[int, int, int], batch: int = 16, seed: int = 1):
    d, h, k = shapes
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, d))
    y = rng.integers(0, k, batch)
    params = {
        "W1": rng.standard_normal((d, h)) / np.sqrt(d),
        "W2": rng.standard_normal((h, k)) / np.sqrt(h),
    }

    def loss(p):
        a = np.tanh(x @ p["W1"])
        z = a @ p["W2"]
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -logp[np.arange(batch), y].mean()

    def grads(p):
        a = np.tanh(x @ p["W1"])
        z = a @ p["W2"]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        dz = e / e.sum(axis=1, keepdims=True)
        dz[np.arange(batch), y] -= 1.0
        dz /= batch
        da = dz @ p["W2"].T
        return {"W1": x.T @ (da * (1 - a**2)), "W2": a.T @ dz}

    return loss, params, grads


def counting(f):
    def wrapped(p):
        wrapped.calls += 1
        return f(p)

    wrapped.calls = 0
    return wrapped


def test_directional_mode_checks_a_200k_parameter_network():
    loss, params, grads = network((784, 256, 10))
    assert sum(v.size for v in params.values()) > 200_000
    f = counting(loss)
    report = gradcheck(f, params, grads)
    assert report.ok, str(report)
    assert f.calls == 1 + 2 * 8 * (2 + 1)  # per tensor and jointly, whatever their sizes
    bad = {**grads(params)}
    bad["W1"] = bad["W1"].copy()
    bad["W1"][3, 7] += 1e-2  # one entry of 200 704: a random direction sees it
    report = gradcheck(loss, params, bad, directions=4)
    assert [e.name for e in report.failures] == ["W1", "(all jointly)"]


def test_evaluation_count_is_independent_of_parameter_count():
    counts = []
    for shapes in [(5, 4, 3), (60, 40, 10)]:
        loss, params, grads = network(shapes, batch=8)
        f = counting(loss)
        assert gradcheck(f, params, grads, directions=3).ok
        counts.append(f.calls)
    assert counts[0] == counts[1] == 1 + 2 * 3 * 3


def test_full_mode_on_a_small_network():
    loss, params, grads = network((6, 5, 3), batch=4)
    f = counting(loss)
    assert gradcheck(f, params, grads, mode="full").ok
    assert f.calls == 1 + 2 * (6 * 5 + 5 * 3)


# ------------------------------------------------------------------ typed errors


def test_grads_required_with_a_clear_message():
    with pytest.raises(InvalidArgumentError, match=r"grads is required.*'x'.*callable"):
        gradcheck(logsumexp, {"x": [1.0]})


@pytest.mark.parametrize(
    ("grads", "pattern"),
    [
        ({}, r"missing gradients for \['W'\]"),
        ({"W": np.zeros((2, 3)), "b": np.zeros(3)}, r"unknown parameters \['b'\]"),
        ({"W": np.zeros((3, 2))}, r"gradient 'W' has shape \(3, 2\).*shape \(2, 3\)"),
        ({"W": np.zeros(6)}, r"gradient 'W' has shape \(6,\)"),
        ({"W": np.zeros((2, 3), complex)}, r"real numbers"),
        (lambda p: [p["W"]], r"mapping"),
        (lambda p: {"W": p["W"][0]}, r"has shape \(3,\)"),
    ],
)
def test_bad_grads_raise(grads, pattern):
    with pytest.raises(InvalidArgumentError, match=pattern):
        gradcheck(lambda p: 0.0, {"W": np.ones((2, 3))}, grads)


@pytest.mark.parametrize("out", [np.zeros(3), np.zeros((1, 1)), [1.0, 2.0]])
def test_non_scalar_f_raises_with_its_shape(out):
    with pytest.raises(InvalidArgumentError, match=re.escape(f"shape {np.shape(out)}")):
        gradcheck(lambda p: out, {"x": [1.0]}, {"x": [0.0]})


def test_non_real_f_raises():
    with pytest.raises(InvalidArgumentError, match="real number"):
        gradcheck(lambda p: 1j, {"x": [1.0]}, {"x": [0.0]})


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"mode": "fast"}, r"'full', 'directional'.*'fast'"),
        ({"eps": 0.0}, "eps"),
        ({"eps": -1e-6}, "eps"),
        ({"eps": float("nan")}, "eps"),
        ({"directions": 0}, "directions"),
        ({"directions": 2.5}, "directions"),
        ({"directions": True}, "directions"),
        ({"rtol": 0.0}, "rtol"),
        ({"atol": -1.0}, "atol"),
    ],
)
def test_bad_options_raise(kwargs, pattern):
    with pytest.raises(InvalidArgumentError, match=pattern):
        gradcheck(logsumexp, {"x": [1.0]}, logsumexp_grads, **kwargs)


def test_bad_params_raise():
    with pytest.raises(InvalidArgumentError, match="empty"):
        gradcheck(lambda p: 0.0, {}, {})
    with pytest.raises(InvalidArgumentError, match="mapping"):
        gradcheck(lambda p: 0.0, [1.0], {})
    with pytest.raises(InvalidArgumentError, match="real numbers"):
        gradcheck(lambda p: 0.0, {"z": [1j]}, {"z": [0.0]})
    with pytest.raises(InvalidArgumentError, match="callable"):
        gradcheck(None, {"x": [1.0]}, {"x": [0.0]})
    with pytest.raises(NonFiniteError, match=r"'x' is nan at index \[1\]"):
        gradcheck(lambda p: 0.0, {"x": [1.0, np.nan]}, {"x": [0.0, 0.0]})


# ------------------------------------------------------------------ whose exception it is


class Boom(Exception):
    pass


@MODES
@pytest.mark.parametrize("after", [0, 3])
def test_an_exception_of_f_passes_through_unchanged(mode, after):
    raised = Boom("from f")
    calls = []

    def f(p):
        calls.append(1)
        if len(calls) > after:
            raise raised
        return logsumexp(p)

    with pytest.raises(Boom) as info:
        gradcheck(f, {"x": [1.0, 2.0]}, logsumexp_grads, mode=mode)
    assert info.value is raised and not isinstance(info.value, InternalError)


def test_an_exception_of_the_grads_callable_passes_through_unchanged():
    def grads(p):
        return {"x": p["y"]}  # a KeyError of the caller's own making

    with pytest.raises(KeyError, match="'y'") as info:
        gradcheck(logsumexp, {"x": [1.0]}, grads)
    assert not isinstance(info.value, InternalError)


@MODES
def test_an_unexpected_exception_inside_gradcheck_is_an_internal_error(mode, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(gradcheck_module, "_summarise", broken)
    with pytest.raises(InternalError, match="internal error, please report: checking gradients: "
                       "ZeroDivisionError: boom") as info:
        gradcheck(logsumexp, {"x": [1.0, 2.0]}, logsumexp_grads, mode=mode)
    assert isinstance(info.value.__cause__, ZeroDivisionError)

