"""Benchmark contraction paths: every optimizer side by side, predicted against measured.

FLOP counts alone rank paths wrongly: a path of batched ``matmul`` steps can
beat one with fewer FLOPs whose steps fall back to ``np.einsum``, and the
memory traffic of large intermediates is not in the count at all.
:func:`bench_paths` plans one expression with every optimizer and runs each
distinct path. It returns a :class:`~indexnet.bench.report.BenchReport`: per
optimizer the FLOPs, the largest intermediate, the planning time, the
measured time of one call (median of interleaved rounds after a warm-up, BLAS
pinned to one thread), ratios to the best, and why a row was skipped.
Exponential optimizers search in a worker process that is killed when it
exceeds the time budget (:mod:`indexnet.bench.search`), so nothing ever
hangs; a path predicted to run longer than the budget is reported with its
predicted cost and not run. :func:`ix_terms` lists the product terms of an
index-language program, to benchmark each. :func:`bench_sliced` compares the
plans sliced to fit a memory limit, run locally or on a Dask cluster, with
the unsliced plan.

>>> report = bench_paths("nd,dh,hk->nk", {"n": 8, "d": 6, "h": 4, "k": 2},
...                      optimizers=["left-to-right", "optimal"], repeats=3)
>>> [(r.optimizer, r.flops) for r in report.results]
[('left-to-right', 512), ('optimal', 288)]
>>> report.fastest in ("left-to-right", "optimal")
True
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import ir
from ..einsum.compiled import Plan, cached_plan
from ..einsum.cotengra_paths import cotengra_installed
from ..einsum.measured import Path
from ..einsum.memory import resolve_limit
from ..einsum.plan import plan as make_plan
from ..einsum.subscripts import index_sizes, operand_shapes, parse
from ..einsum.timing import (
    backend_runner,
    converter,
    numpy_dtype,
    pinned,
    predicted_seconds,
    random_arrays,
    time_paths,
    to_numpy,
)
from ..errors import IndexnetError, InvalidArgumentError
from ..program import parse as parse_program
from ..typing import Shape
from .equations import shapes_from_sizes
from .report import BenchReport, PathResult, SlicedReport, SlicedResult
from .search import BENCH_OPTIMIZERS, BUDGET_S, check_optimizers, find_path

__all__ = ["CLOCKS", "SLICED_OPTIMIZERS", "bench_paths", "bench_sliced", "ix_terms"]

#: The optimizers :func:`bench_sliced` compares by default (cotengra when installed).
SLICED_OPTIMIZERS: tuple[str, ...] = ("auto", "cotengra")

#: The clocks ``bench_paths(clock=...)`` can time with.
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}


def bench_paths(
    subscripts: str,
    sizes: Mapping[str, int] | None = None,
    *,
    shapes: Sequence[Shape] | None = None,
    optimizers: Sequence[str] | None = None,
    repeats: int = 7,
    budget: float = BUDGET_S,
    threads: int | None = 1,
    backend: str = "numpy",
    dtype: Any = "float64",
    clock: str | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> BenchReport:
    """Plan ``subscripts`` with every optimizer and time each distinct path.

    Give index ``sizes`` (``{"n": 256, ...}``) or operand ``shapes``.

    * ``optimizers``: names from :data:`BENCH_OPTIMIZERS` (default: all), or
      ``random-greedy-128`` and ``measured``.
    * ``repeats``: timed rounds per path after a warm-up (the median counts);
      a path predicted to be slow gets fewer, so that it fits the budget.
    * ``budget``: seconds allowed to each optimizer's path search (searches
      that may take exponential time run in a worker process that is killed
      when it overruns) and to each path's runs (a path whose predicted time
      of one call exceeds it is reported with its predicted cost, not run).
    * ``threads``: BLAS threads while timing (None: leave the libraries'
      defaults).
    * ``backend``: the array library to run on (``numpy``, ``dask``,
      ``torch``, ``jax``, ``cupy``, ``tensorflow``).
    * ``clock``: ``cpu`` (process time: robust on a shared machine when one
      thread runs) or ``wall``; default ``cpu`` for single-threaded NumPy.

    Identical paths are timed once and share their time. Every path's result
    is checked against the first one run before anything is timed.
    """
    if repeats < 1:
        raise InvalidArgumentError(f"repeats must be >= 1, got {repeats}")
    if not budget > 0:
        raise InvalidArgumentError(f"budget must be > 0 seconds, got {budget}")
    if threads is not None and threads < 1:
        raise InvalidArgumentError(f"threads must be >= 1 (or None: unpinned), got {threads}")
    names = check_optimizers(list(optimizers) if optimizers is not None else BENCH_OPTIMIZERS)
    if clock is None:
        clock = "cpu" if threads == 1 and backend == "numpy" else "wall"
    if clock not in CLOCKS:
        raise InvalidArgumentError(f"unknown clock {clock!r}; valid: {', '.join(CLOCKS)}")
    if backend != "numpy":
        converter(backend)  # fail early on an unknown or missing backend
    if shapes is None:
        if sizes is None:
            raise InvalidArgumentError("give index sizes or operand shapes")
        shape_list = shapes_from_sizes(subscripts, sizes)
    else:
        shape_list = [tuple(int(n) for n in s) for s in shapes]
    parsed = parse(subscripts, ndims=[len(s) for s in shape_list])
    all_sizes = index_sizes(parsed, shape_list)
    expression = str(parsed)
    try:
        dtype_name = str(np.dtype(dtype))
    except TypeError:
        raise InvalidArgumentError(f"unknown dtype {dtype!r}") from None
    if np.dtype(dtype_name).kind not in "biufc":
        raise InvalidArgumentError(f"dtype {dtype_name!r} is not numeric")
    report = BenchReport(
        expression=expression,
        sizes={c: all_sizes[c] for c in parsed.letters},
        results=[],
        dtype=dtype_name,
        backend=backend,
        threads=threads,
        repeats=repeats,
        budget=budget,
        clock=clock,
    )
    say = progress or (lambda _msg: None)
    plans: dict[Path, Plan] = {}
    for name in names:
        say(f"planning: {name}")
        row = PathResult(name)
        report.results.append(row)
        path, row.plan_seconds, row.skipped = find_path(
            name, expression, shape_list, budget, dtype=dtype_name, backend=backend
        )
        if path is None:
            continue
        key = tuple(tuple(step) for step in path)
        if key not in plans:
            plans[key] = cached_plan(expression, tuple(shape_list), dtype_name, key, None)
        p = plans[key]
        row.path = list(key)
        row.flops = p.flops
        row.largest_intermediate = p.largest_intermediate
        row.predicted_seconds = predicted_seconds(p)
    _run_rows(report, plans, shape_list, seed, say)
    return report


def bench_sliced(
    subscripts: str,
    sizes: Mapping[str, int] | None = None,
    *,
    shapes: Sequence[Shape] | None = None,
    memory_limit: Any = "max_input",
    optimizers: Sequence[str] | None = None,
    client: Any = None,
    repeats: int = 7,
    budget: float = BUDGET_S,
    dtype: Any = "float64",
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> SlicedReport:
    """Plan ``subscripts`` under ``memory_limit`` (sliced where no path fits) and time it.

    Give index ``sizes`` or operand ``shapes``. Each of ``optimizers``
    (default: ``auto``, and ``cotengra`` when installed) plans within the
    limit; each plan runs on random arrays, on the Dask ``client``'s cluster
    (a ``distributed.Client``) or, without one, locally, one slice in memory
    at a time. The unsliced plan (``auto``) is the reference: its FLOPs, and,
    when its largest intermediate fits in a quarter of this machine's
    memory and its predicted time in ``budget``, its result and time. Every
    row reports its slices, the FLOPs overhead of slicing, its planning time
    and the median of up to ``repeats`` runs (as many as fit ``budget``).
    """
    if repeats < 1:
        raise InvalidArgumentError(f"repeats must be >= 1, got {repeats}")
    if not budget > 0:
        raise InvalidArgumentError(f"budget must be > 0 seconds, got {budget}")
    if shapes is None and sizes is None:
        raise InvalidArgumentError("give index sizes or operand shapes")
    shape_list = shapes_from_sizes(subscripts, sizes or {}) if shapes is None else \
        [tuple(int(n) for n in s) for s in shapes]
    parsed = parse(subscripts, ndims=[len(s) for s in shape_list])
    all_sizes = index_sizes(parsed, shape_list)
    expression = str(parsed)
    dtype_name = str(np.dtype(dtype))
    limit = resolve_limit(memory_limit, shape_list)
    names = list(optimizers) if optimizers is not None else \
        [o for o in SLICED_OPTIMIZERS if o != "cotengra" or cotengra_installed()]
    say = progress or (lambda _msg: None)
    where = "locally" if client is None else \
        f"on the Dask cluster at {getattr(client.scheduler, 'address', client)}"
    report = SlicedReport(expression, {c: all_sizes[c] for c in parsed.letters}, limit, where,
                          SlicedResult("unsliced"), [], dtype_name, repeats, budget)
    arrays = random_arrays(shape_list, dtype_name, seed=seed)
    say("planning and running the unsliced plan")
    reference, expected = _unsliced_row(expression, shape_list, dtype_name, arrays, repeats,
                                         budget)
    report.reference = reference
    if expected is None:
        report.notes.append(f"the unsliced plan was not run ({reference.skipped}); the sliced "
                            "results are not checked")
    for name in names:
        say(f"planning and running: {name}")
        report.results.append(_sliced_row(name, expression, shape_list, dtype_name, limit,
                                          arrays, expected, client, repeats, budget))
    return report


def _unsliced_row(
    expression: str, shapes: Sequence[Shape], dtype: str, arrays: Sequence[Any], repeats: int,
    budget: float,
) -> tuple[SlicedResult, Any]:
    """The unsliced plan's row, and its result (None when it was too big or slow to run)."""
    start = time.perf_counter()
    p = cached_plan(expression, tuple(shapes), dtype, "auto", None)
    row = SlicedResult("unsliced", p.flops, None, 1, None, p.largest_intermediate,
                       time.perf_counter() - start)
    nbytes = p.largest_intermediate * np.dtype(dtype).itemsize
    if nbytes > _memory_cap():
        row.skipped = (f"largest intermediate {nbytes / 2**30:.3g} GiB: over the "
                       f"{_memory_cap() / 2**30:.3g} GiB memory cap, not run")
        return row, None
    if predicted_seconds(p) > budget:
        row.skipped = f"predicted {predicted_seconds(p):.3g} s a call: over the budget, not run"
        return row, None
    expected = p(*arrays)
    row.run_seconds = _median_time(lambda: p(*arrays), repeats, budget)
    return row, expected


