"""Reverse accumulation (indexnet.einsum.backprop): the forward pass and every gradient.

Three references, none sharing code with the reverse pass:

* exact gradients from NumPy's own unoptimised einsum: f = ⟨g, einsum(...)⟩
  is linear in each operand, so its gradient's entry at ``index`` is f with
  that operand replaced by the one-hot array at ``index``;
* central finite differences of f (exact up to rounding, f being linear in
  each single entry);
* one planned einsum per operand (``per_operand_vjp``, what vjp did before).
"""

from __future__ import annotations

import importlib
import tracemalloc
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from indexnet import InvalidArgumentError, SizeMismatchError, contract, vjp
from indexnet.einsum.backprop import (
    GradientFlops,
    Pullback,
    clear_cache,
    gradient_flops,
    value_and_grad,
    value_and_vjp,
)
from indexnet.einsum.vjp import per_operand_vjp
from indexnet.errors import InternalError
from indexnet.strategies import einsum_problems, example_problem
from indexnet.typing import OPTIMIZERS

STEP = 1e-3
Problem = tuple[str, list[np.ndarray], np.ndarray]


def objective(subscripts: str, operands: list[np.ndarray], g: np.ndarray) -> Any:
    return np.sum(g * np.einsum(subscripts, *operands, optimize=False))


def exact_gradients(subscripts: str, operands: list[np.ndarray], g: np.ndarray) -> list[Any]:
    """Each entry of each gradient: the objective at a one-hot operand (f is linear in it)."""
    grads = []
    for k, operand in enumerate(operands):
        dtype = np.result_type(*(op for i, op in enumerate(operands) if i != k), g)
        grad = np.zeros(operand.shape, dtype=dtype)
        for index in np.ndindex(*operand.shape):
            one_hot = np.zeros(operand.shape, dtype=operand.dtype)
            one_hot[index] = 1
            ops = list(operands)
            ops[k] = one_hot
            grad[index] = objective(subscripts, ops, g)
        grads.append(grad)
    return grads


def numeric_gradients(subscripts: str, operands: list[np.ndarray], g: np.ndarray) -> list[Any]:
    """Central differences of the objective, entry by entry."""
    grads = []
    for k, operand in enumerate(operands):
        grad = np.zeros(operand.shape)
        for index in np.ndindex(*operand.shape):
            ops = [op.astype(np.float64) for op in operands]
            ops[k][index] += STEP
            up = objective(subscripts, ops, g)
            ops[k][index] -= 2 * STEP
            down = objective(subscripts, ops, g)
            grad[index] = (up - down) / (2 * STEP)
        grads.append(grad)
    return grads


def output_shape(subscripts: str, operands: list[np.ndarray]) -> tuple[int, ...]:
    return np.shape(np.einsum(subscripts, *operands, optimize=False))


@st.composite
def problems(draw: st.DrawFn, **kwargs: Any) -> Problem:
    subscripts, operands = draw(einsum_problems(**kwargs))
    g = draw(hnp.arrays(np.float64, output_shape(subscripts, operands),
                        elements=st.floats(-2, 2)))
    return subscripts, operands, g


def fixed(subscripts: str, *shapes: tuple[int, ...]) -> Problem:
    _, operands = example_problem(subscripts, *shapes)
    g = np.random.default_rng(2).uniform(-2, 2, output_shape(subscripts, operands))
    return subscripts, operands, g


def assert_close(grads: list[Any], want: list[Any], operands: list[np.ndarray],
                 label: str) -> None:
    assert len(grads) == len(want)
    for k, (grad, expected) in enumerate(zip(grads, want, strict=True)):
        assert np.shape(grad) == np.shape(operands[k]), (label, k)
        np.testing.assert_allclose(grad, expected, rtol=1e-7, atol=1e-9,
                                   err_msg=f"{label}, operand {k}")


