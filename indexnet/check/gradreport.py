"""What :func:`~indexnet.check.gradcheck.gradcheck` reports: a row per tensor, and the table.

A :class:`TensorCheck` is the outcome for one tensor (or, in directional
mode, for the directions over all tensors jointly, the row named
:data:`JOINT`); a :class:`GradcheckReport` holds them, and prints them as a
table with the analytic and numeric values side by side on failure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..render.html import cell, table_html, verdict_cell

__all__ = [
    "JOINT",
    "GradcheckReport",
    "TensorCheck",
    "index_text",
    "kink_message",
    "noisy_message",
    "vacuous_message",
]

#: Name of the row that reports the directions taken over all tensors jointly.
JOINT = "(all jointly)"
_HEADER = ("tensor", "shape", "max rel error", "status", "worst", "analytic", "numeric")


@dataclass(frozen=True)
class TensorCheck:
    """The outcome of the check for one tensor (or for all tensors jointly).

    ``worst_index`` is the entry (a tuple, in ``"full"`` mode) or the direction
    number (an int, in ``"directional"`` mode) with the largest relative error
    or, when something was not finite, the first non-finite one; ``analytic``
    and ``numeric`` are the two values compared there. ``checks`` counts the
    comparisons made (0 for an empty tensor, whose ``worst_index`` is None and
    whose ``status`` is ``"empty"``: "0 entries checked"). ``status`` names
    what explains a failure: ``"kink"`` (not differentiable there) or
    ``"noisy"`` (rounding in ``f``); ``largest`` is the largest magnitude of
    the values compared (a check of values all within ``atol`` is vacuous).

    >>> c = TensorCheck("W", (2, 3), 0.5, False, (1, 2), 2.0, 1.0)
    >>> c.name, c.ok, c.worst_index
    ('W', False, (1, 2))
    """

    name: str
    shape: tuple[int, ...]
    max_rel_error: float
    ok: bool
    worst_index: tuple[int, ...] | int | None
    analytic: float
    numeric: float
    nonfinite: bool = False
    checks: int = 0
    message: str = ""
    status: str = ""
    largest: float = math.inf

    @property
    def label(self) -> str:
        """The status column: ok, FAIL, not differentiable, noisy f, or 0 entries checked."""
        if self.status == "empty":
            return "0 entries checked"
        if self.ok:
            return "ok"
        return {"kink": "FAIL (not differentiable)",
                "noisy": "FAIL (noisy f)"}.get(self.status, "FAIL")


@dataclass(frozen=True)
class GradcheckReport:
    """Everything :func:`gradcheck` found: one :class:`TensorCheck` per tensor.

    ``ok`` is true iff ``f(params)`` is finite and every entry (and ``joint``,
    the check along directions over all tensors at once, present in
    ``"directional"`` mode with more than one tensor) passes, and the check is
    not vacuous (``vacuous``: nothing checked, every value ~0, or a point of
    all zeros; ``messages`` says which). ``bool(report)``
    is ``report.ok``; ``str(report)`` is a table with one row per tensor,
    showing for a failure the analytic and numeric values side by side, and
    ``_repr_html_`` the same table for notebooks, each status marked pass or
    fail.

    >>> r = GradcheckReport(True, "full", [TensorCheck("x", (2,), 0.0, True, (0,), 1.0, 1.0)])
    >>> bool(r), r.failures
    (True, [])
    """

    ok: bool
    mode: str
    entries: list[TensorCheck]
    joint: TensorCheck | None = None
    value: float = 0.0
    eps: float = 1e-6
    rtol: float = 1e-5
    atol: float = 1e-8
    directions: int | None = None
    messages: list[str] = field(default_factory=list)
    vacuous: bool = False

    def __bool__(self) -> bool:
        return self.ok

    @property
    def failures(self) -> list[TensorCheck]:
        """The failing rows: tensors first, then the joint check if it failed."""
        return [row for row in self.rows if not row.ok]

    @property
    def rows(self) -> list[TensorCheck]:
        """Every row of the table: the tensors, then the joint check if there is one."""
        return [*self.entries, *([self.joint] if self.joint is not None else [])]

    def _heading(self) -> list[str]:
        """The verdict line, ``f(params)``, and the report's messages."""
        how = f"{self.directions} directions, " if self.mode == "directional" else ""
        verdict = "ok" if self.ok else ("VACUOUS" if self.vacuous else "FAIL")
        return [f"gradcheck ({self.mode}, {how}eps={self.eps:g}, rtol={self.rtol:g}, "
                f"atol={self.atol:g}): {verdict}", f"f(params) = {self.value!r}",
                *self.messages]

    def _cells(self) -> list[tuple[str, ...]]:
        """The table's rows as text, the analytic and numeric values shown for a failure."""
        out: list[tuple[str, ...]] = []
        for row in self.rows:
            failed = not row.ok
            out.append((row.name, str(row.shape),
                        f"{row.max_rel_error:.3e}" if row.checks else "-", row.label,
                        index_text(row.worst_index) if failed else "",
                        f"{row.analytic:.10e}" if failed else "",
                        f"{row.numeric:.10e}" if failed else ""))
        return out

    def __str__(self) -> str:
        lines = self._heading()
        table = [_HEADER, *self._cells()]
        widths = [max(len(r[i]) for r in table) for i in range(len(_HEADER))]
        for r in table:
            cells = (text.ljust(w) for text, w in zip(r, widths, strict=True))
            lines.append("  ".join(cells).rstrip())
        lines.extend(f"{row.name}: {row.message}" for row in self.rows if row.message)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The table for notebooks: each tensor's status marked pass or fail.

        >>> r = GradcheckReport(False, "full", [TensorCheck("W", (2,), 0.5, False, (1,), 2.0, 1.0)])
        >>> html = r._repr_html_()
        >>> html.count('class="fail"'), "2.0000000000e+00" in html
        (1, True)
        """
        rows = []
        for row, texts in zip(self.rows, self._cells()):
            status = verdict_cell(row.ok, texts[3])
            rows.append([cell(texts[0]), cell(texts[1]), cell(texts[2]), status,
                         *(cell(t, code=True) for t in texts[4:])])
        return table_html("gradcheck", _HEADER, rows, before=self._heading(), after=[
            f"{row.name}: {row.message}" for row in self.rows if row.message])


def index_text(index: tuple[int, ...] | int | None) -> str:
    """An entry as ``[1, 2]``, a direction number as ``3``, none as ``-``.

    >>> index_text((1, 2)), index_text(3), index_text(None)
    ('[1, 2]', '3', '-')
    """
    if index is None:
        return "-"
    if isinstance(index, tuple):
        return "[" + ", ".join(map(str, index)) + "]"
    return str(index)


def vacuous_message(why: str) -> str:
    """Why a check that passed proves nothing, and what to do instead.

    >>> vacuous_message("empty")
    'vacuous check: 0 entries checked (every tensor is empty)'
    """
    if why == "empty":
        return "vacuous check: 0 entries checked (every tensor is empty)"
    what = ("every analytic and numeric value is ~0 (within atol)" if why == "zero values"
            else "the point is all zeros")
    return (f"vacuous check at this point: {what}, so a missing or extra factor of the "
            "parameters would pass unseen; check at a random point, e.g. "
            "{k: rng.standard_normal(v.shape) for k, v in params.items()}")


def kink_message(at: str, right: float, left: float, analytic: float,
                 close: Callable[[Any, Any], Any]) -> str:
    """The explanation of a failure at a kink: both one-sided slopes, and the analytic value.

    >>> kink_message("index [0]", 1.0, 0.0, 1.0, lambda a, b: a == b)
    'not differentiable at index [0]: the one-sided differences are 1 (right) and 0 (left); \
the analytic value 1 is the right one-sided derivative (a valid subgradient if f is convex \
there)'
    """
    if bool(close(analytic, right)) or bool(close(analytic, left)):
        side = "right" if bool(close(analytic, right)) else "left"
        verdict = f"is the {side} one-sided derivative"
    elif min(left, right) <= analytic <= max(left, right):
        verdict = "lies between them"
    else:
        verdict = "is neither"
    return (f"not differentiable at {at}: the one-sided differences are {right:.6g} (right) "
            f"and {left:.6g} (left); the analytic value {analytic:.6g} {verdict}"
            + (" (a valid subgradient if f is convex there)" if verdict != "is neither" else ""))


def noisy_message(at: str, estimate: float, doubled: float, step: float) -> str:
    """The explanation of a failure by rounding in ``f``.

    >>> noisy_message("index [2]", 0.9, 1.2, 1e-6)  # doctest: +ELLIPSIS
    'f is noisy at index [2]: the central difference is 0.9 at step 1e-06 but 1.2 at twice ...'
    """
    return (f"f is noisy at {at}: the central difference is {estimate:.6g} at step {step:.3g} "
            f"but {doubled:.6g} at twice that step, so rounding in f (float32 arithmetic, "
            "say), not the gradient, is the likely cause of the failure; compute f in "
            "float64, or raise eps")
