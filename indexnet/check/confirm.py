"""Exact derivatives against central finite differences: the check behind check and derive.

:func:`confirm_one` holds one derivative ``d{of}/d{key}`` against directional
central differences of the program's scalar, evaluating only the equations
that depend on ``key``. :func:`confirm_derivations` does it for every
derivation of a derived program, on random inputs at the program's sizes
(its ``size`` lines, else small distinct defaults), counting a derivative
wrong only when it disagrees on two draws. ``Program.derive`` uses it so
that a wrong or unevaluable derivative is never printed without a word.

>>> from indexnet.program import parse
>>> derived = parse("input x^n_d\\nparam w^d\\nL = sum_n tanh(x^n_d w^d)").derive()
>>> confirm_derivations(derived)
[]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import ir
from ..derive.jacobian import flatten
from ..errors import IndexnetError, internal_errors
from ..evaluate.domains import random_inputs
from ..evaluate.execute import Compiled
from .context import base_module, downstream
from .gradcheck import gradcheck

__all__ = ["confirm_derivations", "confirm_jacobian", "confirm_one"]

#: Draws tried before a disagreement counts: a random point within ``eps`` of a
#: kink (relu, abs) can fool central differences once, not twice.
_DRAWS = 2


def confirm_one(program: ir.Module, env: Mapping[str, Any], sizes: Mapping[str, int], of: str,
                key: str, exact: np.ndarray) -> str:
    """Hold ``exact`` = d{of}/d{key} against central differences at ``env``; '' when it agrees.

    ``program`` is the program without derivations, ``env`` every value at
    the point (inputs, params and what the equations define).
    """
    point, grad = np.ravel(env[key]), np.ravel(exact)
    if not _depends(program, of, key):
        if np.any(grad != 0):
            return (f"the exact derivative d{of}/d{key} is not zero, but {of} does not depend "
                    f"on {key}; please report this")
        return ""
    compiled, fixed = downstream(program, {key}, env, sizes, of)
    shape = np.shape(env[key])
    if point.size == 0 or not (np.all(np.isfinite(grad)) and np.all(np.isfinite(point))
                               and np.isfinite(env[of])):
        return ""
    if grad.shape != point.shape:
        return (f"the exact derivative d{of}/d{key} has {grad.size} entries but {key} has "
                f"{point.size}; please report this")
    # central differences lose about 1e-16 |L| / eps to rounding; a unit direction
    # gives at most |grad| (Cauchy-Schwarz). One random direction suffices: a wrong
    # gradient agrees along it only if its error is orthogonal to it (probability 0)
    value = abs(float(np.asarray(env[of])))
    scalar = _scalar(compiled, fixed, key, shape, of)
    if not np.any(grad) and _rounding_only(scalar, point, env):
        return ""
    worst = 0.0
    # then in units of each entry's own size: x = s ⊙ y moves every entry by eps of
    # itself (entries of 1e-1 beside 4e56 take no one step), and dL/dy = s ⊙ dL/dx
    scale = np.where(point != 0, np.abs(point), 1.0)
    for units, eps in [*((None, e) for e in _steps(point)), (scale, 1e-6), (scale, 1e-4)]:
        f, at, along = scalar, point, grad
        if units is not None:
            f, at, along = _scaled(scalar, units), point / units, grad * units
        atol = 1e-9 * (float(np.linalg.norm(along)) + value) + 1e-300
        report = gradcheck(f, {"x": at}, {"x": along}, directions=1, eps=eps,
                           rtol=1e-5, atol=atol)
        if report.ok or report.vacuous:  # vacuous: both ~0 along the direction, they agree
            return ""
        worst = worst or max(r.max_rel_error for r in report.entries)
    if _within_noise(scalar, point, grad, _largest(fixed, point)):
        return ""
    return (f"the exact derivative d{of}/d{key} disagrees with central finite differences "
            f"(relative error {worst:.2e}); please report this")


def confirm_derivations(derived: ir.Module, sizes: Mapping[str, int] | None = None, *,
                        seed: int = 0) -> list[str]:
    """Every derivation of ``derived`` against central differences; what disagrees, as messages.

    Inputs are drawn from their declared domains at ``sizes`` (else the
    program's ``size`` lines, else small distinct defaults). A derivation
    that cannot be evaluated is a message too. A derivative counts as wrong
    only when it disagrees on every one of two draws.
    """
    base = base_module(derived)
    try:
        resolved = base.size_model.resolve({}, sizes, defaults=True)
        full = derived.size_model.resolve({}, resolved, defaults=True)
        compiled = Compiled(derived, full, "float64")
    except IndexnetError as err:
        return [f"the derived program cannot be evaluated ({_first_line(err)}); please report "
                "this"]
    wrong: dict[str, str] = {}
    for draw in range(_DRAWS):
        arrays = random_inputs(base, resolved, seed=seed + draw)
        try:
            with np.errstate(all="ignore"):
                env = {**arrays, **compiled(arrays)}
        except IndexnetError as err:
            return [f"the derived program cannot be evaluated ({_first_line(err)}); please "
                    "report this"]
        found = {}
        for d in derived.derivations:
            if d.wrt.key in env and d.of in env and (draw == 0 or d.key in wrong):
                if d.top is not None:
                    message = confirm_jacobian(flatten(base, d.of)[0], env, full, d.of,
                                               d.wrt.key, env[d.key], seed=draw)
                else:
                    message = confirm_one(base, env, full, d.of, d.wrt.key, env[d.key])
                if message:
                    found[d.key] = message
        wrong = found
        if not wrong:
            break
    return list(wrong.values())


def _steps(point: np.ndarray) -> list[float]:
    """Relative steps of central differences to try, the usual one first.

    The usual step, 1e-6 of max(1, |x|), is too coarse for a tensor whose
    entries are all far below 1 (an intermediate of size 1e-5, where L
    curves on that scale); a larger one gets a derivative out of rounding
    noise (a scalar that hardly moves). A right derivative agrees at one
    of them; a wrong one, along a random direction, at none.
    """
    largest = float(np.max(np.abs(point), initial=0.0))
    steps = [1e-6]
    if 0.0 < largest < 1.0:
        steps.append(1e-6 * largest)
    steps.append(1e-4)
    return steps


#: A derivative that derivation proved 0 agrees with central differences below this much of
#: the largest value of the program (rounding of a sum that cancels, ``Σ c³ − Σ c³``).
_ROUNDING = 1e-12


def _rounding_only(f: Callable[[dict[str, np.ndarray]], float], point: np.ndarray,
                   env: Mapping[str, Any]) -> bool:
    """Whether ``f`` moves along a random direction only as rounding would make it.

    The exact derivative is 0 everywhere (simplification proved it: a sum that
    cancels, ``loss(0, …)``); the computed scalar may still carry a residue of
    that sum's rounding (1e-16) that varies with ``point``. Its slope is no
    defect when it stays below :data:`_ROUNDING` times the largest value of
    the program; a derivative that derivation dropped wrongly is of the
    order of the values themselves.
    """
    values = [np.abs(np.asarray(v, dtype=float)) for v in env.values()
              if isinstance(v, (np.ndarray, float, int)) and np.size(v)]
    scale = max([1.0, *(float(v.max()) for v in values if np.all(np.isfinite(v)))])
    rng = np.random.default_rng(0)
    v = rng.standard_normal(point.shape)
    v /= float(np.linalg.norm(v)) or 1.0
    h = 1e-6 * max(1.0, float(np.abs(point).max()))
    with np.errstate(all="ignore"):
        slope = (f({"x": point + h * v}) - f({"x": point - h * v})) / (2 * h)
    return bool(np.isfinite(slope)) and abs(slope) <= _ROUNDING * scale


def _largest(fixed: Mapping[str, Any], point: np.ndarray) -> float:
    """The largest magnitude among the values a scalar is computed from (at least 1)."""
    values = [np.abs(np.asarray(v, dtype=float)) for v in (*fixed.values(), point)
              if isinstance(v, (np.ndarray, float, int)) and np.size(v)]
    return max([1.0, *(float(v.max()) for v in values if np.all(np.isfinite(v)))])


def _within_noise(f: Callable[[dict[str, np.ndarray]], float], point: np.ndarray,
                  grad: np.ndarray, scale: float) -> bool:
    """Whether the exact slope differs from central differences by no more than their noise.

    Central differences at steps h, 2h and 4h agree closely for a smooth
    function; where rounding decides them (L = tanh(20.5) + tanh(-18.9), a
    sum of ±1 that cancels) they scatter, or do not move at all, since a
    change below the rounding of values of size ``scale`` (about 1e-16
    times it, over the step) cannot show. A slope that close to them cannot
    be told from the truth; a wrong derivative of a smooth function is far
    outside it.
    """
    rng = np.random.default_rng(1)
    v = rng.standard_normal(point.shape)
    v /= float(np.linalg.norm(v)) or 1.0
    h = 1e-6 * max(1.0, float(np.abs(point).max()))
    slopes = []
    with np.errstate(all="ignore"):
        for k in (1, 2, 4):
            up, down = f({"x": point + k * h * v}), f({"x": point - k * h * v})
            slopes.append((up - down) / (2 * k * h))
    if not all(np.isfinite(slopes)):
        return False
    scatter = max(abs(slopes[0] - slopes[1]), abs(slopes[1] - slopes[2]))
    noise = max(3 * scatter, 10 * 2.2e-16 * scale / h)
    return bool(abs(float(grad @ v) - slopes[0]) <= noise)


def _scaled(f: Callable[[dict[str, np.ndarray]], float],
            units: np.ndarray) -> Callable[[dict[str, np.ndarray]], float]:
    """``f`` of ``x = units ⊙ y``, as a function of ``y``."""
    def g(p: dict[str, np.ndarray]) -> float:
        return f({"x": p["x"] * units})

    return g


def _depends(program: ir.Module, of: str, key: str) -> bool:
    """Whether an equation chain leads from tensor ``key`` to ``of``."""
    moved = {key}
    for eq in program.equations:
        if {r.key for r in ir.iter_refs(eq.rhs)} & moved:
            moved.add(eq.target.key)
    return of in moved


def _first_line(err: Exception) -> str:
    return str(err).split("\n")[0]


def _scalar(compiled: Compiled, fixed: Mapping[str, Any], key: str, shape: tuple[int, ...],
            of: str) -> Callable[[dict[str, np.ndarray]], float]:
    """``of`` as a function of ``key`` alone (flat, as ``p["x"]``), for :func:`gradcheck`.

    It is indexnet's own code, not a caller's: an unexpected exception in it
    is an :class:`~indexnet.errors.InternalError`, which gradcheck passes on.
    """

    @internal_errors("confirming an exact derivative by finite differences")
    def f(p: dict[str, np.ndarray]) -> float:
        env = {**fixed, key: p["x"].reshape(shape)}
        with np.errstate(all="ignore"):
            return float(compiled(env)[of])

    return f


def confirm_jacobian(flat: ir.Module, env: Mapping[str, Any], sizes: Mapping[str, int], of: str,
                     key: str, exact: np.ndarray, *, seed: int = 0) -> str:
    """Hold the Jacobian ``exact`` = d{of}/d{key} against central differences; '' when it agrees.

    ``flat`` is the program with the first derivatives that ``of`` reads
    written as equations (:func:`~indexnet.derive.jacobian.flatten`), ``env``
    every value at the point. Along two random directions v of ``key``, the
    central difference of ``of`` must equal ``J v``.
    """
    point = np.asarray(env[key], dtype=float)
    value = np.asarray(env[of], dtype=float)
    if point.size == 0 or value.size == 0:
        return ""
    if not (np.all(np.isfinite(exact)) and np.all(np.isfinite(point))
            and np.all(np.isfinite(value))):
        return ""
    compiled, fixed = downstream(flat, {key}, env, sizes, of)
    jac = np.reshape(exact, (value.size, point.size))
    rng = np.random.default_rng(seed)
    eps = 1e-6 * max(1.0, float(np.abs(point).max()))
    for _ in range(2):
        v = rng.standard_normal(point.shape)
        v /= np.linalg.norm(v)
        with np.errstate(all="ignore"):
            up = np.asarray(compiled({**fixed, key: point + eps * v})[of], dtype=float)
            down = np.asarray(compiled({**fixed, key: point - eps * v})[of], dtype=float)
        numeric = np.ravel(up - down) / (2 * eps)
        analytic = jac @ np.ravel(v)
        scale = float(np.linalg.norm(jac)) + float(np.abs(value).max()) * 1e-3 + 1e-300
        if float(np.abs(numeric - analytic).max()) > 1e-5 * scale:
            worst = float(np.abs(numeric - analytic).max()) / scale
            return (f"the exact derivative d{of}/d{key} disagrees with central finite "
                    f"differences (relative error {worst:.2e}); please report this")
    return ""
