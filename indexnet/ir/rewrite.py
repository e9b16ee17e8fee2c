"""Rewriting a factor, a product or a sum node by node, through every nesting.

A factor can hold sums (a ``Group``'s, a ``Call``'s arguments) and other
factors (a ``Power``'s or ``Inverse``'s base). The walkers that replace one
kind of node everywhere (a reference, a derivative) share this one descent.

>>> from fractions import Fraction
>>> from .nodes import Ref
>>> x, y = Ref("x", None, "", "i"), Ref("y", None, "", "i")
>>> s = Sum((Product(Fraction(1), (), (Power(x, Fraction(2)),), "", "", "i"),), "i")
>>> rewrite_sum(s, lambda f: y if f == x else None).terms[0].factors[0].base.name
'y'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from .nodes import Call, Factor, Group, Inverse, Power, Product, Sum

__all__ = ["Rewrite", "rewrite_factor", "rewrite_product", "rewrite_sum"]

#: A node's replacement, or None to keep the node and rewrite inside it.
Rewrite = Callable[[Factor], "Factor | None"]


def rewrite_factor(factor: Factor, rewrite: Rewrite) -> Factor:
    """``factor`` with ``rewrite`` applied to it and, where it gives None, inside it.

    A replacement is not descended into. Inside means a ``Power``'s or
    ``Inverse``'s base, a ``Group``'s sum and a ``Call``'s arguments; any other
    factor is kept.
    """
    replaced = rewrite(factor)
    if replaced is not None:
        return replaced
    if isinstance(factor, (Power, Inverse)):
        return dataclasses.replace(factor, base=rewrite_factor(factor.base, rewrite))
    if isinstance(factor, Group):
        return dataclasses.replace(factor, sum=rewrite_sum(factor.sum, rewrite))
    if isinstance(factor, Call):
        return dataclasses.replace(factor, args=tuple(rewrite_sum(a, rewrite)
                                                      for a in factor.args))
    return factor


def rewrite_product(product: Product, rewrite: Rewrite) -> Product:
    """``product`` with each of its factors rewritten (:func:`rewrite_factor`)."""
    return dataclasses.replace(product, factors=tuple(rewrite_factor(f, rewrite)
                                                      for f in product.factors))


def rewrite_sum(expr: Sum, rewrite: Rewrite) -> Sum:
    """``expr`` with each of its products rewritten (:func:`rewrite_product`)."""
    return dataclasses.replace(expr, terms=tuple(rewrite_product(p, rewrite)
                                                 for p in expr.terms))
