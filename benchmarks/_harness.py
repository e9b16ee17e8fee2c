"""Shared machinery for the benchmarks: checks, interleaved timing, markdown.

Every benchmark is a list of :class:`Case` objects. A case holds the
candidates to compare (one of them the hand-written NumPy baseline), each a
Python *statement* timed with :mod:`timeit` in a namespace prepared before
any timing starts, so that nothing is planned or parsed inside the loop
except where a column deliberately measures a per-call API.

The protocol, the same for every case:

1. **Check first.** Every candidate's result is compared with the
   baseline's (:func:`check_close`); a disagreement raises
   :class:`BenchmarkMismatch` and the benchmark stops before timing.
2. **Calibrate.** Each candidate gets a loop count ``number`` so that one
   sample lasts about ``sample_s`` seconds.
3. **Interleave.** For ``repeats`` rounds, every candidate is timed once per
   round, the order rotating by one each round (round-robin), so machine
   noise hits every candidate alike.
4. **Pin threads.** The BLAS libraries (and torch's intra-op pool, when
   torch is loaded) are held at one thread while timing.
5. **Clock.** By default the clock is the process's CPU time
   (``time.process_time``, all threads of the process): with every library
   on one thread it equals the wall time of an idle machine, but it does not
   count the time the process waited for a core while other programs ran,
   which on a shared machine doubles wall-clock samples at random. ``wall``
   (``time.perf_counter``) is there for an idle machine.
6. **Report medians.** The time of a candidate is the median over rounds of
   the per-call time; its ratio is the median over rounds of
   ``time(candidate) / time(baseline)`` measured in the same round (a paired
   ratio, which cancels slow drift of the machine).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time
import timeit
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Let ``python benchmarks/run_all.py`` work from a checkout without installing.
_ROOT = Path(__file__).resolve().parents[1]
if (_ROOT / "indexnet").is_dir() and str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

__all__ = [
    "CLOCKS",
    "BenchmarkMismatch",
    "Candidate",
    "Case",
    "CaseResult",
    "cell",
    "check_close",
    "fmt_us",
    "loadavg",
    "machine_header",
    "markdown_table",
    "optional_torch",
    "run_case",
    "script_main",
    "single_thread",
]

#: Timing threads: BLAS (and torch) are pinned to this many while timing.
TIMING_THREADS = 1

#: The clocks a run may use; see the module docstring.
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
CLOCK_NAMES = {
    "cpu": "process CPU time (`time.process_time`)",
    "wall": "wall clock (`time.perf_counter`)",
}


class BenchmarkMismatch(AssertionError):
    """A candidate's result disagrees with the reference: the benchmark is void."""


@dataclass
class Candidate:
    """One contender: ``stmt`` is timed, ``check`` (default: ``stmt`` evaluated) is compared."""

    name: str
    stmt: str
    check: str | None = None


@dataclass
class Case:
    """Candidates sharing one namespace; ``candidates[0]`` is the baseline."""

    label: str
    candidates: list[Candidate]
    namespace: dict[str, Any]
    info: dict[str, str] = field(default_factory=dict)
    rtol: float = 1e-9
    #: Called once before timing instead of comparing results statement by statement
    #: (for candidates with side effects, such as a training step).
    custom_check: Callable[[], None] | None = None


@dataclass
class CaseResult:
    label: str
    info: dict[str, str]
    baseline: str
    medians_s: dict[str, float]
    ratios: dict[str, float]
    spread: dict[str, float]  # interquartile range / median
    excess_s: dict[str, float]  # median over rounds of time(candidate) − time(baseline)
    numbers: dict[str, int]
    repeats: int


def optional_torch() -> Any:
    """torch if importable, else ``None`` (torch stays an optional dependency)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Pin BLAS/OpenMP (threadpoolctl) and torch's intra-op pool to one thread."""
    torch = sys.modules.get("torch")
    old = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(TIMING_THREADS):
        if torch is not None:
            torch.set_num_threads(TIMING_THREADS)
        try:
            yield
        finally:
            if torch is not None and old is not None:
                torch.set_num_threads(old)


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def check_close(what: str, got: Any, expected: Any, rtol: float) -> None:
    """Raise :class:`BenchmarkMismatch` unless ``got`` ≈ ``expected`` (shape and values).

    The absolute tolerance scales with the reference's magnitude, so sums over
    hundreds of thousands of float32 terms are judged relative to their size.
    """
    got, expected = _to_numpy(got), _to_numpy(expected)
    if got.shape != expected.shape:
        raise BenchmarkMismatch(f"{what}: shape {got.shape}, expected {expected.shape}")
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    atol = rtol * max(scale, 1.0)
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        err = float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64))))
        raise BenchmarkMismatch(
            f"{what}: result disagrees with the reference (max |diff| {err:.3g}, "
            f"rtol {rtol:g}, atol {atol:.3g}); refusing to time it"
        )


def _check(case: Case) -> None:
    if case.custom_check is not None:
        case.custom_check()
        return
    ns = case.namespace
    base = case.candidates[0]
    expected = eval(base.check or base.stmt, ns)
    for cand in case.candidates[1:]:
        got = eval(cand.check or cand.stmt, ns)
        check_close(f"{case.label}: {cand.name} vs {base.name}", got, expected, case.rtol)


