"""Sizes checked before allocating, budgets on exponential searches, the user's ``...`` in errors.

Huge operands here are zero-stride views (``np.broadcast_to``), which take no
memory, so the tests run on any machine; the refused tensors are far beyond
any machine's memory (hundreds of TiB).
"""

from __future__ import annotations

import importlib

import numpy as np
import opt_einsum
import pytest
from hypothesis import given
from hypothesis import strategies as st
from opt_einsum.testing import rand_equation

from indexnet import IndexnetError, SizeMismatchError, contract, plan, vjp
from indexnet.einsum.compiled import check_path
from indexnet.einsum.memory import machine_bytes, too_large
from indexnet.einsum.search import auto_path, find_path, run_within
from indexnet.errors import AllocationError, InvalidArgumentError
from indexnet.typing import EXPONENTIAL_SEARCHES, OPTIMIZERS


def huge(*shape: int) -> np.ndarray:
    """An array of ``shape`` that takes 8 bytes of memory."""
    return np.broadcast_to(np.ones(1), shape)


# -- sizes before allocation ---------------------------------------------------------------


def test_a_huge_output_is_refused_naming_it_before_allocation() -> None:
    with pytest.raises(AllocationError) as caught:
        contract("ab,cd->abcd", huge(10, 10**6), huge(10, 10**6))
    message = str(caught.value)
    assert "the output 'abcd'" in message
    assert "(10, 1000000, 10, 1000000)" in message
    assert "800,000,000,000,000 bytes" in message
    assert isinstance(caught.value, IndexnetError) and isinstance(caught.value, MemoryError)


def test_a_path_through_a_huge_intermediate_is_refused_naming_the_step() -> None:
    operands = huge(10, 10**6), huge(10, 10**6), huge(10**6, 10**6)
    with pytest.raises(AllocationError, match=r"intermediate 'cdab' of step 0 .*728 TiB"):
        contract("ab,cd,bd->ac", *operands, optimize=[(0, 1), (0, 1)])


def test_a_plan_describes_any_size_and_says_it_cannot_run() -> None:
    p = plan("ab,cd->abcd", (10, 10**6), (10, 10**6))
    assert p.refusal is not None and "note: the output 'abcd'" in str(p)
    with pytest.raises(AllocationError):
        p.check_fits()
    with pytest.raises(AllocationError):
        p(huge(10, 10**6), huge(10, 10**6))
    plan("ab,bc->ac", (3, 4), (4, 5)).check_fits()  # fits: nothing raised


def test_vjp_refuses_a_huge_gradient_before_allocating() -> None:
    with pytest.raises(AllocationError, match=r"the gradient of operand 0 \('ab'\)"):
        vjp("ab,cd->", huge(10**7, 10**7), huge(2, 2), cotangent=np.ones(()))


@given(
    shape=st.lists(st.integers(1, 10**9), min_size=1, max_size=4).map(tuple),
    dtype=st.sampled_from(["float64", "float32", "int8", "complex128"]),
)
def test_too_large_is_exactly_the_bytes_over_the_machine(
    shape: tuple[int, ...], dtype: str
) -> None:
    nbytes = int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize
    why = too_large([("the output 'x'", shape)], dtype)
    assert (why is None) == (nbytes <= machine_bytes())
    if why is not None:
        assert f"{nbytes:,} bytes" in why and str(shape) in why


# -- budgets -----------------------------------------------------------------------------


def test_run_within_returns_passes_errors_and_stops() -> None:
    assert run_within(lambda: 1, 1.0) == (True, 1)
    with pytest.raises(ZeroDivisionError):
        run_within(lambda: 1 / 0, 1.0)

    # an exhaustive search of 12 operands runs for minutes: the budget stops it
    chain = ",".join("abcdefghijklm"[i:i + 2] for i in range(12)) + "->am"
    search = lambda: opt_einsum.contract_path(chain, *[(2, 2)] * 12, shapes=True,  # noqa: E731
                                              optimize="optimal")
    assert run_within(search, 0.05) == (False, None)  # returns at all: the search was stopped


@pytest.mark.parametrize("optimize", ["optimal", "branch-all", "dp"])
def test_an_exponential_search_stops_at_its_budget_and_says_so(optimize: str) -> None:
    # 40 operands: none of these searches finishes in 0.2 s
    eq, shapes = rand_equation(40, 3, seed=1)[:2]
    p = plan(eq, *shapes, optimize=optimize, budget=0.2)
    assert p.note is not None
    assert p.note.startswith(f"{optimize} stopped at its 0.2 s budget")
    assert f"note: {p.note}" in str(p)
    check_path(tuple(p.path), len(shapes))  # a full path, which contracts everything


def test_a_finished_search_has_no_note() -> None:
    p = plan("ab,bc,cd->ad", (2, 3), (3, 4), (4, 5), optimize="optimal", budget=0.5)
    assert p.note is None


def test_every_exponential_search_is_an_optimizer_name() -> None:
    assert EXPONENTIAL_SEARCHES - {"cotengra"} <= set(OPTIMIZERS)


@pytest.mark.parametrize("budget", [0, -1.0, "10", True])
def test_a_bad_budget_is_an_invalid_argument(budget: object) -> None:
    with pytest.raises(InvalidArgumentError, match="budget must be"):
        plan("ab,bc->ac", (2, 3), (3, 4), budget=budget)  # type: ignore[arg-type]


def test_auto_falls_back_within_its_budget_and_says_which() -> None:
    eq, shapes = rand_equation(30, 4, seed=0)[:2]
    path, info, note = auto_path(eq, shapes, None, 0.1)
    assert note is not None and note.startswith("auto: ")
    assert "dp ran past its share of the 0.1 s planning budget" in note
    check_path(tuple(tuple(step) for step in path), len(shapes))
    _, greedy_info, _ = find_path(eq, shapes, "greedy")
    assert info.opt_cost <= greedy_info.opt_cost


def test_oe_auto_is_opt_einsums_auto() -> None:
    import opt_einsum

    eq, shapes = rand_equation(12, 3, seed=2)[:2]
    expected, _ = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize="auto")
    assert plan(eq, *shapes, optimize="oe-auto").path == [tuple(s) for s in expected]


# -- the user's ellipsis in size errors --------------------------------------------------------


@pytest.mark.parametrize(
    ("subscripts", "shapes", "expected"),
    [
        ("...i,...i->...", [(3, 2), (4, 2)],
         r"'\.\.\.' \(its axis 0 of 1\) has size 3 in operand 0 \('\.\.\.i', axis 0\) "
         r"but 4 in operand 1 \('\.\.\.i', axis 0\)"),
        ("ij...,jk...->ik...", [(2, 3, 7, 7), (3, 4, 5, 7)],
         r"'\.\.\.' \(its axis 0 of 2\) has size 7 in operand 0 \('ij\.\.\.', axis 2\) "
         r"but 5 in operand 1 \('jk\.\.\.', axis 2\)"),
    ],
)
def test_an_ellipsis_size_mismatch_names_the_ellipsis_and_axis(
    subscripts: str, shapes: list[tuple[int, ...]], expected: str
) -> None:
    with pytest.raises(SizeMismatchError, match=expected) as caught:
        contract(subscripts, *(np.ones(s) for s in shapes))
    assert "'Z'" not in str(caught.value) and "'Y'" not in str(caught.value)


def test_the_budgeted_search_module_imports_only_what_einsum_may() -> None:
    module = importlib.import_module("indexnet.einsum.search")
    assert "indexnet.bench" not in " ".join(vars(module))
