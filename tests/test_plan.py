"""Plans and contract: every answer checked against ``np.einsum(..., optimize=False)``.

The reference is NumPy's own unoptimised einsum, which shares no code with
indexnet's planner or its compiled NumPy calls.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

import numpy as np
import pytest
from corpus import cases
from hypothesis import example, given
from hypothesis import strategies as st

import indexnet
from indexnet import (
    IndexnetError,
    InvalidArgumentError,
    OperandCountError,
    SizeMismatchError,
    contract,
    plan,
)
from indexnet.errors import InternalError
from indexnet.strategies import einsum_problems, example_problem
from indexnet.typing import OPTIMIZERS


def reference(subscripts: str, arrays: list[np.ndarray]) -> np.ndarray:
    return np.asarray(np.einsum(subscripts, *arrays, optimize=False))


def assert_matches(got: Any, subscripts: str, arrays: list[np.ndarray], rtol: float = 1e-9) -> None:
    """``got`` has the reference's shape and values, within rounding of the sizes involved."""
    expected = reference(subscripts, arrays)
    assert np.shape(got) == expected.shape, (subscripts, [a.shape for a in arrays])
    # rounding grows with the sum of |terms|, the einsum of the absolute values
    scale = reference(subscripts, [np.abs(a).astype(np.float64) for a in arrays])
    np.testing.assert_array_less(np.abs(np.asarray(got) - expected), rtol * scale + 1e-12)


# -- the corpus, crossed with every optimizer ----------------------------------------------


@pytest.mark.parametrize("optimize", OPTIMIZERS)
@pytest.mark.parametrize(("subscripts", "shapes"), cases())
def test_corpus_matches_numpy(
    subscripts: str, shapes: list[tuple[int, ...]], optimize: Any
) -> None:
    _, arrays = example_problem(subscripts, *shapes)
    assert_matches(contract(subscripts, *arrays, optimize=optimize), subscripts, arrays)


@pytest.mark.parametrize("optimize", OPTIMIZERS)
@pytest.mark.parametrize(("subscripts", "shapes"), cases())
def test_corpus_plan_is_consistent(
    subscripts: str, shapes: list[tuple[int, ...]], optimize: Any
) -> None:
    p = plan(subscripts, *shapes, optimize=optimize)
    assert p.shapes == tuple(shapes)
    assert p.dtype == "float64"
    assert len(p.steps) == len(p.path)
    for step, contraction in zip(p.steps, p.path, strict=True):
        assert sorted(step.operands) == sorted(contraction)
        assert step.kind in {"matmul", "dot", "multiply", "sum", "einsum"}
    # the path consumes every operand and leaves one result
    remaining = len(shapes)
    for contraction in p.path:
        remaining -= len(contraction) - 1
    assert remaining == 1
    # naive_flops is what the one-step path costs, counted as the steps are
    assert p.naive_flops == plan(subscripts, *shapes, optimize="naive").flops
    if len(shapes) == 1:
        assert p.flops == p.naive_flops
    if all(shape and min(shape) >= 2 for shape in shapes):
        assert p.flops <= p.naive_flops
    assert str(p.subscripts) in repr(p) and str(p.subscripts) in str(p)


# -- generated problems --------------------------------------------------------------------


@pytest.mark.parametrize("optimize", OPTIMIZERS)
@given(problem=einsum_problems(allow_ellipsis=True))
@example(problem=example_problem("ij,ji->", (3, 4), (4, 3)))
@example(problem=example_problem("i,j,ij->", (3,), (2,), (3, 1)))
def test_contract_matches_numpy(problem: tuple[str, list[np.ndarray]], optimize: Any) -> None:
    subscripts, arrays = problem
    assert_matches(contract(subscripts, *arrays, optimize=optimize), subscripts, arrays)


@given(
    problem=einsum_problems(max_operands=3, max_side=3, allow_ellipsis=True, implicit=True),
    optimize=st.sampled_from(OPTIMIZERS),
)
def test_implicit_contract_matches_numpy(
    problem: tuple[str, list[np.ndarray]], optimize: Any
) -> None:
    subscripts, arrays = problem
    assert_matches(contract(subscripts, *arrays, optimize=optimize), subscripts, arrays)


