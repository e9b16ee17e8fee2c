"""Argument types shared by the subcommands: checked at parse time, one-line errors.

>>> non_negative_int("3")
3
>>> non_negative_int("-1")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: expected an integer >= 0, got '-1'
"""

from __future__ import annotations

import argparse

__all__ = ["non_negative_int", "positive_int"]


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
