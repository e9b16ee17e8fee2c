"""Options several subcommands share (``--sizes``, ``--optimize``, ``--json``), and their reading.

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_sizes_option(parser)
>>> add_optimize_option(parser)
>>> add_json_option(parser)
>>> args = parser.parse_args(["--sizes", "n=2,d=3", "--json"])
>>> sizes_of(args), args.optimize, args.json
({'n': 2, 'd': 3}, 'auto', True)
>>> operand_shapes(["nd", "d"], sizes_of(args))
[(2, 3), (3,)]
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from ..einsum.subscripts import operand_shapes
from ..typing import OPTIMIZERS
from .argtypes import parse_sizes

__all__ = [
    "NON_FINITE",
    "add_json_option",
    "add_optimize_option",
    "add_sizes_option",
    "json_text",
    "operand_shapes",
    "sizes_of",
]

#: The field that lists, for the values printed as ``null``, what they were.
NON_FINITE = "non_finite"

SIZES_HELP = "index sizes, e.g. n=256,d=784,h=256,k=10"


def add_sizes_option(
    parser: argparse.ArgumentParser, help: str = SIZES_HELP, *, required: bool = False
) -> None:
    """Add ``--sizes SIZES`` (index sizes as ``n=256,d=784``, read by :func:`sizes_of`)."""
    parser.add_argument("--sizes", metavar="SIZES", required=required, help=help)


def add_optimize_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--optimize NAME``: the contraction path optimizer, one of ``OPTIMIZERS``."""
    parser.add_argument("--optimize", default="auto", choices=OPTIMIZERS, metavar="NAME",
                        help=f"path optimizer: {', '.join(OPTIMIZERS)} (default: auto)")


def add_json_option(parser: argparse.ArgumentParser, help: str = "print one JSON object") -> None:
    """Add ``--json``: print machine-readable output instead of text."""
    parser.add_argument("--json", action="store_true", help=help)


def sizes_of(args: argparse.Namespace) -> dict[str, int] | None:
    """The index sizes of ``--sizes``, or None when it was not given (or empty)."""
    return parse_sizes(args.sizes) if args.sizes else None


def json_text(value: Any) -> str:
    """``value`` as strict JSON: NaN and infinities become ``null``, and a field says why.

    ``json.dumps`` writes bare ``NaN`` and ``Infinity``, which no JSON parser
    reads. Here each becomes ``null``, and the object it lies in (the top
    object, or each object of a top-level list) gets a field
    :data:`NON_FINITE` mapping the value's path to what it was.

    >>> print(json_text({"tensors": {"a": {"min": float("nan"), "max": 1.0}}}))
    {"tensors": {"a": {"min": null, "max": 1.0}}, "non_finite": {"tensors.a.min": "NaN"}}
    >>> print(json_text([{"error": float("inf")}, {"error": 0.5}]))
    [{"error": null, "non_finite": {"error": "Infinity"}}, {"error": 0.5}]
    """
    if isinstance(value, list):
        return "[" + ", ".join(json_text(item) for item in value) + "]"
    notes: dict[str, str] = {}
    clean = _finite(value, "", notes)
    if notes and isinstance(clean, dict):
        clean[NON_FINITE] = notes
    elif notes:
        clean = {"value": clean, NON_FINITE: notes}
    return json.dumps(clean, ensure_ascii=False, allow_nan=False)


def _finite(value: Any, path: str, notes: dict[str, str]) -> Any:
    """``value`` with every non-finite float replaced by None, noted in ``notes`` by path."""
    if isinstance(value, float) and not math.isfinite(value):
        notes[path or "value"] = "NaN" if math.isnan(value) else (
            "Infinity" if value > 0 else "-Infinity")
        return None
    if isinstance(value, dict):
        return {k: _finite(v, f"{path}.{k}" if path else str(k), notes)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, f"{path}[{i}]", notes) for i, v in enumerate(value)]
    return value
