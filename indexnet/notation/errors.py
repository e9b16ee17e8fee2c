"""Errors of the index language: every one carries ``line`` and ``column``.

They derive from the engine's own classes (:mod:`indexnet.errors`), so
``except IndexnetError`` and ``except ValueError`` catch them. ``str(err)``
is the position, the message, then the offending line with a caret under the
fault; ``err.message`` is the bare message.

>>> err = ProgramSyntaxError("one index after ^; write x^{nd} for two",
...                          line=1, column=8, source="a = x^nd")
>>> print(err)
line 1, column 8: one index after ^; write x^{nd} for two
  a = x^nd
         ^
>>> (err.line, err.column, isinstance(err, ValueError))
(1, 8, True)
"""

from __future__ import annotations

from typing import Any

from ..errors import FormulaSyntaxError, IndexnetError, SizeMismatchError

__all__ = [
    "NotSupportedError",
    "ProgramError",
    "ProgramSizeError",
    "ProgramSyntaxError",
    "VarianceError",
    "source_line",
]


def source_line(source: str, line: int) -> str:
    """The 1-based ``line`` of ``source`` ('' when out of range).

    >>> source_line("a\\nbc", 2)
    'bc'
    """
    lines = source.split("\n")
    return lines[line - 1] if 1 <= line <= len(lines) else ""


class ProgramError(IndexnetError, ValueError):
    """A program cannot be read or does not make sense: names, scopes, sizes.

    Attributes: ``message``, ``line`` and ``column`` (1-based; 0 when the
    fault has no place in the text), ``text`` (the offending line).
    """

    def __init__(self, message: str, *, line: int = 0, column: int = 0, source: str = "") -> None:
        self.message = message
        self.line = line
        self.column = column
        self.text = source_line(source, line) if line else ""
        if line:
            head = f"line {line}, column {column}: {message}"
            if self.text:
                pad = " " * max(column - 1, 0)
                head += f"\n  {self.text}\n  {pad}^"
        else:
            head = message
        ValueError.__init__(self, head)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (_rebuild, (type(self), self.message, self.line, self.column, self.text))


def _rebuild(cls: type[ProgramError], message: str, line: int, column: int,
             text: str) -> ProgramError:
    source = "\n" * (line - 1) + text if line else ""
    return cls(message, line=line, column=column, source=source)


class ProgramSyntaxError(ProgramError, FormulaSyntaxError):
    """A statement cannot be parsed; the message says what was expected."""

    def __init__(self, message: str, *, line: int = 0, column: int = 0, source: str = "") -> None:
        ProgramError.__init__(self, message, line=line, column=column, source=source)
        self.source = source
        self.position = _offset(source, line, column)


def _offset(source: str, line: int, column: int) -> int | None:
    if not line:
        return None
    lines = source.split("\n")
    return sum(len(text) + 1 for text in lines[: line - 1]) + max(column - 1, 0)


class ProgramSizeError(ProgramError, SizeMismatchError):
    """An index gets two sizes, or an array does not fit its declaration."""


class VarianceError(ProgramError):
    """A variance warning raised as an error (``strict=True``, ``--strict``)."""


class NotSupportedError(ProgramError):
    """Read correctly but not computable yet (derivative atoms ``dL/dX``)."""
