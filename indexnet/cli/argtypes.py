"""Argument types shared by the subcommands: checked at parse time, one-line errors.

The ``type=`` functions (:func:`non_negative_int`, :func:`positive_int`,
:func:`positive_float`, :func:`positive_seconds`) raise
``argparse.ArgumentTypeError``, which argparse prints as a usage error. The
parsers of option values that a subcommand reads itself (:func:`parse_sizes`,
:func:`parse_hidden`) raise :class:`~indexnet.InvalidArgumentError`.

>>> non_negative_int("3")
3
>>> non_negative_int("-1")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: expected an integer >= 0, got '-1'
"""

from __future__ import annotations

import argparse
import math
import string

from ..errors import InvalidArgumentError

__all__ = [
    "MAX_SIZE",
    "non_negative_int",
    "parse_hidden",
    "parse_sizes",
    "positive_float",
    "positive_int",
    "positive_seconds",
]


#: The largest index size ``--sizes`` accepts: the most elements a NumPy axis can hold
#: (2**63 - 1 on 64-bit machines). Whether arrays of such sizes fit in memory is
#: checked where they would be allocated.
MAX_SIZE = 2**63 - 1

#: Integers longer than this are refused before Python converts them (its int-string
#: limit is 4300 digits); no option of the command needs more than 19.
_MAX_DIGITS = 20


def _quoted(text: str, limit: int = 40) -> str:
    """``text`` quoted, shortened to ``limit`` characters with its length when longer.

    >>> _quoted("n=" + "9" * 50)
    "'n=99999999999999999999999999999999999999...' (52 characters)"
    """
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}"[:-1] + f"...' ({len(text)} characters)"


def non_negative_int(text: str) -> int:
    """An integer >= 0 (seeds, counts that may be zero)."""
    return _integer(text, 0)


def positive_int(text: str) -> int:
    """An integer >= 1 (epochs, repeats, sizes)."""
    return _integer(text, 1)


def _integer(text: str, minimum: int) -> int:
    """``text`` as an integer in [minimum, 2**63 - 1]; else argparse's usage error.

    >>> _integer("1" * 5000, 1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer >= 1, got '111...' (5000 characters)
    """
    try:
        if len(text.strip()) > _MAX_DIGITS:
            raise ValueError(text)
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer >= {minimum}, got {_quoted(text)}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
    if value > MAX_SIZE:
        raise argparse.ArgumentTypeError(f"expected an integer >= {minimum} and at most "
                                         f"{MAX_SIZE}, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (``bench --budget``).

    >>> positive_float("0.5")
    0.5
    >>> positive_float("inf")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 'inf' must be a finite number > 0
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number > 0")
    return value


def positive_seconds(text: str) -> float:
    """A finite number of seconds > 0 (``plan --budget``).

    >>> positive_seconds("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected seconds > 0, got '0'
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def parse_sizes(text: str) -> dict[str, int]:
    """Parse ``--sizes n=256,d=784`` into a dict of index sizes.

    >>> parse_sizes("n=2, d=3")
    {'n': 2, 'd': 3}
    >>> parse_sizes("n=2,n=3")
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: bad size 'n=3': index 'n' is given twice

    A size is at most :data:`MAX_SIZE`; longer numbers are refused unread:

    >>> parse_sizes("n=" + "9" * 5000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: bad size 'n=999...' (5002 characters): ... at most ...
    """
    sizes: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or len(name) != 1 or name not in string.ascii_letters:
            raise InvalidArgumentError(
                f"bad size {_quoted(part)}: write one index letter (a-z, A-Z), '=', and a "
                "size, as in n=256"
            )
        if name in sizes:
            raise InvalidArgumentError(
                f"bad size {_quoted(part)}: index {name!r} is given twice")
        sizes[name] = _size(part, value)
    return sizes


def _size(part: str, value: str) -> int:
    """The size ``value`` of ``--sizes`` item ``part``: a whole number in [0, MAX_SIZE]."""
    if not value.isascii() or not value.isdigit():
        raise InvalidArgumentError(
            f"bad size {_quoted(part)}: {_quoted(value)} is not a whole number >= 0"
        )
    digits = value.lstrip("0")
    if len(digits) > _MAX_DIGITS or int(digits or "0") > MAX_SIZE:
        raise InvalidArgumentError(
            f"bad size {_quoted(part)}: a size is a whole number at most {MAX_SIZE} "
            f"(the most elements an array axis can hold), got a number of {len(digits)} digits"
        )
    return int(digits or "0")


def parse_hidden(text: str) -> tuple[int, ...]:
    """Parse ``--hidden``: a comma list of hidden-layer sizes, or ``none`` for no hidden layer.

    >>> parse_hidden("128"), parse_hidden("64, 32"), parse_hidden("none")
    ((128,), (64, 32), ())
    >>> parse_hidden("64,x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: bad --hidden '64,x': 'x' is not a positive integer; ...
    """
    if text.strip().lower() == "none":
        return ()
    sizes = []
    for part in text.split(","):
        part = part.strip()
        try:
            size = int(part) if len(part) <= _MAX_DIGITS else 0
        except ValueError:
            size = 0
        if size < 1:
            raise InvalidArgumentError(
                f"bad --hidden {_quoted(text)}: {_quoted(part)} is not a positive integer; "
                "write sizes such as 128 or 64,32 (or none)"
            )
        sizes.append(size)
    return tuple(sizes)