@pytest.mark.parametrize(
    ("dtype", "rtol"),
    [("float32", 1e-4), ("complex128", 1e-9), ("complex64", 1e-4), ("int64", 0), ("bool", 0)],
)
@given(data=st.data())
def test_other_dtypes_match_numpy(dtype: str, rtol: float, data: st.DataObject) -> None:
    subscripts, arrays = data.draw(
        einsum_problems(max_operands=3, max_side=3, allow_ellipsis=True, dtype=dtype)
    )
    optimize: Any = data.draw(st.sampled_from(OPTIMIZERS))
    got = contract(subscripts, *arrays, optimize=optimize)
    if dtype == "bool":
        assert np.shape(got) == reference(subscripts, arrays).shape
        np.testing.assert_array_equal(got, reference(subscripts, arrays))
    else:
        assert_matches(got, subscripts, arrays, rtol=rtol)


@given(
    problem=einsum_problems(max_operands=5, min_side=2, allow_scalars=False),
    optimize=st.sampled_from(OPTIMIZERS),
)
def test_planned_flops_never_exceed_naive(
    problem: tuple[str, list[np.ndarray]], optimize: Any
) -> None:
    # opt_einsum's cost model charges every pairwise step at least one FLOP an
    # element, so with size-1 axes or 0-d operands several steps can cost more
    # than one; with every axis of size 2 or more a path never does
    subscripts, arrays = problem
    p = plan(subscripts, *arrays, optimize=optimize)
    assert 0 <= p.flops <= p.naive_flops
    assert p.speedup >= 1
    assert sum(step.flops for step in p.steps) == p.flops


@given(problem=einsum_problems(allow_ellipsis=True), optimize=st.sampled_from(OPTIMIZERS))
def test_naive_flops_is_the_one_step_cost(
    problem: tuple[str, list[np.ndarray]], optimize: Any
) -> None:
    subscripts, arrays = problem
    p = plan(subscripts, *arrays, optimize=optimize)
    assert p.naive_flops == plan(subscripts, *arrays, optimize="naive").flops
    assert sum(step.flops for step in p.steps) == p.flops


@given(problem=einsum_problems(max_operands=3, allow_ellipsis=True))
def test_plan_from_shapes_is_plan_from_arrays(problem: tuple[str, list[np.ndarray]]) -> None:
    subscripts, arrays = problem
    from_arrays = plan(subscripts, *arrays)
    assert plan(subscripts, *[a.shape for a in arrays]) is from_arrays
    assert_matches(from_arrays(*arrays), subscripts, arrays)


# -- what each step compiles to ------------------------------------------------------------


@pytest.mark.parametrize(
    ("subscripts", "shapes", "kinds"),
    [
        ("nd,dh->nh", [(5, 3), (3, 4)], ["matmul"]),
        ("nd,nh->dh", [(5, 3), (5, 4)], ["matmul"]),
        ("nh,dh->nd", [(5, 4), (3, 4)], ["matmul"]),
        ("ij,jk->ki", [(3, 4), (4, 5)], ["matmul"]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], ["matmul"]),
        ("ij,ij->", [(2, 3), (2, 3)], ["dot"]),
        ("ij,ji->", [(3, 4), (4, 3)], ["matmul"]),
        ("nh->h", [(5, 4)], ["sum"]),
        ("ij->ji", [(2, 3)], ["sum"]),
        ("nh,nh->nh", [(5, 4), (5, 4)], ["multiply"]),
        ("i,j->ij", [(3,), (4,)], ["multiply"]),
        ("ii->", [(3, 3)], ["einsum"]),
        ("ij,ij->", [(2, 3), (1, 3)], ["einsum"]),
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)], ["matmul", "matmul"]),
    ],
)
def test_step_kinds(subscripts: str, shapes: list[tuple[int, ...]], kinds: list[str]) -> None:
    p = plan(subscripts, *shapes)
    assert [step.kind for step in p.steps] == kinds
    _, arrays = example_problem(subscripts, *shapes)
    assert_matches(p(*arrays), subscripts, arrays)


def test_integer_arrays_go_to_einsum() -> None:
    p = plan("nd,dh->nh", np.ones((5, 3), dtype=np.int64), np.ones((3, 4), dtype=np.int64))
    assert p.dtype == "int64"
    assert [step.kind for step in p.steps] == ["einsum"]


def test_plan_path_and_step_subscripts() -> None:
    p = plan("nd,nh->dh", (5, 3), (5, 4))
    assert p.path == [(0, 1)]
    assert p.steps[0].subscripts.split("->")[1] == "dh"
    three = plan("ij,jk,kl->il", (2, 3), (3, 4), (4, 5), optimize=[(1, 2), (0, 1)])
    assert three.path == [(1, 2), (0, 1)]
    assert three.optimize == ((1, 2), (0, 1))


def test_naive_is_one_step() -> None:
    p = plan("ij,jk,kl->il", (2, 3), (3, 4), (4, 5), optimize="naive")
    assert len(p.steps) == 1 and sorted(p.steps[0].operands) == [0, 1, 2]
    assert p.flops == p.naive_flops
    assert plan("ij,jk,kl->il", (2, 3), (3, 4), (4, 5), optimize=False) is p


