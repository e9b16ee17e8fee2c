"""Benchmark contraction paths: every optimizer side by side, predicted against measured.

FLOP counts alone rank paths wrongly: a path of batched ``matmul`` steps can
beat one with fewer FLOPs whose steps fall back to ``np.einsum``, and the
memory traffic of large intermediates is not in the count at all. This module
plans one expression with every optimizer and runs each distinct path:

* :func:`bench_paths` returns a :class:`BenchReport`: per optimizer the FLOPs,
  the largest intermediate, the planning time, the measured time of one call
  (median of interleaved rounds after a warm-up, BLAS pinned to one thread),
  ratios to the best, and why a row was skipped. Exponential optimizers
  (``optimal``, ``branch-all``, ...) search in a worker process that is
  killed when it exceeds the time budget, so nothing ever hangs; a path
  predicted to run longer than the budget is reported with its predicted
  cost and not run.
* :func:`measured_path` is what ``plan(..., optimize="measured")`` calls: it
  times the distinct paths of the fast optimizers on random arrays of the
  real shapes and keeps the fastest, cached on disk when
  ``INDEXNET_CACHE_DIR`` is set.
* :func:`random_equation` draws a random tensor network, as opt_einsum's
  ``testing.rand_equation`` does (same seed, same network), without its
  pytest dependency or its reseeding of NumPy's global generator.

>>> report = bench_paths("nd,dh,hk->nk", {"n": 8, "d": 6, "h": 4, "k": 2},
...                      optimizers=["left-to-right", "optimal"], repeats=3)
>>> [(r.optimizer, r.flops) for r in report.results]
[('left-to-right', 512), ('optimal', 288)]
>>> report.fastest in ("left-to-right", "optimal")
True
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import json
import math
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import opt_einsum

from ..einsum.plan import Plan, _cached_plan, _check_path
from ..einsum.subscripts import index_sizes, parse
from ..errors import IndexnetError, InvalidArgumentError
from ..fileio import atomic_write_bytes, check_output_path, write_figure_png
from ..typing import Shape

__all__ = [
    "BENCH_OPTIMIZERS",
    "BUDGET_S",
    "CACHE_ENV",
    "MEASURED_CANDIDATES",
    "BenchReport",
    "Candidate",
    "MeasuredChoice",
    "PathResult",
    "backend_runner",
    "bench_paths",
    "candidate_paths",
    "find_path",
    "ix_terms",
    "left_to_right_path",
    "measured_path",
    "plot_reports",
    "predicted_seconds",
    "random_arrays",
    "random_equation",
    "shapes_from_sizes",
    "time_paths",
]

Path = tuple[tuple[int, ...], ...]

#: The optimizers :func:`bench_paths` compares by default, in table order.
#: ``naive`` is one einsum over all operands; ``left-to-right`` contracts the
#: operands pairwise in the order written; ``cotengra`` is cotengra's
#: hyper-optimizer (reported as skipped unless cotengra is installed).
BENCH_OPTIMIZERS: tuple[str, ...] = (
    "naive", "left-to-right", "greedy", "optimal", "dp", "branch-1", "branch-2",
    "branch-all", "random-greedy", "auto", "auto-hq", "cotengra",
)
#: Names accepted by ``optimizers=`` beyond the defaults.
_EXTRA_OPTIMIZERS = ("random-greedy-128", "measured")
#: Optimizers whose search can take exponential time: they run in a worker
#: process under the budget (beyond :data:`_IN_PROCESS_MAX` operands).
_EXPONENTIAL = frozenset(
    {"optimal", "branch-all", "branch-2", "dp", "auto-hq", "random-greedy-128", "cotengra"}
)
#: Up to this many operands every search is quick (optimal tries at most 6! orders).
_IN_PROCESS_MAX = 6

#: The fast optimizers whose distinct paths ``optimize="measured"`` times
#: (``dp`` only up to 16 operands, where auto-hq uses it too).
MEASURED_CANDIDATES: tuple[str, ...] = ("auto", "greedy", "branch-1", "random-greedy", "dp")
_DP_MAX_OPERANDS = 16
#: Timing protocol of ``optimize="measured"``: at most this many interleaved
#: rounds, at least ``_MEASURE_MIN_ROUNDS``, stopping once ``_MEASURE_BUDGET_S``
#: is spent; a candidate more than ``_MEASURE_PRUNE`` times slower than the
#: best at warm-up is dropped; a sample lasts at least ``_MEASURE_SAMPLE_S``.
_MEASURE_ROUNDS = 9
_MEASURE_MIN_ROUNDS = 3
_MEASURE_BUDGET_S = 2.0
_MEASURE_PRUNE = 2.0
_MEASURE_SAMPLE_S = 0.002
#: A candidate predicted to take more than this many times the best
#: candidate's predicted time is not timed by ``optimize="measured"``.
_MEASURE_PREDICTED_CUTOFF = 8.0

#: Default time budget (seconds) of one optimizer's path search, and of one run.
BUDGET_S = 10.0
#: Environment variable naming the folder of the on-disk ``measured`` cache.
CACHE_ENV = "INDEXNET_CACHE_DIR"
_CACHE_FORMAT = 1

CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}


# -- random networks and arrays -----------------------------------------------------------


def random_equation(
    n: int,
    regularity: int,
    *,
    n_out: int = 0,
    d_min: int = 4,
    d_max: int = 12,
    seed: int | None = None,
) -> tuple[str, list[Shape], dict[str, int]]:
    """A random network of ``n`` tensors, each index shared by two (``regularity`` per tensor).

    The same algorithm and random stream as ``opt_einsum.testing.rand_equation``
    (so ``seed=1`` gives its network), drawn from a private generator.

    >>> random_equation(3, 2, seed=0)
    ('ab,bc,ac->', [(9, 4), (4, 7), (9, 7)], {'a': 9, 'b': 4, 'c': 7})
    """
    num_inds = n * regularity // 2 + n_out
    if n < 2 or regularity < 1 or num_inds < n:
        raise InvalidArgumentError(
            f"a random network needs n >= 2 tensors and n*regularity/2 + n_out >= n indices "
            f"(got n={n}, regularity={regularity}, n_out={n_out})"
        )
    if num_inds > 52:
        raise InvalidArgumentError(
            f"a random network of n={n}, regularity={regularity}, n_out={n_out} has "
            f"{num_inds} indices; einsum strings have 52 letters"
        )
    if not 1 <= d_min <= d_max:
        raise InvalidArgumentError(f"index sizes need 1 <= d_min <= d_max, got {d_min}-{d_max}")
    rng = np.random.RandomState(seed)
    inputs = ["" for _ in range(n)]
    output: list[str] = []
    sizes = {
        opt_einsum.get_symbol(i): int(rng.randint(d_min, d_max + 1)) for i in range(num_inds)
    }

    def placements() -> Iterator[str]:
        for i, ix in enumerate(sizes):
            if i < n_out:
                output.append(ix)
                yield ix
            else:
                yield ix
                yield ix

    for i, ix in enumerate(rng.permutation(list(placements()))):
        if i < n:
            inputs[i] += ix
        else:
            where = rng.randint(0, n)
            while ix in inputs[where]:
                where = rng.randint(0, n)
            inputs[where] += ix
    out = "".join(rng.permutation(output)) if output else ""
    eq = f"{','.join(inputs)}->{out}"
    return eq, [tuple(sizes[ix] for ix in term) for term in inputs], sizes


def random_arrays(shapes: Sequence[Shape], dtype: Any = "float64", *, seed: int = 0) -> list[Any]:
    """NumPy arrays of ``shapes``: values in [0, 1), so sums never cancel.

    >>> [a.shape for a in random_arrays([(2, 3), (3,)], "float32")]
    [(2, 3), (3,)]
    """
    rng = np.random.default_rng(seed)
    dt = _numpy_dtype(dtype)
    out = []
    for shape in shapes:
        if dt in (np.float64, np.float32):
            out.append(rng.random(shape, dtype=dt))
        elif dt.kind == "c":
            part = np.float32 if dt == np.complex64 else np.float64
            value = np.empty(shape, dtype=dt)
            value.real = rng.random(shape, dtype=part)
            value.imag = rng.random(shape, dtype=part)
            out.append(value)
        elif dt.kind in "iu":
            out.append(rng.integers(0, 3, size=shape).astype(dt))
        elif dt.kind == "b":
            out.append(rng.random(shape) < 0.5)
        else:
            out.append(rng.random(shape).astype(dt))
    return out


def _numpy_dtype(dtype: Any) -> np.dtype[Any]:
    """NumPy's dtype for ``dtype``, also for names such as ``torch.float32``."""
    for candidate in (dtype, str(dtype).rsplit(".", 1)[-1]):
        try:
            dt = np.dtype(candidate)
        except TypeError:
            continue
        if dt.kind in "biufc":
            return dt
    return np.dtype("float64")


