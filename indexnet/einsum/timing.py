"""Running and timing plans: random operands, one call on any backend, interleaved rounds.

What ``optimize="measured"`` (:mod:`indexnet.einsum.measured`) and the path
benchmarks (:mod:`indexnet.bench`) share:

* :func:`random_arrays` draws operands whose sums never cancel;
* :func:`backend_runner` turns a plan and its operands into a no-argument
  call on NumPy, Dask, torch, JAX, CuPy or TensorFlow, finishing lazy results;
* :func:`time_paths` times several such calls in interleaved rounds and
  returns each one's median;
* :func:`predicted_seconds` guesses one call's time from its steps' FLOPs, to
  decide what is too large to run;
* :func:`pinned` pins BLAS (and torch) threads while timing.

>>> p = cached_plan("ij,jk->ik", ((2, 3), (3, 2)), "float64", "auto")
>>> run = backend_runner(p, random_arrays(p.shapes))
>>> [t > 0 for t in time_paths([run], rounds=2)]
[True]
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import opt_einsum

from ..errors import InvalidArgumentError
from ..typing import Shape
from .compiled import Plan, cached_plan

__all__ = [
    "backend_runner",
    "converter",
    "numpy_dtype",
    "pinned",
    "predicted_seconds",
    "random_arrays",
    "time_paths",
    "to_numpy",
]


# -- operands --------------------------------------------------------------------------


def random_arrays(shapes: Sequence[Shape], dtype: Any = "float64", *, seed: int = 0) -> list[Any]:
    """NumPy arrays of ``shapes``: values in [0, 1), so sums never cancel.

    >>> [a.shape for a in random_arrays([(2, 3), (3,)], "float32")]
    [(2, 3), (3,)]
    """
    rng = np.random.default_rng(seed)
    dt = numpy_dtype(dtype)
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


def numpy_dtype(dtype: Any) -> np.dtype[Any]:
    """NumPy's dtype for ``dtype``, also for names such as ``torch.float32``.

    >>> numpy_dtype("torch.float32"), numpy_dtype(object)
    (dtype('float32'), dtype('float64'))
    """
    for candidate in (dtype, str(dtype).rsplit(".", 1)[-1]):
        try:
            dt = np.dtype(candidate)
        except TypeError:
            continue
        if dt.kind in "biufc":
            return dt
    return np.dtype("float64")


# -- one call on a backend -------------------------------------------------------------

_CONVERTERS: dict[str, tuple[str, str]] = {
    "numpy": ("numpy", "asarray"),
    "dask": ("dask.array", "from_array"),
    "torch": ("torch", "as_tensor"),
    "jax": ("jax.numpy", "asarray"),
    "cupy": ("cupy", "asarray"),
    "tensorflow": ("tensorflow", "convert_to_tensor"),
}


def converter(backend: str) -> Callable[[Any], Any]:
    """The function that makes a NumPy array into ``backend``'s array.

    Raises :class:`~indexnet.errors.InvalidArgumentError` for an unknown
    backend or one that is not installed.

    >>> converter("numpy").__name__
    'asarray'
    """
    if backend not in _CONVERTERS:
        raise InvalidArgumentError(
            f"unknown backend {backend!r}; known: {', '.join(sorted(_CONVERTERS))}"
        )
    module_name, attr = _CONVERTERS[backend]
    try:
        # the array libraries are optional: imported only when asked for
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise InvalidArgumentError(
            f"backend {backend!r} is not installed ({err}); pip install {backend.split('.')[0]}"
        ) from None
    convert: Callable[[Any], Any] = getattr(module, attr)
    return convert


def _materialize(value: Any) -> Any:
    """Finish a lazy or asynchronous result (Dask, JAX, CUDA) so its time is counted."""
    if hasattr(value, "compute"):
        return value.compute()
    if hasattr(value, "block_until_ready"):
        return value.block_until_ready()
    if getattr(value, "is_cuda", False):
        import torch  # optional: only a torch tensor gets here, so torch is installed

        torch.cuda.synchronize()
    elif type(value).__module__.startswith("cupy"):
        import cupy  # optional: only a CuPy array gets here, so CuPy is installed

        cupy.cuda.Device().synchronize()
    return value


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
    convert = converter(backend)
    converted = [convert(a) for a in arrays]
    expression = opt_einsum.contract_expression(
        str(p.subscripts), *p.shapes, optimize=[tuple(step) for step in p.path]
    )
    return lambda: _materialize(expression(*converted, backend=backend))


def to_numpy(value: Any) -> np.ndarray[Any, Any]:
    """A backend's result as a NumPy array (torch and CuPy arrays are copied to the host).

    >>> to_numpy([1, 2]).tolist()
    [1, 2]
    """
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    elif hasattr(value, "get") and type(value).__module__.startswith("cupy"):
        value = value.get()
    return np.asarray(value)


# -- timing ---------------------------------------------------------------------------


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
def pinned(threads: int | None, backend: str) -> Iterator[str | None]:
    """Pin BLAS/OpenMP (and torch) to ``threads``; yields a note when that is impossible.

    ``threads=None`` leaves the libraries' defaults.
    """
    if threads is None:
        yield None
        return
    torch = sys.modules.get("torch") if backend == "torch" else None
    old = torch.get_num_threads() if torch is not None else None
    try:
        # optional (indexnet[bench]): without it, BLAS threads stay as they are
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


# -- predicting ------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _rates(dtype: str) -> dict[str, float]:
    """FLOPs per second of a transposed BLAS product, an elementwise pass and an einsum.

    Measured on one thread (when threadpoolctl is installed): a conservative
    rate, and a stable one (a pool of BLAS threads can take many calls to
    wake up on a busy machine).
    """
    dt = numpy_dtype(dtype)
    # a tensor-network step: both operands transposed, the result permuted
    pair = cached_plan("abcd,dcef->fbea", ((16,) * 4,) * 2, str(dt), "greedy", None)
    a, b = random_arrays(pair.shapes, dt)
    x, y, z = random_arrays([(12, 12), (12, 12), (12, 12)], dt)
    v = random_arrays([(1 << 16,)], dt)[0]
    with pinned(1, "numpy"):
        blas = _rate(pair.flops, lambda: pair.kernel(a, b))
        elementwise = _rate(v.size, lambda: v * v)
        generic = _rate(3 * 12**4, lambda: np.einsum("ij,jk,kl->il", x, y, z, optimize=False))
    return {"blas": blas, "elementwise": elementwise, "einsum": min(generic, elementwise)}


def _rate(flops: float, call: Callable[[], Any]) -> float:
    """FLOPs per second of ``call``'s best time over many calls.

    The best, because a BLAS thread pool can take several calls to wake up.
    """
    best = math.inf
    deadline = time.perf_counter() + 0.25
    for k in range(24):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
        if k >= 4 and start > deadline:
            break
    return flops / max(best, 1e-9)


def predicted_seconds(p: Plan) -> float:
    """A rough time of one call of plan ``p``: each step's FLOPs over its kind's rate.

    Calibrated once per dtype on this machine (a BLAS product, an
    elementwise pass, a generic einsum); used to decide what is too large
    to run, never as a measurement.
    """
    rates = _rates(p.dtype)
    kinds = {"matmul": "blas", "dot": "blas", "multiply": "elementwise", "sum": "elementwise"}
    return sum(step.flops / rates[kinds.get(step.kind, "einsum")] for step in p.steps)