# -- the cache -----------------------------------------------------------------------------


def test_plans_are_cached() -> None:
    p = plan("nd,dh->nh", (5, 3), (3, 4))
    assert plan("nd,dh->nh", (5, 3), (3, 4)) is p
    assert plan("nd,dh->nh", np.ones((5, 3)), np.ones((3, 4))) is p
    assert plan("nd,dh->nh", (5, 3), (3, 4), optimize=True) is p
    assert plan("nd,dh->nh", (5, 3), (3, 4), optimize="greedy") is not p
    assert plan("nd,dh->nh", (5, 3), (3, 5)) is not p
    assert plan("nd,dh->nh", (5, 3), (3, 4), dtype=np.float32) is not p
    assert plan("nd,dh->nh", (5, 3), (3, 4), dtype=np.float32).dtype == "float32"


# -- errors --------------------------------------------------------------------------------


def test_shape_mismatch_at_call_names_the_operand() -> None:
    p = plan("nd,dh->nh", (5, 3), (3, 4))
    with pytest.raises(SizeMismatchError) as info:
        p(np.ones((5, 3)), np.ones((3, 5)))
    message = str(info.value)
    assert "operand 1" in message and "'dh'" in message
    assert "(3, 5)" in message and "(3, 4)" in message


def test_wrong_operand_count() -> None:
    p = plan("nd,dh->nh", (5, 3), (3, 4))
    with pytest.raises(OperandCountError, match=r"takes 2 operand\(s\), got 1"):
        p(np.ones((5, 3)))
    with pytest.raises(OperandCountError, match="2 input term"):
        contract("nd,dh->nh", np.ones((5, 3)))
    with pytest.raises(OperandCountError):
        contract("nd->n", np.ones((5, 3)), np.ones(3))


