"""Path search under a time budget: every optimizer's path, and a worker that can be killed.

:func:`find_path` asks one optimizer for the path of an expression. Searches
that can take exponential time (:data:`~indexnet.typing.EXPONENTIAL_SEARCHES`:
``optimal``, ``branch-all``, ``branch-2``, ``dp``, ``auto-hq``,
``random-greedy-128``, ``cotengra``) run, beyond six operands, in a child
Python process that is killed when it exceeds the budget, so nothing ever
hangs.

>>> find_path("greedy", "ab,bc->ac", [(2, 3), (3, 4)])[0]
[(0, 1)]
"""

from __future__ import annotations

import atexit
import contextlib
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

import opt_einsum

from ..einsum.measured import measured_path
from ..einsum.search import auto_budget, auto_path
from ..errors import InvalidArgumentError
from ..typing import EXPONENTIAL_SEARCHES, Shape
from .equations import left_to_right_path

__all__ = ["BENCH_OPTIMIZERS", "BUDGET_S", "EXTRA_OPTIMIZERS", "check_optimizers", "find_path"]

#: The optimizers :func:`~indexnet.bench.paths.bench_paths` compares by default, in
#: table order. ``naive`` is one einsum over all operands; ``left-to-right``
#: contracts the operands pairwise in the order written; ``cotengra`` is
#: cotengra's hyper-optimizer (reported as skipped unless cotengra is installed).
BENCH_OPTIMIZERS: tuple[str, ...] = (
    "naive", "left-to-right", "greedy", "optimal", "dp", "branch-1", "branch-2",
    "branch-all", "random-greedy", "auto", "oe-auto", "auto-hq", "cotengra",
)
#: Names accepted by ``optimizers=`` beyond the defaults.
EXTRA_OPTIMIZERS: tuple[str, ...] = ("random-greedy-128", "measured")
#: Up to this many operands every search is quick (optimal tries at most 6! orders).
_IN_PROCESS_MAX = 6

#: Default time budget (seconds) of one optimizer's path search, and of one run.
BUDGET_S = 10.0


def check_optimizers(optimizers: Sequence[str]) -> list[str]:
    """``optimizers`` without repeats, each a name :func:`find_path` knows.

    >>> check_optimizers(["greedy", "dp", "greedy"])
    ['greedy', 'dp']
    """
    valid = BENCH_OPTIMIZERS + EXTRA_OPTIMIZERS
    unknown = [o for o in optimizers if o not in valid]
    if unknown:
        raise InvalidArgumentError(
            f"unknown optimizer{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}; valid: {', '.join(valid)}"
        )
    if not optimizers:
        raise InvalidArgumentError(f"no optimizers given; valid: {', '.join(valid)}")
    return list(dict.fromkeys(optimizers))


_WORKER_SOURCE = r"""
import json, sys, time
import opt_einsum

def optimizer(name, budget):
    if name == "cotengra":
        import importlib.util
        import cotengra
        # methods named, so cotengra does not warn that kahypar is missing
        methods = ["greedy", "kahypar" if importlib.util.find_spec("kahypar") else "labels"]
        return cotengra.HyperOptimizer(
            methods=methods, max_time=max(0.1, 0.8 * budget), max_repeats=128, parallel=False,
            progbar=False,
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
    ``auto`` is indexnet's default (within its own planning budget), ``oe-auto``
    opt_einsum's plain ``"auto"``.
    ``measured`` is :func:`~indexnet.einsum.measured.measured_path` (on
    ``dtype`` and ``backend``).

    >>> find_path("left-to-right", "ab,bc,cd->ad", [(2, 3), (3, 4), (4, 5)], 1.0)
    ([(0, 1), (0, 1)], 0.0, None)
    """
    check_optimizers([name])
    n = len(shapes)
    if name == "measured":
        start = time.perf_counter()
        choice = measured_path(subscripts, shapes, dtype, backend=backend)
        return list(choice.path), time.perf_counter() - start, None
    if name == "naive":
        return [tuple(range(n))] if n > 1 else [(0,)], 0.0, None
    if name == "left-to-right":
        return left_to_right_path(n), 0.0, None
    if name == "auto":  # indexnet's own auto, bounded by its planning budget
        start = time.perf_counter()
        try:
            path, _, _ = auto_path(subscripts, shapes, None, auto_budget(n, budget))
        except RuntimeError as err:  # dp: no path when an index has size 0
            return None, None, f"no path: {err}"
        return [tuple(step) for step in path], time.perf_counter() - start, None
    if name == "cotengra":
        try:
            # optional (pip install cotengra): imported here only to say whether it is
            import cotengra  # noqa: F401
        except ImportError:
            return None, None, "cotengra not installed (pip install cotengra)"
    if name in EXPONENTIAL_SEARCHES and (n > _IN_PROCESS_MAX or name == "cotengra"):
        return _WORKER.search(name, subscripts, shapes, budget)
    start = time.perf_counter()
    try:
        path, _ = opt_einsum.contract_path(
            subscripts, *shapes, shapes=True, optimize="auto" if name == "oe-auto" else name
        )
    except RuntimeError as err:  # dp: no path when an index has size 0
        return None, None, f"no path: {err}"
    return [tuple(step) for step in path], time.perf_counter() - start, None
