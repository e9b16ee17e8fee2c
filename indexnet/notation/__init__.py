"""The index language's reader: text in, :class:`~indexnet.ir.Module` out.

Text goes through :mod:`~indexnet.notation.lexer` (tokens),
:mod:`~indexnet.notation.parser` (an immutable syntax tree,
:mod:`~indexnet.notation.ast`; the statements, over the expression grammar of
:mod:`~indexnet.notation.expressions`, the tensor references of
:mod:`~indexnet.notation.tensors` and the token cursor of
:mod:`~indexnet.notation.cursor`) and :mod:`~indexnet.notation.lower` (the
statements, over the names of :mod:`~indexnet.notation.names` and the einsum
terms and scope rules of :mod:`~indexnet.notation.terms`) to a module of the IR;
:mod:`~indexnet.notation.lint` reads it for variance warnings. Errors are in
:mod:`indexnet.errors` (:class:`~indexnet.errors.ProgramError` and its kin).
:func:`indexnet.parse` wraps the result in a :class:`~indexnet.program.Program`.

>>> read("a^n_h = ^n(x)_d (w)^d_h").einsums()[0][0]
'nd,dh->nh'
"""

from __future__ import annotations

from .. import ir
from .lower import lower
from .parser import parse_text

__all__ = ["read"]


def read(text: str) -> ir.Module:
    """Read a program of the index language into the IR (no lint, no facade)."""
    return lower(parse_text(text))