def shapes_from_sizes(subscripts: str, sizes: Mapping[str, int]) -> list[Shape]:
    """Operand shapes of ``subscripts`` from index ``sizes``; missing indices are named.

    >>> shapes_from_sizes("nd,dh->nh", {"n": 2, "d": 3, "h": 4})
    [(2, 3), (3, 4)]
    """
    parsed = parse(subscripts)
    if any("..." in term for term in parsed.inputs):
        raise InvalidArgumentError(
            f"{subscripts!r}: benchmarks need explicit indices, not '...'"
        )
    letters = parsed.letters
    missing = [c for c in letters if c not in sizes]
    if missing:
        raise InvalidArgumentError(
            f"sizes must give every index of {str(parsed)!r}; missing: {', '.join(missing)}"
        )
    unknown = [c for c in sizes if c not in letters]
    if unknown:
        raise InvalidArgumentError(
            f"sizes name indices that {str(parsed)!r} does not have: {', '.join(unknown)}"
        )
    return [tuple(int(sizes[c]) for c in term) for term in parsed.inputs]


def left_to_right_path(n: int) -> list[tuple[int, ...]]:
    """The path that contracts operands in the order written: ((A B) C) D ...

    opt_einsum appends each result at the end of the list, so after the first
    step the running result is the last operand and the next input the first.

    >>> left_to_right_path(4)
    [(0, 1), (0, 2), (0, 1)]
    """
    if n <= 1:
        return [(0,)]
    path: list[tuple[int, ...]] = [(0, 1)]
    return path + [(0, n - 2 - k) for k in range(n - 2)]


# -- path search under a budget ------------------------------------------------------------

