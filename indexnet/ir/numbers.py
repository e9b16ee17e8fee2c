"""Exact numbers as the index language writes them: ``2``, ``0.01``, ``1/2``.

INDEX-LANGUAGE.md, section 5, rule 1: rendering keeps a rational exact, so
``1/2`` stays ``1/2``, never ``0.5``. A decimal is written only where the
denominator is a power of ten (docs/index-language.md, rule 74).
"""

from __future__ import annotations

from fractions import Fraction

__all__ = ["format_number", "is_power_of_ten"]


def format_number(value: Fraction) -> str:
    """An exact number as the language writes it: ``2``, ``0.01``, ``1/2``, ``2/3``.

    A fraction whose denominator is a power of ten is written as a decimal
    (``0.01``, ``2.5``); any other as ``p/q``: ``1/2`` stays ``1/2``, never
    ``0.5`` (INDEX-LANGUAGE.md, section 5, rule 1).

    >>> format_number(Fraction(1, 100)), format_number(Fraction(-3)), format_number(Fraction(2, 3))
    ('0.01', '-3', '2/3')
    >>> format_number(Fraction(1, 2)), format_number(Fraction(5, 2)), format_number(Fraction(-1, 4))
    ('1/2', '5/2', '-1/4')
    """
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    if not is_power_of_ten(value.denominator):
        return f"{value.numerator}/{value.denominator}"
    digits = len(str(value.denominator)) - 1
    text = str(abs(value.numerator)).rjust(digits + 1, "0")
    out = f"{text[:-digits]}.{text[-digits:]}".rstrip("0").rstrip(".")
    return ("-" if value < 0 else "") + out


def is_power_of_ten(den: int) -> bool:
    """Whether ``den`` is 10, 100, 1000, …: a fraction over it is written as a decimal.

    >>> is_power_of_ten(100), is_power_of_ten(2), is_power_of_ten(1)
    (True, False, True)
    """
    return den > 0 and str(den).rstrip("0") == "1"
