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
