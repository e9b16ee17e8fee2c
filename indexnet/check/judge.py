"""Judge hand-derived claims: the claim vs the exact derivative vs finite differences.

For every ``claim dL/dX = …`` of a program, :func:`check` draws the inputs and
params from their declared domains (float64, several draws, index sizes
distinct wherever the program lets them be), evaluates the claim and the
exact derivative (:mod:`indexnet.derive.reverse`), and compares them. The exact
derivative is itself confirmed by directional central finite differences
(:func:`indexnet.check.gradcheck.gradcheck`); a disagreement there is an indexnet
defect and is reported as one. A claim that does not size, or reads a
derivative that cannot be taken, fails with the reason; the others are still
judged. A failing claim gets a diagnosis (:mod:`indexnet.check.diagnose`).

>>> from indexnet.program import parse
>>> p = parse('''
... input x^n_d
... param W^d_h
... L = sum_{nh} square(x^n_d W^d_h)
... claim dL/dW^d_h = x^n_d x^n_e W^e_h
... ''')
>>> r = check(p)
>>> r.ok, r.results[0].diagnosis
(False, 'constant factor: the claim is 1/2 × the derivative (multiply it by 2)')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import ir
from ..errors import IndexnetError
from ..evaluate.domains import random_inputs
from ..evaluate.execute import Compiled
from .context import Context, base_module, claim_lhs, downstream, rel_error
from .diagnose import diagnose as find
from .gradcheck import gradcheck
from .report import CheckReport, ClaimResult

__all__ = ["TOLERANCE", "CheckReport", "ClaimResult", "check"]

#: A claim holds when its largest relative error, over every draw, is at most this.
TOLERANCE = 1e-6


def _confirm(ctx: Context, of: str, keys: list[str]) -> list[tuple[str, str]]:
    """Confirm ``d{of}/d{key}`` for ``keys`` by directional central differences.

    Each tensor along two random directions of its own, evaluating only the
    equations that depend on it.
    """
    groups = [[k] for k in keys]
    found = []
    for group in groups:
        compiled, fixed = downstream(ctx.program, set(group), ctx.env, ctx.aug_sizes)
        shapes = [np.shape(ctx.env[k]) for k in group]
        sizes = [int(np.prod(s)) for s in shapes]
        point = np.concatenate([np.ravel(ctx.env[k]) for k in group]) if group else np.zeros(0)
        grad = np.concatenate([np.ravel(ctx.exact(of, k)) for k in group])
        if point.size == 0 or not (np.all(np.isfinite(grad)) and np.all(np.isfinite(point))
                                   and np.isfinite(ctx.env[of])):
            continue
        bounds = np.cumsum([0, *sizes])

        def f(p: dict[str, np.ndarray], group: list[str] = group,
              compiled: Compiled = compiled, fixed: dict[str, Any] = fixed,
              bounds: Any = bounds, shapes: list[Any] = shapes) -> float:
            env = dict(fixed)
            for k, key in enumerate(group):
                env[key] = p["x"][bounds[k]:bounds[k + 1]].reshape(shapes[k])
            with np.errstate(all="ignore"):
                return float(compiled(env)[of])

        # central differences lose about 1e-16 |L| / eps to rounding; a unit direction
        # gives at most |grad| (Cauchy-Schwarz)
        value = abs(float(np.asarray(ctx.env[of])))
        atol = 1e-9 * (float(np.linalg.norm(grad)) + value) + 1e-300
        report = gradcheck(f, {"x": point}, {"x": grad}, directions=2, eps=1e-6, rtol=1e-5,
                           atol=atol)
        if not report.ok:
            worst = max(r.max_rel_error for r in report.entries)
            found.append((group[0], f"the exact derivative d{of}/d{group[0]} disagrees with "
                          f"central finite differences (relative error {worst:.2e}); please "
                          "report this"))
    return found


def check(program: ir.Module, sizes: Mapping[str, int] | None = None, *, draws: int = 3,
          seed: int = 0, confirm: bool = True, diagnose: bool = True) -> CheckReport:
    """Judge every claim of ``program``; see the module docstring.

    Sizes come from ``sizes``, then the program's ``size`` lines, then small
    distinct defaults. Raises :class:`~indexnet.errors.ProgramSizeError`
    when the declarations and equations themselves do not size.
    """
    base = base_module(program)
    resolved = base.size_model.resolve({}, sizes, defaults=True)
    ctx = Context(program, resolved)
    defects: list[str] = []
    broken: set[tuple[str, str]] = set()
    errors: dict[int, list[float]] = {}
    reasons: dict[int, str] = {}
    compiled: dict[int, Any] = {}
    claims = program.claims
    for k, claim in enumerate(claims):
        if claim.of in ctx.failed:
            reasons[k] = ctx.failed[claim.of]
            continue
        if claim.wrt.key not in ctx.depends.get(claim.of, set()) and \
                claim.wrt.key not in program.tensors:
            reasons[k] = f"{claim.wrt.key} is not a tensor of this program"
            continue
        try:
            compiled[k] = ctx.compile_claim(claim.wrt, claim.rhs)[0]
        except IndexnetError as err:
            reasons[k] = "does not fit: " + getattr(err, "message", str(err).split("\n")[0])
    first_env: dict[str, Any] | None = None
    kink_note = ""
    tries = 0
    d = 0
    while d < draws:
        arrays = random_inputs(base, resolved, seed=seed + d + tries)
        ctx.run(arrays)
        small, name = ctx.kink()
        if small == 0.0 and tries < 5:
            tries += 1
            continue
        if small == 0.0:
            kink_note = f"not differentiable at the sampled points: {name}'s argument is 0"
        for k, claim in enumerate(claims):
            if k in reasons or k not in compiled:
                continue
            of, key = claim.of, claim.wrt.key
            try:
                exact = ctx.exact(of, key) if key in ctx.depends[of] else \
                    np.zeros(base.size_model.shape(key, ctx.aug_sizes))
                with np.errstate(all="ignore"):
                    value = np.asarray(compiled[k](ctx.env)["claim·"], dtype=float)
            except IndexnetError as err:
                reasons[k] = str(err).split("\n")[0]
                continue
            if not (np.all(np.isfinite(exact)) and np.all(np.isfinite(ctx.env[of]))):
                reasons[k] = ("the program is not finite at the sampled points (a log or "
                              "division of a non-positive number?); declare a domain such "
                              "as positive")
                continue
            errors.setdefault(k, []).append(rel_error(value, exact))
        if confirm and d == 0 and small > 1e-6:
            for of in ctx.depends:
                keys = [c.wrt.key for c in claims if c.of == of and c.wrt.key in ctx.depends[of]]
                keys += [r.wrt.key for c in claims for p in ir.iter_products(c.rhs)
                         for r in p.factors if isinstance(r, ir.DerivRef) and r.of == of
                         and r.wrt.key in ctx.depends[of]]
                for key, message in _confirm(ctx, of, list(dict.fromkeys(keys))):
                    broken.add((of, key))
                    defects.append(message)
        if d == 0:
            first_env = dict(ctx.env)
        d += 1
    if first_env is not None:
        ctx.env = first_env
    results = []
    for k, claim in enumerate(claims):
        lhs = claim_lhs(claim)
        einsums = claim.einsums()
        statement = str(claim)
        if k in reasons and reasons[k].startswith("does not fit") and diagnose \
                and claim.of not in ctx.failed:
            try:
                found = find(ctx, claim)
            except IndexnetError:  # pragma: no cover - diagnosis is best effort
                found = ""
            if found and not found.startswith("does not fit"):
                reasons[k] = f"{found} (as written: {reasons[k]})"
        if k in reasons:
            results.append(ClaimResult(claim.line, lhs, statement, einsums, False, None,
                                       reasons[k], "error"))
            continue
        if kink_note:
            results.append(ClaimResult(claim.line, lhs, statement, einsums, False, None,
                                       kink_note, "nondifferentiable"))
            continue
        worst = max(errors.get(k, [0.0]))
        ok = worst <= TOLERANCE
        diagnosis = ""
        if not ok and diagnose:
            try:
                diagnosis = find(ctx, claim)
            except IndexnetError as exc:  # pragma: no cover - diagnosis is best effort
                diagnosis = f"no diagnosis ({exc})"
        if (claim.of, claim.wrt.key) in broken:
            ok = False
            diagnosis = "indexnet defect: the exact derivative failed its finite-difference check"
        results.append(ClaimResult(claim.line, lhs, statement, einsums, ok,
                                   worst if math.isfinite(worst) else None, diagnosis,
                                   "pass" if ok else "fail"))
    return CheckReport(results, dict(resolved), draws, defects)
