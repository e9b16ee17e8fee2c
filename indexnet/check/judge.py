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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import ir
from ..errors import IndexnetError
from ..evaluate.domains import random_inputs
from ..evaluate.execute import Compiled
from .confirm import confirm_jacobian, confirm_one
from .context import Context, base_module, claim_layout, claim_lhs, rel_error
from .diagnose import diagnose as find
from .report import CheckReport, ClaimResult

__all__ = ["TOLERANCE", "CheckReport", "ClaimResult", "check"]

#: A claim holds when its largest relative error, over every draw, is at most this.
TOLERANCE = 1e-6

#: Draws redone, over all draws together, when a relu/abs argument is exactly 0.
_KINK_RETRIES = 5


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
    judged = [_Judged.compile(ctx, program, claim) for claim in program.claims]
    defects: dict[tuple[str, str], str] = {}
    first_env: dict[str, Any] | None = None
    kink_note = ""
    tries = 0
    for d in range(draws):
        small, name, tries = _draw(ctx, base, resolved, seed + d, tries)
        if small == 0.0:
            kink_note = f"not differentiable at the sampled points: {name}"
        for one in judged:
            one.judge_draw(ctx)
        if d == 0:
            if confirm and small > 1e-6:
                defects = _confirm_claims(ctx, program.claims)
            first_env = dict(ctx.env)
    if first_env is not None:
        ctx.env = first_env
    broken = set(defects)
    results = [one.result(ctx, kink_note, broken, diagnose) for one in judged]
    return CheckReport(results, dict(resolved), draws, list(defects.values()))


def _draw(ctx: Context, base: ir.Module, resolved: Mapping[str, int], seed: int,
          tries: int) -> tuple[float, str, int]:
    """Run ``ctx`` on a fresh draw; redraw (``tries`` counts, over all draws) at a kink.

    Returns the smallest relative |argument| of relu/abs (0 at a kink), that
    function's name, and the retries used so far.
    """
    while True:
        ctx.run(random_inputs(base, resolved, seed=seed + tries))
        small, name = ctx.kink()
        if small != 0.0 or tries >= _KINK_RETRIES:
            return small, name, tries
        tries += 1


@dataclass
class _Judged:
    """Judging one claim: compiled once, then one relative error per draw, or a reason.

    ``reason`` says why the claim cannot be judged (it does not fit, its
    scalar has no derivative, the program is not finite); it ends judging.
    """

    claim: ir.Claim
    compiled: Compiled | None = None
    reason: str | None = None
    errors: list[float] = field(default_factory=list)

    @classmethod
    def compile(cls, ctx: Context, program: ir.Module, claim: ir.Claim) -> _Judged:
        """Compile ``claim``'s right-hand side, or say why it cannot be judged."""
        if claim.problem:
            return cls(claim, reason=f"does not fit: {claim.problem}")
        key = claim.wrt.key
        failed = ctx.failed.get(claim.of if claim.top is None else ir.deriv_key(claim.of, key))
        if failed is not None:
            return cls(claim, reason=failed)
        if key not in ctx.depends.get(claim.of, set()) and key not in program.tensors:
            return cls(claim, reason=f"{key} is not a tensor of this program")
        # a Jacobian's value is laid out in the top's letters, then the bottom's
        layout = claim_layout(claim)
        try:
            return cls(claim, ctx.compile_claim(layout, claim.rhs)[0])
        except IndexnetError as err:
            return cls(claim, reason="does not fit: " + getattr(err, "message",
                                                                   str(err).split("\n")[0]))

    def judge_draw(self, ctx: Context) -> None:
        """Compare the claim with the exact derivative at the context's current draw."""
        if self.reason is not None or self.compiled is None:
            return
        of, key = self.claim.of, self.claim.wrt.key
        try:
            exact = ctx.exact(of, key)
            with np.errstate(all="ignore"):
                value = np.asarray(self.compiled(ctx.env)["claim·"], dtype=float)
        except IndexnetError as err:
            self.reason = str(err).split("\n")[0]
            return
        if not (np.all(np.isfinite(exact)) and np.all(np.isfinite(ctx.env[of]))):
            self.reason = ("the program is not finite at the sampled points (a log or "
                           "division of a non-positive number?); declare a domain such "
                           "as positive")
            return
        error = rel_error(value, exact)
        if TOLERANCE < error < math.inf and self.claim.top is None:
            # both sides may be rounding noise around 0 (a derivative that cancels)
            error = rel_error(value, exact, ctx.noise_floor(self.claim.wrt, self.claim.rhs, of))
        self.errors.append(error)

    def result(self, ctx: Context, kink_note: str, broken: set[tuple[str, str]],
               diagnose: bool) -> ClaimResult:
        """The verdict, diagnosed (at the context's current draw) when ``diagnose``."""
        claim = self.claim
        lhs, statement, einsums = claim_lhs(claim), str(claim), claim.einsums()
        if self.reason is not None:
            reason = self._misfit(ctx) if diagnose else self.reason
            return ClaimResult(claim.line, lhs, statement, einsums, False, None, reason,
                               "error")
        if kink_note:
            return ClaimResult(claim.line, lhs, statement, einsums, False, None, kink_note,
                               "nondifferentiable")
        worst = max(self.errors, default=0.0)
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
        return ClaimResult(claim.line, lhs, statement, einsums, ok,
                           worst if math.isfinite(worst) else None, diagnosis,
                           "pass" if ok else "fail")

    def _misfit(self, ctx: Context) -> str:
        """The reason, led by the likely mistake when the claim as written does not fit."""
        assert self.reason is not None
        if (not self.reason.startswith("does not fit") or self.claim.of in ctx.failed
                or self.claim.problem):
            return self.reason
        try:
            found = find(ctx, self.claim)
        except IndexnetError:  # pragma: no cover - diagnosis is best effort
            found = ""
        if found and not found.startswith("does not fit"):
            return f"{found} (as written: {self.reason})"
        return self.reason


def _confirm_claims(ctx: Context, claims: Sequence[ir.Claim]) -> dict[tuple[str, str], str]:
    """Confirm every exact derivative the claims use; each one that fails, with a message.

    That is ``d{of}/d{key}`` for each claim's own ``dL/dX`` and for each
    ``dL/dX`` atom that a claim's right-hand side reads.
    """
    found: dict[tuple[str, str], str] = {}
    for of, depends in ctx.depends.items():
        keys = [c.wrt.key for c in claims if c.of == of and c.wrt.key in depends]
        keys += [r.wrt.key for c in claims for p in ir.iter_products(c.rhs)
                 for r in p.factors if isinstance(r, ir.DerivRef) and r.of == of
                 and r.wrt.key in depends]
        for key, message in _confirm(ctx, of, list(dict.fromkeys(keys))):
            found.setdefault((of, key), message)
    for (of, key), flat in ctx.flat.items():
        message = confirm_jacobian(flat, ctx.env, ctx.aug_sizes, of, key, ctx.exact(of, key))
        if message:
            found.setdefault((of, key), message)
    return found


def _confirm(ctx: Context, of: str, keys: list[str]) -> list[tuple[str, str]]:
    """Confirm ``d{of}/d{key}`` for ``keys`` by directional central differences.

    Each tensor along two random directions of its own, evaluating only the
    equations that depend on it.
    """
    found = []
    for key in keys:
        message = confirm_one(ctx.program, ctx.env, ctx.aug_sizes, of, key, ctx.exact(of, key))
        if message:
            found.append((key, message))
    return found
