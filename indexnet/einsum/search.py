"""Path searches under a time budget: an exponential search never hangs a caller.

opt_einsum's exhaustive searches (``optimal``, ``branch-all``, ``branch-2``,
``dp``, ``auto-hq``; :data:`~indexnet.typing.EXPONENTIAL_SEARCHES`) can run
for minutes on a dozen operands. :func:`find_path` runs such a search, beyond
:data:`QUICK_OPERANDS` operands, under a profile hook that stops it once its
budget (:data:`SEARCH_BUDGET_S` by default, as ``indexnet plan --budget``) is
spent. The plan then gets the best path the search had found (the branch
searches keep one), or else greedy's, and a note saying which.

``optimize="auto"`` (:func:`auto_path`) is indexnet's own default: the exact
dynamic programme (``dp``) where it finishes within a small planning budget,
else the best of greedy and random-greedy within that budget (with cotengra
installed: random-greedy paths refined by subtree reconfiguration,
:mod:`~indexnet.einsum.subtrees`, restarted while time is left). opt_einsum's
own ``"auto"`` (one fixed algorithm per operand count) stays available as
``"oe-auto"``.

>>> path, info, note = find_path("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 5)], "optimal")
>>> path, note
([(0, 1), (0, 1)], None)
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import opt_einsum

from ..typing import EXPONENTIAL_SEARCHES, Shape
from .kernels import broadcast_sizes
from .subtrees import SubtreeTree

__all__ = [
    "AUTO_BUDGET_S",
    "COTENGRA_CODE",
    "QUICK_OPERANDS",
    "SEARCH_BUDGET_S",
    "auto_budget",
    "auto_path",
    "find_path",
    "run_within",
]

#: Default time budget (seconds) of an exponential path search, as ``plan --budget``.
SEARCH_BUDGET_S = 10.0
#: Up to this many operands every search is quick and runs directly (6! orders at most).
QUICK_OPERANDS = 6
#: Planning budget of ``optimize="auto"`` (seconds): up to 20 operands, and beyond.
AUTO_BUDGET_S = (0.04, 0.9)
#: The share of the auto budget the exact search may take before the heuristics run.
_DP_SHARE = 0.5
#: The same beyond :data:`_SMALL_OPERANDS` operands, where dp rarely finishes in time.
_DP_SHARE_LARGE = 0.05
#: The same up to :data:`_SMALL_OPERANDS` operands with cotengra installed (its refined
#: random-greedy search needs the rest).
_DP_SHARE_REFINED = 0.1
#: Up to this many operands, with cotengrust installed, "auto" is its compiled dp (which
#: cannot be stopped). Its slowest case is the complete graph, every pair of operands
#: sharing an index: 10 operands took at most 11 ms (sizes 2-9) and 40 ms (sizes up to
#: 100,000); 11 operands took 36 ms at sizes 2-9. Random 4-regular networks of 10 took
#: at most 1 ms.
_COMPILED_DP_OPERANDS = 10
#: Seconds of the auto budget kept for opt_einsum's account of each path the search found
#: (about 1 ms at 20 operands).
_FINAL_S = 0.002
#: Up to this many operands "auto" plans within its smaller budget.
_SMALL_OPERANDS = 20
#: Subtrees one round of reconfiguration tries at most.
_RECONFIGURE_ROUND = 8
#: Tensors in a subtree contracted again optimally. On ``rand_equation(20, 3 or 4)``
#: (30 networks, three starts each, each run to its local optimum) subtrees of 6 left 4
#: of 90 starts over 1.1x the optimum in a median 3.3 ms a start; of 7, none in 7.5 ms;
#: of 8, none in 13.7 ms.
_SUBTREE_SIZE = 7
#: Subtrees the first reconfiguration round tries, before a subtree's time is known.
_FIRST_ROUND = 4
#: A round tries as many subtrees as fit in the time left at this many times the last
#: round's time a subtree (:func:`_reconfigured`).
_ROUND_MARGIN = 1.5
#: Random-greedy trials in one start's batch (its best path is the start reconfigured).
_SAMPLES = 32
#: The sampler's ``(temperature, costmod)`` ranges of successive starts, in turn.
#: Reconfiguration ends in a local optimum that depends on its start, and the
#: best-sampled start does not predict the best optimum. On ``rand_equation(20, 3
#: or 4)``, seeds 0-59 (120 networks), a start of 32 trials with cotengra's defaults
#: ((0.001, 1), (0.1, 4), the last below) ended over 1.1x the exact optimum on 22
#: networks after 20 subtrees reconfigured (by cotengra's reconfiguration, which
#: SubtreeTree has since replaced), one with the first below on 13; the best
#: of the first two starts on 3, of the first three on 2.
_START_SETTINGS = (
    ((0.1, 1.0), (0.5, 2.0)),
    ((0.3, 3.0), (0.25, 1.0)),
    ((1.0, 10.0), (0.5, 2.0)),
    ((0.01, 0.1), (0.5, 2.0)),
    ((0.001, 1.0), (0.1, 4.0)),
)
#: Restarts in a row that find no better path before the search ends early, up to
#: :data:`_SMALL_OPERANDS` operands. Beyond, restarts go on until the budget is spent: on
#: ``rand_equation(50, 4)``, seeds 0-4, ending after three took 353-811 ms and left one
#: path 2.1x the FLOPs that the whole 0.9 s found (the others within 1.004x).
_RESTARTS_WITHOUT_GAIN = 3
#: Names indexnet maps to opt_einsum optimizers other than the name itself.
_RENAMED = {"oe-auto": "auto"}


#: The code a budget may stop: opt_einsum's path searches (a file-path fragment).
_SEARCH_CODE = "opt_einsum"
#: cotengra's code (its package folder), for :func:`run_within`'s ``code``.
COTENGRA_CODE = f"{os.sep}cotengra{os.sep}"


class _Stopped(BaseException):
    """Raised inside a search thread whose budget is spent (a BaseException: nothing catches it)."""


def run_within(
    func: Callable[[], Any], budget: float, code: str = _SEARCH_CODE
) -> tuple[bool, Any]:
    """``(True, func())`` if ``func`` returns within ``budget`` seconds, else ``(False, None)``.

    ``func`` runs in the caller's own thread under a profile hook that, once
    the budget is spent, raises :class:`_Stopped` at the next call of one of
    opt_einsum's (pure Python) search functions (or of the library whose
    files' paths contain ``code``, such as :data:`COTENGRA_CODE`): a synchronous stop
    at a known point, never inside a finalizer or another library. (Killing a helper
    thread with an asynchronous exception could land it in a weakref callback.)
    An exception of ``func`` propagates.

    >>> run_within(lambda: 6 * 7, 1.0)
    (True, 42)
    >>> run_within(lambda: opt_einsum.contract_path(
    ...     ",".join("ab"[i % 2] + "ab"[(i + 1) % 2] for i in range(9)) + "->",
    ...     *[(2, 2)] * 9, shapes=True, optimize="optimal"), 0.0)[0]
    False
    """
    deadline = time.perf_counter() + budget
    previous = sys.getprofile()

    def hook(frame: Any, event: str, arg: Any) -> None:
        if (event == "call" and time.perf_counter() > deadline
                and code in frame.f_code.co_filename):
            raise _Stopped

    sys.setprofile(hook)
    try:
        return True, func()
    except _Stopped:
        return False, None
    finally:
        sys.setprofile(previous)


def find_path(
    subscripts: str,
    shapes: Sequence[Shape],
    optimize: Any,
    memory_limit: int | None = None,
    budget: float | None = SEARCH_BUDGET_S,
) -> tuple[Any, Any, str | None]:
    """opt_einsum's ``(path, info)`` for ``optimize``, and a note when a budget cut it short.

    ``optimize`` is an opt_einsum optimizer name or path, ``"auto"``
    (:func:`auto_path`) or ``"oe-auto"`` (opt_einsum's own ``"auto"``).
    ``budget`` (seconds, None for none) bounds exponential searches on more
    than :data:`QUICK_OPERANDS` operands. opt_einsum's errors propagate.
    """
    n = len(shapes)
    if not isinstance(optimize, str):  # an explicit path
        return (*_contract_path(subscripts, shapes, optimize, memory_limit), None)
    if optimize == "auto":
        return auto_path(subscripts, shapes, memory_limit, auto_budget(n, budget))
    name = _RENAMED.get(optimize, optimize)
    if budget is None or optimize not in EXPONENTIAL_SEARCHES or n <= QUICK_OPERANDS:
        return (*_contract_path(subscripts, shapes, name, memory_limit), None)
    if optimize == "random-greedy-128":  # a random search: stop it at the budget itself
        searcher: Any = opt_einsum.RandomGreedy(max_repeats=128, max_time=budget)
        return (*_contract_path(subscripts, shapes, searcher, memory_limit), None)
    searcher = _branch_bound(optimize) or name
    done, found = run_within(
        lambda: _contract_path(subscripts, shapes, searcher, memory_limit), budget
    )
    if done:
        return (*found, None)
    best = getattr(searcher, "best", {}).get("ssa_path")
    if best is not None:
        path = opt_einsum.paths.ssa_to_linear(best)
        note = f"{optimize} stopped at its {budget:g} s budget; the best path it had found"
        return (*_contract_path(subscripts, shapes, path, None), note)
    note = f"{optimize} stopped at its {budget:g} s budget; path from greedy"
    return (*_contract_path(subscripts, shapes, "greedy", memory_limit), note)


def auto_budget(n_operands: int, budget: float | None = SEARCH_BUDGET_S) -> float:
    """The planning budget of ``optimize="auto"`` for ``n_operands`` (at most ``budget``).

    >>> auto_budget(12), auto_budget(40)
    (0.04, 0.9)
    """
    own = AUTO_BUDGET_S[0] if n_operands <= _SMALL_OPERANDS else AUTO_BUDGET_S[1]
    return own if budget is None else min(own, budget)


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a timed search (also as a decorator).

    A search allocates many small objects (opt_einsum's paths, the search's
    trees), and a full collection in the middle of a 40 ms plan took 20-22 ms
    of it (``rand_equation(20, 3 or 4)``). What the search leaves is
    collected after it. Another thread's search may end the pause early.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_collection_paused()
def auto_path(
    subscripts: str, shapes: Sequence[Shape], memory_limit: int | None, budget: float
) -> tuple[Any, Any, str | None]:
    """Indexnet's ``"auto"``: exact where that is cheap, the best heuristic path beyond.

    Up to four operands, ``optimal`` (exact, outer products included). With
    cotengra and cotengrust installed, no memory limit and a plain network
    (:func:`_plain`), cotengrust's compiled dp (exact among paths without
    outer products) up to :data:`_COMPILED_DP_OPERANDS` operands, and for
    chains and rings (:func:`_at_most_two_neighbours`) up to
    :data:`_SMALL_OPERANDS`. Otherwise opt_einsum's dynamic programme if it
    finishes within its share of ``budget``: half of it up to 10 operands,
    :data:`_DP_SHARE_REFINED` up to 20 with cotengra installed (and none on
    a plain network with cotengrust, where it does not finish), half without,
    :data:`_DP_SHARE_LARGE` beyond. Else the fewer FLOPs of greedy's path and
    of random-greedy's, run for what is left of the budget; or, with cotengra
    installed and no memory limit, the fewer of greedy's path and cotengra's
    search (:func:`_cotengra_paths`), within the budget less
    :data:`_FINAL_S`. The garbage collector is paused meanwhile
    (:func:`_collection_paused`). The note says which search gave the path.

    >>> path, info, note = auto_path("ab,bc,cd,de,ef->af", [(9, 9)] * 5, None, 1.0)
    >>> note.startswith("auto: dp")  # cotengrust's, when installed
    True
    """
    n = len(shapes)
    if n <= 4:
        return (*_contract_path(subscripts, shapes, "optimal", memory_limit), None)
    refine = memory_limit is None and importlib.util.find_spec("cotengra") is not None
    compiled = refine and _plain(subscripts, shapes) and importlib.util.find_spec(
        "cotengrust") is not None
    if compiled and (n <= _COMPILED_DP_OPERANDS
                     or (n <= _SMALL_OPERANDS and _at_most_two_neighbours(subscripts))):
        path = _compiled_dp(subscripts, shapes)
        return (*_contract_path(subscripts, shapes, path, None), "auto: dp (cotengrust)")
    start = time.perf_counter()
    deadline = start + budget
    if compiled and n <= _SMALL_OPERANDS:  # opt_einsum's dp would not finish: all to the starts
        why = f"dp is not tried on {n} operands within {budget:g} s"
    else:
        exact = opt_einsum.DynamicProgramming()
        if n > _SMALL_OPERANDS:
            share = _DP_SHARE_LARGE
        elif refine and n > _COMPILED_DP_OPERANDS:
            share = _DP_SHARE_REFINED
        else:  # up to 10 operands dp often finishes (a 10-operand hypergraph: 35 ms)
            share = _DP_SHARE
        done, found = run_within(
            lambda: _contract_path(subscripts, shapes, exact, memory_limit), budget * share
        )
        if done:
            return (*found, "auto: dp")
        why = f"dp ran past its share of the {budget:g} s planning budget"
    candidates: list[tuple[str, Any]] = [
        ("greedy", _contract_path(subscripts, shapes, "greedy", memory_limit))]
    left = deadline - time.perf_counter()
    if left > 0 and not refine:
        sampler = opt_einsum.RandomGreedy(max_repeats=1 << 16, max_time=left)
        candidates.append(("random-greedy",
                           _contract_path(subscripts, shapes, sampler, memory_limit)))
    if refine:
        # cotengra's one-off import (about 0.1 s) is not charged to this plan's budget:
        # charged, it left the first plan of a process with greedy's path
        loading = time.perf_counter()
        _load_cotengra()
        deadline += time.perf_counter() - loading
        greedy_path, greedy_info = candidates[0][1]
        searched = deadline - _FINAL_S  # the rest: each found path's info below
        for found, path in _cotengra_paths(subscripts, greedy_info.size_dict, searched,
                                           greedy_path):
            candidates.append((found, _contract_path(subscripts, shapes, path, None)))
    which, best = min(candidates, key=lambda c: c[1][1].opt_cost)
    return (*best, f"auto: {which} ({why})")


def _plain(subscripts: str, shapes: Sequence[Shape]) -> bool:
    """Whether no letter is in more than two terms (the output counted), and none repeats.

    Plain also means no scalar operand and no size below 2. Only there is
    cotengrust's dp sure to find opt_einsum's optimum: its cost model counts
    hyperedges, size-1 axes and scalars otherwise, and its path can cost more
    of opt_einsum's FLOPs than opt_einsum's dp finds: on 1,200 networks of
    cotengra's ``rand_equation`` (5-9 operands, half with hyperedges and
    size-1 axes) 96 paths did, up to 1.33× (2.37× on one network of six in
    ``tests/test_cotengra.py``); on the 421 plain ones, none.

    >>> _plain("ab,bc->ac", [(2, 3), (3, 4)]), _plain("ab,ab,ab->", [(2, 3)] * 3)
    (True, False)
    """
    inputs, output = subscripts.split("->")
    terms = [*inputs.split(","), output]
    if any(not term or len(set(term)) < len(term) for term in terms[:-1]):
        return False
    if any(size < 2 for shape in shapes for size in shape):
        return False
    counts: dict[str, int] = {}
    for term in terms:
        for letter in term:
            counts[letter] = counts.get(letter, 0) + 1
    return max(counts.values(), default=0) <= 2


def _at_most_two_neighbours(subscripts: str) -> bool:
    """Whether no operand shares letters with more than two others (chains and rings).

    There cotengrust's dp is bounded whatever the sizes: a ring of 20 took 10 ms.

    >>> _at_most_two_neighbours("ab,bc,cd,da->"), _at_most_two_neighbours("abc,a,b,c->")
    (True, False)
    """
    terms = subscripts.split("->")[0].split(",")
    holders: dict[str, set[int]] = {}
    for i, term in enumerate(terms):
        for letter in term:
            holders.setdefault(letter, set()).add(i)
    neighbours: list[set[int]] = [set() for _ in terms]
    for shared in holders.values():
        for i in shared:
            neighbours[i] |= shared
    return all(len(near) <= 3 for near in neighbours)  # itself and two others


def _compiled_dp(subscripts: str, shapes: Sequence[Shape]) -> list[tuple[int, ...]]:
    """The exact path (no outer products) of cotengrust's compiled dp: opt_einsum's ``dp``, faster.

    It cannot be stopped, so it runs only up to :data:`_COMPILED_DP_OPERANDS`
    operands, where it is bounded whatever the network.
    """
    inputs, output = subscripts.split("->")
    terms = inputs.split(",")
    sizes = {letter: int(size) for letter, size in broadcast_sizes(terms, shapes).items()}
    optimal = importlib.import_module("cotengrust").optimize_optimal
    path = optimal([tuple(term) for term in terms], tuple(output), sizes, minimize="flops")
    return [tuple(int(i) for i in step) for step in path]


def _cotengra_paths(
    subscripts: str, sizes: dict[str, int], deadline: float, greedy: Any
) -> list[tuple[str, list[tuple[int, ...]]]]:
    """Paths cotengra finds by ``deadline`` (``time.perf_counter``), each with its name.

    ``sizes`` maps each index to its size; ``greedy`` is greedy's path. The
    search is :func:`_restarted_reconfiguration`: random-greedy starts with
    ``cotengrust`` installed; without it, sampling in Python is slow, and
    greedy's path is the first start (with cotengra's reconfiguration,
    greedy's path as the only start had left 11 of ``rand_equation(20, 4)``,
    seeds 0-29, over 1.1× the exact optimum). Up to :data:`_SMALL_OPERANDS`
    operands it ends after :data:`_RESTARTS_WITHOUT_GAIN` restarts in a row
    without a gain, beyond at ``deadline``. Beyond 20 operands this search
    replaced cotengra's hyper-optimizer
    (greedy and label trials, each reconfigured by cotengra): on
    ``rand_equation(40, 3 or 4)``, seeds 0-2, its paths had 0.93-1.00× the
    hyper-optimizer's FLOPs in 162-289 ms against 820-894 ms; at 60
    operands 0.19-1.00×. A search past the deadline is stopped.
    """
    inputs, output = subscripts.split("->")
    terms = ["".join(dict.fromkeys(term)) for term in inputs.split(",")]
    size_dict = {c: int(d) for c, d in sizes.items()}
    if 0 in size_dict.values():  # nothing is computed (and cotengra divides by the sizes)
        return []
    compiled = importlib.util.find_spec("cotengrust") is not None
    found = _restarted_reconfiguration(
        terms, output, size_dict, deadline, first=None if compiled else greedy,
        patience=_RESTARTS_WITHOUT_GAIN if len(terms) <= _SMALL_OPERANDS else None)
    return [(which, [tuple(int(i) for i in step) for step in path]) for which, path in found]


def _restarted_reconfiguration(
    terms: list[str], output: str, size_dict: dict[str, int], deadline: float,
    sample: Callable[..., tuple[Any, float]] | None = None, first: Any = None,
    optimal: Callable[..., Any] | None = None, patience: int | None = _RESTARTS_WITHOUT_GAIN,
) -> list[tuple[str, Any]]:
    """The best of several paths refined by subtree reconfiguration, searched until ``deadline``.

    Each start is the best of a batch of :data:`_SAMPLES` random-greedy
    trials (``sample``, by default cotengra's
    ``optimize_random_greedy_track_flops``: compiled when ``cotengrust`` is
    installed), drawn with the next of :data:`_START_SETTINGS` in turn; or,
    for the first start, the path ``first`` when given. A start's subtrees of
    :data:`_SUBTREE_SIZE` tensors are contracted again optimally (``optimal``,
    by default cotengra's exact path finder, compiled with cotengrust;
    :class:`~indexnet.einsum.subtrees.SubtreeTree`) in rounds sized to the
    time left (:func:`_reconfigured`) until none is left untried. That ends in
    a local optimum that depends on the start, so what time is left goes to
    new starts, until ``patience`` in a row find nothing better (None: until
    ``deadline``, a ``time.perf_counter`` time).
    """
    basic = importlib.import_module("cotengra.pathfinders.path_basic")  # optional
    sample = sample or _random_greedy()
    optimal = optimal or basic.get_optimize_optimal()
    inputs = [tuple(term) for term in terms]
    best: SubtreeTree | None = None
    best_start = ""
    starts = without_gain = 0
    took: list[float] = []  # a subtree's time in the last reconfiguration round
    sampled = 0.0  # the last batch's time
    patience = sys.maxsize if patience is None else patience
    while (now := time.perf_counter()) < deadline and without_gain < patience:
        first_round = _ROUND_MARGIN * _FIRST_ROUND * (took[-1] if took else 0.0)
        if starts and deadline - now < sampled + first_round:
            break  # a start would not get through its first round
        if first is not None and starts == 0:
            path, start = first, "greedy"
        else:
            temperature, costmod = _START_SETTINGS[starts % len(_START_SETTINGS)]
            path, _ = sample(inputs, tuple(output), size_dict, ntrials=_SAMPLES, seed=starts,
                             temperature=temperature, costmod=costmod)
            sampled = time.perf_counter() - now
            start = "random-greedy"
        tree = _reconfigured(SubtreeTree(terms, output, size_dict, path, optimal), deadline, took)
        starts += 1
        if best is None or tree.total_flops() < best.total_flops():
            best, best_start, without_gain = tree, start, 0
        else:
            without_gain += 1
    if best is None:
        return []
    return [(f"{best_start}, optimal subtrees (best of {starts} starts)",
             opt_einsum.paths.ssa_to_linear(best.ssa_path()))]


def _load_cotengra() -> None:
    """Import cotengra and what its searches load on first use (about 0.1 s, once a process)."""
    importlib.import_module("cotengra")
    _random_greedy()  # the getters' first calls load cotengrust, when installed
    importlib.import_module("cotengra.pathfinders.path_basic").get_optimize_optimal()


def _random_greedy() -> Callable[..., tuple[Any, float]]:
    """The random-greedy sampler of cotengra: cotengrust's compiled one if installed."""
    basic = importlib.import_module("cotengra.pathfinders.path_basic")
    sampler: Callable[..., tuple[Any, float]] = basic.get_optimize_random_greedy_track_flops()
    return sampler


