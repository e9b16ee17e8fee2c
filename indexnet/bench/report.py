"""Benchmark reports: one row per optimizer, as a plain-text table, markdown or JSON.

:class:`BenchReport` compares every optimizer's path; :class:`SlicedReport`
compares plans sliced to fit a memory limit (``indexnet bench --memory-limit``,
``--dask``) with the unsliced plan.

>>> r = BenchReport("ij,jk->ik", {"i": 2, "j": 2, "k": 2},
...                 [PathResult("greedy", 16, 4, 1e-4, 2e-6), PathResult("naive", 16)])
>>> r.fastest, r.as_dict()["results"][1]["run_seconds"]
('greedy', None)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .search import BUDGET_S

__all__ = ["BenchReport", "PathResult", "SlicedReport", "SlicedResult"]


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
        """The fewest FLOPs of any row (None when no row has a path)."""
        flops = [r.flops for r in self.results if r.flops is not None]
        return min(flops) if flops else None

    @property
    def best_seconds(self) -> float | None:
        """The smallest measured time of any row (None when nothing was run)."""
        times = [r.run_seconds for r in self.results if r.run_seconds is not None]
        return min(times) if times else None

    def result(self, optimizer: str) -> PathResult:
        """The row of ``optimizer``."""
        for r in self.results:
            if r.optimizer == optimizer:
                return r
        raise KeyError(optimizer)

    def flops_ratio(self, row: PathResult) -> float | None:
        """``row``'s FLOPs over the fewest (None when either is unknown)."""
        best = self.best_flops
        if row.flops is None or best is None:
            return None
        return row.flops / best if best else 1.0

    def time_ratio(self, row: PathResult) -> float | None:
        """``row``'s measured time over the fastest (None when either is unknown)."""
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
        """Two lines: the expression and its sizes, then how it was timed."""
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


@dataclass
class SlicedResult:
    """One plan under a memory limit: its slicing, costs and times, or why it was skipped.

    ``sliced`` describes the cut indices (``"d 784/196"``: size 784 in
    chunks of 196); ``slices`` is 1 for a plan that fits unsliced.
    ``unsliced_flops`` are the same path's FLOPs unsliced; ``max_rel_diff``
    (the largest difference over the largest magnitude) compares the result
    with the unsliced plan's, when that could run.
    """

    optimizer: str
    flops: int | None = None
    unsliced_flops: int | None = None
    slices: int | None = None
    sliced: str | None = None
    largest_intermediate: int | None = None
    plan_seconds: float | None = None
    run_seconds: float | None = None
    max_rel_diff: float | None = None
    skipped: str | None = None
    note: str | None = None

    @property
    def overhead(self) -> float | None:
        """Sliced FLOPs over the same path's unsliced FLOPs."""
        if self.flops is None or not self.unsliced_flops:
            return None
        return self.flops / self.unsliced_flops

    def as_dict(self) -> dict[str, Any]:
        """The row as ``indexnet bench --memory-limit ... --json`` prints it."""
        return {
            "optimizer": self.optimizer, "flops": self.flops,
            "unsliced_flops": self.unsliced_flops, "overhead": self.overhead,
            "slices": self.slices, "sliced": self.sliced,
            "largest_intermediate": self.largest_intermediate,
            "plan_seconds": self.plan_seconds, "run_seconds": self.run_seconds,
            "max_rel_diff": self.max_rel_diff, "skipped": self.skipped, "note": self.note,
        }


@dataclass
class SlicedReport:
    """Plans of one expression sliced to fit ``memory_limit``, and the unsliced plan.

    ``reference`` is the unsliced plan's row (its run, when it fits in
    memory, is what the sliced results are checked against); ``where`` says
    where the slices ran (``"locally"`` or the Dask scheduler's address).

    >>> r = SlicedReport("ij,jk->ik", {"i": 2, "j": 8, "k": 2}, 4, "locally",
    ...                  SlicedResult("unsliced", 64, None, 1, None, 4),
    ...                  [SlicedResult("auto", 64, 64, 2, "j 8/4", 4, 0.001, 2e-5, 0.0)])
    >>> for line in r.table().splitlines()[3:]:
    ...     print(line)
    optimizer  FLOPs  overhead  slices  sliced  largest  plan ms  run ms  max rel. diff
    unsliced      64         -       1  -             4        -       -              -
    auto          64     1.00x       2  j 8/4         4    1.000   0.020              0
    """

    expression: str
    sizes: dict[str, int]
    memory_limit: int
    where: str
    reference: SlicedResult
    results: list[SlicedResult]
    dtype: str = "float64"
    repeats: int = 7
    budget: float = BUDGET_S
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """One JSON object: expression, sizes, memory_limit, where, unsliced, results."""
        return {
            "expression": self.expression, "sizes": dict(self.sizes),
            "memory_limit": self.memory_limit, "where": self.where,
            "unsliced": self.reference.as_dict(),
            "results": [r.as_dict() for r in self.results], "notes": list(self.notes),
        }

    def table(self) -> str:
        """A plain-text table: the unsliced plan, then each sliced plan."""
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        head = [
            f"{self.expression}  ({sizes})",
            f"memory_limit {self.memory_limit:,} elements, slices run {self.where}; "
            f"{self.dtype}, median of up to {self.repeats} runs, budget {self.budget:g} s",
        ]
        headers = ["optimizer", "FLOPs", "overhead", "slices", "sliced", "largest", "plan ms",
                   "run ms", "max rel. diff"]
        rows = []
        for r in [self.reference, *self.results]:
            cells = [
                r.optimizer, _num(r.flops), _ratio(r.overhead),
                f"{r.slices:,}" if r.slices is not None else "-", r.sliced or "-",
                f"{r.largest_intermediate:,}" if r.largest_intermediate is not None else "-",
                f"{r.plan_seconds * 1e3:.3f}" if r.plan_seconds is not None else "-",
                _ms(r.run_seconds),
                f"{r.max_rel_diff:.3g}" if r.max_rel_diff is not None else "-",
            ]
            if r.skipped:
                cells.append(f"skipped: {r.skipped}")
            rows.append(cells)
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

        def line(cells: list[str]) -> str:
            parts = [cells[0].ljust(widths[0])]
            parts += [c.ljust(w) if i == 3 else c.rjust(w)
                      for i, (c, w) in enumerate(zip(cells[1:9], widths[1:]))]
            parts += cells[9:]
            return "  ".join(parts).rstrip()

        out = [*head, "", line(headers), *(line(row) for row in rows)]
        out += [f"note: {r.optimizer}: {r.note}" for r in self.results if r.note]
        out += [f"note: {n}" for n in self.notes]
        return "\n".join(out)


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