EXAMPLES = [
    fixed("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
    fixed("abcd,cdef,efab->", (2, 2, 2, 2), (2, 2, 2, 2), (2, 2, 2, 2)),
    fixed("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
    fixed("ii->", (3, 3)),  # a trace
    fixed("iij->j", (2, 2, 3)),  # a diagonal
    fixed("ii,ij,jk->k", (3, 3), (3, 2), (2, 2)),  # a diagonal inside a path
    fixed("ij,ij->", (2, 3), (1, 3)),  # size-1 broadcasting
    fixed("ij,ij,ij->", (1, 3), (1, 3), (2, 3)),  # ... of an intermediate
    fixed("i,j->ij", (2,), (3,)),  # an outer product
    fixed("i,j,k->ijk", (2,), (3,), (2,)),
    fixed("abc,c->", (2, 3, 2), (2,)),  # letters summed inside one operand
    fixed("ab,bc,cd->", (2, 3), (3, 4), (4, 2)),
    fixed("ij->ji", (2, 3)),  # one operand, a view
    fixed("ij->ij", (2, 3)),
    fixed("->", ()),  # scalars
    fixed(",->", (), ()),
    fixed(",ij->ij", (), (2, 3)),
    fixed("ij,,jk->ik", (2, 3), (), (3, 2)),
    fixed("...i,...i->...", (2, 1, 3), (4, 3)),
    fixed("ij,jk->ik", (2, 0), (0, 4)),  # size 0
    fixed("ij,jk,kl,lm->im", (2, 3), (3, 2), (2, 3), (3, 2)),
]


# -- against the references -------------------------------------------------------------


@given(problem=problems(max_operands=4, max_dims=3, max_side=3, allow_ellipsis=True),
       optimize=st.sampled_from(OPTIMIZERS))
@example(problem=EXAMPLES[0], optimize="auto")
def test_value_and_grad_matches_exact_gradients(problem: Problem, optimize: Any) -> None:
    subscripts, operands, g = problem
    value, grads = value_and_grad(subscripts, *operands, cotangent=g, optimize=optimize)
    np.testing.assert_allclose(value, np.einsum(subscripts, *operands, optimize=False),
                               rtol=1e-9, atol=1e-12)
    assert_close(grads, exact_gradients(subscripts, operands, g), operands, subscripts)


@pytest.mark.parametrize("problem", EXAMPLES, ids=[p[0] for p in EXAMPLES])
@pytest.mark.parametrize("optimize", ["auto", "greedy", "naive"])
def test_examples_match_finite_differences(problem: Problem, optimize: str) -> None:
    subscripts, operands, g = problem
    out, pullback = value_and_vjp(subscripts, *operands, optimize=optimize)
    grads = pullback(g)
    np.testing.assert_allclose(out, np.einsum(subscripts, *operands), atol=1e-12)
    assert_close(grads, numeric_gradients(subscripts, operands, g), operands, subscripts)
    assert_close(vjp(subscripts, *operands, cotangent=g, optimize=optimize),
                 exact_gradients(subscripts, operands, g), operands, subscripts)


@given(problem=problems(max_operands=4, max_dims=3, max_side=3, allow_ellipsis=True))
def test_reverse_accumulation_matches_one_einsum_per_operand(problem: Problem) -> None:
    subscripts, operands, g = problem
    want = per_operand_vjp(subscripts, *operands, cotangent=g)
    assert_close(vjp(subscripts, *operands, cotangent=g), want, operands, subscripts)
    _, pullback = value_and_vjp(subscripts, *operands)
    got = pullback(g)
    assert_close(got, want, operands, subscripts)
    assert [np.result_type(x) for x in got] == [np.result_type(x) for x in want]


@given(problem=problems(max_operands=3, max_dims=3, max_side=3, implicit=True))
def test_implicit_formulas(problem: Problem) -> None:
    subscripts, operands, g = problem
    value, grads = value_and_grad(subscripts, *operands, cotangent=g)
    np.testing.assert_allclose(value, np.einsum(subscripts, *operands), atol=1e-12)
    assert_close(grads, exact_gradients(subscripts, operands, g), operands, subscripts)


@given(problem=problems(max_operands=4, max_dims=3, max_side=3), data=st.data())
def test_wrt_gives_those_gradients_in_that_order(problem: Problem, data: st.DataObject) -> None:
    subscripts, operands, g = problem
    n = len(operands)
    wrt = data.draw(st.lists(st.integers(-n, n - 1), unique_by=lambda k: k % n, max_size=n))
    everything = vjp(subscripts, *operands, cotangent=g)
    some = vjp(subscripts, *operands, cotangent=g, wrt=wrt)
    assert_close(some, [everything[k] for k in wrt], [operands[k] for k in wrt], subscripts)
    _, chosen = value_and_grad(subscripts, *operands, cotangent=g, wrt=tuple(wrt))
    assert_close(chosen, [everything[k] for k in wrt], [operands[k] for k in wrt], subscripts)


def test_the_same_array_twice_gets_one_gradient_per_position() -> None:
    a = np.random.default_rng(0).normal(size=(3, 3))
    value, (g0, g1) = value_and_grad("ij,jk->", a, a)
    assert float(value) == pytest.approx(float(np.sum(a @ a)))
    np.testing.assert_allclose(g0, np.ones((3, 3)) @ a.T)
    np.testing.assert_allclose(g1, a.T @ np.ones((3, 3)))
    assert not np.shares_memory(g0, g1)
    (gs,) = value_and_grad("i,i->", a[0], a[0], wrt=0)[1]  # d/dx0 of x·x at x0 = x
    np.testing.assert_allclose(gs, a[0])


# -- what the caller gets -----------------------------------------------------------------


@given(problem=problems(max_operands=3, max_dims=3, max_side=3))
@example(problem=fixed("ij->ij", (2, 3)))
@example(problem=fixed("ij->ji", (2, 3)))
@example(problem=fixed("->", ()))
def test_gradients_are_fresh_arrays(problem: Problem) -> None:
    subscripts, operands, g = problem
    for _ in range(2):  # the checked path, then the remembered one
        _, grads = value_and_grad(subscripts, *operands, cotangent=g)
        for k, grad in enumerate(grads):
            assert isinstance(grad, np.ndarray) and grad.flags.writeable, (subscripts, k)
            others = [*operands, g, *grads[:k], *grads[k + 1:]]
            assert not any(np.shares_memory(grad, a) for a in others), (subscripts, k)


@given(problem=problems(max_operands=4, max_dims=3, max_side=3))
def test_a_remembered_call_gives_what_the_checked_path_gives(problem: Problem) -> None:
    subscripts, operands, g = problem
    value_and_grad(subscripts, *operands, cotangent=g)
    vjp(subscripts, *operands, cotangent=g)
    shifted = [np.array(op + 1.0) for op in operands]  # same shapes and dtypes, other values
    want = exact_gradients(subscripts, shifted, g)
    value, grads = value_and_grad(subscripts, *shifted, cotangent=g)
    assert_close(grads, want, shifted, subscripts)
    assert_close(vjp(subscripts, *shifted, cotangent=g), want, shifted, subscripts)
    np.testing.assert_allclose(value, np.einsum(subscripts, *shifted), atol=1e-12)


def test_the_default_cotangent_is_ones() -> None:
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    value, (ga, gb) = value_and_grad("ij,jk->ik", a, b)
    np.testing.assert_allclose(value, a @ b)
    np.testing.assert_allclose(ga, np.ones((2, 4)) @ b.T)
    np.testing.assert_allclose(gb, a.T @ np.ones((2, 4)))
    for _ in range(2):
        total, (gt,) = value_and_grad("ii->", a[:, :2], wrt=[0])
        assert float(total) == 4.0
        np.testing.assert_array_equal(gt, np.eye(2))


def test_a_pullback_is_called_once_unless_retained() -> None:
    a, b = np.ones((2, 3)), np.ones((3, 4))
    out, pullback = value_and_vjp("ij,jk->ik", a, b)
    assert isinstance(pullback, Pullback) and "ready" in repr(pullback)
    ga, _ = pullback(np.ones_like(out))
    assert "used" in repr(pullback)
    with pytest.raises(InvalidArgumentError, match="retain=True"):
        pullback(np.ones_like(out))
    out, kept = value_and_vjp("ij,jk->ik", a, b, retain=True)
    first = kept(np.ones_like(out))
    second = kept(2 * np.ones_like(out))
    np.testing.assert_allclose(second[1], 2 * first[1])
    np.testing.assert_allclose(first[0], ga)


def test_a_cotangent_of_the_wrong_shape_leaves_the_pullback_usable() -> None:
    a, b = np.ones((2, 3)), np.ones((3, 4))
    _, pullback = value_and_vjp("ij,jk->ik", a, b)
    with pytest.raises(SizeMismatchError, match=r"\(4, 2\).*\(2, 4\)"):
        pullback(np.ones((4, 2)))
    ga, _ = pullback([[1.0] * 4] * 2)  # a list: the checked path
    np.testing.assert_allclose(ga, np.full((2, 3), 4.0))
    with pytest.raises(SizeMismatchError):
        value_and_grad("ij,jk->ik", a, b, cotangent=np.ones(3))
    with pytest.raises(SizeMismatchError):
        vjp("ij,jk->ik", a, b, cotangent=np.ones((2, 4, 1)))


@pytest.mark.parametrize("wrt", [3, -4, [0, 0], [0, -3], "0", 1.5, [True], [[0]]])
def test_a_bad_wrt_is_refused(wrt: Any) -> None:
    a = np.ones((2, 2))
    with pytest.raises(InvalidArgumentError, match="wrt="):
        value_and_grad("ij,jk,kl->il", a, a, a, wrt=wrt)
    with pytest.raises(InvalidArgumentError, match="wrt="):
        vjp("ij,jk,kl->il", a, a, a, cotangent=a, wrt=wrt)


def test_dtypes_are_those_of_one_einsum_per_operand() -> None:
    rng = np.random.default_rng(5)
    ops = [rng.normal(size=(3, 3)).astype(t) for t in (np.float32, np.float64, np.float32)]
    for g in (np.ones((3, 3), np.float32), np.ones((3, 3))):
        want = per_operand_vjp("ij,jk,kl->il", *ops, cotangent=g)
        got = vjp("ij,jk,kl->il", *ops, cotangent=g)
        assert [x.dtype for x in got] == [x.dtype for x in want]
        for x, y in zip(got, want, strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-5)  # float32 products, another order
    ints = [np.arange(4).reshape(2, 2)] * 3
    value, grads = value_and_grad("ij,jk,kl->il", *ints, cotangent=np.ones((2, 2), int))
    assert value.dtype.kind == "i" and all(x.dtype.kind == "i" for x in grads)
    assert_close(grads, exact_gradients("ij,jk,kl->il", ints, np.ones((2, 2), int)), ints,
                 "ints")


def test_complex_gradients_are_bilinear() -> None:
    rng = np.random.default_rng(4)
    a, b, c = (rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)) for _ in range(3))
    g = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
    _, grads = value_and_grad("ij,jk,kl->il", a, b, c, cotangent=g)
    assert_close(grads, [g @ (b @ c).T, a.T @ g @ c.T, (a @ b).T @ g], [a, b, c], "complex")