_WORKER_SOURCE = r"""
import json, sys, time
import opt_einsum

def optimizer(name, budget):
    if name == "cotengra":
        import cotengra
        return cotengra.HyperOptimizer(
            max_time=max(0.1, 0.8 * budget), max_repeats=128, parallel=False, progbar=False
        )
    return name

print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    try:
        opt = optimizer(request["optimizer"], request["budget"])
        shapes = [tuple(s) for s in request["shapes"]]
        start = time.perf_counter()
        path, _ = opt_einsum.contract_path(
            request["subscripts"], *shapes, shapes=True, optimize=opt
        )
        took = time.perf_counter() - start
        reply = {"path": [[int(i) for i in step] for step in path], "seconds": took}
    except Exception as err:  # reported to the parent as the row's skip reason
        reply = {"error": f"{type(err).__name__}: {err}"}
    print(json.dumps(reply), flush=True)
"""


class _SearchWorker:
    """A child Python process that runs path searches; killed when one overruns."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self._imports_done: set[str] = set()

    def _start(self) -> None:
        self._lines = queue.Queue()
        proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER_SOURCE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        lines = self._lines
        stdout = proc.stdout
        assert stdout is not None

        def pump() -> None:
            for line in stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True, name="indexnet-path-search").start()
        self._proc = proc
        self._imports_done = set()
        first = self._get(60.0)
        if first is None or not first.get("ready"):
            self.close()
            raise InvalidArgumentError("the path-search worker process did not start")

    def _get(self, timeout: float) -> dict[str, Any] | None:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            return None
        return None if line is None else json.loads(line)

    def search(
        self, name: str, subscripts: str, shapes: Sequence[Shape], budget: float
    ) -> tuple[list[tuple[int, ...]] | None, float | None, str | None]:
        """(path, seconds, None) or (None, None, reason)."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            assert self._proc is not None and self._proc.stdin is not None
            request = {"optimizer": name, "subscripts": subscripts,
                       "shapes": [list(s) for s in shapes], "budget": budget}
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            # a first cotengra search also imports cotengra: allow for that
            grace = 1.0 + (20.0 if name == "cotengra" and name not in self._imports_done else 0)
            reply = self._get(budget + grace)
            if reply is None:
                self.close()
                return None, None, f"path search exceeded the {budget:g} s budget; stopped"
            self._imports_done.add(name)
            if "error" in reply:
                return None, None, f"no path: {reply['error']}"
            seconds = float(reply["seconds"])
            if seconds > budget:
                return None, None, (
                    f"path search took {seconds:.3g} s, over the {budget:g} s budget"
                )
            return [tuple(step) for step in reply["path"]], seconds, None

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc is not None:
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()


_WORKER = _SearchWorker()
atexit.register(_WORKER.close)


def find_path(
    name: str,
    subscripts: str,
    shapes: Sequence[Shape],
    budget: float = BUDGET_S,
    *,
    dtype: str = "float64",
    backend: str = "numpy",
) -> tuple[list[tuple[int, ...]] | None, float | None, str | None]:
    """One optimizer's path and its search time in seconds, or the reason there is none.

    Returns ``(path, seconds, None)`` or ``(None, None, reason)``. Searches that
    can take exponential time (``optimal``, ``branch-all``, ``branch-2``,
    ``dp``, ``auto-hq``, ``random-greedy-128``, ``cotengra``) run, beyond six
    operands, in a worker process that is killed after ``budget`` seconds.
    ``measured`` is :func:`measured_path` (on ``dtype`` and ``backend``).

    >>> find_path("left-to-right", "ab,bc,cd->ad", [(2, 3), (3, 4), (4, 5)], 1.0)
    ([(0, 1), (0, 1)], 0.0, None)
    """
    _check_optimizers([name])
    n = len(shapes)
    if name == "measured":
        start = time.perf_counter()
        choice = measured_path(subscripts, shapes, dtype, backend=backend)
        return list(choice.path), time.perf_counter() - start, None
    if name == "naive":
        return [tuple(range(n))] if n > 1 else [(0,)], 0.0, None
    if name == "left-to-right":
        return left_to_right_path(n), 0.0, None
    if name == "cotengra":
        try:
            import cotengra  # noqa: F401
        except ImportError:
            return None, None, "cotengra not installed (pip install cotengra)"
    if name in _EXPONENTIAL and (n > _IN_PROCESS_MAX or name == "cotengra"):
        return _WORKER.search(name, subscripts, shapes, budget)
    start = time.perf_counter()
    try:
        path, _ = opt_einsum.contract_path(subscripts, *shapes, shapes=True, optimize=name)
    except RuntimeError as err:  # dp: no path when an index has size 0
        return None, None, f"no path: {err}"
    return [tuple(step) for step in path], time.perf_counter() - start, None


