"""SubtreeTree, auto's reconfiguration: its paths contract right, its costs are cotengra's,
and contracting subtrees again never costs more."""

from __future__ import annotations

import numpy as np
import opt_einsum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexnet.strategies import einsum_problems

cotengra = pytest.importorskip("cotengra")
basic = pytest.importorskip("cotengra.pathfinders.path_basic")

from indexnet.einsum.subtrees import SubtreeTree  # noqa: E402

#: The exact path finders SubtreeTree is given: cotengrust's (when installed) and Python's.
OPTIMALS = [basic.get_optimize_optimal(accel=False)]
if basic.get_optimize_optimal() is not OPTIMALS[0]:
    OPTIMALS.append(basic.get_optimize_optimal())


def network(subscripts: str, arrays: list[np.ndarray]) -> tuple[list[str], str, dict[str, int]]:
    inputs, output = subscripts.split("->")
    terms = inputs.split(",")
    sizes = {c: int(d) for term, a in zip(terms, arrays) for c, d in zip(term, a.shape)}
    return terms, output, sizes


def random_path(n: int, data: st.DataObject) -> list[tuple[int, int]]:
    """Any linear path of pairs over ``n`` operands (outer products included)."""
    path = []
    for left in range(n, 1, -1):
        i = data.draw(st.integers(0, left - 1))
        j = data.draw(st.integers(0, left - 2))
        path.append((i, j + (j >= i)))
    return path


@given(problem=einsum_problems(min_operands=2, max_operands=9, max_dims=3, min_side=1,
                               max_side=3, allow_repeated=False, allow_size_zero=False),
       data=st.data(), which=st.sampled_from(range(len(OPTIMALS))))
@settings(max_examples=80, deadline=None)
def test_reconfigured_paths_contract_exactly_and_never_cost_more(
    problem: tuple[str, list[np.ndarray]], data: st.DataObject, which: int,
) -> None:
    subscripts, arrays = problem
    terms, output, sizes = network(subscripts, arrays)
    path = random_path(len(terms), data)
    tree = SubtreeTree(terms, output, sizes, path, OPTIMALS[which])
    # the cost of the path as given is cotengra's count for the same tree
    reference = cotengra.ContractionTree.from_path(terms, output, sizes, path=path)
    assert tree.total_flops() == pytest.approx(float(reference.total_flops()), rel=1e-12)
    costs = [tree.total_flops()]
    while tree.reconfigure(size=data.draw(st.integers(3, 7)), rounds=3):
        costs.append(tree.total_flops())
    assert costs == sorted(costs, reverse=True)  # never more
    ssa = tree.ssa_path()
    assert sorted(len(step) for step in ssa) == [2] * (len(terms) - 1)
    again = cotengra.ContractionTree.from_path(terms, output, sizes, ssa_path=ssa)
    assert tree.total_flops() == pytest.approx(float(again.total_flops()), rel=1e-12)
    linear = opt_einsum.paths.ssa_to_linear(ssa)
    got = opt_einsum.contract(subscripts, *arrays, optimize=[tuple(s) for s in linear])
    np.testing.assert_allclose(got, np.einsum(subscripts, *arrays), rtol=1e-10, atol=1e-10)


def test_a_local_optimum_is_reached_and_then_nothing_is_left_to_try() -> None:
    chain = ["ab", "bc", "cd", "de", "ef", "fg"]
    sizes = {"a": 2, "b": 50, "c": 3, "d": 40, "e": 2, "f": 60, "g": 3}
    bad = [(0, 5), (0, 4), (0, 3), (0, 2), (0, 1)]  # the ends first: outer products
    tree = SubtreeTree(chain, "ag", sizes, bad, OPTIMALS[-1])
    before = tree.total_flops()
    while tree.reconfigure(size=7, rounds=2):
        pass
    assert tree.reconfigure(size=7, rounds=2) == 0
    # six tensors fit one subtree: the whole chain is contracted optimally
    exact, _ = opt_einsum.contract_path(",".join(chain) + "->ag",
                                        *[tuple(sizes[c] for c in t) for t in chain],
                                        shapes=True, optimize="optimal")
    flops = cotengra.ContractionTree.from_path(chain, "ag", sizes, path=exact).total_flops()
    assert tree.total_flops() == pytest.approx(float(flops))
    assert tree.total_flops() < before


@pytest.mark.parametrize(("terms", "output", "sizes", "flops"), [
    # once failed: an index of one operand alone (summed in it first) counted in the product
    (["", "abc"], "", {"a": 1, "b": 1, "c": 2}, 1.0),
    (["ab", "bc"], "ac", {"a": 2, "b": 3, "c": 4}, 24.0),
    (["ab", "b"], "", {"a": 5, "b": 3}, 3.0),
])
def test_the_cost_of_one_contraction_is_cotengras(
    terms: list[str], output: str, sizes: dict[str, int], flops: float,
) -> None:
    tree = SubtreeTree(terms, output, sizes, [(0, 1)], OPTIMALS[0])
    reference = cotengra.ContractionTree.from_path(terms, output, sizes, path=[(0, 1)])
    assert tree.total_flops() == flops == float(reference.total_flops())
