"""Judge hand-derived claims: the claim vs the exact derivative vs finite differences.

For every ``claim dL/dX = …`` of a program, :func:`check` draws the inputs and
params from their declared domains (float64, several draws, index sizes
distinct wherever the program lets them be), evaluates the claim and the
exact derivative (:mod:`indexnet.autodiff`), and compares them. The exact
derivative is itself confirmed by directional central finite differences
(:func:`indexnet.gradcheck.gradcheck`); a disagreement there is an indexnet
defect and is reported as one. A claim that does not size, or reads a
derivative that cannot be taken, fails with the reason; the others are still
judged. A failing claim gets a diagnosis (:mod:`indexnet.diagnose`).

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

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import ir
from .errors import IndexnetError

if TYPE_CHECKING:
    from .execute import Compiled
    from .program import Program

__all__ = ["TOLERANCE", "CheckReport", "ClaimResult", "check"]

#: A claim holds when its largest relative error, over every draw, is at most this.
TOLERANCE = 1e-6
_KINKS = ("relu", "abs")


@dataclass(frozen=True)
class ClaimResult:
    """The verdict on one claim.

    ``claim`` is its left-hand side (``dL/dW^h_k``), ``statement`` the whole
    claim; ``max_rel_error`` is max |claim − exact| / max(|exact|, |claim|)
    over every draw (None when it could not be evaluated); ``diagnosis``
    says why a failing claim fails, or is empty.
    """

    line: int
    claim: str
    statement: str
    einsums: list[str]
    ok: bool
    max_rel_error: float | None
    diagnosis: str = ""
    status: str = "pass"

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object."""
        return {"line": self.line, "claim": self.claim, "statement": self.statement,
                "einsum": self.einsums, "ok": self.ok, "status": self.status,
                "max_rel_error": self.max_rel_error, "diagnosis": self.diagnosis or None}