# -- predicting and timing runs ------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _rates(dtype: str) -> dict[str, float]:
    """FLOPs per second of a transposed BLAS product, an elementwise pass and an einsum.

    Measured on one thread (when threadpoolctl is installed): a conservative
    rate, and a stable one.
    """
    dt = _numpy_dtype(dtype)
    # a tensor-network step: both operands transposed, the result permuted
    pair = _cached_plan("abcd,dcef->fbea", ((16,) * 4,) * 2, str(dt), "greedy", None)
    a, b = random_arrays(pair.shapes, dt)
    x, y, z = random_arrays([(12, 12), (12, 12), (12, 12)], dt)
    v = random_arrays([(1 << 16,)], dt)[0]

    def rate(flops: float, call: Callable[[], Any]) -> float:
        # the best of many calls: a BLAS thread pool can take several calls to wake up
        best = math.inf
        deadline = time.perf_counter() + 0.25
        for k in range(24):
            start = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - start)
            if k >= 4 and start > deadline:
                break
        return flops / max(best, 1e-9)

    # on one thread: a conservative rate, and a stable one (a pool of BLAS
    # threads can take many calls to wake up on a busy machine)
    with _pinned(1, "numpy"):
        blas = rate(pair.flops, lambda: pair.kernel(a, b))
        elementwise = rate(v.size, lambda: v * v)
        generic = rate(3 * 12**4, lambda: np.einsum("ij,jk,kl->il", x, y, z, optimize=False))
    return {"blas": blas, "elementwise": elementwise, "einsum": min(generic, elementwise)}


def predicted_seconds(p: Plan) -> float:
    """A rough time of one call of plan ``p``: each step's FLOPs over its kind's rate.

    Calibrated once per dtype on this machine (a BLAS product, an
    elementwise pass, a generic einsum); used to decide what is too large
    to run, never as a measurement.
    """
    rates = _rates(p.dtype)
    kinds = {"matmul": "blas", "dot": "blas", "multiply": "elementwise", "sum": "elementwise"}
    return sum(step.flops / rates[kinds.get(step.kind, "einsum")] for step in p.steps)


def _materialize(value: Any) -> Any:
    """Finish a lazy or asynchronous result (Dask, JAX, CUDA) so its time is counted."""
    if hasattr(value, "compute"):
        return value.compute()
    if hasattr(value, "block_until_ready"):
        return value.block_until_ready()
    if getattr(value, "is_cuda", False):
        import torch

        torch.cuda.synchronize()
    elif type(value).__module__.startswith("cupy"):
        import cupy

        cupy.cuda.Device().synchronize()
    return value


_CONVERTERS: dict[str, tuple[str, str]] = {
    "numpy": ("numpy", "asarray"),
    "dask": ("dask.array", "from_array"),
    "torch": ("torch", "as_tensor"),
    "jax": ("jax.numpy", "asarray"),
    "cupy": ("cupy", "asarray"),
    "tensorflow": ("tensorflow", "convert_to_tensor"),
}


def _converter(backend: str) -> Callable[[Any], Any]:
    if backend not in _CONVERTERS:
        raise InvalidArgumentError(
            f"unknown backend {backend!r}; known: {', '.join(sorted(_CONVERTERS))}"
        )
    module_name, attr = _CONVERTERS[backend]
    try:
        import importlib

        module = importlib.import_module(module_name)
    except ImportError as err:
        raise InvalidArgumentError(
            f"backend {backend!r} is not installed ({err}); pip install {backend.split('.')[0]}"
        ) from None
    convert: Callable[[Any], Any] = getattr(module, attr)
    return convert


def backend_runner(p: Plan, arrays: Sequence[Any], backend: str = "numpy") -> Callable[
    [], Any
]:
    """A no-argument function that runs plan ``p`` once on ``arrays`` through ``backend``.

    NumPy runs the plan's compiled kernel; other libraries convert the arrays
    once and run opt_einsum's expression for the same path on their backend,
    finishing lazy results so that the time is the whole computation's.

    >>> import numpy as np
    >>> from indexnet import plan
    >>> p = plan("ij,jk->ik", (2, 3), (3, 2))
    >>> backend_runner(p, [np.ones((2, 3)), np.ones((3, 2))])().tolist()
    [[3.0, 3.0], [3.0, 3.0]]
    """
    if backend == "numpy":
        kernel = p.kernel
        numpy_arrays = [np.asarray(a) for a in arrays]
        return lambda: kernel(*numpy_arrays)
    convert = _converter(backend)
    converted = [convert(a) for a in arrays]
    expression = opt_einsum.contract_expression(
        str(p.subscripts), *p.shapes, optimize=[tuple(step) for step in p.path]
    )
    return lambda: _materialize(expression(*converted, backend=backend))


def _to_numpy(value: Any) -> np.ndarray[Any, Any]:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    elif hasattr(value, "get") and type(value).__module__.startswith("cupy"):
        value = value.get()
    return np.asarray(value)


