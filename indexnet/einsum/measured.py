"""``optimize="measured"``: time the fast optimizers' distinct paths, keep the fastest.

FLOP counts alone rank paths wrongly: a path of batched ``matmul`` steps can
beat one with fewer FLOPs whose steps fall back to ``np.einsum``, and the
memory traffic of large intermediates is not in the count at all. So
:func:`measured_path`, which ``plan(..., optimize="measured")`` calls, plans
the expression with each of :data:`MEASURED_CANDIDATES`, times the distinct
paths on random arrays of the real shapes, dtype and backend
(:mod:`indexnet.einsum.timing`) and keeps the fastest. The choice is cached
for the process by ``plan``, and on disk when ``INDEXNET_CACHE_DIR``
(:data:`CACHE_ENV`) is set.

>>> choice = measured_path("ij,jk->ik", [(2, 3), (3, 4)])
>>> choice.path, choice.source
(((0, 1),), 'single')
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import opt_einsum

from ..errors import IndexnetError
from ..fileio import atomic_write_bytes
from ..typing import Shape
from .compiled import Plan, cached_plan, check_path
from .timing import backend_runner, predicted_seconds, random_arrays, time_paths

__all__ = [
    "CACHE_ENV",
    "MEASURED_CANDIDATES",
    "Candidate",
    "MeasuredChoice",
    "Path",
    "candidate_paths",
    "measured_path",
]

#: A contraction path as a hashable value.
Path = tuple[tuple[int, ...], ...]

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

#: Environment variable naming the folder of the on-disk ``measured`` cache.
CACHE_ENV = "INDEXNET_CACHE_DIR"
_CACHE_FORMAT = 1


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
        """The choice as JSON-ready data (what the disk cache stores beside its key)."""
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
        p = cached_plan(subscripts, shapes, dtype, name, memory_limit)
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
    plans = [cached_plan(subscripts, shapes, dtype, c.path, None) for c in candidates]
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


# -- the disk cache ----------------------------------------------------------------------


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
        check_path(path, n_operands)
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
