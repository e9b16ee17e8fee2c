"""The einsum derivative rule and vjp, checked against central finite differences.

The reference differentiates f = sum(g * np.einsum(subscripts, *operands))
entry by entry with NumPy's own unoptimised einsum, so it shares no code with
the rule. f is linear in each single entry, so central differences are exact
up to rounding, and the tolerance can be tight.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

import numpy as np
import pytest
from corpus import cases
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from indexnet import (
    Derivative,
    InvalidArgumentError,
    SizeMismatchError,
    derivative,
    parse_subscripts,
    vjp,
)
from indexnet.errors import InternalError
from indexnet.strategies import einsum_equations, einsum_problems, example_problem
from indexnet.typing import OPTIMIZERS

STEP = 1e-3


def objective(subscripts: str, operands: list[np.ndarray], g: np.ndarray) -> float:
    return float(np.sum(g * np.einsum(subscripts, *operands, optimize=False)))


def numeric_gradients(
    subscripts: str, operands: list[np.ndarray], g: np.ndarray
) -> list[np.ndarray]:
    """Central differences of ⟨g, einsum(subscripts, *operands)⟩, entry by entry."""
    grads = []
    for k, operand in enumerate(operands):
        grad = np.zeros(operand.shape)
        for index in np.ndindex(*operand.shape):
            ops = [op.copy() for op in operands]
            ops[k][index] = operand[index] + STEP
            up = objective(subscripts, ops, g)
            ops[k][index] = operand[index] - STEP
            down = objective(subscripts, ops, g)
            grad[index] = (up - down) / (2 * STEP)
        grads.append(grad)
    return grads


def output_shape(subscripts: str, operands: list[np.ndarray]) -> tuple[int, ...]:
    return np.shape(np.einsum(subscripts, *operands, optimize=False))


def assert_gradients_match(
    subscripts: str,
    operands: list[np.ndarray],
    g: np.ndarray,
    grads: list[np.ndarray],
    expected: list[np.ndarray] | None = None,
) -> None:
    if expected is None:
        expected = numeric_gradients(subscripts, operands, g)
    assert len(grads) == len(operands)
    for k, (grad, want, operand) in enumerate(zip(grads, expected, operands, strict=True)):
        assert grad.shape == operand.shape, (subscripts, k)
        assert grad.dtype == np.float64
        np.testing.assert_allclose(
            grad, want, rtol=1e-6, atol=1e-7, err_msg=f"{subscripts!r}, operand {k}"
        )


@functools.cache
def corpus_case(
    subscripts: str, shapes: tuple[tuple[int, ...], ...]
) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray]]:
    """Operands, a cotangent and the numeric gradients of one corpus entry, made once."""
    _, operands = example_problem(subscripts, *shapes)
    g = np.random.default_rng(1).uniform(-2, 2, output_shape(subscripts, operands))
    return operands, g, numeric_gradients(subscripts, operands, g)


# -- the corpus, crossed with every optimizer ----------------------------------------------


@pytest.mark.parametrize("optimize", OPTIMIZERS)
@pytest.mark.parametrize(("subscripts", "shapes"), cases())
def test_corpus_vjp_matches_finite_differences(
    subscripts: str, shapes: list[tuple[int, ...]], optimize: Any
) -> None:
    operands, g, expected = corpus_case(subscripts, tuple(shapes))
    grads = vjp(subscripts, *operands, cotangent=g, optimize=optimize)
    assert_gradients_match(subscripts, operands, g, grads, expected)


# -- generated expressions -----------------------------------------------------------------


@st.composite
def problems_with_cotangent(
    draw: st.DrawFn, **kwargs: object
) -> tuple[str, list[np.ndarray], np.ndarray]:
    subscripts, operands = draw(einsum_problems(**kwargs))  # type: ignore[arg-type]
    g = draw(
        hnp.arrays(np.float64, output_shape(subscripts, operands), elements=st.floats(-2, 2))
    )
    return subscripts, operands, g


def cotangent_example(subscripts: str, *shapes: tuple[int, ...]) -> tuple:
    _, operands = example_problem(subscripts, *shapes)
    g = np.random.default_rng(2).uniform(-2, 2, output_shape(subscripts, operands))
    return subscripts, operands, g


@given(
    problem=problems_with_cotangent(
        max_operands=3, max_dims=3, max_side=3, allow_ellipsis=True
    ),
    optimize=st.sampled_from(OPTIMIZERS),
)
@example(problem=cotangent_example("ii->", (3, 3)), optimize="auto")
@example(problem=cotangent_example("iij->j", (2, 2, 3)), optimize="auto")
@example(problem=cotangent_example("ij,ij->", (2, 3), (1, 3)), optimize="auto")
@example(problem=cotangent_example("ii,i->i", (1, 1), (3,)), optimize="greedy")
@example(problem=cotangent_example("...i,...i->...", (2, 1, 3), (4, 3)), optimize="auto")
@example(problem=cotangent_example(",ij->ij", (), (2, 3)), optimize="auto")
@example(problem=cotangent_example("ij,jk->ik", (2, 0), (0, 4)), optimize="auto")
def test_vjp_matches_finite_differences(
    problem: tuple[str, list[np.ndarray], np.ndarray], optimize: Any
) -> None:
    subscripts, operands, g = problem
    grads = vjp(subscripts, *operands, cotangent=g, optimize=optimize)
    assert_gradients_match(subscripts, operands, g, grads)


@given(
    problem=problems_with_cotangent(
        max_operands=3, max_dims=3, max_side=3, implicit=True, allow_ellipsis=True
    )
)
def test_vjp_of_implicit_formulas(problem: tuple[str, list[np.ndarray], np.ndarray]) -> None:
    subscripts, operands, g = problem
    grads = vjp(subscripts, *operands, cotangent=g)
    assert_gradients_match(subscripts, operands, g, grads)


@given(problem=problems_with_cotangent(max_operands=3, max_dims=3, max_side=3))
def test_gradients_are_fresh_arrays(problem: tuple[str, list[np.ndarray], np.ndarray]) -> None:
    subscripts, operands, g = problem
    grads = vjp(subscripts, *operands, cotangent=g)
    for grad in grads:
        assert grad.flags.writeable
        assert not any(np.shares_memory(grad, a) for a in (*operands, g))


@given(
    subscripts=einsum_equations(max_operands=3, max_dims=3, allow_repeated=False),
    data=st.data(),
)
def test_the_shown_formula_is_the_gradient(subscripts: str, data: st.DataObject) -> None:
    """Where the shown rule is a plain einsum (no delta, no ones), NumPy evaluates it."""
    parsed = parse_subscripts(subscripts)
    wrt = data.draw(st.integers(0, len(parsed.inputs) - 1))
    rule = derivative(subscripts, wrt)
    if rule.broadcast or rule.diagonal:
        return
    sizes = {c: data.draw(st.integers(1, 3)) for c in parsed.letters}
    rng = np.random.default_rng(0)
    operands = [rng.uniform(-2, 2, [sizes[c] for c in term]) for term in parsed.inputs]
    g = rng.uniform(-2, 2, [sizes[c] for c in parsed.output])
    grads = vjp(subscripts, *operands, cotangent=g)
    others = [g if k == wrt else op for k, op in enumerate(operands)]
    np.testing.assert_allclose(grads[wrt], np.einsum(str(rule), *others), atol=1e-12)
    assert rule.executable == str(rule)


# -- the rule, as formulas ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("subscripts", "wrt", "shown", "executable", "broadcast", "diagonal"),
    [
        ("nd,dh->nh", 1, "nd,nh->dh", "nd,nh->dh", "", ""),
        ("nd,dh->nh", 0, "nh,dh->nd", "nh,dh->nd", "", ""),
        ("nd,dh->nh", -1, "nd,nh->dh", "nd,nh->dh", "", ""),
        ("nh->h", 0, "h->nh", "h->h", "n", ""),
        ("dh,dh->", 0, ",dh->dh", ",dh->dh", "", ""),
        ("ij,j->", 0, ",j->ij", ",j->j", "i", ""),
        ("ii->", 0, "->ii", "->", "i", "i"),
        ("iij->j", 0, "j->iij", "j->j", "i", "i"),
        ("ii,i->", 0, ",i->ii", ",i->i", "", "i"),
        ("ij,jk,kl->il", 1, "ij,il,kl->jk", "ij,il,kl->jk", "", ""),
    ],
)
def test_derivative_formulas(
    subscripts: str, wrt: int, shown: str, executable: str, broadcast: str, diagonal: str
) -> None:
    rule = derivative(subscripts, wrt)
    assert isinstance(rule, Derivative)
    assert str(rule) == shown
    assert (rule.executable, rule.broadcast, rule.diagonal) == (executable, broadcast, diagonal)
    assert rule.target == parse_subscripts(subscripts).inputs[wrt]
    assert derivative(parse_subscripts(subscripts), wrt) == rule


def test_seed_backprop_formulas() -> None:
    assert str(derivative("nd,dh->nh", wrt=1)) == "nd,nh->dh"  # xᵀδ
    assert str(derivative("nd,dh->nh", wrt=0)) == "nh,dh->nd"  # δWᵀ


@pytest.mark.parametrize("wrt", [2, -3, 10, "0", 1.0, None])
def test_wrt_out_of_range(wrt: object) -> None:
    with pytest.raises(InvalidArgumentError, match="is not an operand of 'nd,dh->nh'"):
        derivative("nd,dh->nh", wrt)  # type: ignore[arg-type]


def test_derivative_needs_explicit_letters() -> None:
    with pytest.raises(InvalidArgumentError, match="needs explicit letters"):
        derivative("...i,i->...", 0)


def test_cotangent_of_the_wrong_shape() -> None:
    x, w = np.ones((5, 3)), np.ones((3, 4))
    with pytest.raises(SizeMismatchError) as info:
        vjp("nd,dh->nh", x, w, cotangent=np.ones((4, 5)))
    message = str(info.value)
    assert "(4, 5)" in message and "(5, 4)" in message and "'nh'" in message
    with pytest.raises(SizeMismatchError):
        vjp("nd,dh->", x, w, cotangent=np.ones(1))
    with pytest.raises(SizeMismatchError, match="index 'd'"):
        vjp("nd,dh->nh", x, np.ones((2, 4)), cotangent=np.ones((5, 4)))


def test_vjp_of_the_seed_layer() -> None:
    rng = np.random.default_rng(3)
    x, w, g = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=(5, 4))
    gx, gw = vjp("nd,dh->nh", x, w, cotangent=g)
    np.testing.assert_allclose(gx, g @ w.T)
    np.testing.assert_allclose(gw, x.T @ g)
    (gb,) = vjp("nh->h", x, cotangent=g[0, :3])
    np.testing.assert_allclose(gb, np.broadcast_to(g[0, :3], (5, 3)))


def test_trace_gradient_is_the_identity() -> None:
    (grad,) = vjp("ii->", np.arange(9.0).reshape(3, 3), cotangent=np.array(2.0))
    np.testing.assert_array_equal(grad, 2 * np.eye(3))
    (grad,) = vjp("iij->j", np.ones((2, 2, 3)), cotangent=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(grad[0, 1], 0)
    np.testing.assert_array_equal(grad[1, 1], [1.0, 2.0, 3.0])


def test_complex_gradients_are_bilinear() -> None:
    # ⟨g, out⟩ = sum(g * out), no conjugate: the gradients are the transposed products
    rng = np.random.default_rng(4)
    a = rng.normal(size=(2, 3)) + 1j * rng.normal(size=(2, 3))
    b = rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))
    g = rng.normal(size=(2, 4)) + 1j * rng.normal(size=(2, 4))
    ga, gb = vjp("ij,jk->ik", a, b, cotangent=g)
    assert ga.dtype == gb.dtype == np.complex128
    np.testing.assert_allclose(ga, g @ b.T)
    np.testing.assert_allclose(gb, a.T @ g)


# -- internal errors -----------------------------------------------------------------------


def _boom(*args: Any, **kwargs: Any) -> Any:
    return 1 / 0


def test_an_unexpected_error_in_vjp_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    vjp_module = importlib.import_module("indexnet.einsum.vjp")
    tape_module = importlib.import_module("indexnet.einsum.tape")
    vjp_module.clear_call_cache()  # a remembered call would not compile anything
    monkeypatch.setattr(tape_module, "finisher", _boom)
    with pytest.raises(InternalError, match="internal error, please report: computing einsum "
                       "gradients") as caught:
        vjp("ij,jk->ik", np.ones((2, 3)), np.ones((3, 4)), cotangent=np.ones((2, 4)))
    assert isinstance(caught.value.__cause__, ZeroDivisionError)


def test_an_unexpected_error_on_the_remembered_path_is_an_internal_error() -> None:
    vjp_module = importlib.import_module("indexnet.einsum.vjp")
    a, b, g = np.ones((2, 5)), np.ones((5, 4)), np.ones((2, 4))
    vjp("ij,jk->ik", a, b, cotangent=g)  # remembered
    key = next(k for k in vjp_module._CALLS if k[0] == "ij,jk->ik" and (2, 5) in k)
    saved = vjp_module._CALLS[key]
    vjp_module._CALLS[key] = _boom
    try:
        with pytest.raises(InternalError, match="computing einsum gradients") as caught:
            vjp("ij,jk->ik", a, b, cotangent=g)
    finally:
        vjp_module._CALLS[key] = saved
    assert isinstance(caught.value.__cause__, ZeroDivisionError)


@pytest.mark.parametrize("subscripts, shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]),  # the unrolled key of two operands
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("i->", [(3,)]),
])
def test_a_second_call_of_the_same_shapes_skips_the_checked_path(
    subscripts: str, shapes: list[tuple[int, ...]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """vjp() builds the key _vjp_checked remembered: the second call is one lookup."""
    vjp_module = importlib.import_module("indexnet.einsum.vjp")
    rng = np.random.default_rng(0)
    operands = [rng.standard_normal(shape) for shape in shapes]
    g = rng.standard_normal(np.einsum(subscripts, *operands).shape)
    first = vjp(subscripts, *operands, cotangent=g)
    monkeypatch.setattr(vjp_module, "_vjp_checked", _boom)
    second = vjp(subscripts, *operands, cotangent=g)
    for grad, again in zip(first, second, strict=True):
        np.testing.assert_array_equal(again, grad)


@pytest.mark.parametrize("operands", [1, 2, 3])
def test_a_remembered_call_still_refuses_an_option_equal_to_a_valid_one(operands: int) -> None:
    """1 == True: after wrt=1 (or optimize=True), wrt=True (optimize=1) is still refused."""
    from indexnet.einsum.backprop import value_and_grad, value_and_vjp

    arrays = [np.ones((2, 2))] * operands
    subscripts = ",".join("ab" for _ in arrays) + "->ab"
    g = np.ones((2, 2))
    vjp(subscripts, *arrays, cotangent=g, wrt=0, optimize=True)
    value_and_grad(subscripts, *arrays, cotangent=g, wrt=0, optimize=True)
    value_and_vjp(subscripts, *arrays, wrt=0, optimize=True)
    for call in (functools.partial(vjp, cotangent=g),
                 functools.partial(value_and_grad, cotangent=g), value_and_vjp):
        with pytest.raises(InvalidArgumentError, match="wrt"):
            call(subscripts, *arrays, wrt=False, optimize=True)
        with pytest.raises(InvalidArgumentError, match="optimize"):
            call(subscripts, *arrays, wrt=0, optimize=1)


@given(problem=problems_with_cotangent(max_operands=3, max_dims=3, max_side=3))
def test_a_remembered_call_gives_what_the_checked_path_gives(
    problem: tuple[str, list[np.ndarray], np.ndarray],
) -> None:
    """The second call of the same shapes takes the remembered kernels: same values, fresh."""
    subscripts, operands, g = problem
    first = vjp(subscripts, *operands, cotangent=g)
    shifted = [np.array(op + 1.0) for op in operands]  # same shapes and dtypes, other values
    second = vjp(subscripts, *shifted, cotangent=g)
    assert_gradients_match(subscripts, shifted, g, second)
    for grad, again in zip(first, second, strict=True):
        assert grad.shape == again.shape
        assert again.flags.writeable
        assert not any(np.shares_memory(again, a) for a in (*shifted, g))


def test_an_unexpected_error_in_derivative_is_an_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rule_module = importlib.import_module("indexnet.einsum.rule")
    monkeypatch.setattr(rule_module, "parse", _boom)
    with pytest.raises(InternalError, match="internal error, please report: deriving an "
                       "einsum's gradient formula: ZeroDivisionError") as caught:
        derivative("ij,jk->ik", wrt=0)
    assert isinstance(caught.value.__cause__, ZeroDivisionError)
    # indexnet's own errors still pass through unchanged
    monkeypatch.undo()
    with pytest.raises(InvalidArgumentError):
        derivative("ij,jk->ik", wrt=5)


def test_a_foreign_gradient_is_copied_where_sharing_cannot_be_asked() -> None:
    """torch is asked; JAX's and Dask's arrays cannot be written; CuPy and others: copied."""
    from indexnet.einsum.arrays import ArrayKind
    from indexnet.einsum.rule import _may_share

    raw, other = np.ones(2), np.ones(2)
    for library, shares in (("jax", False), ("dask", False), ("cupy", True), ("sparse", True)):
        assert _may_share(raw, [other], ArrayKind(library, np, np.float64, None)) is shares
        assert _may_share(raw, [raw], ArrayKind(library, np, np.float64, None))  # itself