def _median_time(run: Callable[[], Any], repeats: int, budget: float) -> float:
    """The median wall-clock time of ``run``: up to ``repeats`` calls after a warm-up.

    As many calls as fit ``budget``, at least one.
    """
    start = time.perf_counter()
    run()
    first = time.perf_counter() - start
    times = []
    for _ in range(max(1, min(repeats, int(budget / max(first, 1e-9)) - 1))):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _sliced_row(
    name: str, expression: str, shapes: Sequence[Shape], dtype: str, limit: int,
    arrays: Sequence[Any], expected: Any, client: Any, repeats: int, budget: float,
) -> SlicedResult:
    """One optimizer's plan under ``limit``: planned, checked, then timed."""
    row = SlicedResult(name)
    optimize: Any = name  # "cotengra" too, which OptimizeKind does not list
    start = time.perf_counter()
    try:
        p = make_plan(expression, *shapes, optimize=optimize, dtype=dtype, memory_limit=limit,
                      budget=budget)
    except IndexnetError as err:  # the limit cannot be met, cotengra missing...
        row.skipped = str(err)
        return row
    row.plan_seconds = time.perf_counter() - start
    row.flops, row.largest_intermediate, row.note = p.flops, p.largest_intermediate, p.note
    slicing = p.slicing
    row.slices = 1 if slicing is None else slicing.n_slices
    row.unsliced_flops = p.flops if slicing is None else slicing.unsliced_flops
    if slicing is not None:
        row.sliced = ", ".join(f"{c} {n}/{k}" for c, n, k in
                               zip(slicing.indices, slicing.sizes, slicing.chunks))
    if predicted_seconds(p) * row.slices > budget:  # the steps' prediction is one slice's
        row.skipped = f"predicted {p.flops:.3g} FLOPs: over the {budget:g} s budget, not run"
        return row
    if client is None:
        def run() -> Any:
            return p(*arrays)
    else:
        from ..einsum.distributed import run_on_cluster

        def run() -> Any:
            return run_on_cluster(p, arrays, client)
    got = np.asarray(run())  # checked against the unsliced result before anything is timed
    if expected is not None and got.size:
        scale = max(float(np.max(np.abs(expected))), np.finfo(np.float64).tiny)
        row.max_rel_diff = float(np.max(np.abs(got - expected))) / scale
    elif expected is not None:
        row.max_rel_diff = 0.0
    row.run_seconds = _median_time(run, repeats, budget)
    return row


