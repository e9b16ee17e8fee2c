"""cotengra as an optimizer, optimizer objects passed through, and plans sliced to fit memory.

Every answer is checked against ``np.einsum`` (``optimize=False`` up to four
operands, NumPy's own greedy path beyond), which shares no code with
opt_einsum, cotengra or indexnet's compiled steps.
cotengra runs with small time budgets here; its hyper-parameter sampler is
seeded (its trial functions draw unseeded, so paths may differ run to run,
never the values).
"""

from __future__ import annotations

import importlib.util
import sys
import time
import tracemalloc
from typing import Any

import numpy as np
import opt_einsum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opt_einsum.testing import rand_equation

from indexnet import InvalidArgumentError, MemoryLimitError, MissingExtraError, contract, plan
from indexnet.einsum import cotengra_paths, search
from indexnet.einsum.slicing import Slicing, batches, choose_chunks, divisors, step_terms
from indexnet.einsum.subtrees import SubtreeTree
from indexnet.strategies import einsum_problems

cotengra = pytest.importorskip("cotengra")
COMPILED = importlib.util.find_spec("cotengrust") is not None

# the seed's chain XW1W2 at its real sizes: (nd,dh)->nh has 65,536 elements, (dh,hk)->dk 7,840
CHAIN = ("nd,dh,hk->nk", [(256, 784), (784, 256), (256, 10)])


def reference(subscripts: str, arrays: list[np.ndarray]) -> np.ndarray:
    # one einsum over all operands costs the product of every size: beyond four small
    # operands, NumPy's own greedy path (NumPy's code, not opt_einsum's)
    small = len(arrays) <= 4 and max((a.size for a in arrays), default=1) <= 10_000
    optimize = False if small else "greedy"
    return np.asarray(np.einsum(subscripts, *arrays, optimize=optimize))


def arrays_for(shapes: list[tuple[int, ...]], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def methods() -> list[str]:
    """The hyper-optimizer's path finders, named so cotengra does not warn about kahypar."""
    return cotengra_paths._methods()


# -- optimize="auto" up to 20 operands: random-greedy starts, reconfigured, restarted ----------


@pytest.mark.parametrize(("n", "regularity"), [(5, 2), (7, 3), (9, 4), (10, 3), (10, 4)])
def test_auto_up_to_ten_operands_is_exact_as_opt_einsums_dp(n: int, regularity: int) -> None:
    pytest.importorskip("cotengrust")
    for seed in range(5):
        eq, shapes = rand_equation(n, regularity, seed=seed, n_out=seed % 3)[:2]
        _, info, note = search.auto_path(eq, shapes, None, 0.04)
        assert note == "auto: dp (cotengrust)"
        _, exact = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize="dp")
        assert info.opt_cost == exact.opt_cost, (eq, seed)


def test_auto_leaves_networks_that_are_not_plain_to_opt_einsums_dp() -> None:
    """Hyperedges, size-1 axes and a scalar: cotengrust's dp found 2.37x the FLOPs here."""
    eq, shapes = "ad,ac,abef,e,,af->adbc", [(2, 6), (2, 5), (2, 1, 1, 2), (1,), (), (2, 2)]
    _, info, note = search.auto_path(eq, shapes, None, 0.04)
    _, exact = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize="dp")
    assert note == "auto: dp"
    assert info.opt_cost == exact.opt_cost


@pytest.mark.parametrize("seed", range(40))
def test_auto_up_to_ten_operands_is_never_worse_than_opt_einsums_dp(seed: int) -> None:
    """cotengra's random networks, with hyperedges and size-1 axes in half of them."""
    hyper = seed % 2
    r = cotengra.utils.rand_equation(5 + seed % 6, 3, n_out=seed % 3, n_hyper_in=hyper,
                                     n_hyper_out=hyper, d_min=1 + (1 - hyper), d_max=4,
                                     seed=seed)
    eq = ",".join("".join(t) for t in r.inputs) + "->" + "".join(r.output)
    _, info, _ = search.auto_path(eq, r.shapes, None, 1.0)
    _, exact = opt_einsum.contract_path(eq, *r.shapes, shapes=True, optimize="dp")
    assert info.opt_cost <= exact.opt_cost