def test_python_numbers_and_lists() -> None:
    value, (gx, gy) = value_and_grad(",->", 2.0, 3.0)
    assert float(value) == 6.0 and float(gx) == 3.0 and float(gy) == 2.0
    _, (gl,) = value_and_grad("i,i->", [1.0, 2.0], np.array([3.0, 4.0]), wrt=[0])
    np.testing.assert_array_equal(gl, [3.0, 4.0])


# -- the cost --------------------------------------------------------------------------------


@pytest.mark.parametrize(("subscripts", "shapes", "gemms"), [
    ("ij,jk,kl->il", [(64, 64)] * 3, 6),
    ("abcd,cdef,efab->", [(6,) * 4] * 3, 3),
    ("bij,bjk->bik", [(4, 32, 32)] * 2, 3),
])
def test_forward_and_gradients_cost_at_most_three_forward_passes(
    subscripts: str, shapes: list[tuple[int, ...]], gemms: int,
) -> None:
    flops = gradient_flops(subscripts, *shapes)
    assert isinstance(flops, GradientFlops)
    assert flops.value_and_grad <= 3 * flops.forward
    assert flops.value_and_grad < flops.forward + flops.per_operand or len(shapes) < 3
    product = 2 * int(np.prod([shapes[0][0]] * 3)) if subscripts == "ij,jk,kl->il" else None
    if product:
        assert flops.value_and_grad == gemms * product  # six products where eight were run
        assert flops.forward + flops.per_operand == 8 * product


