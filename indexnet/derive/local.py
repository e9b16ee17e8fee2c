"""The local derivative of each built-in function: one rule per function.

Reverse mode passes a cotangent through a call ``f(u)`` by multiplying it
with ``∂f/∂u``, written as terms over the call's own letters (elementwise).
:func:`local_derivative` looks the rule up by the built-in's name: first
derivatives for ``f``, second derivatives for an ``f'`` that a program
contains (the derivative of a derivative program, or ``f'`` written by hand).

>>> from indexnet.program import parse
>>> call = parse("input a^n\\nz^n = tanh'(a^n)").equations[0].rhs.terms[0].factors[0]
>>> [str(t.coef) for t in local_derivative(call, "tanh", 1, 0)]
['-2']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from fractions import Fraction

from .. import ir
from ..errors import InvalidArgumentError, NotSupportedError
from ..ir.elementwise import FUNCTIONS
from ..ir.terms import Term, as_factor

__all__ = ["local_derivative"]

#: A rule: the call ``f`` and its argument ``u`` as one factor -> the terms of ∂f/∂u.
Rule = Callable[[ir.Call, ir.Factor], list[Term]]

_FIRST: dict[str, Rule] = {}
_SECOND: dict[str, Rule] = {}


def local_derivative(f: ir.Call, name: str, primes: int, k: int) -> list[Term]:
    """The derivative of call ``f`` (built-in ``name``, ``primes``) in its argument ``k``.

    An empty list is a derivative that is zero almost everywhere.
    """
    if name == "loss":
        return _loss(f, primes, k)
    u = as_factor(f.args[0])
    if primes == 0:
        rule = _FIRST.get(name)
        return rule(f, u) if rule is not None else _prime(f, name)
    second = _SECOND.get(name) if primes == 1 else None
    if second is None:
        raise NotSupportedError(
            f"{name}{chr(39) * (primes + 1)} (the derivative of {name}{chr(39) * primes}) is not "
            "a built-in: only first derivatives of f' are known", line=f.pos[0],
            column=f.pos[1])
    return second(f, u)


def _term(f: ir.Call, coef: Fraction | int, *factors: ir.Factor) -> Term:
    """``coef · factors`` over the call's output letters."""
    return Term(Fraction(coef), (), factors, f.output)


def _builtin(f: ir.Call, name: str, primes: int) -> ir.Call:
    """The built-in ``name`` (with ``primes``) applied to ``f``'s arguments."""
    return ir.Call(name, None, primes, None, f.args, f.output, f.pos)


def _first(name: str) -> Callable[[Rule], Rule]:
    """Register the rule for ``name'``, the derivative of ``name``."""

    def register(rule: Rule) -> Rule:
        _FIRST[name] = rule
        return rule

    return register


def _second(name: str) -> Callable[[Rule], Rule]:
    """Register the rule for ``name''``, the derivative of ``name'``."""

    def register(rule: Rule) -> Rule:
        _SECOND[name] = rule
        return rule

    return register


def _loss(f: ir.Call, primes: int, k: int) -> list[Term]:
    """``loss(y, p) = −y log p``: ``∂/∂y = −log p``, ``∂/∂p = −y/p``.

    Its derivative ``loss'(y, p) = −y/p`` (in ``p``): ``∂/∂y = −1/p``,
    ``∂/∂p = y/p²``.
    """
    y, p = (as_factor(a) for a in f.args)
    if primes == 0:
        if k == 0:
            return [_term(f, -1, ir.Call("log", None, 0, None, (f.args[1],), f.args[1].output,
                                         f.pos))]
        return [_term(f, -1, y, ir.Inverse(p))]
    if k == 0:
        return [_term(f, -1, ir.Inverse(p))]
    return [_term(f, 1, y, ir.Power(p, Fraction(-2)))]


# -- first derivatives -----------------------------------------------------------------------


def _prime(f: ir.Call, name: str) -> list[Term]:
    """The derivative of ``f(u)`` (built-in ``name``) is written ``f'(u)``: one more prime."""
    if not FUNCTIONS[name].differentiable:  # pragma: no cover - softmax is handled apart
        raise InvalidArgumentError(f"{name} has no elementwise derivative")
    return [_term(f, 1, dataclasses.replace(f, primes=f.primes + 1))]


@_first("exp")
def _d_exp(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``exp'(u) = exp(u)``: the call itself."""
    return [_term(f, 1, f)]


@_first("log")
def _d_log(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``log'(u) = 1/u``."""
    return [_term(f, 1, ir.Inverse(u))]


@_first("square")
def _d_square(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``square'(u) = 2 u``."""
    return [_term(f, 2, u)]


@_first("softplus")
def _d_softplus(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``softplus'(u) = σ(u)``."""
    return [_term(f, 1, _builtin(f, "sigmoid", 0))]


@_first("identity")
def _d_identity(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``identity'(u) = 1``."""
    return [_term(f, 1)]


# -- second derivatives, for f' inside a program ---------------------------------------------


@_first("argmax")
@_first("argmin")
def _d_one_hot(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``argmax[k]`` and ``argmin[k]`` are piecewise constant: zero almost everywhere."""
    return []


@_second("relu")
@_second("abs")
@_second("identity")
def _zero(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``relu''``, ``abs''``, ``identity''``: zero almost everywhere."""
    return []


@_second("sigmoid")
def _dd_sigmoid(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``σ''(u) = σ'(u) (1 − 2 σ(u)) = σ'(u) − 2 σ'(u) σ(u)``."""
    return [_term(f, 1, f), _term(f, -2, f, _builtin(f, "sigmoid", 0))]


@_second("softplus")
def _dd_softplus(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``softplus''(u) = σ'(u)``."""
    return [_term(f, 1, _builtin(f, "sigmoid", 1))]


@_second("logsigmoid")
def _dd_logsigmoid(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``logsigmoid''(u) = −σ'(u)``."""
    return [_term(f, -1, _builtin(f, "sigmoid", 1))]


@_second("tanh")
def _dd_tanh(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``tanh''(u) = −2 tanh(u) tanh'(u)``."""
    return [_term(f, -2, _builtin(f, "tanh", 0), f)]


@_second("exp")
def _dd_exp(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``exp''(u) = exp(u)``."""
    return [_term(f, 1, _builtin(f, "exp", 0))]


@_second("log")
def _dd_log(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``log''(u) = −u⁻²``."""
    return [_term(f, -1, ir.Power(u, Fraction(-2)))]


@_second("sqrt")
def _dd_sqrt(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``sqrt''(u) = −¼ u^(−3/2)``."""
    return [_term(f, Fraction(-1, 4), ir.Power(u, Fraction(-3, 2)))]


@_second("square")
def _dd_square(f: ir.Call, u: ir.Factor) -> list[Term]:
    """``square''(u) = 2``."""
    return [_term(f, 2)]