@given(problem=st.one_of(
    einsum_problems(min_operands=5, max_operands=8, max_dims=3, max_side=3),
    einsum_problems(min_operands=5, max_operands=8, max_dims=3, min_side=2, max_side=3,
                    allow_repeated=False, allow_scalars=False, allow_size_one=False,
                    allow_size_zero=False),  # mostly plain: cotengrust's dp
))
@settings(max_examples=60, deadline=None)
def test_auto_paths_of_five_to_eight_operands_contract_any_problem(
    problem: tuple[str, list[np.ndarray]],
) -> None:
    """Repeated letters, size-1 broadcasting, size 0, scalars: the path still contracts right;
    a plain network's comes from cotengrust's dp, no other's does."""
    subscripts, arrays = problem
    p = plan(subscripts, *arrays)  # auto
    plain = search._plain(str(p.subscripts), p.shapes)
    assert (p.note == "auto: dp (cotengrust)") == (COMPILED and plain)
    np.testing.assert_allclose(p(*arrays), reference(subscripts, arrays), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_auto_beyond_dp_is_a_full_path_never_worse_than_greedy(seed: int) -> None:
    eq, shapes = rand_equation(20, 4, seed=seed)[:2]
    path, info, note = search.auto_path(eq, shapes, None, 0.04)  # dp takes 0.3-0.8 s on these
    why = "dp is not tried on 20 operands" if COMPILED else "dp ran past its share"
    assert note.startswith("auto: ") and why in note
    assert sorted(len(step) for step in path) == [2] * (len(shapes) - 1)
    _, greedy, _ = search.find_path(eq, shapes, "greedy")
    assert info.opt_cost <= greedy.opt_cost


@pytest.mark.parametrize("compiled", [True, False])
def test_restarted_reconfiguration_contracts_the_network_exactly(compiled: bool) -> None:
    """Both samplers (cotengrust's when installed, and cotengra's Python one) give a path
    whose contraction equals NumPy's."""
    if compiled:
        pytest.importorskip("cotengrust")
    eq, shapes = rand_equation(9, 3, seed=3, d_min=2, d_max=4, n_out=2)[:2]
    inputs, output = eq.split("->")
    sizes = {c: d for term, shape in zip(inputs.split(","), shapes) for c, d in zip(term, shape)}
    sampler = cotengra.pathfinders.path_basic.get_optimize_random_greedy_track_flops(
        accel=compiled)
    found = search._restarted_reconfiguration(
        inputs.split(","), output, sizes, time.perf_counter() + 0.05, sampler)
    assert found and "starts)" in found[0][0]
    arrays = arrays_for(shapes, 3)
    got = opt_einsum.contract(eq, *arrays, optimize=[tuple(s) for s in found[0][1]])
    np.testing.assert_allclose(got, reference(eq, arrays), rtol=1e-10, atol=1e-10)


def test_reconfiguration_rounds_fit_the_time_left() -> None:
    """Rounds run without the budget's hook, so a round is sized to the time left: none
    where one subtree's last time (at the margin) does not fit, and never past 8."""
    eq, shapes = rand_equation(14, 3, seed=2)[:2]
    inputs, output = eq.split("->")
    terms = inputs.split(",")
    sizes = {c: d for term, shape in zip(terms, shapes) for c, d in zip(term, shape)}
    greedy, _, _ = search.find_path(eq, shapes, "greedy")
    optimal = cotengra.pathfinders.path_basic.get_optimize_optimal()
    tree = SubtreeTree(terms, output, sizes, greedy, optimal)
    start_flops = tree.total_flops()
    calls: list[int] = []
    original = SubtreeTree.reconfigure

    def counted(self: SubtreeTree, size: int, rounds: int) -> int:
        calls.append(rounds)
        return original(self, size, rounds)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SubtreeTree, "reconfigure", counted)
        took = [1.0]  # a subtree took a second: nothing fits in half a second
        assert search._reconfigured(tree, time.perf_counter() + 0.5, took) is tree
        assert calls == [] and took == [1.0] and tree.total_flops() == start_flops
        took = []
        better = search._reconfigured(tree, time.perf_counter() + 5.0, took)
    assert better is tree  # in place
    assert calls[0] == search._FIRST_ROUND and max(calls) <= search._RECONFIGURE_ROUND
    assert tree.reconfigure(search._SUBTREE_SIZE, 1) == 0  # ended at a local optimum
    assert len(took) == 1 and took[0] > 0
    assert better.total_flops() < start_flops  # greedy's path is not a local optimum here
    got = opt_einsum.paths.ssa_to_linear(better.ssa_path())
    arrays = arrays_for(shapes, 2)
    np.testing.assert_allclose(opt_einsum.contract(eq, *arrays, optimize=[tuple(s) for s in got]),
                               reference(eq, arrays), rtol=1e-10, atol=1e-10)