@given(problem=problems(max_operands=5, max_dims=3, max_side=3, allow_repeated=False,
                        allow_size_zero=False))
def test_the_cheap_gradient_principle(problem: Problem) -> None:
    """Each gradient of a step reads no more letters than the step.

    So it costs at most one multiply-add per entry of the step's letters: at
    most twice the step where the step contracts a letter (a multiply-add
    each), four times where it only multiplies (an outer or Hadamard product
    costs one FLOP an entry, its gradients a multiply-add).
    """
    subscripts, operands, _ = problem
    flops = gradient_flops(subscripts, *operands)
    assert flops.backward <= 4 * flops.forward
    assert flops.vjp_forward <= flops.forward


def test_intermediates_are_freed_as_soon_as_they_are_used() -> None:
    """Forward and gradients of a chain hold no more than the value, the gradients and two."""
    rng = np.random.default_rng(0)
    a, b, c, g = (rng.normal(size=(256, 256)) for _ in range(4))
    value_and_grad("ij,jk,kl->il", a, b, c, cotangent=g)  # compiled outside the measurement
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = value_and_grad("ij,jk,kl->il", a, b, c, cotangent=g)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= 5.5 * a.nbytes  # value, 3 gradients, one intermediate at a time
    del result


# -- other libraries and errors -------------------------------------------------------------


