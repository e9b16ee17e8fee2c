"""``optimize="measured"`` and ``memory_limit``: chosen by timing, cached, never naive.

Timings are never asserted: where a choice is checked, ``time_paths`` is
replaced by a stub that returns fixed times, and where caching is checked,
calls to it are counted.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import opt_einsum
import pytest

from indexnet import InvalidArgumentError, contract, plan
from indexnet.bench import random_equation
from indexnet.einsum import cotengra_paths
from indexnet.einsum import measured as pb
from indexnet.einsum.compiled import check_path
from indexnet.einsum.memory import smallest_intermediate
from indexnet.einsum.plan import _Measured, _uncached_plan
from indexnet.einsum.timing import random_arrays
from indexnet.errors import IndexnetError, MemoryLimitError
from indexnet.typing import OPTIMIZERS

Shape = tuple[int, ...]


def reference(subscripts: str, arrays: list[np.ndarray]) -> np.ndarray:
    return np.asarray(np.einsum(subscripts, *arrays, optimize=False))


class TimingCounter:
    """Wraps ``pathbench.time_paths``: counts calls, optionally returns fixed times."""

    def __init__(self, fixed: Callable[[int], list[float | None]] | None = None) -> None:
        self.calls = 0
        self.fixed = fixed
        self.original = pb.time_paths

    def __call__(self, runs: Sequence[Callable[[], Any]], **kwargs: Any) -> list[float | None]:
        self.calls += 1
        if self.fixed is not None:
            return self.fixed(len(runs))
        return self.original(runs, **kwargs)


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> TimingCounter:
    monkeypatch.delenv(pb.CACHE_ENV, raising=False)
    c = TimingCounter()
    monkeypatch.setattr(pb, "time_paths", c)
    return c


def network(seed: int, n: int = 6) -> tuple[str, list[Shape]]:
    """A small random network whose fast optimizers disagree (several candidates)."""
    for s in range(seed, seed + 200):
        eq, shapes, _ = random_equation(n, 3, d_min=2, d_max=7, seed=s)
        if len(pb.candidate_paths(eq, shapes)) > 1:
            return eq, shapes
    raise AssertionError("no network with several candidate paths")  # pragma: no cover


# -- measured ------------------------------------------------------------------------------


def test_measured_is_an_optimizer_name() -> None:
    assert "measured" in OPTIMIZERS
    with pytest.raises(InvalidArgumentError, match="measured"):
        plan("ij,jk->ik", (2, 3), (3, 4), optimize="quickest")  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_measured_plan_matches_numpy(counter: TimingCounter, seed: int) -> None:
    eq, shapes = network(seed)
    arrays = [a - 0.5 for a in random_arrays(shapes, seed=seed)]
    got = contract(eq, *arrays, optimize="measured")
    np.testing.assert_allclose(got, reference(eq, arrays), rtol=1e-10, atol=1e-12)
    p = plan(eq, *arrays, optimize="measured")
    assert p.optimize == "measured"
    assert p.measurement.source == "timed"
    assert tuple(p.path) == p.measurement.path


def test_second_call_does_no_timing(counter: TimingCounter) -> None:
    eq, shapes = network(21)
    first = plan(eq, *shapes, optimize="measured")
    assert counter.calls == 1
    second = plan(eq, *shapes, optimize="measured")
    assert counter.calls == 1 and second is first
    arrays = random_arrays(shapes)
    contract(eq, *arrays, optimize="measured")
    assert counter.calls == 1
    # another dtype is another choice
    plan(eq, *shapes, optimize="measured", dtype="float32")
    assert counter.calls == 2


def test_measured_keeps_the_fastest_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pb.CACHE_ENV, raising=False)
    eq, shapes = network(31)
    candidates = pb.candidate_paths(eq, shapes)
    assert len(candidates) >= 2
    # the last candidate is "fastest", the first is pruned (None)
    times = lambda n: [None] + [1.0 - 0.1 * k for k in range(1, n)]  # noqa: E731
    monkeypatch.setattr(pb, "time_paths", TimingCounter(times))
    choice = pb.measured_path(eq, shapes)
    assert choice.path == candidates[-1].path and choice.source == "timed"
    assert choice.candidates[0].seconds is None
    assert choice.optimizers == candidates[-1].optimizers


def test_single_candidate_needs_no_timing(counter: TimingCounter) -> None:
    p = plan("ij,jk->ik", (7, 3), (3, 9), optimize="measured")
    assert counter.calls == 0 and p.measurement.source == "single"
    assert p.path == [(0, 1)]


def test_backend_is_part_of_the_choice(counter: TimingCounter) -> None:
    da = pytest.importorskip("dask.array")
    eq, shapes = network(41)
    arrays = random_arrays(shapes)
    lazy = [da.from_array(a) for a in arrays]
    p_numpy = plan(eq, *arrays, optimize="measured")
    p_dask = plan(eq, *lazy, optimize="measured")
    assert p_numpy is not p_dask and counter.calls == 2
    got = contract(eq, *lazy, optimize="measured")
    assert counter.calls == 2
    np.testing.assert_allclose(np.asarray(got.compute()), reference(eq, arrays), rtol=1e-10)


# -- the disk cache ----------------------------------------------------------------------


def cache_files(folder: Any) -> list[str]:
    return sorted(f for f in os.listdir(folder) if f.endswith(".json"))


def test_disk_cache_is_written_and_read(counter: TimingCounter, tmp_path: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cache"  # created on first write
    monkeypatch.setenv(pb.CACHE_ENV, str(folder))
    eq, shapes = network(51)
    first = pb.measured_path(eq, shapes)
    assert counter.calls == 1 and first.source == "timed"
    (name,) = cache_files(folder)
    data = json.loads((folder / name).read_text())
    assert data["key"]["expression"] == eq and data["path"] == [list(p) for p in first.path]
    # a new process would read it: no timing, same path
    again = pb.measured_path(eq, shapes)
    assert counter.calls == 1 and again.source == "disk" and again.path == first.path
    # and plan() uses it when its own cache is cold
    p = _uncached_plan(eq, tuple(shapes), "float64", _Measured("numpy"))
    assert counter.calls == 1 and tuple(p.path) == first.path


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x00\xff not json", b'{"key": 1}', b"[1, 2, 3]", b'{"path": [[0, 1]]',
     "the key matches but the path is impossible"],
)
def test_corrupt_cache_file_is_ignored_with_a_warning(
    counter: TimingCounter, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, garbage: Any
) -> None:
    monkeypatch.setenv(pb.CACHE_ENV, str(tmp_path))
    eq, shapes = network(61)
    first = pb.measured_path(eq, shapes)
    (name,) = cache_files(tmp_path)
    target = tmp_path / name
    if isinstance(garbage, str):
        data = json.loads(target.read_text())
        data["path"] = [[0, 99]]
        garbage = json.dumps(data).encode()
    target.write_bytes(garbage)
    with pytest.warns(RuntimeWarning, match="ignoring corrupt measured-plan cache"):
        again = pb.measured_path(eq, shapes)
    assert again.source == "timed" and counter.calls == 2
    check_path(again.path, len(shapes))  # a valid path, re-measured
    # the file was rewritten, valid again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pb.measured_path(eq, shapes).source == "disk"
    assert first.path in {c.path for c in again.candidates}


def test_unwritable_cache_warns_and_carries_on(counter: TimingCounter, tmp_path: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(pb.CACHE_ENV, str(blocker))
    eq, shapes = network(71)
    with pytest.warns(RuntimeWarning, match="cannot write measured-plan cache"):
        choice = pb.measured_path(eq, shapes)
    assert choice.source == "timed"


# -- memory_limit --------------------------------------------------------------------------

CHAIN = ("nd,dh,hk->nk", [(256, 784), (784, 256), (256, 10)])


@pytest.mark.parametrize("optimize", ["auto", "greedy", "optimal", "dp", "branch-1",
                                      "measured"])
def test_memory_limit_met(optimize: str) -> None:
    eq, shapes = CHAIN
    p = plan(eq, *shapes, optimize=optimize, memory_limit=7840)
    assert p.largest_intermediate <= 7840 and p.memory_limit == 7840
    assert all(len(step) <= 2 for step in p.path)
    assert "memory_limit=7840" in repr(p)


@pytest.mark.parametrize("optimize", ["auto", "greedy", "dp", "measured"])
def test_memory_limit_that_cannot_be_met_names_the_smallest(
        optimize: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # without cotengra nothing can slice the contraction: the limit is refused
    # (with cotengra it is sliced instead: tests/test_cotengra.py); 2561, a limit no
    # other test plans, since plans are cached by their limit
    monkeypatch.setattr(cotengra_paths, "cotengra_installed", lambda: False)
    eq, shapes = CHAIN
    with pytest.raises(MemoryLimitError) as info:
        plan(eq, *shapes, optimize=optimize, memory_limit=2561)
    err = info.value
    assert isinstance(err, IndexnetError) and isinstance(err, ValueError)
    assert err.limit == 2561 and err.smallest == 7840
    assert "smallest largest intermediate reachable is 7,840 elements" in str(err)
    # opt_einsum itself would fall back to one einsum of all three operands
    path, _ = opt_einsum.contract_path(eq, *shapes, shapes=True, memory_limit=2561)
    assert path == [(0, 1, 2)]
    assert plan(eq, *shapes, optimize=optimize, memory_limit=err.smallest).largest_intermediate \
        == err.smallest


def test_a_limit_below_the_output_says_so() -> None:
    with pytest.raises(MemoryLimitError, match="the output alone has 2,500"):
        plan("ab,bc,cd->ad", (50, 50), (50, 50), (50, 50), memory_limit=100)


def test_greedy_fallback_is_replaced_by_a_path_within_the_limit() -> None:
    # opt_einsum's greedy meets this limit with a 3+-operand einsum step (3.9e5
    # FLOPs); a pairwise path within it costs 1.7e4
    eq, shapes, _ = random_equation(6, 3, d_min=2, d_max=9, seed=41)
    smallest, _ = smallest_intermediate(eq, shapes)
    oe_path, oe_info = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize="greedy",
                                                memory_limit=smallest)
    assert any(len(step) > 2 for step in oe_path)
    p = plan(eq, *shapes, optimize="greedy", memory_limit=smallest)
    assert all(len(step) <= 2 for step in p.path)
    assert p.largest_intermediate <= smallest
    assert p.flops < int(oe_info.opt_cost) / 10
    arrays = random_arrays(shapes)
    np.testing.assert_allclose(p(*arrays), reference(eq, arrays), rtol=1e-10)


def test_explicit_paths_are_checked_not_replaced() -> None:
    eq, shapes = CHAIN
    with pytest.raises(MemoryLimitError, match="given path's largest intermediate has 65,536"):
        plan(eq, *shapes, optimize=[(0, 1), (0, 1)], memory_limit=7840)
    # "naive" asked for by name is one einsum: only its output is an intermediate
    p = plan(eq, *shapes, optimize="naive", memory_limit=2560)
    assert p.path == [(0, 1, 2)]


def test_max_input_and_bad_limits() -> None:
    eq, shapes = CHAIN
    p = plan(eq, *shapes, memory_limit="max_input")
    assert p.memory_limit == 256 * 784
    for bad in (0, -1, 2.5, True, "lots"):
        with pytest.raises(InvalidArgumentError, match="memory_limit must be"):
            plan(eq, *shapes, memory_limit=bad)  # type: ignore[arg-type]


def test_contract_with_memory_limit_matches_numpy() -> None:
    eq, shapes, _ = random_equation(8, 3, d_min=2, d_max=5, seed=4)
    arrays = [a - 0.5 for a in random_arrays(shapes, seed=2)]
    smallest, _ = smallest_intermediate(eq, shapes)
    got = contract(eq, *arrays, memory_limit=smallest)
    np.testing.assert_allclose(got, reference(eq, arrays), rtol=1e-10, atol=1e-12)
    assert plan(eq, *arrays, memory_limit=smallest).largest_intermediate <= smallest


def test_smallest_intermediate_is_exact_on_small_networks() -> None:
    # brute force over every pairwise path of a 5-tensor network
    eq, shapes, _ = random_equation(5, 3, d_min=2, d_max=6, seed=8)
    brute = min(
        opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=list(path))[1]
        .largest_intermediate
        for path in _all_pairwise_paths(len(shapes))
    )
    assert smallest_intermediate(eq, shapes)[0] == brute


def _all_pairwise_paths(n: int) -> list[list[tuple[int, int]]]:
    if n == 1:
        return [[]]
    out = []
    for i in range(n):
        for j in range(i + 1, n):
            out += [[(i, j), *rest] for rest in _all_pairwise_paths(n - 1)]
    return out
