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
    "non_negative_int",
    "parse_hidden",
    "parse_sizes",
    "positive_float",
    "positive_int",
    "positive_seconds",
]


def non_negative_int(text: str) -> int:
    """An integer >= 0 (seeds, counts that may be zero)."""
    return _integer(text, 0)


def positive_int(text: str) -> int:
    """An integer >= 1 (epochs, repeats, sizes)."""
    return _integer(text, 1)


def _integer(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") \
            from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
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
    """
    sizes: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or len(name) != 1 or name not in string.ascii_letters:
            raise InvalidArgumentError(
                f"bad size {part!r}: write one index letter (a-z, A-Z), '=', and a size, "
                "as in n=256"
            )
        if name in sizes:
            raise InvalidArgumentError(f"bad size {part!r}: index {name!r} is given twice")
        if not value.isascii() or not value.isdigit():
            raise InvalidArgumentError(
                f"bad size {part!r}: {value!r} is not a whole number >= 0"
            )
        sizes[name] = int(value)
    return sizes


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
            size = int(part)
        except ValueError:
            size = 0
        if size < 1:
            raise InvalidArgumentError(
                f"bad --hidden {text!r}: {part!r} is not a positive integer; "
                "write sizes such as 128 or 64,32 (or none)"
            )
        sizes.append(size)
    return tuple(sizes)
