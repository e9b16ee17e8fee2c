"""Path benchmarks: every optimizer's path is right, budgets hold, the CLI speaks JSON.

Paths are checked against ``np.einsum(..., optimize=False)``, which shares no
code with opt_einsum's optimizers or indexnet's compiled steps. No test here
asserts a timing, except generous wall-clock bounds on the budget.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from indexnet import InvalidArgumentError, contract
from indexnet.bench import (
    BENCH_OPTIMIZERS,
    BenchReport,
    PathResult,
    bench_paths,
    find_path,
    ix_terms,
    left_to_right_path,
    random_equation,
    shapes_from_sizes,
)
from indexnet.bench.paths import _check_results
from indexnet.einsum.timing import random_arrays, time_paths

# the module, not the function ``indexnet.cli.main`` that the package re-exports
cli_module = importlib.import_module("indexnet.cli.main")

try:
    import cotengra  # noqa: F401
except ImportError:
    HAVE_COTENGRA = False
else:
    HAVE_COTENGRA = True

JSON_KEYS = {"expression", "sizes", "results", "fastest"}
ROW_KEYS = {"optimizer", "flops", "largest_intermediate", "plan_seconds", "run_seconds",
            "skipped"}

# (expression, shapes): a chain, a trace, a Hadamard, an outer product, a
# 5- and a 7-tensor random network (7 > six operands: the worker process runs
# the exponential searches), a matrix-product state
NETWORKS = [
    ("nd,dh,hk->nk", [(6, 5), (5, 4), (4, 3)]),
    ("ij,jk,ki->", [(3, 4), (4, 5), (5, 3)]),
    ("ij,ij,ij->ij", [(3, 4), (3, 4), (3, 4)]),
    ("i,j,k->ijk", [(2,), (3,), (4,)]),
    random_equation(5, 3, d_min=2, d_max=4, seed=3)[:2],
    random_equation(7, 3, n_out=2, d_min=2, d_max=3, seed=5)[:2],
    ("ab,bcd,de,efg,gh->acf", [(2, 3), (3, 2, 3), (3, 3), (3, 2, 3), (3, 2)]),
]


def reference(subscripts: str, arrays: list[np.ndarray]) -> np.ndarray:
    return np.asarray(np.einsum(subscripts, *arrays, optimize=False))


# -- every optimizer's path --------------------------------------------------------------


@pytest.mark.parametrize("optimizer", [o for o in BENCH_OPTIMIZERS if o != "cotengra"] +
                         ["random-greedy-128", "measured"])
@pytest.mark.parametrize(("subscripts", "shapes"), NETWORKS,
                         ids=[s for s, _ in NETWORKS])
def test_every_optimizers_path_matches_numpy(
    subscripts: str, shapes: list[tuple[int, ...]], optimizer: str
) -> None:
    path, seconds, skipped = find_path(optimizer, subscripts, shapes, budget=20.0)
    assert skipped is None and path is not None and seconds is not None and seconds >= 0
    arrays = [a * 2 - 1 for a in random_arrays(shapes, seed=1)]  # signs: sums can cancel
    got = contract(subscripts, *arrays, optimize=path)
    expected = reference(subscripts, arrays)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.skipif(not HAVE_COTENGRA, reason="cotengra not installed")
def test_cotengra_path_matches_numpy() -> None:  # pragma: no cover - optional extra
    subscripts, shapes = NETWORKS[-2]
    path, _, skipped = find_path("cotengra", subscripts, shapes, budget=20.0)
    assert skipped is None and path is not None
    arrays = random_arrays(shapes, seed=1)
    np.testing.assert_allclose(contract(subscripts, *arrays, optimize=path),
                               reference(subscripts, arrays), rtol=1e-10)


@pytest.mark.skipif(HAVE_COTENGRA, reason="cotengra installed")
def test_cotengra_missing_is_a_skipped_row() -> None:
    report = bench_paths("ij,jk->ik", {"i": 2, "j": 3, "k": 2}, optimizers=["cotengra"])
    row = report.results[0]
    assert row.skipped is not None and "cotengra not installed" in row.skipped
    assert row.flops is None and row.run_seconds is None and report.fastest is None


def test_bench_report_rows_and_ratios() -> None:
    report = bench_paths(
        "nd,dh,hk->nk", {"n": 16, "d": 32, "h": 16, "k": 2},
        optimizers=["naive", "left-to-right", "greedy", "optimal", "auto"], repeats=3,
    )
    rows = {r.optimizer: r for r in report.results}
    assert list(rows) == ["naive", "left-to-right", "greedy", "optimal", "auto"]
    assert all(r.skipped is None and r.run_seconds is not None for r in rows.values())
    # optimal and auto (optimal for 3 operands) find the same path: one measurement
    assert rows["optimal"].path == rows["auto"].path
    assert rows["optimal"].run_seconds == rows["auto"].run_seconds
    assert rows["optimal"].flops == report.best_flops
    assert rows["naive"].flops is not None and rows["naive"].flops > rows["optimal"].flops
    assert rows["naive"].path == [(0, 1, 2)]
    assert rows["left-to-right"].path == [(0, 1), (0, 1)]
    assert report.fastest in rows
    fastest = rows[report.fastest]
    assert report.time_ratio(fastest) == 1.0
    assert all((report.time_ratio(r) or 0) >= 1.0 for r in rows.values())
    assert all((report.flops_ratio(r) or 0) >= 1.0 for r in rows.values())
    table = report.table()
    for name in rows:
        assert name in table
    assert f"fastest: {report.fastest}" in table
    assert "| optimizer |" in report.markdown()


def test_left_to_right_path_contracts_in_written_order() -> None:
    assert left_to_right_path(1) == [(0,)]
    assert left_to_right_path(2) == [(0, 1)]
    # ((A B) C) D: the running result is always last, the next input first
    path = left_to_right_path(5)
    ops = ["A", "B", "C", "D", "E"]
    for step in path:
        picked = [ops[i] for i in step]
        for i in sorted(step, reverse=True):
            ops.pop(i)
        ops.append("(" + "".join(sorted(picked, key=len, reverse=True)) + ")")
    assert ops == ["((((AB)C)D)E)"]


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize(("n", "regularity", "n_out"), [(10, 4, 0), (6, 3, 2), (20, 3, 0)])
def test_random_equation_is_opt_einsums(seed: int, n: int, regularity: int, n_out: int) -> None:
    testing = pytest.importorskip("opt_einsum.testing")
    state = np.random.get_state()
    expected = testing.rand_equation(n, regularity, n_out=n_out, d_min=4, d_max=12, seed=seed,
                                     return_size_dict=True)
    np.random.set_state(state)
    ours = random_equation(n, regularity, n_out=n_out, d_min=4, d_max=12, seed=seed)
    assert ours[0] == expected[0]
    assert [tuple(s) for s in ours[1]] == [tuple(s) for s in expected[1]]
    assert ours[2] == expected[2]


def test_random_equation_leaves_numpys_global_generator_alone() -> None:
    state = np.random.get_state()[1].copy()
    random_equation(10, 4, seed=1)
    assert np.array_equal(np.random.get_state()[1], state)


# -- budgets -----------------------------------------------------------------------------


def test_budget_stops_optimal_on_twelve_tensors() -> None:
    eq, shapes, _ = random_equation(12, 4, seed=0)
    start = time.perf_counter()
    report = bench_paths(eq, shapes=shapes, optimizers=["optimal", "greedy"], budget=1.0,
                         repeats=1)
    took = time.perf_counter() - start
    optimal, greedy = report.results
    assert optimal.skipped is not None and "budget" in optimal.skipped
    assert optimal.flops is None and optimal.run_seconds is None and optimal.path is None
    assert greedy.path is not None and greedy.flops is not None
    assert report.fastest != "optimal"
    assert took < 30  # generous: the search is stopped after 1 s, the run is skipped or short


def test_worker_survives_a_timeout() -> None:
    eq, shapes, _ = random_equation(14, 4, seed=2)
    path, seconds, skipped = find_path("optimal", eq, shapes, budget=0.5)
    assert path is None and seconds is None and skipped is not None and "budget" in skipped
    # the next exponential search starts a fresh worker
    path, seconds, skipped = find_path("dp", eq, shapes, budget=20.0)
    assert skipped is None and path is not None


def test_too_large_expression_is_reported_with_its_predicted_cost() -> None:
    eq, shapes, _ = random_equation(10, 4, seed=1)
    report = bench_paths(eq, shapes=shapes, optimizers=["naive", "left-to-right"], budget=1.0)
    for row in report.results:
        assert row.flops is not None and row.flops > 10**11
        assert row.run_seconds is None
        assert row.skipped is not None and "not run" in row.skipped
    naive = report.result("naive")
    assert naive.skipped is not None
    assert "predicted" in naive.skipped and f"{naive.flops:.3g}" in naive.skipped
    assert report.fastest is None


# -- bad input ---------------------------------------------------------------------------


def test_unknown_optimizer_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        bench_paths("ij,jk->ik", {"i": 2, "j": 2, "k": 2}, optimizers=["greedy", "fastest"])
    message = str(info.value)
    assert "'fastest'" in message
    for name in BENCH_OPTIMIZERS:
        assert name in message


def test_sizes_that_miss_indices_name_them() -> None:
    with pytest.raises(InvalidArgumentError, match="missing: d, k"):
        shapes_from_sizes("nd,dh,hk->nk", {"n": 2, "h": 3})
    with pytest.raises(InvalidArgumentError, match="does not have: z"):
        shapes_from_sizes("nd,dh->nh", {"n": 2, "d": 3, "h": 4, "z": 1})
    with pytest.raises(InvalidArgumentError, match="missing: h"):
        bench_paths("nd,dh->nh", {"n": 2, "d": 3})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"repeats": 0}, "repeats"),
        ({"budget": 0}, "budget"),
        ({"threads": 0}, "threads"),
        ({"clock": "sundial"}, "clock"),
        ({"dtype": "floaty"}, "dtype"),
        ({"dtype": "U3"}, "numeric"),
        ({"backend": "abacus"}, "unknown backend 'abacus'"),
        ({"optimizers": []}, "no optimizers"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        bench_paths("ij,jk->ik", {"i": 2, "j": 2, "k": 2}, **kwargs)


def test_random_equation_bad_input() -> None:
    with pytest.raises(InvalidArgumentError, match="52 letters"):
        random_equation(30, 4)
    with pytest.raises(InvalidArgumentError, match="n >= 2"):
        random_equation(1, 4)
    with pytest.raises(InvalidArgumentError, match="d_min"):
        random_equation(4, 3, d_min=5, d_max=2)


def test_a_wrong_result_is_reported_not_timed() -> None:
    right = lambda: np.ones(3)  # noqa: E731
    wrong = lambda: np.ones(3) * 2  # noqa: E731
    bad, first = _check_results([right, right, wrong], "float64")
    assert list(bad) == [2] and "disagrees" in bad[2]
    assert len(first) == 3


# -- timing helpers -----------------------------------------------------------------------


def test_time_paths_prunes_and_bounds_rounds() -> None:
    calls = [0, 0]

    def quick() -> None:
        calls[0] += 1

    def slow() -> None:
        calls[1] += 1
        time.sleep(0.01)

    times = time_paths([quick, slow], rounds=[4, 2], sample_s=1e-5, prune=2.0)
    assert times[0] is not None and times[1] is None  # pruned after its timed call
    assert calls[1] == 2  # one warm-up, one timed call
    times = time_paths([quick, slow], rounds=[4, 2], sample_s=1e-5, warmup=0)
    assert times[0] is not None and times[1] is not None and times[1] >= 0.005
    assert calls[1] == 2 + 1 + 2  # then one timed call and two rounds


def test_backend_dask_runs_the_same_paths() -> None:
    pytest.importorskip("dask.array")
    report = bench_paths("nd,dh,hk->nk", {"n": 8, "d": 6, "h": 4, "k": 2},
                         optimizers=["greedy", "optimal"], backend="dask", repeats=2)
    assert report.clock == "wall"
    assert all(r.run_seconds is not None for r in report.results)


def test_ix_terms_lists_every_product_once() -> None:
    pytest.importorskip("indexnet.program")
    source = """