def time_paths(
    runs: Sequence[Callable[[], Any]],
    *,
    rounds: int | Sequence[int] = 7,
    min_rounds: int = 1,
    clock: Callable[[], float] = time.perf_counter,
    sample_s: float = 0.002,
    budget_s: float | None = None,
    prune: float | None = None,
    warmup: int = 1,
) -> list[float | None]:
    """Median seconds of one call of each run, timed in interleaved rounds after a warm-up.

    Every run is called ``warmup`` times untimed, then once timed (that call
    sets how many calls a sample loops); with ``prune``, a run whose timed
    call took more than ``prune`` times the fastest one's is dropped (its
    entry is None). Each
    round then times every run left once, the order rotating by one each
    round, a sample looping a run until it lasts ``sample_s``; ``rounds`` (per
    run, or one count for all) bounds the rounds, and ``budget_s`` stops them
    early once at least ``min_rounds`` are done.

    >>> times = time_paths([lambda: sum(range(100)), lambda: sum(range(10_000))], rounds=3)
    >>> times[0] < times[1]
    True
    """
    n = len(runs)
    limits = [rounds] * n if isinstance(rounds, int) else list(rounds)
    start = clock()
    for _ in range(warmup):  # first calls: allocations, lazy set-up, thread pools waking up
        for run in runs:
            run()
    warm = []
    for run in runs:
        t0 = clock()
        run()
        warm.append(max(clock() - t0, 1e-9))
    best = min(warm, default=0.0)
    alive = [i for i in range(n) if prune is None or warm[i] <= prune * best]
    numbers = {i: max(1, math.ceil(sample_s / warm[i])) for i in alive}
    # a second, warmer call refines the loop count of quick runs
    for i in alive:
        if numbers[i] > 1:
            t0 = clock()
            runs[i]()
            numbers[i] = max(1, math.ceil(sample_s / max(clock() - t0, 1e-9)))
    samples: dict[int, list[float]] = {i: [] for i in alive}
    for r in range(max(limits, default=0)):
        order = alive[r % len(alive):] + alive[: r % len(alive)] if alive else []
        for i in order:
            if len(samples[i]) >= limits[i]:
                continue
            run, number = runs[i], numbers[i]
            t0 = clock()
            for _ in range(number):
                run()
            samples[i].append((clock() - t0) / number)
        if budget_s is not None and r + 1 >= min_rounds and clock() - start > budget_s:
            break
    return [statistics.median(samples[i]) if samples.get(i) else None for i in range(n)]


@contextlib.contextmanager
def _pinned(threads: int | None, backend: str) -> Iterator[str | None]:
    """Pin BLAS/OpenMP (and torch) to ``threads``; yields a note when that is impossible."""
    if threads is None:
        yield None
        return
    torch = sys.modules.get("torch") if backend == "torch" else None
    old = torch.get_num_threads() if torch is not None else None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        limits: Any = contextlib.nullcontext()
        note: str | None = (
            "threadpoolctl is not installed, so BLAS threads were not pinned "
            "(pip install threadpoolctl)"
        )
    else:
        limits = threadpool_limits(threads)
        note = None
    with limits:
        if torch is not None:
            torch.set_num_threads(threads)
        try:
            yield note
        finally:
            if torch is not None and old is not None:
                torch.set_num_threads(old)


# -- the benchmark -----------------------------------------------------------------------