def _calibrate(timer: timeit.Timer, sample_s: float) -> int:
    """Loop count so that one sample lasts about ``sample_s``."""
    timer.timeit(1)  # warm-up (caches, lazy imports, first-call allocations)
    number = 1
    while True:
        took = timer.timeit(number)
        if took >= sample_s / 4 or number >= 1 << 20:
            break
        number *= 2
    return max(1, round(number * sample_s / max(took, 1e-9)))


def run_case(case: Case, repeats: int, sample_s: float, clock: str = "cpu") -> CaseResult:
    """Check, calibrate and time one case (see the module docstring)."""
    timer = CLOCKS[clock]
    timers = [
        timeit.Timer(c.stmt, globals=case.namespace, timer=timer) for c in case.candidates
    ]
    # The check runs pinned too: a library that started worker threads there
    # could leave them spinning (OpenMP) while the candidates are timed.
    with single_thread():
        _check(case)
        numbers = [_calibrate(t, sample_s) for t in timers]
        samples: list[list[float]] = [[] for _ in timers]
        m = len(timers)
        for r in range(repeats):
            for j in range(m):
                i = (r + j) % m
                samples[i].append(timers[i].timeit(numbers[i]) / numbers[i])
    names = [c.name for c in case.candidates]
    base = samples[0]
    medians = {n: statistics.median(s) for n, s in zip(names, samples)}
    ratios = {
        n: statistics.median(x / b for x, b in zip(s, base)) for n, s in zip(names, samples)
    }
    excess = {
        n: statistics.median(x - b for x, b in zip(s, base)) for n, s in zip(names, samples)
    }
    spread = {}
    for n, s in zip(names, samples):
        if len(s) >= 4:
            q = statistics.quantiles(s, n=4)
            spread[n] = (q[2] - q[0]) / medians[n]
        else:
            spread[n] = float("nan")
    return CaseResult(
        label=case.label,
        info=case.info,
        baseline=names[0],
        medians_s=medians,
        ratios=ratios,
        spread=spread,
        excess_s=excess,
        numbers=dict(zip(names, numbers)),
        repeats=repeats,
    )


# -- reporting ------------------------------------------------------------------------


def fmt_us(seconds: float) -> str:
    us = seconds * 1e6
    if us >= 1000:
        return f"{us:,.0f}"
    if us >= 100:
        return f"{us:.0f}"
    if us >= 10:
        return f"{us:.1f}"
    return f"{us:.2f}"


def cell(result: CaseResult, name: str) -> str:
    if name not in result.medians_s:
        return "—"
    t = fmt_us(result.medians_s[name])
    if name == result.baseline:
        return f"{t} (1×)"
    return f"{t} ({result.ratios[name]:.2f}×)"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _source_state() -> str:
    """The checkout's commit and whether indexnet's sources differ from it (read-only git)."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=_ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "indexnet")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"{commit}" + (" with uncommitted changes to indexnet/" if dirty else "")


def _installed(name: str) -> str:
    """``"NAME VERSION"`` of an installed distribution, or ``"NAME not installed"``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{name} {version(name)}"
    except PackageNotFoundError:
        return f"{name} not installed"


def _path_finders() -> list[str]:
    """The optional path-finding packages (they change what ``optimize="auto"`` finds)."""
    return [_installed(name) for name in ("cotengra", "cotengrust", "kahypar")]


def machine_header(clock: str = "cpu") -> str:
    """Markdown bullet list naming the machine, the libraries and the thread settings."""
    import opt_einsum

    torch = optional_torch()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    blas = []
    for lib in threadpool_info():
        path = Path(lib.get("filepath", ""))
        owner = "torch" if "torch" in str(path) else "numpy" if "numpy" in str(path) else "other"
        blas.append(
            f"{lib.get('internal_api')} {lib.get('version') or ''} "
            f"({lib.get('user_api')}, {owner}, arch {lib.get('architecture', '-')}, "
            f"default threads {lib.get('num_threads')})".replace("  ", " ")
        )
    lines = [
        f"- CPU: {_cpu_model()} — {os.cpu_count()} logical cores, {usable} usable",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}, numpy {np.__version__}, "
        f"opt_einsum {opt_einsum.__version__}, "
        f"torch {torch.__version__ if torch is not None else 'not installed'}, "
        f"{_installed('jax')}",
        "- Path finders: " + ", ".join(_path_finders()),
        "- BLAS: " + "; ".join(blas),
        f"- OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}",
        f"- Timing threads: {TIMING_THREADS} (threadpoolctl `threadpool_limits(1)`"
        + (", `torch.set_num_threads(1)`" if torch is not None else "")
        + f"); clock: {CLOCK_NAMES[clock]}",
        f"- indexnet source: {_source_state()}",
        f"- Load average when the header was written: {loadavg()}",
    ]
    return "\n".join(lines)


def script_main(
    doc: str,
    run: Callable[..., tuple[str, Any]],
    full: tuple[int, float],
    quick: tuple[int, float],
    argv: list[str] | None = None,
) -> int:
    """The command line every ``bench_*.py`` script shares: ``--quick`` and ``--clock``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, short samples")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    args = parser.parse_args(argv)
    repeats, sample_s = quick if args.quick else full
    text, _ = run(repeats, sample_s, clock=args.clock)
    print(text)
    return 0
