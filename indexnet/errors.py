"""The error hierarchy: every error indexnet raises derives from IndexnetError.

Each concrete error also derives from the built-in exception a caller would
expect (``ValueError``, ``TypeError``, ``OSError``), as Hypothesis and einops
do, so ``except ValueError`` keeps working. Errors of the index language
(:class:`ProgramError` and its subclasses) carry ``line`` and ``column``;
``str(err)`` is the position, the message, then the offending line with a
caret under the fault (:func:`caret_line`, the one caret renderer).

>>> try:
...     raise SizeMismatchError("index 'd' has size 3 in operand 0 but 4 in operand 1")
... except IndexnetError as err:
...     print(type(err).__name__)
SizeMismatchError
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

__all__ = [
    "AllocationError",
    "ArrayLibraryError",
    "CheckpointError",
    "ClusterError",
    "DataError",
    "DivergenceError",
    "FormulaSyntaxError",
    "GradcheckError",
    "IndexnetError",
    "InternalError",
    "InvalidArgumentError",
    "MemoryLimitError",
    "MissingExtraError",
    "NonFiniteError",
    "NotSupportedError",
    "OperandCountError",
    "ProgramError",
    "ProgramSizeError",
    "ProgramSyntaxError",
    "SizeMismatchError",
    "VarianceError",
    "caret_line",
    "from_caller",
    "internal_errors",
    "raise_internal",
    "source_line",
]


class IndexnetError(Exception):
    """Base class of every error raised by indexnet."""


class InternalError(IndexnetError, RuntimeError):
    """A fault inside indexnet itself: an unexpected exception, wrapped and chained.

    The message says "internal error, please report" and what was being done;
    ``__cause__`` is the original exception.
    """


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

    >>> err = ProgramSyntaxError("one index after ^; write x^{nd} for two",
    ...                          line=1, column=8, source="a = x^nd")
    >>> print(err)
    line 1, column 8: one index after ^; write x^{nd} for two
      a = x^nd
             ^
    >>> (err.line, err.column, isinstance(err, ValueError))
    (1, 8, True)
    """

    def __init__(self, message: str, *, line: int = 0, column: int = 0, source: str = "") -> None:
        self.message = message
        self.line = line
        self.column = column
        self.text = source_line(source, line) if line else ""
        if line:
            head = f"line {line}, column {column}: {message}"
            if self.text:
                head += "\n" + caret_line(self.text, max(column - 1, 0))
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


F = TypeVar("F", bound=Callable[..., Any])


def internal_errors(doing: str) -> Callable[[F], F]:
    """Turn an unexpected exception of a public entry point into an :class:`InternalError`.

    indexnet's own errors, ``MemoryError`` and exceptions raised by a caller's
    own function (marked with :func:`from_caller`) pass through unchanged;
    anything else is a defect of indexnet, reported as such with ``doing`` as
    the context and chained from the original.

    >>> @internal_errors("adding")
    ... def add(a, b):
    ...     return a + b
    >>> add(1, None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.InternalError: internal error, please report: adding: TypeError: ...
    """

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except Exception as err:
                raise_internal(err, doing)

        return guarded  # type: ignore[return-value]

    return wrap


def raise_internal(err: Exception, doing: str) -> NoReturn:
    """Raise ``err`` as :func:`internal_errors` does: an :class:`InternalError` chained from it.

    ``err`` itself where it passes through unchanged: indexnet's own errors,
    ``MemoryError`` and the caller's own exceptions. For the fast paths that
    cannot afford the decorator's extra call; call it in their ``except``.

    >>> try:
    ...     raise KeyError("x")
    ... except Exception as err:
    ...     raise_internal(err, "adding")
    Traceback (most recent call last):
    ...
    indexnet.errors.InternalError: internal error, please report: adding: KeyError: 'x'
    """
    if isinstance(err, (IndexnetError, MemoryError)) or getattr(err, _FROM_CALLER, False):
        raise err
    raise InternalError(f"internal error, please report: {doing}: {type(err).__name__}: "
                        f"{err}") from err


_FROM_CALLER = "_indexnet_from_caller"


def from_caller(err: BaseException) -> BaseException:
    """Mark ``err`` as raised by the caller's own code (it then passes through unwrapped)."""
    with contextlib.suppress(AttributeError):  # exceptions with __slots__ stay unmarked
        setattr(err, _FROM_CALLER, True)
    return err


class AllocationError(IndexnetError, MemoryError):
    """An array would not fit in memory; refused before any of it is allocated.

    ``tensor`` names the array, ``shape`` is its shape, ``nbytes`` the bytes it
    needs and ``limit`` the bytes available (the machine's memory).
    """

    def __init__(self, message: str, *, tensor: str = "", shape: tuple[int, ...] = (),
                 nbytes: int = 0, limit: int = 0) -> None:
        self.tensor = tensor
        self.shape = shape
        self.nbytes = nbytes
        self.limit = limit
        super().__init__(message)


class DivergenceError(IndexnetError, ArithmeticError):
    """Training diverged with finite numbers: the loss far above its start, or chance accuracy.

    ``epoch`` is the epoch that stopped training, ``best_epoch`` the epoch whose
    weights were kept (0: the starting weights).
    """

    def __init__(self, message: str, *, epoch: int = 0, best_epoch: int = 0) -> None:
        self.epoch = epoch
        self.best_epoch = best_epoch
        super().__init__(message)


class ArrayLibraryError(InvalidArgumentError):
    """Arrays of two libraries (or two devices) in one call, or a library indexnet cannot use.

    ``libraries`` names what was found, e.g. ``("numpy", "torch")``; the
    message names both arrays and both libraries.

    >>> err = ArrayLibraryError("x is torch but W is numpy", libraries=("torch", "numpy"))
    >>> isinstance(err, ValueError), err.libraries
    (True, ('torch', 'numpy'))
    """

    def __init__(self, message: str, *, libraries: tuple[str, ...] = ()) -> None:
        self.libraries = libraries
        super().__init__(message)


class MissingExtraError(InvalidArgumentError, ImportError):
    """An optional package that the call needs is not installed; the message says how to add it.

    ``package`` names it.

    >>> err = MissingExtraError("needs cotengra", package="cotengra")
    >>> isinstance(err, ValueError), isinstance(err, ImportError), err.package
    (True, True, 'cotengra')
    """

    def __init__(self, message: str, *, package: str = "") -> None:
        self.package = package
        super().__init__(message)


class ClusterError(IndexnetError, ConnectionError):
    """A Dask scheduler cannot be reached, or the cluster failed to run the contraction.

    ``address`` is the scheduler's address.

    >>> err = ClusterError("cannot reach tcp://10.0.0.1:8786", address="tcp://10.0.0.1:8786")
    >>> isinstance(err, OSError), err.address
    (True, 'tcp://10.0.0.1:8786')
    """

    def __init__(self, message: str, *, address: str = "") -> None:
        self.address = address
        super().__init__(message)