@dataclass
class PathResult:
    """One optimizer's row: its path's cost, planning and run times, or why it was skipped."""

    optimizer: str
    flops: int | None = None
    largest_intermediate: int | None = None
    plan_seconds: float | None = None
    run_seconds: float | None = None
    skipped: str | None = None
    path: list[tuple[int, ...]] | None = None
    predicted_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The row as ``indexnet bench --json`` prints it."""
        return {
            "optimizer": self.optimizer,
            "flops": self.flops,
            "largest_intermediate": self.largest_intermediate,
            "plan_seconds": self.plan_seconds,
            "run_seconds": self.run_seconds,
            "skipped": self.skipped,
        }


@dataclass
class BenchReport:
    """Every optimizer's path for one expression; ``fastest`` is the best measured."""

    expression: str
    sizes: dict[str, int]
    results: list[PathResult]
    dtype: str = "float64"
    backend: str = "numpy"
    threads: int | None = 1
    repeats: int = 7
    budget: float = BUDGET_S
    clock: str = "cpu"
    notes: list[str] = field(default_factory=list)

    @property
    def fastest(self) -> str | None:
        """The optimizer with the smallest measured time (the first, on a tie)."""
        timed = [r for r in self.results if r.run_seconds is not None]
        return min(timed, key=lambda r: r.run_seconds or 0.0).optimizer if timed else None

    @property
    def best_flops(self) -> int | None:
        flops = [r.flops for r in self.results if r.flops is not None]
        return min(flops) if flops else None

    @property
    def best_seconds(self) -> float | None:
        times = [r.run_seconds for r in self.results if r.run_seconds is not None]
        return min(times) if times else None

    def result(self, optimizer: str) -> PathResult:
        """The row of ``optimizer``."""
        for r in self.results:
            if r.optimizer == optimizer:
                return r
        raise KeyError(optimizer)

    def flops_ratio(self, row: PathResult) -> float | None:
        best = self.best_flops
        if row.flops is None or best is None:
            return None
        return row.flops / best if best else 1.0

    def time_ratio(self, row: PathResult) -> float | None:
        best = self.best_seconds
        if row.run_seconds is None or best is None:
            return None
        return row.run_seconds / best if best else 1.0

    def as_dict(self) -> dict[str, Any]:
        """One JSON object: ``expression``, ``sizes``, ``results``, ``fastest``."""
        return {
            "expression": self.expression,
            "sizes": dict(self.sizes),
            "results": [r.as_dict() for r in self.results],
            "fastest": self.fastest,
        }

    def header(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        threads = "BLAS threads unpinned" if self.threads is None else (
            f"BLAS pinned to {self.threads} thread{'s' if self.threads != 1 else ''}"
        )
        return (
            f"{self.expression}  ({sizes})\n"
            f"{self.dtype}, {self.backend}, {threads}, {self.clock} clock, "
            f"median of up to {self.repeats} runs after a warm-up, budget {self.budget:g} s"
        )

    def table(self) -> str:
        """A plain-text table, one row per optimizer, ratios to the best in each column.

        >>> r = BenchReport("ij,jk->ik", {"i": 2, "j": 2, "k": 2},
        ...                 [PathResult("greedy", 16, 4, 1e-4, 2e-6)])
        >>> print(r.table().splitlines()[4])
        greedy        16  1.00x        4    0.100   0.002  1.00x
        """
        headers = ["optimizer", "FLOPs", "ratio", "largest", "plan ms", "run ms", "ratio"]
        rows = []
        for r in self.results:
            fr, tr = self.flops_ratio(r), self.time_ratio(r)
            cells = [
                r.optimizer,
                _num(r.flops),
                _ratio(fr),
                f"{r.largest_intermediate:,}" if r.largest_intermediate is not None else "-",
                f"{r.plan_seconds * 1e3:.3f}" if r.plan_seconds is not None else "-",
                _ms(r.run_seconds),
                _ratio(tr),
            ]
            if r.skipped:
                cells.append(f"skipped: {r.skipped}")
            rows.append(cells)
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

        def line(cells: list[str]) -> str:
            parts = [cells[0].ljust(widths[0])]
            parts += [c.rjust(w) for c, w in zip(cells[1:7], widths[1:])]
            parts += cells[7:]
            return "  ".join(parts).rstrip()

        out = [self.header(), "", line(headers)]
        out += [line(row) for row in rows]
        fastest = self.fastest
        if fastest is not None:
            best = self.result(fastest)
            fewest = [r.optimizer for r in self.results
                      if r.flops is not None and r.flops == self.best_flops]
            out.append("")
            out.append(
                f"fastest: {fastest} ({_ms(best.run_seconds)} ms a call); fewest FLOPs: "
                f"{', '.join(fewest)}"
            )
        out += [f"note: {n}" for n in self.notes]
        return "\n".join(out)

    def markdown(self) -> str:
        """The table as markdown (for benchmark reports)."""
        lines = [
            "| optimizer | FLOPs | FLOPs ratio | largest intermediate | plan (ms) | run (ms) "
            "| run ratio | skipped |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in self.results:
            fr, tr = self.flops_ratio(r), self.time_ratio(r)
            bold = r.optimizer == self.fastest
            name = f"**{r.optimizer}**" if bold else r.optimizer
            lines.append(
                f"| {name} | {_num(r.flops, '—')} | {_ratio(fr, '—', '×')} | "
                f"{f'{r.largest_intermediate:,}' if r.largest_intermediate is not None else '—'}"
                f" | {f'{r.plan_seconds * 1e3:.2f}' if r.plan_seconds is not None else '—'} | "
                f"{_ms(r.run_seconds, '—')} | {_ratio(tr, '—', '×')} | "
                f"{r.skipped or ''} |"
            )
        return "\n".join(lines)


def _ratio(value: float | None, missing: str = "-", sign: str = "x") -> str:
    if value is None:
        return missing
    return f"{value:.2f}{sign}" if value < 1000 else f"{value:.3g}{sign}"


def _num(value: int | None, missing: str = "-") -> str:
    if value is None:
        return missing
    return f"{value:,}" if value < 100_000 else f"{value:.3g}"


def _ms(seconds: float | None, missing: str = "-") -> str:
    if seconds is None:
        return missing
    ms = seconds * 1e3
    return f"{ms:.3f}" if ms < 10 else f"{ms:.1f}" if ms < 1000 else f"{ms:,.0f}"


def _check_optimizers(optimizers: Sequence[str]) -> list[str]:
    valid = BENCH_OPTIMIZERS + _EXTRA_OPTIMIZERS
    unknown = [o for o in optimizers if o not in valid]
    if unknown:
        raise InvalidArgumentError(
            f"unknown optimizer{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}; valid: {', '.join(valid)}"
        )
    if not optimizers:
        raise InvalidArgumentError(f"no optimizers given; valid: {', '.join(valid)}")
    return list(dict.fromkeys(optimizers))


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
    names = _check_optimizers(list(optimizers) if optimizers is not None else BENCH_OPTIMIZERS)
    if clock is None:
        clock = "cpu" if threads == 1 and backend == "numpy" else "wall"
    if clock not in CLOCKS:
        raise InvalidArgumentError(f"unknown clock {clock!r}; valid: {', '.join(CLOCKS)}")
    if backend != "numpy":
        _converter(backend)  # fail early on an unknown or missing backend
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
            plans[key] = _cached_plan(expression, tuple(shape_list), dtype_name, key, None)
        p = plans[key]
        row.path = list(key)
        row.flops = p.flops
        row.largest_intermediate = p.largest_intermediate
        row.predicted_seconds = predicted_seconds(p)
    _run_rows(report, plans, shape_list, seed, say)
    return report


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
    with _pinned(report.threads, report.backend) as note:
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
    rtol = 1e-4 if _numpy_dtype(dtype) in (np.float32, np.complex64) else 1e-9
    bad: dict[int, str] = {}
    first: list[float] = []
    reference: np.ndarray[Any, Any] | None = None
    for i, run in enumerate(runs):
        start = time.perf_counter()
        got = _to_numpy(run())
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


# -- optimize="measured" -----------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A distinct path, the optimizers that found it, its FLOPs and measured seconds."""

    path: Path
    optimizers: tuple[str, ...]
    flops: int
    largest_intermediate: int
    seconds: float | None = None


@dataclass(frozen=True)
class MeasuredChoice:
    """What ``optimize="measured"`` chose and why.

    ``source`` is ``timed`` (the candidates were run), ``single`` (only one
    distinct path), ``predicted`` (too large to time: the smallest predicted
    time) or ``disk`` (read from ``INDEXNET_CACHE_DIR``).
    """

    path: Path
    optimizers: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": [list(p) for p in self.path],
            "optimizers": list(self.optimizers),
            "source": self.source,
            "candidates": [
                {"path": [list(p) for p in c.path], "optimizers": list(c.optimizers),
                 "flops": c.flops, "largest_intermediate": c.largest_intermediate,
                 "seconds": c.seconds}
                for c in self.candidates
            ],
        }


def candidate_paths(
    subscripts: str,
    shapes: Sequence[Shape],
    dtype: str = "float64",
    memory_limit: int | None = None,
) -> list[Candidate]:
    """The distinct paths of :data:`MEASURED_CANDIDATES` (in that order), with their FLOPs.

    >>> [c.optimizers for c in candidate_paths("ab,bc,cd->ad", [(2, 9), (9, 9), (9, 9)])]
    [('auto', 'greedy', 'branch-1', 'random-greedy', 'dp')]
    """
    found: dict[Path, tuple[list[str], Plan]] = {}
    shapes = tuple(tuple(s) for s in shapes)
    for name in MEASURED_CANDIDATES:
        if name == "dp" and len(shapes) > _DP_MAX_OPERANDS:
            continue
        p = _cached_plan(subscripts, shapes, dtype, name, memory_limit)
        key = tuple(tuple(step) for step in p.path)
        found.setdefault(key, ([], p))[0].append(name)
    return [
        Candidate(key, tuple(names), p.flops, p.largest_intermediate)
        for key, (names, p) in found.items()
    ]


def measured_path(
    subscripts: str,
    shapes: Sequence[Shape],
    dtype: str = "float64",
    *,
    backend: str = "numpy",
    memory_limit: int | None = None,
) -> MeasuredChoice:
    """Time the candidate paths of ``subscripts`` on random arrays; return the fastest.

    Called by ``plan(..., optimize="measured")``, which caches the answer for
    the process. When ``INDEXNET_CACHE_DIR`` is set, the choice is also read
    from and written (atomically) to a JSON file there, keyed by expression,
    shapes, dtype, backend, memory limit and library versions (a choice
    that needed no timing is not written); a corrupt file is ignored with a
    warning.

    >>> choice = measured_path("ij,jk->ik", [(2, 3), (3, 4)])
    >>> choice.path, choice.source
    (((0, 1),), 'single')
    """
    shapes = tuple(tuple(int(n) for n in s) for s in shapes)
    key = _cache_key(subscripts, shapes, dtype, backend, memory_limit)
    cached = _load_cached(key, len(shapes))
    if cached is not None:
        return cached
    candidates = candidate_paths(subscripts, shapes, dtype, memory_limit)
    if len(candidates) == 1:  # nothing to time, and nothing worth a file
        return MeasuredChoice(candidates[0].path, candidates[0].optimizers,
                              tuple(candidates), "single")
    choice = _time_candidates(subscripts, shapes, dtype, backend, candidates)
    _store_cached(key, choice)
    return choice


def _time_candidates(
    subscripts: str,
    shapes: tuple[Shape, ...],
    dtype: str,
    backend: str,
    candidates: list[Candidate],
) -> MeasuredChoice:
    plans = [_cached_plan(subscripts, shapes, dtype, c.path, None) for c in candidates]
    predicted = [predicted_seconds(p) for p in plans]
    best_predicted = min(predicted)
    if best_predicted > 4 * _MEASURE_BUDGET_S:
        # one call would take longer than the whole timing budget: go by prediction
        i = predicted.index(best_predicted)
        return MeasuredChoice(candidates[i].path, candidates[i].optimizers,
                              tuple(candidates), "predicted")
    timed = [i for i, t in enumerate(predicted) if t <= _MEASURE_PREDICTED_CUTOFF * best_predicted]
    arrays = random_arrays(shapes, dtype)
    runs = [backend_runner(plans[i], arrays, backend) for i in timed]
    times = time_paths(
        runs,
        rounds=_MEASURE_ROUNDS,
        min_rounds=_MEASURE_MIN_ROUNDS,
        sample_s=_MEASURE_SAMPLE_S,
        budget_s=_MEASURE_BUDGET_S,
        prune=_MEASURE_PRUNE,
    )
    seconds: dict[int, float | None] = dict(zip(timed, times))
    measured = [
        Candidate(c.path, c.optimizers, c.flops, c.largest_intermediate, seconds.get(i))
        for i, c in enumerate(candidates)
    ]
    best = min((c for c in measured if c.seconds is not None), key=lambda c: c.seconds or 0.0)
    return MeasuredChoice(best.path, best.optimizers, tuple(measured), "timed")


def _cache_key(
    subscripts: str, shapes: tuple[Shape, ...], dtype: str, backend: str, limit: int | None
) -> dict[str, Any]:
    return {
        "format": _CACHE_FORMAT,
        "expression": subscripts,
        "shapes": [list(s) for s in shapes],
        "dtype": dtype,
        "backend": backend,
        "memory_limit": limit,
        "numpy": np.__version__,
        "opt_einsum": opt_einsum.__version__,
    }


def _cache_file(key: Mapping[str, Any]) -> str | None:
    folder = os.environ.get(CACHE_ENV)
    if not folder:
        return None
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    return os.path.join(folder, f"measured-{digest}.json")


def _load_cached(key: Mapping[str, Any], n_operands: int) -> MeasuredChoice | None:
    filename = _cache_file(key)
    if filename is None:
        return None
    try:
        with open(filename, "rb") as handle:
            raw = handle.read()
    except (FileNotFoundError, NotADirectoryError):  # a folder that is not: writing warns
        return None
    except OSError as err:
        warnings.warn(f"ignoring measured-plan cache {filename}: {err}", RuntimeWarning,
                      stacklevel=4)
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict) or data.get("key") != key:
            raise ValueError("its key does not match this expression")
        path = tuple(tuple(int(i) for i in step) for step in data["path"])
        _check_path(path, n_operands)
        optimizers = tuple(str(o) for o in data.get("optimizers", ()))
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, IndexnetError) as err:
        warnings.warn(
            f"ignoring corrupt measured-plan cache {filename}: {err}", RuntimeWarning,
            stacklevel=4,
        )
        return None
    return MeasuredChoice(path, optimizers, (), "disk")