def _run_rows(
    report: BenchReport,
    plans: dict[Path, Plan],
    shapes: Sequence[Shape],
    seed: int,
    say: Callable[[str], None],
) -> None:
    """Check, then time every distinct path that fits the budget; fill in the rows."""
    budget, repeats = report.budget, report.repeats
    runnable: list[Path] = []
    counts: list[int] = []
    itemsize = np.dtype(report.dtype).itemsize
    memory = _memory_cap()
    for key, p in plans.items():
        predicted = predicted_seconds(p)
        reason = None
        if p.largest_intermediate * itemsize > memory:
            reason = (f"largest intermediate {p.largest_intermediate:.3g} elements "
                      f"({p.largest_intermediate * itemsize / 2**30:.3g} GiB): over the "
                      f"{memory / 2**30:.3g} GiB memory cap, not run")
        elif predicted > budget:
            reason = (f"predicted {p.flops:.3g} FLOPs, about {predicted:.3g} s a call: "
                      f"over the {budget:g} s budget, not run")
        if reason is not None:
            for row in report.results:
                if row.path is not None and tuple(row.path) == key:
                    row.skipped = reason
            continue
        runnable.append(key)
    if not runnable:
        return
    arrays = random_arrays(shapes, report.dtype, seed=seed)
    with pinned(report.threads, report.backend) as note:
        if note:
            report.notes.append(note)
        runs = [backend_runner(plans[key], arrays, report.backend) for key in runnable]
        say("checking results")
        bad_index, first = _check_results(runs, report.dtype)
        keep = [i for i in range(len(runs)) if i not in bad_index]
        # the check call and one calibration call are done; the rounds fit the budget
        counts = [max(1, min(repeats, int(budget / max(first[i], 1e-9)) - 1)) for i in keep]
        say(f"timing {len(keep)} distinct path(s)")
        times = time_paths(
            [runs[i] for i in keep],
            rounds=counts,
            clock=CLOCKS[report.clock],
            sample_s=0.002,
            warmup=0,
        )
    by_key: dict[Path, float | None] = {runnable[i]: t for i, t in zip(keep, times)}
    bad = {runnable[i]: reason for i, reason in bad_index.items()}
    for row in report.results:
        if row.path is None or row.skipped:
            continue
        key = tuple(row.path)
        if key in bad:
            row.skipped = bad[key]
        elif key in by_key:
            row.run_seconds = by_key[key]


