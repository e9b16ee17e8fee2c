"""An independent oracle for the index language: a per-element loop interpreter of the IR.

It reads the lowered statements (``indexnet.ir`` nodes, plain data) and
computes every defined tensor one entry at a time: for each assignment of the
target's letters (``itertools.product``), each product term sums over its
``summed`` letters, multiplying coefficient, constants and factors as Python
floats. Nothing of indexnet's evaluator, einsum path, sizing or function
table is used: the built-in functions are written out again here, and a
derivative atom ``dL/dX`` is computed by central finite differences of this
same interpreter. It is slow (sizes of at most 3 per index are the intent)
and meant only as the reference of the property tests.

>>> from indexnet import parse
>>> import numpy as np
>>> p = parse("input x^n_d\\nparam w^d\\nz^n = tanh(x^n_d w^d)\\nL = sum_n z^n")
>>> x, w = np.ones((2, 3)), np.array([0.1, 0.2, 0.3])
>>> out = Oracle(p, {"x": x, "w": w}, {"n": 2, "d": 3}).run()
>>> bool(abs(out["L"].item() - 2 * np.tanh(0.6)) < 1e-12)
True
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from indexnet.ir import nodes as ir

__all__ = ["KINKED", "Oracle", "OracleError", "unary"]

#: Functions with a kink (not differentiable at 0): the oracle records how close
#: their arguments come to it, so that tests can set such draws aside.
KINKED = frozenset({"relu", "abs"})

Env = dict[str, int]


class OracleError(Exception):
    """The oracle cannot give the IR a meaning (an inconsistency in the IR)."""


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


def unary(name: str, primes: int, x: float) -> float:
    """A built-in elementwise function (or its first or second derivative) at ``x``.

    >>> unary("sigmoid", 1, 0.0), unary("square", 2, 5.0), unary("log", 1, 4.0)
    (0.25, 2.0, 0.25)
    """
    if name == "sigmoid":
        s = _sigmoid(x)
        return (s, s * (1 - s), s * (1 - s) * (1 - 2 * s))[primes]
    if name == "softplus":
        s = _sigmoid(x)
        return (max(x, 0.0) + math.log1p(math.exp(-abs(x))), s, s * (1 - s))[primes]
    if name == "logsigmoid":
        s = _sigmoid(x)
        return (min(x, 0.0) - math.log1p(math.exp(-abs(x))), 1 - s, -s * (1 - s))[primes]
    if name == "tanh":
        t = math.tanh(x)
        return (t, 1 - t * t, -2 * t * (1 - t * t))[primes]
    if name == "exp":
        return math.exp(x)
    if name == "log":
        if primes == 0:
            return math.log(x)  # raises ValueError for x <= 0
        return 1 / x if primes == 1 else -1 / (x * x)
    if name == "sqrt":
        if primes == 0:
            return math.sqrt(x)
        return 0.5 / math.sqrt(x) if primes == 1 else -0.25 * x ** -1.5
    if name == "relu":
        return (max(x, 0.0), 1.0 if x > 0 else 0.0, 0.0)[primes]
    if name == "abs":
        return (abs(x), _sign(x), 0.0)[primes]
    if name == "square":
        return (x * x, 2 * x, 2.0)[primes]
    if name == "identity":
        return (x, 1.0, 0.0)[primes]
    raise OracleError(f"the oracle knows no function {name}{chr(39) * primes}")


class Oracle:
    """Evaluate a lowered program entry by entry.

    * ``module``: an ``ir.Module`` (a :class:`~indexnet.program.Program`);
    * ``arrays``: every input and param by key;
    * ``sizes``: the size of every index letter the program uses;
    * ``step``: the finite-difference step for ``dL/dX`` atoms.

    After :meth:`run`, ``kink`` holds the smallest |argument| seen by a
    function in :data:`KINKED` (``inf`` when none was called).
    """

    def __init__(self, module: Any, arrays: Mapping[str, Any], sizes: Mapping[str, int],
                 step: float = 1e-5) -> None:
        self.statements = tuple(module.statements)
        self.arrays = {k: np.asarray(v, dtype=float) for k, v in arrays.items()}
        self.sizes = dict(sizes)
        self.step = step
        self.consts = {s.name: s.value for s in self.statements if isinstance(s, ir.ConstDecl)}
        self.acts = {s.key: s for s in self.statements if isinstance(s, ir.ActDecl)}
        self.kink = math.inf
        self._derivatives: dict[str, np.ndarray] = {}
        self._values: dict[str, np.ndarray] = {}

    # -- programs ------------------------------------------------------------------------

    def run(self, overrides: Mapping[str, np.ndarray] | None = None,
            stop_after: str | None = None) -> dict[str, np.ndarray]:
        """Every defined tensor (and ``dL/dX`` of a derived program) by key.

        ``overrides`` replaces the value of an input or a defined tensor (its
        equation is then skipped); the run ends after ``stop_after`` is defined.
        """
        overrides = dict(overrides or {})
        saved = self._values
        self._values = {**self.arrays, **{k: v for k, v in overrides.items()
                                          if k in self.arrays}}
        out: dict[str, np.ndarray] = {}
        try:
            for stmt in self.statements:
                if isinstance(stmt, ir.Equation):
                    key, target = stmt.target.key, stmt.target
                elif isinstance(stmt, ir.Derivation):
                    key, target = stmt.key, stmt.wrt
                else:
                    continue
                value = overrides.get(key)
                if value is None:
                    value = self._tensor(target.subscripts, stmt.rhs)
                self._values[key] = out[key] = value
                if key == stop_after:
                    break
        finally:
            self._values = saved
        return out

    def _tensor(self, letters: str, rhs: ir.Sum) -> np.ndarray:
        if len(set(letters)) != len(letters):
            raise OracleError(f"a left-hand side repeats a letter: {letters}")
        shape = tuple(self._size(c) for c in letters)
        out = np.empty(shape)
        for at in itertools.product(*(range(n) for n in shape)):
            out[at] = self._sum(rhs, dict(zip(letters, at)))
        return out

    def _size(self, letter: str) -> int:
        try:
            return self.sizes[letter]
        except KeyError:
            raise OracleError(f"no size for index {letter!r}") from None

    # -- expressions ---------------------------------------------------------------------

    def _sum(self, expr: ir.Sum, env: Env) -> float:
        return sum(self._product(term, env) for term in expr.terms)

    def _product(self, p: ir.Product, env: Env) -> float:
        scale = float(p.coefficient)
        for name, power in p.consts:
            scale *= self._const(name) ** float(power)
        total = 0.0
        summed = p.summed
        for at in itertools.product(*(range(self._size(c)) for c in summed)):
            inner = {**env, **dict(zip(summed, at))} if summed else env
            value = 1.0
            for factor in p.factors:
                value *= self._factor(factor, inner)
            total += value
        return scale * total

    def _const(self, name: str) -> float:
        letter = ir.size_letter(name)
        if letter is not None:
            return float(self._size(letter))
        if name not in self.consts:
            raise OracleError(f"unknown constant {name!r}")
        return float(self.consts[name])

    def _factor(self, f: ir.Factor, env: Env) -> float:
        if isinstance(f, ir.Ref):
            return self._entry(self._values, f.key, f.subscripts, env)
        if isinstance(f, ir.Eye):
            return 1.0 if len({env[c] for c in f.subscripts}) <= 1 else 0.0
        if isinstance(f, ir.Call):
            return self._call(f, env)
        if isinstance(f, ir.Group):
            return self._sum(f.sum, env)
        if isinstance(f, ir.Power):
            return self._power(self._factor(f.base, env), f.exponent)
        if isinstance(f, ir.Inverse):
            return 1.0 / self._factor(f.base, env)
        if isinstance(f, ir.DerivRef):
            key = ir.deriv_key(f.of, f.wrt.key)
            if key not in self._derivatives:
                self._derivatives[key] = self.derivative(f.of, f.wrt.key)
            return self._entry(self._derivatives, key, f.wrt.subscripts, env)
        raise OracleError(f"unknown factor {f!r}")

    @staticmethod
    def _power(base: float, exponent: Fraction) -> float:
        if exponent.denominator == 1:
            return base ** int(exponent)
        if base <= 0:
            raise ValueError(f"{base} ** {exponent}: a fractional power of a non-positive number")
        return base ** float(exponent)

    @staticmethod
    def _entry(values: Mapping[str, np.ndarray], key: str, letters: str, env: Env) -> float:
        try:
            array = values[key]
        except KeyError:
            raise OracleError(f"no value for {key!r}") from None
        if array.ndim != len(letters):
            raise OracleError(f"{key!r} has {array.ndim} axes but is read with {letters!r}")
        return float(array[tuple(env[c] for c in letters)])

    def _call(self, f: ir.Call, env: Env) -> float:
        name, primes, index = f.function, f.primes, f.index
        act = self.acts.get(ir.tensor_key(f.function, f.label)) or self.acts.get(f.function)
        if act is not None:
            name, primes, index = act.function, act.primes + f.primes, index or act.index
        if name == "softmax":
            if primes or index is None:
                raise OracleError("softmax takes an index and has no elementwise derivative")
            return self._softmax(f.args[0], index, env)
        if name == "loss":
            y, p = (self._sum(a, env) for a in f.args)
            return -y * math.log(p) if primes == 0 else -y / p
        if len(f.args) != 1:
            raise OracleError(f"{name} takes one argument, not {len(f.args)}")
        x = self._sum(f.args[0], env)
        if name in KINKED:
            self.kink = min(self.kink, abs(x))
        return unary(name, primes, x)

    def _softmax(self, arg: ir.Sum, index: str, env: Env) -> float:
        values = [self._sum(arg, {**env, index: k}) for k in range(self._size(index))]
        top = max(values)
        return math.exp(values[env[index]] - top) / sum(math.exp(v - top) for v in values)

    # -- derivatives ---------------------------------------------------------------------

    def derivative(self, of: str, key: str) -> np.ndarray:
        """``d of / d key`` by central differences, entry by entry, in ``key``'s layout."""
        base = self.arrays.get(key)
        if base is None:
            base = self.run(stop_after=key)[key]
        grad = np.empty(base.shape)
        for at in itertools.product(*(range(n) for n in base.shape)):
            h = self.step * max(1.0, abs(float(base[at])))
            values = []
            for sign in (1, -1):
                moved = base.copy()
                moved[at] += sign * h
                values.append(float(self.run({key: moved}, stop_after=of)[of]))
            grad[at] = (values[0] - values[1]) / (2 * h)
        return grad