def test_unknown_optimizer_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        plan("nd,dh->nh", (5, 3), (3, 4), optimize="fastest")  # type: ignore[arg-type]
    message = str(info.value)
    assert "'fastest'" in message
    for name in OPTIMIZERS:
        assert name in message
    with pytest.raises(InvalidArgumentError):
        plan("nd,dh->nh", (5, 3), (3, 4), optimize=3.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ([(0, 5)], r"step 0 \(0, 5\) must name distinct operands among the 3 left"),
        ([(0, 0), (0, 1)], "step 0"),
        ([(-1, 0), (0, 1)], "step 0"),
        ([()], "step 0"),
        ([(0, 1), (0, 1), (0, 1)], r"step 2 \(0, 1\) must name distinct operands among the 1"),
        ([(0, 1)], "leaves 2 operands"),
    ],
)
def test_bad_path_is_an_invalid_argument(path: list[tuple[int, ...]], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        plan("ij,jk,kl->il", (2, 3), (3, 4), (4, 5), optimize=path)


@given(problem=einsum_problems(min_operands=2, allow_ellipsis=True), data=st.data())
def test_any_explicit_path_matches_numpy(
    problem: tuple[str, list[np.ndarray]], data: st.DataObject
) -> None:
    subscripts, arrays = problem
    path = []
    left = len(arrays)
    while left > 1:
        step = data.draw(
            st.lists(st.integers(0, left - 1), min_size=2, max_size=left, unique=True)
        )
        path.append(tuple(step))
        left -= len(step) - 1
    p = plan(subscripts, *arrays, optimize=path)
    assert p.path == path
    assert_matches(p(*arrays), subscripts, arrays)


def test_bad_shapes_at_planning() -> None:
    with pytest.raises(SizeMismatchError, match="index 'd' has size 3"):
        plan("nd,dh->nh", (5, 3), (4, 4))
    with pytest.raises(SizeMismatchError, match="2 indices"):
        plan("nd,dh->nh", (5, 3, 1), (3, 4))
    with pytest.raises(InvalidArgumentError, match="negative"):
        plan("nd,dh->nh", (5, -3), (3, 4))
    with pytest.raises(InvalidArgumentError, match="operand 1"):
        plan("nd,dh->nh", (5, 3), object())


def test_errors_are_indexnet_and_value_errors() -> None:
    for error in (InvalidArgumentError, OperandCountError, SizeMismatchError):
        assert issubclass(error, IndexnetError) and issubclass(error, ValueError)


# -- operands that are not NumPy arrays ----------------------------------------------------


def test_lists_and_scalars_are_values_not_shapes() -> None:
    assert contract("i,i->", [1.0, 2.0], [3.0, 4.0]) == 11.0
    np.testing.assert_array_equal(contract("ij,j->i", [[1, 2], [3, 4]], [1, 1]), [3, 7])
    assert contract(",->", 2.0, 3) == 6.0
    assert contract("i,->i", np.ones(2), np.float64(2.0)).tolist() == [2.0, 2.0]


def test_dask_arrays_pass_through_the_backend() -> None:
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(0)
    x, w, v = rng.normal(size=(6, 4)), rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    dx, dw, dv = da.from_array(x, chunks=2), da.from_array(w, chunks=2), da.from_array(v, chunks=2)
    result = contract("nd,dh->nh", dx, dw)
    assert isinstance(result, da.Array)
    np.testing.assert_allclose(result.compute(), x @ w)
    chain = contract("nd,dh,hk->nk", dx, dw, dv, optimize="optimal")
    assert isinstance(chain, da.Array)
    np.testing.assert_allclose(chain.compute(), x @ w @ v)
    # a plan made for NumPy arrays runs Dask arrays through the same path
    p = indexnet.plan("nd,dh->nh", x, w)
    np.testing.assert_allclose(p(dx, dw).compute(), p(x, w))
    with pytest.raises(SizeMismatchError):
        p(dx, dx)


# -- immutability and internal errors ------------------------------------------------------


def test_a_plan_is_immutable() -> None:
    p = plan("nd,dh->nh", (5, 3), (3, 4))
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.path = [(1, 0)]  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.kernel = None  # type: ignore[misc]
    assert plan("nd,dh->nh", (5, 3), (3, 4)) is p


def _boom(*args: Any, **kwargs: Any) -> Any:
    return 1 / 0


def test_an_unexpected_error_in_plan_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    plan_module = importlib.import_module("indexnet.einsum.plan")  # the module, not plan()
    monkeypatch.setattr(plan_module, "optimize_key", _boom)
    with pytest.raises(InternalError, match="internal error, please report: "
                       "planning a contraction: ZeroDivisionError") as caught:
        plan("ij,jk->ik", (2, 3), (3, 4))
    assert isinstance(caught.value.__cause__, ZeroDivisionError)
    # indexnet's own errors still pass through unchanged
    monkeypatch.undo()
    with pytest.raises(InvalidArgumentError):
        plan("ij,jk->ik", (2, 3), (3, 4), optimize="fastest")  # type: ignore[arg-type]


def test_an_unexpected_error_in_contract_is_an_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan_module = importlib.import_module("indexnet.einsum.plan")
    plan_module.clear_call_cache()  # a remembered call would not plan at all
    # the plan is found, but running it fails
    monkeypatch.setattr(plan_module, "cached_plan", lambda *args: _boom)
    with pytest.raises(InternalError, match="internal error, please report: "
                       "evaluating a contraction: ZeroDivisionError") as caught:
        contract("ij,jk->ik", np.ones((2, 3)), np.ones((3, 4)))
    assert isinstance(caught.value.__cause__, ZeroDivisionError)


def test_an_unknown_dtype_is_the_callers_error() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown dtype 'bogus'"):
        plan("ij,jk->ik", (2, 3), (3, 4), dtype="bogus")


def test_an_unexpected_error_on_the_remembered_path_is_an_internal_error() -> None:
    plan_module = importlib.import_module("indexnet.einsum.plan")
    a, b = np.ones((2, 7)), np.ones((7, 3))
    contract("ij,jk->ik", a, b)  # remembered
    key = ("ij,jk->ik", str, "auto", type(None), None, np.ndarray, a.shape, a.dtype,
           np.ndarray, b.shape, b.dtype)
    saved = plan_module._CALLS[key]
    plan_module._CALLS[key] = _boom
    try:
        with pytest.raises(InternalError, match="evaluating a contraction") as caught:
            contract("ij,jk->ik", a, b)
    finally:
        plan_module._CALLS[key] = saved
    assert isinstance(caught.value.__cause__, ZeroDivisionError)


@given(problem=einsum_problems(max_operands=4, max_dims=3, max_side=3))
def test_a_remembered_call_gives_what_the_checked_path_gives(
    problem: tuple[str, list[np.ndarray]],
) -> None:
    """A second call of the same shapes and dtypes takes the remembered kernel."""
    subscripts, operands = problem
    contract(subscripts, *operands)
    shifted = [np.array(op * 2.0 - 1.0) for op in operands]  # same shapes and dtypes, other values
    assert_matches(contract(subscripts, *shifted), subscripts, shifted)


@given(problem=einsum_problems(min_operands=3, max_operands=5, max_dims=3, max_side=3,
                               dtype=np.complex128))
def test_a_tiny_call_of_three_or_more_operands_runs_one_einsum_loop(
    problem: tuple[str, list[np.ndarray]],
) -> None:
    """Up to ONE_LOOP_SPACE index points (a size 1 yields to any other), contract() runs
    NumPy's loop, first call and remembered alike; it agrees with np.einsum."""
    from indexnet.einsum.kernels import _EINSUM_LOOP, ONE_LOOP_SPACE

    plan_module = importlib.import_module("indexnet.einsum.plan")
    subscripts, operands = problem
    chosen = plan(subscripts, *operands)
    space = 1
    for letter in chosen.subscripts.letters:  # each letter's largest size (broadcasting)
        space *= max((op.shape[term.index(letter)] for term, op
                      in zip(chosen.subscripts.inputs, operands) if letter in term), default=1)
    plan_module.clear_call_cache()
    first = contract(subscripts, *operands)
    (kernel,) = plan_module._CALLS.values()
    assert (getattr(kernel, "func", None) is _EINSUM_LOOP) == (space <= ONE_LOOP_SPACE)
    np.testing.assert_array_equal(contract(subscripts, *operands), first)  # bit for bit
    shifted = [np.array(op * (2.0 - 1.0j) - 1.0) for op in operands]
    assert_matches(contract(subscripts, *shifted), subscripts, shifted)


def test_one_loop_is_only_for_what_numpys_loop_takes_cheaply() -> None:
    from indexnet.einsum.kernels import one_loop

    f64 = np.dtype("float64")
    assert one_loop("ij,jk,kl->il", [(2, 2)] * 3, [f64] * 3) is not None
    assert one_loop("ij,jk->ik", [(2, 2)] * 2, [f64] * 2) is None  # two operands: one matmul
    assert one_loop("ij,jk,kl->il", [(6, 6)] * 3, [f64] * 3) is None  # 1,296 points
    assert one_loop("ij,jk,kl->il", [(2, 2)] * 3, [f64, f64, np.dtype("float32")]) is None
    assert one_loop("ij,jk,kl->il", [(2, 2)] * 3, [np.dtype("int64")] * 3) is None
    assert one_loop("iλ,λk,kl->il", [(2, 2)] * 3, [f64] * 3) is None  # not an ASCII letter
    # a size-1 axis broadcasts: 128·128·128 points, not the 128 the last size would say
    assert one_loop("ij,jk,ik->ik", [(128, 128), (128, 128), (1, 1)], [f64] * 3) is None


def test_a_remembered_call_still_rejects_what_it_would_reject() -> None:
    """Only the same types, shapes and dtypes hit: anything else is checked again."""
    a, b = np.ones((2, 3)), np.ones((3, 4))
    contract("ij,jk->ik", a, b)
    with pytest.raises(SizeMismatchError, match="index 'j'"):
        contract("ij,jk->ik", a, np.ones((4, 4)))
    with pytest.raises(OperandCountError):
        contract("ij,jk->ik", a)
    got = contract("ij,jk->ik", a.astype(np.float32), b.astype(np.float32))
    assert got.dtype == np.float32
    assert contract("ij,jk->ik", a.tolist(), b).shape == (2, 4)  # lists: the checked path


@pytest.mark.parametrize("operands", [2, 3, 4])
def test_a_remembered_call_still_refuses_an_option_equal_to_a_valid_one(operands: int) -> None:
    """1 == True: after optimize=True, optimize=1 is still refused, as on a first call."""
    arrays = [np.ones((2, 2))] * operands
    subscripts = ",".join("ab" for _ in arrays) + "->ab"
    contract(subscripts, *arrays, optimize=True)
    with pytest.raises(InvalidArgumentError, match="optimize"):
        contract(subscripts, *arrays, optimize=1)


def test_each_inlined_product_is_its_kernel() -> None:
    """chain() writes a product kernel as its expression: the two must agree, on every layout."""
    from indexnet.einsum.kernels import _INLINE, _KERNEL_OF, chain

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    for template, kernel in _KERNEL_OF.items():
        expected = eval(template.format("a", "b"))  # the expression chain() writes
        np.testing.assert_allclose(kernel(a, b), expected, rtol=1e-13)
        assert _INLINE[kernel] == template
        # in a chain of two steps: (a ∘ b) then (that ∘ a)
        run = chain([((0, 1), kernel), ((0, 1), kernel)], 3)
        again = eval(template.format("c", "t"), {"c": a, "t": expected})
        np.testing.assert_allclose(run(a, b, a), again, rtol=1e-12)
        assert "<indexnet chain>" in run.__code__.co_filename