input x^n_d
param W^d_h, V^h_k, b_h
size n=8, d=5
a^n_h = x^n_d W^d_h + b_h
y^n_k = x^n_d W^d_h V^h_k
z^n_h = x^n_d W^d_h
"""
    terms = ix_terms(source, {"h": 3, "k": 2})
    assert terms == [("nd,dh->nh", [(8, 5), (5, 3)]),
                     ("nd,dh,hk->nk", [(8, 5), (5, 3), (3, 2)])]


# -- the command line ----------------------------------------------------------------------


@pytest.fixture
def main() -> Callable[[list[str]], int]:
    """``indexnet.cli.main.main``, which registers ``bench``."""
    return cli_module.main


def test_cli_json_schema(main: Callable[[list[str]], int], capsys: Any) -> None:
    argv = ["bench", "nd,dh,hk->nk", "--sizes", "n=16,d=32,h=16,k=2", "--json",
            "--optimizers", "greedy,optimal,naive", "--repeats", "2"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == JSON_KEYS
    assert out["expression"] == "nd,dh,hk->nk"
    assert out["sizes"] == {"n": 16, "d": 32, "h": 16, "k": 2}
    assert [r["optimizer"] for r in out["results"]] == ["greedy", "optimal", "naive"]
    for row in out["results"]:
        assert set(row) == ROW_KEYS
        assert isinstance(row["flops"], int) and isinstance(row["largest_intermediate"], int)
        assert isinstance(row["plan_seconds"], float)
        assert isinstance(row["run_seconds"], float) and row["skipped"] is None
    fastest = min(out["results"], key=lambda r: r["run_seconds"])["optimizer"]
    assert out["fastest"] == fastest


def test_cli_random_json_with_a_skipped_row(main: Callable[[list[str]], int], capsys: Any
                                            ) -> None:
    argv = ["bench", "--random", "10", "--seed", "1", "--json", "--budget", "1",
            "--optimizers", "naive,greedy", "--repeats", "1"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    naive, greedy = out["results"]
    assert naive["run_seconds"] is None and "predicted" in naive["skipped"]
    assert naive["flops"] > 10**15
    assert greedy["skipped"] is None or "not run" in greedy["skipped"]
    assert len(out["sizes"]) == 20


def test_cli_table_and_plot(main: Callable[[list[str]], int], capsys: Any,
                            tmp_path: Any) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "paths.png"
    argv = ["bench", "nd,dh,hk->nk", "--sizes", "n=16,d=32,h=16,k=2", "--repeats", "2",
            "--optimizers", "greedy,optimal,left-to-right", "--plot", str(png)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "optimizer" in out and "fastest:" in out and f"wrote {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_ix_file_prints_a_json_list(main: Callable[[list[str]], int], capsys: Any,
                                        tmp_path: Any) -> None:
    pytest.importorskip("indexnet.program")
    source = tmp_path / "chain.ix"
    source.write_text("input x^n_d\nparam W^d_h, V^h_k\nsize n=6, d=5, h=4, k=3\n"
                      "y^n_k = x^n_d W^d_h V^h_k\n", encoding="utf-8")
    assert main(["bench", str(source), "--json", "--optimizers", "greedy",
                 "--repeats", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out, list) and len(out) == 1
    assert out[0]["expression"] == "nd,dh,hk->nk" and set(out[0]) == JSON_KEYS


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench", "nd,dh->nh", "--sizes", "n=2,d=3", "--optimizers", "fastest"],
         "unknown optimizer 'fastest'; valid: naive, left-to-right, greedy"),
        (["bench", "nd,dh->nh", "--sizes", "n=2,d=3"], "missing: h"),
        (["bench", "nd,dh->nh"], "--sizes must give every index"),
        (["bench"], "exactly one of them"),
        (["bench", "nd,dh->nh", "--random", "4"], "exactly one of them"),
        (["bench", "--random", "4", "--dims", "a-b"], "bad --dims"),
        (["bench", "--random", "4", "--sizes", "n=2"], "does not apply to --random"),
        (["bench", "--random", "40"], "52 letters"),
        (["bench", "nd,dh->nh", "--sizes", "n=2,d=3,h=4", "--backend", "abacus"],
         "unknown backend 'abacus'"),
        (["bench", "nd,dh->nH", "--sizes", "n=2,d=3,h=4"], "output index 'H'"),
        (["bench", "missing.ix"], "cannot read program 'missing.ix': no such file"),
        (["bench", "nd,dh->nh", "--sizes", "n=2,d=3,h=4", "--plot", "out.svg"], "PNG"),
        (["bench", "nd,dh->nh", "--sizes", "n=2,d=3,h=4", "--memory-limit", "8", "--plot",
          "out.png"], "--plot does not apply to --memory-limit"),
        (["bench", "nd,dh->nh", "--sizes", "n=2,d=3,h=4", "--memory-limit", "8", "--backend",
          "dask"], "leave out --backend dask"),
    ],
)
def test_cli_errors_are_one_line_exit_2(
    main: Callable[[list[str]], int], capsys: Any, argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert captured.err.count("\n") == 1 and captured.err.startswith("indexnet bench: error:")


def test_cli_plot_without_matplotlib(main: Callable[[list[str]], int], capsys: Any,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    argv = ["bench", "ij,jk->ik", "--sizes", "i=2,j=2,k=2", "--plot", "x.png"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--plot needs matplotlib" in err and err.count("\n") == 1


def test_report_without_runs_has_no_fastest() -> None:
    report = BenchReport("ij->", {"i": 2, "j": 2}, [PathResult("optimal", skipped="budget")])
    assert report.fastest is None and report.best_seconds is None
    assert "skipped: budget" in report.table()
    assert report.as_dict()["fastest"] is None


# -- review findings: bad input is a one-line error, exit 2, never a traceback ------------


@pytest.mark.parametrize(("option", "value"), [
    ("--seed", "-1"), ("--repeats", "0"), ("--random", "0"), ("--threads", "-1"),
    ("--output-indices", "-2"), ("--regularity", "0"), ("--budget", "inf"),
    ("--memory-limit", "0"), ("--memory-limit", "lots"),
])
def test_cli_bounded_options_are_usage_errors(main: Callable[[list[str]], int], capsys: Any,
                                              option: str, value: str) -> None:
    argv = ["bench", "nd,dh->nh", "--sizes", "n=2,d=3,h=4", option, value]
    if option in ("--random", "--output-indices", "--regularity"):
        argv = ["bench", "--random", "4", option, value]
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and option in err and repr(value) in err
    assert "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize(("content", "needle"), [
    (b"\xff\xfe y = x", "not UTF-8 text"),
    (None, "it is a folder"),
    (b"", "is empty"),
])
def test_cli_unreadable_or_empty_ix_file(main: Callable[[list[str]], int], capsys: Any,
                                         tmp_path: Any, content: bytes | None,
                                         needle: str) -> None:
    path = tmp_path / "bad.ix"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    assert main(["bench", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and needle in captured.err and str(path) in captured.err
    assert captured.err.count("\n") == 1 and captured.err.startswith("indexnet bench: error:")


def test_cli_folder_without_ix_suffix_is_read_as_a_file(main: Callable[[list[str]], int],
                                                        capsys: Any, tmp_path: Any) -> None:
    folder = tmp_path / "programs"
    folder.mkdir()
    assert main(["bench", str(folder)]) == 2
    assert "it is a folder" in capsys.readouterr().err


@pytest.mark.parametrize(("target", "needle"), [
    ("folder.png", "it is a folder"),
    ("no/such/out.png", "does not exist"),
])
def test_cli_bad_plot_path_fails_before_benchmarking(main: Callable[[list[str]], int],
                                                     capsys: Any, tmp_path: Any,
                                                     target: str, needle: str) -> None:
    pytest.importorskip("matplotlib")
    (tmp_path / "folder.png").mkdir()
    argv = ["bench", "nd,dh->nh", "--sizes", "n=2,d=3,h=4", "--repeats", "1",
            "--optimizers", "greedy", "--plot", str(tmp_path / target)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing was benchmarked
    assert needle in captured.err and "--plot" in captured.err
    assert captured.err.count("\n") == 1


def test_plot_reports_checks_the_path_and_writes_atomically(tmp_path: Any) -> None:
    pytest.importorskip("matplotlib")
    from indexnet.bench import bench_paths, plot_reports
    from indexnet.errors import CheckpointError

    report = bench_paths("ij,jk->ik", {"i": 2, "j": 2, "k": 2}, optimizers=["greedy"],
                         repeats=1)
    folder = tmp_path / "out.png"
    folder.mkdir()
    with pytest.raises(CheckpointError, match="it is a folder"):
        plot_reports([report], str(folder))
    with pytest.raises(CheckpointError, match="PNG"):
        plot_reports([report], str(tmp_path / "out.svg"))
    target = tmp_path / "plot.png"
    plot_reports([report], str(target))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".indexnet-")] == []


# -- sliced plans under --memory-limit (run locally; on a cluster: test_sliced_dask.py) ------

SLICED_KEYS = {"expression", "sizes", "memory_limit", "where", "unsliced", "results", "notes"}
SLICED_ROW_KEYS = {"optimizer", "flops", "unsliced_flops", "overhead", "slices", "sliced",
                   "largest_intermediate", "plan_seconds", "run_seconds", "max_rel_diff",
                   "skipped", "note"}


@pytest.mark.skipif(not HAVE_COTENGRA, reason="slicing needs cotengra")
def test_cli_memory_limit_reports_the_sliced_plans(main: Callable[[list[str]], int],
                                                   capsys: Any) -> None:
    argv = ["bench", "nd,dh,hk->nk", "--sizes", "n=64,d=96,h=64,k=4", "--memory-limit", "256",
            "--repeats", "2", "--budget", "2", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == SLICED_KEYS and out["where"] == "locally"
    assert [r["optimizer"] for r in out["results"]] == ["auto", "cotengra"]
    assert out["unsliced"]["largest_intermediate"] > 256 and out["unsliced"]["slices"] == 1
    for row in out["results"]:
        assert set(row) == SLICED_ROW_KEYS and row["skipped"] is None
        assert row["slices"] > 1 and row["largest_intermediate"] <= 256
        assert row["overhead"] >= 1.0 and row["max_rel_diff"] < 1e-12
        assert isinstance(row["run_seconds"], float)


@pytest.mark.skipif(not HAVE_COTENGRA, reason="slicing needs cotengra")
def test_cli_memory_limit_table_and_a_limit_below_the_output(
    main: Callable[[list[str]], int], capsys: Any
) -> None:
    argv = ["bench", "ab,bc,cd->ad", "--sizes", "a=8,b=40,c=40,d=8", "--memory-limit", "32",
            "--optimizers", "greedy", "--repeats", "1"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "memory_limit 32 elements, slices run locally" in lines[1]
    assert lines[4].startswith("unsliced") and lines[5].startswith("greedy")
    assert "skipped: memory_limit=32 elements cannot be met" in lines[5]
    assert "the output alone has 64" in lines[5]
