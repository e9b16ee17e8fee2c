"""The error hierarchy: every error indexnet raises derives from IndexnetError.

Each concrete error also derives from the built-in exception a caller would
expect (``ValueError``, ``TypeError``, ``OSError``), as Hypothesis and einops
do, so ``except ValueError`` keeps working.

>>> try:
...     raise SizeMismatchError("index 'd' has size 3 in operand 0 but 4 in operand 1")
... except IndexnetError as err:
...     print(type(err).__name__)
SizeMismatchError
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "DataError",
    "FormulaSyntaxError",
    "GradcheckError",
    "IndexnetError",
    "InvalidArgumentError",
    "MemoryLimitError",
    "NonFiniteError",
    "OperandCountError",
    "SizeMismatchError",
    "caret_line",
]


class IndexnetError(Exception):
    """Base class of every error raised by indexnet."""


class InvalidArgumentError(IndexnetError, ValueError):
    """An argument has a value the function does not accept."""


class MemoryLimitError(IndexnetError, ValueError):
    """No contraction path keeps every intermediate within ``memory_limit``.

    ``limit`` is the limit asked for and ``smallest`` the smallest largest
    intermediate (in elements) that a path can reach, so that
    ``memory_limit=err.smallest`` succeeds.
    """

    def __init__(self, message: str, limit: int, smallest: int) -> None:
        self.limit = limit
        self.smallest = smallest
        super().__init__(message)


class FormulaSyntaxError(IndexnetError, ValueError):
    """A formula (einsum string or index-language text) cannot be read.

    ``position`` is the 0-based character offset of the fault, ``source`` the
    text; ``str(err)`` shows the text with a caret under the fault.
    """

    def __init__(self, message: str, source: str = "", position: int | None = None) -> None:
        self.message = message
        self.source = source
        self.position = position
        text = message
        if position is not None and source:
            text = f"{message} (at position {position})\n{caret_line(source, position)}"
        super().__init__(text)


class OperandCountError(IndexnetError, ValueError):
    """The number of operands does not match the number of terms in a formula."""


class SizeMismatchError(IndexnetError, ValueError):
    """An index is given two different sizes, or an array has the wrong shape."""


class NonFiniteError(IndexnetError, FloatingPointError):
    """A computation produced NaN or infinity where a finite number is needed."""


class GradcheckError(IndexnetError, AssertionError):
    """Analytic and finite-difference gradients disagree; carries the report."""

    def __init__(self, report: object) -> None:
        self.report = report
        super().__init__(str(report))


class CheckpointError(IndexnetError, OSError):
    """A saved network cannot be read: truncated, wrong shapes, non-finite weights."""


class DataError(IndexnetError, OSError):
    """A dataset cannot be found or read."""


def caret_line(source: str, position: int) -> str:
    """Return ``source`` (its line holding ``position``) with a caret under it.

    >>> print(caret_line("nd,dh->nH", 8))
      nd,dh->nH
              ^
    """
    start = source.rfind("\n", 0, position) + 1
    end = source.find("\n", position)
    line = source[start : end if end != -1 else len(source)]
    return f"  {line}\n  {' ' * (position - start)}^"
