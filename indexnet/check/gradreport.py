"""What :func:`~indexnet.check.gradcheck.gradcheck` reports: a row per tensor, and the table.

A :class:`TensorCheck` is the outcome for one tensor (or, in directional
mode, for the directions over all tensors jointly, the row named
:data:`JOINT`); a :class:`GradcheckReport` holds them, and prints them as a
table with the analytic and numeric values side by side on failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["JOINT", "GradcheckReport", "TensorCheck", "index_text"]

#: Name of the row that reports the directions taken over all tensors jointly.
JOINT = "(all jointly)"


@dataclass(frozen=True)
class TensorCheck:
    """The outcome of the check for one tensor (or for all tensors jointly).

    ``worst_index`` is the entry (a tuple, in ``"full"`` mode) or the direction
    number (an int, in ``"directional"`` mode) with the largest relative error
    or, when something was not finite, the first non-finite one; ``analytic``
    and ``numeric`` are the two values compared there. ``checks`` counts the
    comparisons made (0 for an empty tensor, whose ``worst_index`` is None).

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


@dataclass(frozen=True)
class GradcheckReport:
    """Everything :func:`gradcheck` found: one :class:`TensorCheck` per tensor.

    ``ok`` is true iff ``f(params)`` is finite and every entry (and ``joint``,
    the check along directions over all tensors at once, present in
    ``"directional"`` mode with more than one tensor) passes. ``bool(report)``
    is ``report.ok``; ``str(report)`` is a table with one row per tensor,
    showing for a failure the analytic and numeric values side by side.

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

    def __bool__(self) -> bool:
        return self.ok

    @property
    def failures(self) -> list[TensorCheck]:
        """The failing rows: tensors first, then the joint check if it failed."""
        rows = [*self.entries, *([self.joint] if self.joint is not None else [])]
        return [row for row in rows if not row.ok]

    def __str__(self) -> str:
        how = f"{self.directions} directions, " if self.mode == "directional" else ""
        lines = [
            f"gradcheck ({self.mode}, {how}eps={self.eps:g}, rtol={self.rtol:g}, "
            f"atol={self.atol:g}): {'ok' if self.ok else 'FAIL'}",
            f"f(params) = {self.value!r}",
            *self.messages,
        ]
        rows = [*self.entries, *([self.joint] if self.joint is not None else [])]
        header = ("tensor", "shape", "max rel error", "status", "worst", "analytic", "numeric")
        table = [header]
        for row in rows:
            failed = not row.ok
            table.append(
                (
                    row.name,
                    str(row.shape),
                    f"{row.max_rel_error:.3e}",
                    "ok" if row.ok else "FAIL",
                    index_text(row.worst_index) if failed else "",
                    f"{row.analytic:.10e}" if failed else "",
                    f"{row.numeric:.10e}" if failed else "",
                )
            )
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        for r in table:
            cells = (cell.ljust(w) for cell, w in zip(r, widths, strict=True))
            lines.append("  ".join(cells).rstrip())
        lines.extend(f"{row.name}: {row.message}" for row in rows if row.message)
        return "\n".join(lines)


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
