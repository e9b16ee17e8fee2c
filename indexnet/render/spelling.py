"""The spelling in force: how the program being printed writes its tensors.

The document form writes most tensors with their leading indices before the
parenthesis, ``^n(x_ℓ)_d``, and a program's weights with every index after
it, ``(w_ℓ)_h^d``, as the seed does (:func:`post_scripted`). Pieces printed
without their program (a claim in the check table, a lint, a step of
``derive --steps``) take that fact from the program in force
(:func:`spelling`), a context variable, else from no program.

>>> from indexnet.program import parse
>>> program = parse("input x^n_d\\nparam W^d_h\\na^n_h = x^n_d W^d_h")
>>> sorted(post_scripted(program)), in_force().params
(['W'], frozenset())
>>> with spelling(program):
...     sorted(in_force().params)
['W']
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from .. import ir

__all__ = [
    "Spelling",
    "in_force",
    "post_scripted",
    "spelling",
    "written_form",
]


@dataclass(frozen=True)
class Spelling:
    """How a program writes its tensors: which are post-scripted, and in which form.

    ``params`` are the tensors written with every index after the parenthesis
    (:func:`post_scripted`); ``form`` is ``document`` when the program writes
    its tensors in the document form, else ``compact`` (:func:`written_form`).
    """

    params: frozenset[str] = frozenset()
    form: str = "compact"

    @classmethod
    def of(cls, program: ir.Module) -> Spelling:
        """How ``program`` writes its tensors."""
        return cls(post_scripted(program), written_form(program))


_IN_FORCE: ContextVar[Spelling | None] = ContextVar("indexnet_spelling", default=None)
_PLAIN = Spelling()


def in_force() -> Spelling:
    """The spelling of the program in force (:func:`spelling`); outside one, no program's."""
    return _IN_FORCE.get() or _PLAIN


@contextlib.contextmanager
def spelling(program: ir.Module | Spelling) -> Iterator[Spelling]:
    """Within the block, a printer handed no program spells tensors as ``program`` does.

    The check table, the lint, diagnoses and ``derive --steps`` print pieces
    of a program (a claim, a term, a reference) without the program; the
    program that is being checked, linted or derived is put in force around
    them, so that they spell each tensor as ``derive`` does.
    """
    value = program if isinstance(program, Spelling) else Spelling.of(program)
    token = _IN_FORCE.set(value)
    try:
        yield value
    finally:
        _IN_FORCE.reset(token)


def post_scripted(program: ir.Module) -> frozenset[str]:
    """Tensors the document form writes with every index after the parentheses.

    Those the program wrote that way first, and params it wrote in the compact
    form (the seed writes its weights ``(w_ℓ)_h^d``).
    """
    return frozenset(key for key, info in program.tensors.items()
                     if info.style == "post" or (info.style == "" and info.role == "param"))


def written_form(program: ir.Module) -> str:
    """``document`` when ``program`` writes a tensor in the document form, else ``compact``.

    A tensor with a layer label (``x_ℓ``) has only the document form.

    >>> from indexnet.program import parse
    >>> written_form(parse("a^n_h = x^n_d W^d_h")), written_form(parse("^n(a)_h = ^n(x)_d"))
    ('compact', 'document')
    """
    for info in program.tensors.values():
        if info.style or info.ref.label is not None:
            return "document"
    return "compact"
