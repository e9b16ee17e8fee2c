"""The verdicts of ``indexnet check``: one :class:`ClaimResult` per claim, a :class:`CheckReport`.

>>> r = ClaimResult(4, "dL/dw^d", "claim dL/dw^d = x^n_d", ["nd->d"], True, 0.0)
>>> print(CheckReport([r], {"n": 2, "d": 3}, 3))
line  claim    einsum  result  max rel error  diagnosis
   4  dL/dw^d  nd->d   pass    0.00e+00
1 of 1 claim holds (3 draws, sizes n=2, d=3)
>>> CheckReport([r], {"n": 2, "d": 3}, 3)._repr_html_().count('class="pass"')
1
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..render.html import cell, table_html, verdict_cell

__all__ = ["CheckReport", "ClaimResult"]

_HEADER = ("line", "claim", "einsum", "result", "max rel error", "diagnosis")


@dataclass(frozen=True)
class ClaimResult:
    """The verdict on one claim.

    ``claim`` is its left-hand side (``dL/dW^h_k``), ``statement`` the whole
    claim; ``max_rel_error`` is max |claim − exact| / max(|exact|, |claim|,
    floor) over every draw (None when it could not be evaluated), where floor
    is the noise floor of a derivative that is ~0 only by cancellation
    (:func:`~indexnet.check.context.rel_error`); ``diagnosis``
    says why a failing claim fails, or is empty.
    """

    line: int
    claim: str
    statement: str
    einsums: list[str]
    ok: bool
    max_rel_error: float | None
    diagnosis: str = ""
    status: str = "pass"

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object, valid JSON however the claim evaluated.

        A NaN or infinite ``max_rel_error`` (a claim that evaluates to NaN or
        overflows) is ``None``, and a field ``non_finite`` says what it was, as
        :func:`indexnet.cli.options.json_text` writes every non-finite number.

        >>> out = ClaimResult(4, "dL/dw", "claim dL/dw = w", [], False, float("nan")).to_json()
        >>> out["max_rel_error"], out["non_finite"]
        (None, {'max_rel_error': 'NaN'})
        """
        error = self.max_rel_error
        out: dict[str, Any] = {
            "line": self.line, "claim": self.claim, "statement": self.statement,
            "einsum": self.einsums, "ok": self.ok, "status": self.status,
            "max_rel_error": error if error is None or math.isfinite(error) else None,
            "diagnosis": self.diagnosis or None}
        if error is not None and not math.isfinite(error):
            out["non_finite"] = {"max_rel_error": "NaN" if math.isnan(error) else
                                 "Infinity" if error > 0 else "-Infinity"}
        return out


@dataclass
class CheckReport:
    """Every claim's verdict, the sizes and draws used, and any indexnet defects found."""

    results: list[ClaimResult]
    sizes: dict[str, int]
    draws: int
    defects: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every claim holds and no defect was found."""
        return not self.defects and all(r.ok for r in self.results)

    def __iter__(self) -> Iterator[ClaimResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __bool__(self) -> bool:
        return self.ok

    def to_json(self) -> list[dict[str, Any]]:
        """The ``--json`` list, one object per claim."""
        return [r.to_json() for r in self.results]

    def __str__(self) -> str:
        rows = [_HEADER]
        for r in self.results:
            err = "-" if r.max_rel_error is None else f"{r.max_rel_error:.2e}"
            rows.append((str(r.line), r.claim, "; ".join(r.einsums) or "-",
                         "pass" if r.ok else "FAIL", err, r.diagnosis))
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = ["  ".join(c.ljust(w) if i else c.rjust(w) for i, (c, w) in
                           enumerate(zip(row[:5], widths))) + "  " + row[5] for row in rows]
        lines.append(self._summary())
        lines.extend(f"INDEXNET DEFECT: {d}" for d in self.defects)
        return "\n".join(line.rstrip() for line in lines)

    def _summary(self) -> str:
        """``1 of 1 claim holds (3 draws, sizes n=2)``; ``0 of 7 claims hold (…)``."""
        held, count = sum(r.ok for r in self.results), len(self.results)
        verdict = "claim holds" if count == 1 else "claims hold"
        return (f"{held} of {count} {verdict} ({self.draws} draw{'s' if self.draws != 1 else ''}"
                f", sizes {', '.join(f'{c}={n}' for c, n in self.sizes.items())})")

    def _repr_html_(self) -> str:
        """The verdicts as an HTML table for notebooks, each row marked pass or FAIL."""
        rows = []
        for r in self.results:
            err = "-" if r.max_rel_error is None else f"{r.max_rel_error:.2e}"
            rows.append([cell(str(r.line)), cell(r.claim), cell("; ".join(r.einsums) or "-",
                                                                code=True),
                         verdict_cell(r.ok, "pass" if r.ok else "FAIL"), cell(err),
                         cell(r.diagnosis)])
        return table_html("check", _HEADER, rows, after=[
            self._summary(), *(f"INDEXNET DEFECT: {d}" for d in self.defects)])

    def json(self) -> str:
        """``to_json()`` as strict JSON text: never a bare ``NaN`` or ``Infinity``."""
        return json.dumps(self.to_json(), ensure_ascii=False, allow_nan=False)