def test_restarts_draw_their_starts_with_each_setting_in_turn() -> None:
    """Each start's batch is sampled with the next (temperature, costmod) of the list."""
    eq, shapes = rand_equation(12, 3, seed=4)[:2]
    inputs, output = eq.split("->")
    sizes = {c: d for term, shape in zip(inputs.split(","), shapes) for c, d in zip(term, shape)}
    sampler = cotengra.pathfinders.path_basic.get_optimize_random_greedy_track_flops()
    drawn: list[tuple[Any, Any, int]] = []

    def recorded(*args: Any, **kwargs: Any) -> Any:
        drawn.append((kwargs["temperature"], kwargs["costmod"], kwargs["seed"]))
        return sampler(*args, **kwargs)

    found = search._restarted_reconfiguration(
        inputs.split(","), output, sizes, time.perf_counter() + 1.0, recorded)
    settings_ = search._START_SETTINGS
    assert found and f"best of {len(drawn)} starts" in found[0][0]
    assert len(drawn) > search._RESTARTS_WITHOUT_GAIN  # at least one start and its restarts
    assert drawn == [(*settings_[k % len(settings_)], k) for k in range(len(drawn))]


def test_restarts_without_patience_go_on_until_the_deadline() -> None:
    """Beyond 20 operands auto restarts until its budget is spent; up to 20, three restarts
    in a row without a gain end it (a 12-operand network: well before 0.2 s)."""
    eq, shapes = rand_equation(12, 3, seed=5)[:2]
    inputs, output = eq.split("->")
    sizes = {c: d for term, shape in zip(inputs.split(","), shapes) for c, d in zip(term, shape)}
    took = {}
    for patience in (3, None):
        start = time.perf_counter()
        found = search._restarted_reconfiguration(inputs.split(","), output, sizes,
                                                  start + 0.2, patience=patience)
        took[patience] = time.perf_counter() - start
        assert found
    assert took[3] < 0.15 < took[None]


@pytest.mark.parametrize("n", [11, 16, 20])
@pytest.mark.parametrize("ring", [False, True])
def test_auto_plans_chains_and_rings_up_to_twenty_operands_exactly(n: int, ring: bool) -> None:
    """No operand with more than two neighbours: cotengrust's dp is bounded, and exact."""
    pytest.importorskip("cotengrust")
    letters = "abcdefghijklmnopqrstuvwxyz"
    terms = [letters[i] + letters[(i + 1) % n if ring else i + 1] for i in range(n)]
    eq = ",".join(terms) + "->" + ("" if ring else letters[0] + letters[n])
    rng = np.random.default_rng(n)
    sizes = {c: int(rng.integers(2, 40)) for c in letters[:n + 1]}
    shapes = [tuple(sizes[c] for c in term) for term in terms]
    start = time.perf_counter()
    _, info, note = search.auto_path(eq, shapes, None, 0.04)
    assert note == "auto: dp (cotengrust)"
    _, exact = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize="dp")
    assert info.opt_cost == exact.opt_cost
    assert time.perf_counter() - start < 5.0  # bounded (a ring of 20: about 10 ms)


