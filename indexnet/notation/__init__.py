"""The index language's reader: lexer, syntax tree, parser, lowering, lint.

Text goes through :mod:`~indexnet.notation.lexer` (tokens),
:mod:`~indexnet.notation.parser` (an immutable syntax tree,
:mod:`~indexnet.notation.ast`) and :mod:`~indexnet.notation.lower` (scope
rules, names, einsum terms) to a :class:`~indexnet.program.Program`;
:mod:`~indexnet.notation.lint` reads the program for variance warnings.
Errors are in :mod:`~indexnet.notation.errors`.

>>> from indexnet.notation import parse
>>> parse("a^n_h = ^n(x)_d (w)^d_h").einsums()[0][0]
'nd,dh->nh'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (
    NotSupportedError,
    ProgramError,
    ProgramSizeError,
    ProgramSyntaxError,
    VarianceError,
)

if TYPE_CHECKING:
    from ..program import Program

__all__ = [
    "NotSupportedError",
    "ProgramError",
    "ProgramSizeError",
    "ProgramSyntaxError",
    "VarianceError",
    "parse",
]


def parse(text: str, *, strict: bool = False) -> Program:
    """Read a program of the index language (see :func:`indexnet.program.parse`)."""
    from ..program import parse as parse_program

    return parse_program(text, strict=strict)