@dataclass
class CheckReport:
    """Every claim's verdict, the sizes and draws used, and any indexnet defects found."""

    results: list[ClaimResult]
    sizes: dict[str, int]
    draws: int
    defects: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every claim holds and no defect was found."""
        return not self.defects and all(r.ok for r in self.results)

    def __iter__(self) -> Iterator[ClaimResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __bool__(self) -> bool:
        return self.ok

    def to_json(self) -> list[dict[str, Any]]:
        """The ``--json`` list, one object per claim."""
        return [r.to_json() for r in self.results]

    def __str__(self) -> str:
        rows = [("line", "claim", "einsum", "result", "max rel error", "diagnosis")]
        for r in self.results:
            err = "-" if r.max_rel_error is None else f"{r.max_rel_error:.2e}"
            rows.append((str(r.line), r.claim, "; ".join(r.einsums) or "-",
                         "pass" if r.ok else "FAIL", err, r.diagnosis))
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = ["  ".join(c.ljust(w) if i else c.rjust(w) for i, (c, w) in
                           enumerate(zip(row[:5], widths))) + "  " + row[5] for row in rows]
        held = sum(r.ok for r in self.results)
        lines.append(f"{held} of {len(self.results)} claim{'s' if len(self.results) != 1 else ''}"
                     f" hold ({self.draws} draw{'s' if self.draws != 1 else ''}, sizes "
                     f"{', '.join(f'{c}={n}' for c, n in self.sizes.items())})")
        lines.extend(f"INDEXNET DEFECT: {d}" for d in self.defects)
        return "\n".join(line.rstrip() for line in lines)

    def json(self) -> str:
        """``to_json()`` as text."""
        return json.dumps(self.to_json(), ensure_ascii=False)


def rel_error(claim: np.ndarray, exact: np.ndarray) -> float:
    """max |claim − exact| / max(|exact|, |claim|), 0 when both are 0.

    >>> rel_error(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    0.5
    """
    claim, exact = np.asarray(claim, dtype=float), np.asarray(exact, dtype=float)
    if claim.shape != exact.shape:
        return math.inf
    if not (np.all(np.isfinite(claim)) and np.all(np.isfinite(exact))):
        return math.inf
    if claim.size == 0:
        return 0.0
    scale = max(float(np.abs(exact).max()), float(np.abs(claim).max()))
    if scale == 0:
        return 0.0
    return float(np.abs(claim - exact).max()) / scale


def _base(program: Program) -> Program:
    from .program import Program

    kept = tuple(s for s in program.statements if not isinstance(s, (ir.Claim, ir.Derivation)))
    return Program(kept, program.tensors, program.source, program.implicit)


def _lhs(program: Program, claim: ir.Claim) -> str:
    from .render import _Writer

    return _Writer("compact").deriv(claim.of, claim.wrt)


def _calls(expr: ir.Sum) -> Iterator[ir.Call]:
    for p in ir.iter_products(expr):
        for f in p.factors:
            while isinstance(f, (ir.Power, ir.Inverse)):
                f = f.base
            if isinstance(f, ir.Call):
                yield f


class Context:
    """What judging (and diagnosing) the claims of one program needs at one draw."""

    def __init__(self, program: Program, sizes: Mapping[str, int]) -> None:
        from .autodiff import augment, gradients

        self.program = _base(program)
        self.sizes = dict(sizes)
        self.failed: dict[str, str] = {}
        self.pairs: list[tuple[str, str]] = []
        self.depends: dict[str, set[str]] = {}
        ofs = list(dict.fromkeys(c.of for c in program.claims))
        for claim in program.claims:
            for p in ir.iter_products(claim.rhs):
                for f in p.factors:
                    if isinstance(f, ir.DerivRef) and f.of not in ofs:
                        ofs.append(f.of)
        for of in ofs:
            try:
                keys = list(gradients(self.program, of))
                augment(self.program, [(of, k) for k in keys])
            except IndexnetError as err:
                self.failed[of] = str(err).split("\n")[0]
                continue
            self.depends[of] = set(keys)
            self.pairs += [(of, k) for k in keys]
        self.aug, self.derivations = augment(self.program, self.pairs)
        from .execute import Compiled

        self.aug_sizes = self.aug.size_model.resolve({}, self.sizes, defaults=True)
        self.compiled: Compiled = Compiled(self.aug, self.aug_sizes, "float64")
        self.available = {d.key for d in self.derivations}
        self.env: dict[str, Any] = {}
        self._claims: dict[int, Any] = {}

    def shapes(self) -> dict[str, tuple[int, ...]]:
        model = self.program.size_model
        return {k: model.shape(k, self.aug_sizes) for k in self.program.tensors}

    def run(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Evaluate the program and every exact derivative on ``arrays``."""
        with np.errstate(all="ignore"):
            values = self.compiled(dict(arrays))
        self.env = {**arrays, **values}

    def compile_claim(self, wrt: ir.Ref, rhs: ir.Sum) -> tuple[Compiled, dict[str, int]]:
        """Compile ``rhs`` with ``wrt``'s letters free (raises if it does not size)."""
        from .execute import Compiled
        from .program import Program
        from .sizing import SizeModel

        target = ir.Ref("claim·", None, wrt.upper, wrt.lower)
        decls = tuple(s for s in self.program.statements
                      if isinstance(s, (ir.ConstDecl, ir.ActDecl)))
        mini = Program((*decls, ir.Equation(target, rhs)), self.program.tensors,
                       self.program.source, self.program.implicit)
        model = SizeModel(mini)
        shapes = self.shapes()
        sizes = model.resolve(shapes, None, declared=False, defaults=True)
        return Compiled(mini, sizes, "float64", available=self.available), sizes

    def evaluate(self, wrt: ir.Ref, rhs: ir.Sum) -> np.ndarray:
        """The value of ``rhs`` at the current draw, laid out as ``wrt``."""
        compiled, _ = self.compile_claim(wrt, rhs)
        with np.errstate(all="ignore"):
            return np.asarray(compiled(self.env)["claim·"], dtype=float)

    def exact(self, of: str, key: str) -> np.ndarray:
        return np.asarray(self.env[ir.deriv_key(of, key)], dtype=float)

    def kink(self) -> tuple[float, str]:
        """The smallest |argument| of relu/abs over the program, relative to its scale."""
        worst, name = math.inf, ""
        for eq in self.program.equations:
            for call in _calls(eq.rhs):
                if call.function in _KINKS and not call.primes:
                    for arg in call.args:
                        value = self.evaluate(ir.Ref("k·", None, arg.output, ""), arg)
                        scale = max(float(np.abs(value).max(initial=0.0)), 1e-300)
                        small = float(np.abs(value).min(initial=math.inf)) / scale
                        if small < worst:
                            worst, name = small, call.function
        return worst, name


def _downstream(program: Program, keys: set[str], env: Mapping[str, Any],
                sizes: Mapping[str, int]) -> tuple[Compiled, dict[str, Any]]:
    """The equations that depend on ``keys``, compiled, with everything else taken from ``env``.

    Evaluating it gives the scalar as a function of ``keys`` alone, the
    others held fixed: what ``dL/dX`` means for an intermediate ``X`` too.
    """
    import dataclasses

    from .execute import Compiled
    from .program import Program

    moved = set(keys)
    kept: list[ir.Statement] = []
    for s in program.statements:
        if isinstance(s, ir.Equation):
            if s.target.key in keys:
                continue
            if not {r.key for r in ir.iter_refs(s.rhs)} & moved:
                continue
            moved.add(s.target.key)
        kept.append(s)
    tensors = dict(program.tensors)
    for k, info in program.tensors.items():
        if info.role == "defined" and k not in moved - set(keys):
            tensors[k] = dataclasses.replace(info, role="input")
    cut = Program(tuple(kept), tensors, program.source, program.implicit)
    fixed = {k: v for k, v in env.items() if k in tensors and k not in moved}
    return Compiled(cut, sizes, "float64"), fixed


def _confirm(ctx: Context, of: str, keys: list[str]) -> list[tuple[str, str]]:
    """Confirm ``d{of}/d{key}`` for ``keys`` by directional central differences.

    Each tensor along two random directions of its own, evaluating only the
    equations that depend on it.
    """
    from .gradcheck import gradcheck

    groups = [[k] for k in keys]
    found = []
    for group in groups:
        compiled, fixed = _downstream(ctx.program, set(group), ctx.env, ctx.aug_sizes)
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


def check(program: Program, sizes: Mapping[str, int] | None = None, *, draws: int = 3,
          seed: int = 0, confirm: bool = True, diagnose: bool = True) -> CheckReport:
    """Judge every claim of ``program``; see the module docstring.

    Sizes come from ``sizes``, then the program's ``size`` lines, then small
    distinct defaults. Raises :class:`~indexnet.notation.errors.ProgramSizeError`
    when the declarations and equations themselves do not size.
    """
    from .diagnose import diagnose as find

    base = _base(program)
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
        arrays = base.random_inputs(resolved, seed=seed + d + tries)
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
        lhs = _lhs(program, claim)
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