def _store_cached(key: Mapping[str, Any], choice: MeasuredChoice) -> None:
    filename = _cache_file(key)
    if filename is None:
        return
    payload = json.dumps({"key": key, **choice.as_dict()}, indent=1).encode("utf-8")
    try:
        os.makedirs(os.path.dirname(filename), exist_ok=True)
        atomic_write_bytes(filename, lambda handle: handle.write(payload),
                           "measured-plan cache")
    except (OSError, IndexnetError) as err:
        warnings.warn(f"cannot write measured-plan cache {filename}: {err}", RuntimeWarning,
                      stacklevel=4)


# -- .ix programs and plots ---------------------------------------------------------------


def ix_terms(
    source: str, sizes: Mapping[str, int] | None = None, *, origin: str = "the program"
) -> list[tuple[str, list[Shape]]]:
    """Every distinct product term of an index-language program, with its operand shapes.

    ``source`` is a program's text; index sizes come from ``sizes`` and the
    program's ``size`` lines, and every index must get one. ``origin`` names
    the program (its file) in errors.
    """
    try:
        from .. import ir
        from ..program import parse as parse_program
    except ImportError as err:  # pragma: no cover - the index language ships with indexnet
        raise InvalidArgumentError(
            f".ix input needs the index language (indexnet.program), unavailable here: {err}"
        ) from None
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
            shapes = tuple(tuple(resolved[c] for c in ops) for ops in product.operands)
            terms.setdefault((product.einsum, shapes))
    if not terms:
        empty = "is empty" if not source.strip() else "has no product term to benchmark"
        raise InvalidArgumentError(f"{origin} {empty}: write an equation such as "
                                   "a^n_h = x^n_d W^d_h")
    return [(einsum, list(shapes)) for einsum, shapes in terms]