def test_torch_arrays_keep_todays_behaviour() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b, c = (rng.normal(size=(3, 3)) for _ in range(3))
    ta, tb, tc = (torch.tensor(x, requires_grad=True) for x in (a, b, c))
    out = torch.einsum("ij,jk,kl->il", ta, tb, tc)
    g = torch.ones_like(out)
    out.backward(g)
    value, grads = value_and_grad("ij,jk,kl->il", *(t.detach() for t in (ta, tb, tc)))
    assert isinstance(value, torch.Tensor) and all(isinstance(x, torch.Tensor) for x in grads)
    for got, t in zip(grads, (ta, tb, tc), strict=True):
        np.testing.assert_allclose(got.numpy(), t.grad.numpy())
    value, pullback = value_and_vjp("ij,jk,kl->il", *(t.detach() for t in (ta, tb, tc)))
    for got, t in zip(pullback(g), (ta, tb, tc), strict=True):
        np.testing.assert_allclose(got.numpy(), t.grad.numpy())
    with pytest.raises(Exception, match="torch"):
        value_and_grad("ij,jk->ik", a, b, cotangent=torch.ones(3, 3))


def _boom(*args: Any, **kwargs: Any) -> Any:
    return 1 / 0


def test_an_unexpected_error_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    module = importlib.import_module("indexnet.einsum.tape")
    clear_cache()
    monkeypatch.setattr(module, "finisher", _boom)
    a = np.ones((2, 2))
    with pytest.raises(InternalError, match="computing einsum gradients") as caught:
        value_and_grad("ij,jk->ik", a, a)
    assert isinstance(caught.value.__cause__, ZeroDivisionError)
    _, pullback = value_and_vjp("ij,jk->ik", a, a)
    with pytest.raises(InternalError, match="pullback"):
        pullback(a)
    monkeypatch.undo()
    clear_cache()
    assert contract("ij,jk->ik", a, a).tolist() == value_and_grad("ij,jk->ik", a, a)[0].tolist()