@pytest.mark.parametrize("was_enabled", [True, False])
def test_auto_pauses_the_garbage_collector_and_restores_it(was_enabled: bool) -> None:
    import gc

    seen: list[bool] = []
    original = search._contract_path

    def spied(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    eq, shapes = rand_equation(12, 3, seed=1)[:2]
    (gc.enable if was_enabled else gc.disable)()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(search, "_contract_path", spied)
            search.auto_path(eq, shapes, None, 0.02)
        assert seen and not any(seen)
        assert gc.isenabled() == was_enabled
    finally:
        gc.enable()


# -- optimize="cotengra" -------------------------------------------------------------------


@pytest.mark.parametrize(("n", "regularity", "seed"),
                         [(3, 2, 0), (5, 3, 1), (7, 3, 2), (9, 3, 3), (10, 4, 4), (12, 3, 5)])
def test_cotengra_matches_numpy_on_random_networks(n: int, regularity: int, seed: int) -> None:
    eq, shapes = rand_equation(n, regularity, seed=seed, d_min=2, d_max=4, n_out=seed % 3)[:2]
    arrays = arrays_for(shapes, seed)
    p = plan(eq, *shapes, optimize="cotengra", budget=0.2)
    assert p.optimize == "cotengra" and p.slicing is None
    assert all(len(step) <= 2 for step in p.path)
    np.testing.assert_allclose(p(*arrays), reference(eq, arrays), rtol=1e-9, atol=1e-12)


@settings(max_examples=25)
@given(problem=einsum_problems(min_operands=1, max_operands=5, allow_ellipsis=True))
def test_cotengra_matches_numpy_on_any_problem(problem: tuple[str, list[np.ndarray]]) -> None:
    # diagonals, size-1 broadcasting, empty axes, scalars and ellipses
    subscripts, arrays = problem
    got = contract(subscripts, *arrays, optimize="cotengra")
    np.testing.assert_allclose(got, reference(subscripts, arrays), rtol=1e-9, atol=1e-12)


def test_cotengra_budget_that_runs_out_returns_the_best_found_and_says_so() -> None:
    eq, shapes = rand_equation(9, 3, seed=7, d_min=2, d_max=4)[:2]
    p = plan(eq, *shapes, optimize="cotengra", budget=1e-4)
    assert p.note is not None and "cotengra stopped at its 0.0001 s budget after 1 trial" in p.note
    assert "note: cotengra stopped" in str(p)
    arrays = arrays_for(shapes)
    np.testing.assert_allclose(p(*arrays), reference(eq, arrays), rtol=1e-9)


def test_cotengra_without_cotengra_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cotengra", None)  # import cotengra now fails
    with pytest.raises(MissingExtraError, match=r"pip install cotengra") as info:
        plan("ab,bc,cd->ad", (2, 3), (3, 4), (4, 7), optimize="cotengra")
    assert isinstance(info.value, InvalidArgumentError) and isinstance(info.value, ImportError)
    assert info.value.package == "cotengra"


# -- optimizer objects, passed through -----------------------------------------------------


def optimizer_objects() -> list[Any]:
    return [
        opt_einsum.RandomGreedy(max_repeats=8),
        opt_einsum.DynamicProgramming(),
        opt_einsum.BranchBound(nbranch=2),
        cotengra.HyperOptimizer(methods=methods(), max_repeats=8, parallel=False),
        cotengra.GreedyOptimizer(),
        cotengra.ReusableHyperOptimizer(methods=methods(), max_repeats=4, parallel=False),
    ]


@pytest.mark.parametrize("optimizer", optimizer_objects(), ids=lambda o: type(o).__name__)
def test_optimizer_objects_pass_through(optimizer: Any) -> None:
    eq, shapes = rand_equation(8, 3, seed=11, d_min=2, d_max=4)[:2]
    arrays = arrays_for(shapes, 1)
    p = plan(eq, *shapes, optimize=optimizer)
    assert p.optimize is optimizer
    assert plan(eq, *shapes, optimize=optimizer) is p  # cached for that object
    np.testing.assert_allclose(p(*arrays), reference(eq, arrays), rtol=1e-9)
    np.testing.assert_allclose(contract(eq, *arrays, optimize=optimizer),
                               reference(eq, arrays), rtol=1e-9)


class _BadPath(opt_einsum.paths.PathOptimizer):  # type: ignore[misc]
    def __init__(self, path: Any) -> None:
        self.path = path

    def __call__(self, inputs: Any, output: Any, size_dict: Any, memory_limit: Any = None) -> Any:
        return self.path


@pytest.mark.parametrize(("path", "message"), [
    ([(0, 7)], r"returned the path \[\(0, 7\)\], which does not fit the 3 operands"),
    ([(0, 1)], r"returned the path \[\(0, 1\)\].*leaves 2 operands"),
    (42, r"returned 42, not a path"),
])
def test_a_path_that_does_not_fit_the_operands_names_it(path: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        plan("ab,bc,cd->ad", (2, 3), (3, 4), (4, 5), optimize=_BadPath(path))


def test_an_optimizer_objects_own_error_passes_through() -> None:
    class Failing(opt_einsum.paths.PathOptimizer):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            raise KeyError("the caller's own bug")

    with pytest.raises(KeyError, match="the caller's own bug"):
        plan("ab,bc,cd->ad", (2, 3), (3, 4), (4, 5), optimize=Failing())


def test_a_cotengra_optimizer_used_on_another_contraction_is_named() -> None:
    optimizer = cotengra.HyperOptimizer(methods=methods(), max_repeats=4, parallel=False)
    plan("ab,bc,cd->ad", (2, 3), (3, 4), (4, 5), optimize=optimizer)
    with pytest.raises(InvalidArgumentError, match="used before on another contraction"):
        plan("ab,bc,cd,de->ae", (2, 3), (3, 4), (4, 5), (5, 2), optimize=optimizer)


# -- slicing under memory_limit ------------------------------------------------------------


@pytest.mark.parametrize("optimize", ["auto", "greedy", "dp", "cotengra", "measured"])
def test_a_limit_no_unsliced_path_meets_is_met_in_slices(optimize: str) -> None:
    eq, shapes = CHAIN
    limit = 2560  # below the smallest unsliced largest intermediate (7,840): the output's size
    p = plan(eq, *shapes, optimize=optimize, memory_limit=limit, budget=1.0)
    assert isinstance(p.slicing, Slicing) and p.slicing.n_slices > 1
    assert p.largest_intermediate <= limit and p.memory_limit == limit
    assert p.slicing.overhead >= 1.0 and p.flops == p.slicing.flops
    assert set(p.slicing.indices) <= set("dh")  # contracted indices only: the output is whole
    text = str(p)
    assert "sliced over" in text and "slices, FLOPs overhead" in text and "per slice" in text
    arrays = arrays_for(shapes)
    np.testing.assert_allclose(p(*arrays), reference(eq, arrays), rtol=1e-10)


def test_sliced_contract_is_exact_and_remembered() -> None:
    eq, shapes = CHAIN
    arrays = arrays_for(shapes, 3)
    first = contract(eq, *arrays, memory_limit=2560)
    second = contract(eq, *arrays, memory_limit=2560)  # the call cache: the sliced kernel
    np.testing.assert_allclose(first, reference(eq, arrays), rtol=1e-10)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("seed", range(6))
def test_sliced_random_networks_match_numpy(seed: int) -> None:
    n = 5 + 2 * seed
    eq, shapes = rand_equation(n, 3, seed=seed, d_min=2, d_max=5, n_out=seed % 3,
                               global_dim=seed % 2 == 1)[:2]
    arrays = arrays_for(shapes, seed)
    unsliced = plan(eq, *shapes)
    output = int(np.prod(reference(eq, arrays).shape))
    limit = max(output, unsliced.largest_intermediate // 8)
    for optimize in ("auto", "cotengra"):
        p = plan(eq, *shapes, optimize=optimize, memory_limit=limit, budget=0.2)
        assert p.largest_intermediate <= limit
        np.testing.assert_allclose(p(*arrays), reference(eq, arrays), rtol=1e-9, atol=1e-12)


def test_sliced_memory_is_bounded() -> None:
    # every unsliced path holds 20,000 elements (ac or bd); sliced within 2,000
    eq, shapes = "ab,bc,cd->ad", [(20, 1000), (1000, 1000), (1000, 20)]
    arrays = arrays_for(shapes)
    limit, output = 2000, 400
    unsliced, sliced = plan(eq, *shapes), plan(eq, *shapes, memory_limit=limit)
    assert unsliced.largest_intermediate == 20_000 and sliced.slicing is not None

    def peak(run: Any) -> int:
        tracemalloc.start()
        try:
            run(*arrays)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    sliced_peak, unsliced_peak = peak(sliced), peak(unsliced)
    assert unsliced_peak >= unsliced.largest_intermediate * 8
    # one slice's intermediate, its result, the running sum: the limit and a few outputs
    assert sliced_peak <= (limit + 4 * output) * 8 + 16_000, (sliced_peak, unsliced_peak)
    np.testing.assert_allclose(sliced(*arrays), reference(eq, arrays), rtol=1e-8, atol=1e-8)


def test_sliced_plan_runs_other_libraries_arrays() -> None:
    da = pytest.importorskip("dask.array")
    eq, shapes = CHAIN
    arrays = arrays_for(shapes, 5)
    p = plan(eq, *shapes, memory_limit=2560)
    got = p(*(da.from_array(a, chunks=128) for a in arrays))
    np.testing.assert_allclose(np.asarray(got), reference(eq, arrays), rtol=1e-10)


def test_integer_and_scalar_results_in_slices() -> None:
    eq = "ab,bc,ca->"
    arrays = [np.random.default_rng(k).integers(-3, 4, (12, 12)) for k in range(3)]
    p = plan(eq, *arrays, memory_limit=1)
    assert p.slicing is not None
    got = p(*arrays)
    assert type(got) is type(plan(eq, *arrays)(*arrays)) and got == reference(eq, arrays)


def test_limits_slicing_cannot_meet_are_still_refused() -> None:
    eq, shapes = CHAIN
    # below the output: no slicing of contracted indices can help; the smallest is the output
    with pytest.raises(MemoryLimitError, match="the output alone has 2,560") as info:
        plan(eq, *shapes, memory_limit=2000)
    assert info.value.smallest == 2560
    with pytest.raises(MemoryLimitError, match="the output alone has 2,560"):
        plan(eq, *shapes, optimize="cotengra", memory_limit=2000, budget=0.2)
    # an explicit path is checked, never sliced
    with pytest.raises(MemoryLimitError, match="given path's largest intermediate has 65,536"):
        plan(eq, *shapes, optimize=[(0, 1), (0, 1)], memory_limit=7840)


def test_without_cotengra_a_limit_is_refused_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cotengra_paths, "cotengra_installed", lambda: False)
    eq, shapes = "ab,bc,cd->ad", [(30, 70), (70, 70), (70, 31)]  # shapes no other test plans
    with pytest.raises(MemoryLimitError, match=r"with cotengra installed .* run in slices"):
        plan(eq, *shapes, memory_limit=1000)


# -- the slicing record's parts ------------------------------------------------------------


def test_chunks_grow_to_the_widest_that_fit() -> None:
    _, info = opt_einsum.contract_path(*CHAIN[:1], *CHAIN[1], shapes=True, optimize="optimal")
    steps = step_terms(info.contraction_list)
    sizes = dict(info.size_dict)
    assert choose_chunks(steps, sizes, ["d"], 2560) == (196,)  # 10 x 196 = 1,960 <= 2,560
    assert choose_chunks(steps, sizes, ["d"], 100_000) == (784,)  # the whole: not sliced
    assert choose_chunks(steps, sizes, ["h"], 2000) is None  # the output alone is over
    assert divisors(784)[:6] == [1, 2, 4, 7, 8, 14]


def test_batches_cover_every_slice_once() -> None:
    for n, k in [(1, 8), (7, 8), (1000, 8), (13, 3)]:
        ranges = batches(n, k)
        assert len(ranges) == min(n, k)
        assert [i for a, b in ranges for i in range(a, b)] == list(range(n))