def plot_reports(reports: Sequence[BenchReport], filename: str, *, title: str | None = None
                 ) -> None:
    """Save FLOPs against measured time, one point per optimizer, one panel per report.

    Optimizers whose paths coincide share a point and a label. The PNG is
    written atomically (:func:`~indexnet.fileio.write_figure_png`); a missing
    folder, a folder or a name not ending in ``.png`` is a
    :class:`~indexnet.CheckpointError`, found before anything is drawn. Needs
    matplotlib (``pip install indexnet[plot]``).
    """
    check_output_path(filename, "plot", ".png")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise InvalidArgumentError(
            "plotting needs matplotlib: pip install matplotlib (or indexnet[plot])"
        ) from None
    panels = [r for r in reports if any(x.run_seconds is not None for x in r.results)]
    if not panels:
        raise InvalidArgumentError("nothing to plot: no optimizer's path was run")
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(5.2 * cols, 4.2 * rows), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    for k, report in enumerate(panels):
        ax = fig.add_subplot(rows, cols, k + 1)
        points: dict[tuple[int, float], list[str]] = {}
        for r in report.results:
            if r.run_seconds is not None and r.flops is not None:
                points.setdefault((r.flops, r.run_seconds), []).append(r.optimizer)
        fastest = report.fastest
        for k, ((flops, seconds), names) in enumerate(sorted(points.items())):
            best = fastest in names
            ax.scatter([flops], [seconds * 1e3], s=60 if best else 36,
                       color="tab:red" if best else "tab:blue", zorder=3)
            label = ",\n".join(", ".join(names[i:i + 3]) for i in range(0, len(names), 3))
            ax.annotate(label, (flops, seconds * 1e3), fontsize=7,
                        xytext=(5, 4 if k % 2 == 0 else -10), textcoords="offset points",
                        va="bottom" if k % 2 == 0 else "top")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("FLOPs (predicted)")
        ax.set_ylabel("measured ms per call")
        expr = report.expression if len(report.expression) <= 48 else \
            report.expression[:45] + "..."
        ax.set_title(expr, fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    write_figure_png(fig, filename, "plot")