def _memory_cap() -> float:
    """Bytes one intermediate may take in a benchmark run: a quarter of physical memory."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 4
    except (ValueError, OSError, AttributeError):
        return 2.0**33


def _check_results(
    runs: Sequence[Callable[[], Any]], dtype: str
) -> tuple[dict[int, str], list[float]]:
    """Run each path once: the reasons of results that disagree with the first, and the times.

    The time of this first call (wall clock) bounds the rounds a path gets.
    """
    rtol = 1e-4 if numpy_dtype(dtype) in (np.float32, np.complex64) else 1e-9
    bad: dict[int, str] = {}
    first: list[float] = []
    reference: np.ndarray[Any, Any] | None = None
    for i, run in enumerate(runs):
        start = time.perf_counter()
        got = to_numpy(run())
        first.append(time.perf_counter() - start)
        if reference is None:
            reference = got
            continue
        scale = float(np.max(np.abs(reference))) if reference.size else 0.0
        if got.shape != reference.shape or not np.allclose(
            got, reference, rtol=rtol, atol=rtol * max(scale, 1.0)
        ):
            err = float(np.max(np.abs(got - reference))) if got.shape == reference.shape \
                else math.nan
            bad[i] = (f"result disagrees with the first path's (max |diff| {err:.3g}); "
                      "not timed")
    return bad, first


def ix_terms(
    source: str, sizes: Mapping[str, int] | None = None, *, origin: str = "the program"
) -> list[tuple[str, list[Shape]]]:
    """Every distinct product term of an index-language program, with its operand shapes.

    ``source`` is a program's text; index sizes come from ``sizes`` and the
    program's ``size`` lines, and every index must get one. ``origin`` names
    the program (its file) in errors.
    """
    program = parse_program(source)
    resolved = program.index_sizes(dict(sizes or {}))
    terms: dict[tuple[str, tuple[Shape, ...]], None] = {}
    for eq in program.equations:
        for product in ir.iter_products(eq.rhs):
            if not product.einsum:
                continue
            missing = sorted({c for ops in product.operands for c in ops if c not in resolved})
            if missing:
                raise InvalidArgumentError(
                    f"sizes must give every index of {product.einsum!r}; missing: "
                    f"{', '.join(missing)}"
                )
            shapes = tuple(operand_shapes(product.operands, resolved))
            terms.setdefault((product.einsum, shapes))
    if not terms:
        empty = "is empty" if not source.strip() else "has no product term to benchmark"
        raise InvalidArgumentError(f"{origin} {empty}: write an equation such as "
                                   "a^n_h = x^n_d W^d_h")
    return [(einsum, list(shapes)) for einsum, shapes in terms]
