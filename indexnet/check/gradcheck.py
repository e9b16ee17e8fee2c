"""Finite-difference gradient checking for any scalar function of named arrays.

``gradcheck(f, params, grads)`` compares analytic gradients with central
differences in float64, as autograd's ``test_util`` and torch's ``gradcheck``
do. Two modes:

* ``"full"``: one central difference per entry of every tensor,
  ``numeric[i] = (f(p + eps·e_i) - f(p - eps·e_i)) / (2·eps)``; exact
  attribution (tensor and index), ``2·N`` evaluations of ``f``.
* ``"directional"``: random unit directions ``u``, comparing
  ``(f(p + eps·u) - f(p - eps·u)) / (2·eps)`` with ``⟨grad, u⟩``; ``directions``
  of them in each tensor's own space (so a failure names its tensor) and as
  many over all tensors jointly (``(w_1·u_1, ..., w_T·u_T)`` for the
  per-tensor unit directions ``u_k`` and a random unit ``w``). The number of
  evaluations, ``1 + 2·directions·(T + 1)`` for ``T > 1`` non-empty tensors
  (``1 + 2·directions`` for one), does not depend on how many entries the
  tensors hold.

Each comparison of an analytic value ``a`` with a numeric one ``n`` passes iff
it passes ``np.isclose`` symmetrised::

    |a - n| <= atol + rtol * max(|a|, |n|)

which is the same as ``rel_error(a, n) <= rtol`` for the relative error with
an absolute floor ``atol / rtol``::

    rel_error(a, n) = |a - n| / (max(|a|, |n|) + atol / rtol)

A non-finite value (NaN or infinity) in a value of ``f``, an analytic gradient
or a numeric estimate fails the check; it never passes.

The step is relative: an entry ``x`` moves by ``eps·max(1, |x|)`` (a direction
by ``eps·max(1, max |p|)`` over its tensor), so large parameters are not
drowned in rounding. The traps of finite differences are named, not passed
or failed silently:

* a vacuous check (every analytic and numeric value ~0, i.e. within ``atol``,
  or a point of all zeros, where a missing factor of the parameters vanishes)
  is not ``ok``: the report says so and suggests a random point;
* a failing comparison at a kink (``relu`` at 0, a tie in ``max``), where the
  one-sided differences disagree and stay apart as the step doubles, is
  reported as "not differentiable at index ...", with both one-sided slopes;
* a failing comparison whose central differences at the step and twice it
  disagree is a noisy ``f`` (rounding, as in float32 arithmetic): the report
  says that precision, not the gradient, is the likely cause;
* an empty tensor's row says "0 entries checked", and a report with nothing
  to check is not ``ok``.

>>> import numpy as np
>>> f = lambda p: float(np.sum(p["x"] ** 2))
>>> x = np.array([1.0, -2.0])
>>> bool(gradcheck(f, {"x": x}, {"x": 2 * x}, mode="full"))
True
>>> bool(gradcheck(f, {"x": x}, {"x": 3 * x}))
False
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from ..errors import GradcheckError, InvalidArgumentError, internal_errors
from .gradinputs import (
    Arrays,
    GradsArgument,
    ScalarFunction,
    check_directions,
    check_seed,
    convert_grads,
    convert_params,
    evaluate,
    positive_float,
)
from .gradreport import (
    JOINT,
    GradcheckReport,
    TensorCheck,
    index_text,
    kink_message,
    noisy_message,
    vacuous_message,
)

__all__ = ["GRADCHECK_MODES", "GradcheckMode", "GradcheckReport", "TensorCheck", "gradcheck"]

GradcheckMode = Literal["full", "directional"]

#: Every mode that :func:`gradcheck` accepts.
GRADCHECK_MODES: tuple[str, ...] = ("full", "directional")


@internal_errors("checking gradients")
def gradcheck(
    f: ScalarFunction,
    params: Mapping[str, Any],
    grads: GradsArgument = None,
    *,
    mode: GradcheckMode = "directional",
    directions: int = 8,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    seed: int | None = 0,
    raise_on_failure: bool = False,
) -> GradcheckReport:
    """Compare analytic gradients of a scalar ``f`` with central differences.

    * ``f``: called with a dict of read-only float64 arrays with the keys of
      ``params``; returns a scalar (a Python number or a 0-d array).
    * ``params``: the point, name -> array-like; converted to float64 copies,
      never mutated. Must be finite (else :class:`NonFiniteError`).
    * ``grads``: the analytic gradients at ``params``, name -> array of the
      parameter's shape, or a callable taking the params dict and returning
      that mapping. Required.
    * ``mode``: ``"directional"`` (random directions; evaluations independent
      of the parameter count) or ``"full"`` (every entry).
    * ``directions``: directions per tensor, and jointly, in directional mode.
    * ``eps``: the relative step of the central differences: an entry ``x``
      moves by ``eps·max(1, |x|)``, a unit direction of tensor ``p`` by
      ``eps·max(1, max |p|)``.
    * ``rtol``, ``atol``: a comparison passes iff
      ``|a - n| <= atol + rtol * max(|a|, |n|)``, i.e. iff
      ``|a - n| / (max(|a|, |n|) + atol / rtol) <= rtol`` (the relative error
      reported as ``max_rel_error``). Non-finite values always fail.
    * ``seed``: seeds the random directions.
    * ``raise_on_failure``: raise :class:`GradcheckError` (carrying the report)
      instead of returning a failing report.

    An exception raised by ``f`` or ``grads`` passes through unchanged; any
    other unexpected exception is an :class:`~indexnet.errors.InternalError`.

    >>> import numpy as np
    >>> def f(p):
    ...     return np.sum(np.tanh(p["W"] @ p["x"]))
    >>> def grads(p):
    ...     s = 1 - np.tanh(p["W"] @ p["x"]) ** 2
    ...     return {"W": np.outer(s, p["x"]), "x": p["W"].T @ s}
    >>> W, x = np.arange(6.0).reshape(2, 3) / 10, np.array([1.0, -1.0, 0.5])
    >>> gradcheck(f, {"W": W, "x": x}, grads, mode="full").ok
    True
    >>> bad = lambda p: {**grads(p), "x": -grads(p)["x"]}
    >>> [(c.name, c.ok) for c in gradcheck(f, {"W": W, "x": x}, bad).entries]
    [('W', True), ('x', False)]
    """
    if mode not in GRADCHECK_MODES:
        raise InvalidArgumentError(
            f"mode must be one of {', '.join(map(repr, GRADCHECK_MODES))}; got {mode!r}"
        )
    n_dirs = check_directions(directions)
    check_seed(seed)
    eps = positive_float("eps", eps)
    rtol = positive_float("rtol", rtol)
    atol = positive_float("atol", atol, allow_zero=True)
    if not callable(f):
        raise InvalidArgumentError(f"f must be callable; got {type(f).__name__}")
    base = convert_params(params)
    analytic = convert_grads(grads, base)

    value = evaluate(f, base)
    messages = [] if math.isfinite(value) else [f"f(params) is not finite: {value!r}"]
    tol = _Tolerance(rtol, atol)
    joint: TensorCheck | None = None
    if mode == "full":
        entries = [_check_full(f, base, analytic, name, eps, tol, value) for name in base]
    else:
        entries, joint = _check_directional(f, base, analytic, n_dirs, eps, tol, seed, value)
    ok = not messages and all(e.ok for e in entries) and (joint is None or joint.ok)
    vacuous = ok and _vacuous(base, [*entries, *([joint] if joint else [])], atol)
    if vacuous:
        ok = False
        messages.append(vacuous_message(vacuous))
    report = GradcheckReport(
        ok=ok,
        mode=mode,
        entries=entries,
        joint=joint,
        value=value,
        eps=eps,
        rtol=rtol,
        atol=atol,
        directions=n_dirs if mode == "directional" else None,
        messages=messages,
        vacuous=bool(vacuous),
    )
    if raise_on_failure and not ok:
        raise GradcheckError(report)
    return report


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class _Tolerance:
    """The comparison of an analytic value ``a`` with a numeric one ``n``."""

    rtol: float
    atol: float

    def rel_error(self, a: np.ndarray, n: np.ndarray) -> np.ndarray:
        """``|a - n| / (max(|a|, |n|) + atol / rtol)``, 0 where ``a == n``."""
        diff = np.abs(a - n)
        scale = np.maximum(np.abs(a), np.abs(n)) + self.atol / self.rtol
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(diff == 0, 0.0, diff / np.where(scale == 0, 1.0, scale))

    def passes(self, a: np.ndarray, n: np.ndarray) -> np.ndarray:
        """``|a - n| <= atol + rtol * max(|a|, |n|)``, elementwise."""
        return np.abs(a - n) <= self.atol + self.rtol * np.maximum(np.abs(a), np.abs(n))


def _vacuous(base: Arrays, rows: list[TensorCheck], atol: float) -> str:
    """Why a passing check proves nothing ('' when it proves something).

    'empty': no entry was compared; 'zero values': every analytic and numeric
    value compared is within ``atol`` of 0; 'zero point': every parameter is 0.
    """
    checked = [row for row in rows if row.checks]
    if not checked:
        return "empty"
    if all(row.largest <= atol for row in checked):
        return "zero values"
    if all(not np.any(p) for p in base.values()):
        return "zero point"
    return ""


def _steps(p: np.ndarray, eps: float) -> np.ndarray:
    """The step of each entry of ``p``: ``eps·max(1, |x|)``."""
    return eps * np.maximum(1.0, np.abs(p.reshape(-1)))


def _check_full(
    f: ScalarFunction, base: Arrays, analytic: Arrays, name: str, eps: float, tol: _Tolerance,
    value: float,
) -> TensorCheck:
    p = base[name]
    work = p.copy()
    view = work.view()
    view.flags.writeable = False
    point = {**base, name: view}
    flat = work.reshape(-1)  # a view: work is a fresh contiguous copy
    steps = _steps(p, eps)

    def line(i: int, t: float) -> float:
        """The value of f with entry i moved by t."""
        x = flat[i]
        flat[i] = x + t
        try:
            return evaluate(f, point)
        finally:
            flat[i] = x

    plus = np.array([line(i, steps[i]) for i in range(p.size)])
    minus = np.array([line(i, -steps[i]) for i in range(p.size)])
    with np.errstate(invalid="ignore", over="ignore"):
        numeric = (plus - minus) / (2 * steps)
    grad = analytic[name].reshape(-1)

    def where(i: int) -> tuple[int, ...]:
        return tuple(int(k) for k in np.unravel_index(i, p.shape))

    def describe_f(i: int) -> str:
        for sign, values in (("+", plus), ("-", minus)):
            if not math.isfinite(values[i]):
                return f"f({name}{index_text(where(i))} {sign} eps) = {float(values[i])!r}"
        return ""

    check = _summarise(name, p.shape, grad, numeric, tol, where, describe_f, "index")
    probe = _Probe(value, plus, minus, steps, line)
    return _diagnose(check, grad, numeric, probe, tol, where, "index")


def _check_directional(
    f: ScalarFunction,
    base: Arrays,
    analytic: Arrays,
    n_dirs: int,
    eps: float,
    tol: _Tolerance,
    seed: int | None,
    value: float,
) -> tuple[list[TensorCheck], TensorCheck | None]:
    """Per-tensor checks along random unit directions, and the joint check.

    Direction ``d`` of tensor ``k`` is ``u_k = z / |z|`` for standard normal
    ``z``; joint direction ``d`` is ``(w_1·u_1, ..., w_T·u_T)`` for a random unit
    ``w`` in ``R^T``, a unit vector over all tensors that reuses the per-tensor
    draws, so each random number is drawn once. Tensor ``k`` moves by
    ``eps·max(1, max |p_k|)`` along its directions; the joint directions by
    ``eps·max(1, max |p|)``.
    """
    rng = np.random.default_rng(seed)
    names = [k for k in base if base[k].size]
    scale = {k: eps * max(1.0, float(np.max(np.abs(base[k])))) for k in names}
    moves: dict[str, list[dict[str, np.ndarray]]] = {k: [] for k in [*names, JOINT]}
    with_joint = len(names) > 1
    for _ in range(n_dirs):
        units: dict[str, np.ndarray] = {}
        for k in names:
            u = rng.standard_normal(base[k].size)
            u /= math.sqrt(float(u @ u))
            units[k] = u
            moves[k].append({k: u})
        if with_joint:
            w = rng.standard_normal(len(units))
            w /= math.sqrt(float(w @ w))
            moves[JOINT].append({k: wk * units[k] for wk, k in zip(w, units, strict=True)})
    joint_step = max((scale[k] for k in names), default=eps)
    entries = []
    for k in base:
        if k not in scale:
            entries.append(TensorCheck(k, base[k].shape, 0.0, True, None, 0.0, 0.0,
                                       status="empty", message="0 entries checked"))
            continue
        entries.append(_directional(f, base, {k: analytic[k]}, k, moves[k], scale[k], tol,
                                    value, n_dirs))
    joint = None
    if with_joint:
        joint = _directional(f, base, analytic, JOINT, moves[JOINT], joint_step, tol, value,
                             n_dirs)
    return entries, joint


def _directional(
    f: ScalarFunction,
    base: Arrays,
    analytic: Arrays,
    label: str,
    moves: list[dict[str, np.ndarray]],
    step: float,
    tol: _Tolerance,
    value: float,
    n_dirs: int,
) -> TensorCheck:
    """The check of one row along its directions ``moves`` (unit vectors by tensor)."""
    flat_grads = {k: g.reshape(-1) for k, g in analytic.items()}

    def line(d: int, t: float) -> float:
        """The value of f with the parameters moved by t along direction d."""
        point = dict(base)
        for k, u in moves[d].items():
            moved = base[k].copy()
            moved += t * u.reshape(moved.shape)
            moved.flags.writeable = False
            point[k] = moved
        return evaluate(f, point)

    with np.errstate(invalid="ignore", over="ignore"):
        dots = np.array([sum(float(flat_grads[k] @ u) for k, u in move.items())
                         for move in moves])
    plus = np.array([line(d, step) for d in range(n_dirs)])
    minus = np.array([line(d, -step) for d in range(n_dirs)])
    shape = (sum(base[k].size for k in analytic),) if label == JOINT else base[label].shape
    check = _summarise_directional(label, shape, dots, plus, minus, step, tol, analytic)
    steps = np.full(n_dirs, step)
    with np.errstate(invalid="ignore", over="ignore"):
        numeric = (plus - minus) / (2 * step)
    probe = _Probe(value, plus, minus, steps, line)
    return _diagnose(check, dots, numeric, probe, tol, lambda d: d, "direction")


def _summarise_directional(
    label: str,
    shape: tuple[int, ...],
    dots: np.ndarray,
    plus: np.ndarray,
    minus: np.ndarray,
    eps: float,
    tol: _Tolerance,
    analytic: Mapping[str, np.ndarray],
) -> TensorCheck:
    with np.errstate(invalid="ignore", over="ignore"):
        numeric = (plus - minus) / (2 * eps)
    where_text = "params" if label == JOINT else label

    def describe_f(d: int) -> str:
        for sign, values in (("+", plus), ("-", minus)):
            if not math.isfinite(values[d]):
                return f"f({where_text} {sign} eps*u[{d}]) = {float(values[d])!r}"
        return ""

    check = _summarise(label, shape, dots, numeric, tol, lambda d: d, describe_f, "direction")
    # A non-finite analytic gradient is located in the tensor itself, not in a dot product.
    for k, g in analytic.items():
        bad = np.flatnonzero(~np.isfinite(g))
        if bad.size:
            idx = tuple(int(i) for i in np.unravel_index(int(bad[0]), g.shape))
            value = float(g.reshape(-1)[bad[0]])
            message = (
                f"analytic gradient of {k!r} is {value!r} at index {index_text(idx)}"
                f" ({bad.size} non-finite entr{'y' if bad.size == 1 else 'ies'})"
            )
            return TensorCheck(
                label,
                shape,
                math.inf,
                False,
                check.worst_index,
                check.analytic,
                check.numeric,
                nonfinite=True,
                checks=check.checks,
                message=message,
            )
    return check


def _summarise(
    name: str,
    shape: tuple[int, ...],
    analytic: np.ndarray,
    numeric: np.ndarray,
    tol: _Tolerance,
    where: Callable[[int], Any],
    describe_f: Callable[[int], str],
    unit: str,
) -> TensorCheck:
    """Reduce the paired values of one tensor to a :class:`TensorCheck`."""
    count = int(analytic.size)
    if count == 0:
        return TensorCheck(name, shape, 0.0, True, None, 0.0, 0.0, status="empty",
                           message="0 entries checked")
    finite = np.isfinite(analytic) & np.isfinite(numeric)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        a, n = float(analytic[i]), float(numeric[i])
        at = f"{unit} {index_text(where(i))}"
        if not math.isfinite(a):
            message = f"analytic gradient is {a!r} at {at}"
        else:
            message = f"numeric estimate is {n!r} at {at}"
            cause = describe_f(i)
            if cause:
                message += f" because {cause}"
        bad = int((~finite).sum())
        if bad > 1:
            message += f" ({bad} non-finite comparisons)"
        return TensorCheck(
            name,
            shape,
            math.inf,
            False,
            where(i),
            a,
            n,
            nonfinite=True,
            checks=count,
            message=message,
        )
    rel = tol.rel_error(analytic, numeric)
    i = int(np.argmax(rel))
    ok = bool(tol.passes(analytic, numeric).all())
    message = (
        ""
        if ok
        else (
            f"analytic {float(analytic[i])!r} vs numeric {float(numeric[i])!r} at {unit} "
            f"{index_text(where(i))}; {int((~tol.passes(analytic, numeric)).sum())} of "
            f"{count} comparisons outside tolerance"
        )
    )
    return TensorCheck(
        name,
        shape,
        float(rel[i]),
        ok,
        where(i),
        float(analytic[i]),
        float(numeric[i]),
        nonfinite=False,
        checks=count,
        message=message,
        largest=float(max(np.max(np.abs(analytic)), np.max(np.abs(numeric)))),
    )


# --------------------------------------------------------------------------- diagnosis


@dataclass(frozen=True)
class _Probe:
    """The differences taken for one row, and a way to take more.

    Comparison ``i`` moved the point by ``steps[i]`` (along an entry or a
    direction): ``f`` was ``plus[i]`` and ``minus[i]`` there, ``value`` at the
    point itself; ``line(i, t)`` evaluates ``f`` moved by ``t`` instead.
    """

    value: float
    plus: np.ndarray
    minus: np.ndarray
    steps: np.ndarray
    line: Callable[[int, float], float]


#: Failing comparisons of a row examined for a kink or noise (the worst first).
_DIAGNOSED = 5


def _diagnose(check: TensorCheck, analytic: np.ndarray, numeric: np.ndarray, probe: _Probe,
              tol: _Tolerance, where: Callable[[int], Any], unit: str) -> TensorCheck:
    """``check``, its message explaining a failure by a kink or a noisy ``f`` when one is found.

    Each of the worst failing comparisons costs two more evaluations of ``f``
    (at twice the step); a passing check costs none.
    """
    if check.ok or check.nonfinite or not check.checks or not math.isfinite(probe.value):
        return check
    failing = np.flatnonzero(~tol.passes(analytic, numeric))
    worst = failing[np.argsort(-tol.rel_error(analytic[failing], numeric[failing]))]
    for i in (int(j) for j in worst[:_DIAGNOSED]):
        found = _classify(probe, i, tol)
        if found is None:
            continue
        kind, first, second = found
        at = f"{unit} {index_text(where(i))}"
        if kind == "kink":
            message = kink_message(at, first, second, float(analytic[i]), tol.passes)
        else:
            message = noisy_message(at, first, second, float(probe.steps[i]))
        return replace(check, status=kind, message=f"{message}; {check.message}",
                       worst_index=where(i), analytic=float(analytic[i]),
                       numeric=float(numeric[i]))
    return check


def _classify(probe: _Probe, i: int, tol: _Tolerance) -> tuple[str, float, float] | None:
    """('kink', right, left) slopes, ('noisy', estimate at h, at 2h), or None.

    At a kink the one-sided differences disagree, and each stays put when the
    step doubles; for a noisy ``f`` the central differences at the step and at
    twice it disagree; for a smooth ``f`` neither happens.
    """
    h, v = float(probe.steps[i]), probe.value
    p1, m1 = float(probe.plus[i]), float(probe.minus[i])
    p2, m2 = probe.line(i, 2 * h), probe.line(i, -2 * h)
    if not all(math.isfinite(x) for x in (p1, m1, p2, m2)):
        return None
    right, left = (p1 - v) / h, (v - m1) / h
    right2, left2 = (p2 - v) / (2 * h), (v - m2) / (2 * h)
    gap = abs(right - left)
    if not tol.passes(np.array(right), np.array(left)) and \
            abs(right - right2) + abs(left - left2) <= 0.1 * gap:
        return "kink", right, left
    central, central2 = (p1 - m1) / (2 * h), (p2 - m2) / (4 * h)
    if not tol.passes(np.array(central), np.array(central2)):
        return "noisy", central, central2
    return None