def _reconfigured(tree: SubtreeTree, deadline: float, took: list[float]) -> SubtreeTree:
    """``tree``, its subtrees contracted again in rounds until none is left untried or time is up.

    A round tries up to :data:`_RECONFIGURE_ROUND` subtrees, as many as fit
    in the time left at :data:`_ROUND_MARGIN` times the time a subtree took
    in the last round (``took``, kept from start to start; the first round
    tries :data:`_FIRST_ROUND`). No profile hook watches the rounds: with
    run_within's, cotengra's reconfiguration had run 1.9-3.2× slower.
    """
    while (now := time.perf_counter()) < deadline:
        size = _FIRST_ROUND if not took else min(
            _RECONFIGURE_ROUND, int((deadline - now) / (_ROUND_MARGIN * took[-1])))
        if size < 1:
            break
        done = tree.reconfigure(_SUBTREE_SIZE, size)
        if not done:
            break  # a local optimum
        took[:] = [(time.perf_counter() - now) / done]
    return tree


def _branch_bound(name: Any) -> Any:
    """A BranchBound searcher for the branch searches (it keeps its best path), else None."""
    widths = {"branch-all": None, "branch-2": 2}
    if isinstance(name, str) and name in widths:
        return opt_einsum.BranchBound(nbranch=widths[name])
    return None


def _contract_path(
    subscripts: str, shapes: Sequence[Shape], optimize: Any, memory_limit: int | None
) -> tuple[Any, Any]:
    return opt_einsum.contract_path(
        subscripts, *shapes, shapes=True, optimize=optimize, memory_limit=memory_limit
    )
