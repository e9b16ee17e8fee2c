"""What judging and diagnosing the claims of one program share: the exact derivatives.

A :class:`Context` holds the program without its claims, augmented with the
exact derivative of every scalar the claims differentiate, compiled once;
:meth:`Context.run` evaluates it on one draw, and claims and candidate
corrections are compiled against it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .. import ir
from ..derive.assemble import needed_by
from ..derive.augment import augment
from ..derive.jacobian import flatten, jacobian
from ..derive.reverse import gradients
from ..derive.simplify import distribute, to_product
from ..errors import IndexnetError, ProgramSizeError
from ..evaluate.execute import Compiled
from ..ir.sizing import SizeModel
from ..ir.terms import Term
from ..render import deriv_text

__all__ = ["NOISE", "Context", "base_module", "claim_layout", "claim_lhs", "downstream",
           "rel_error"]

#: Rounding leaves a derivative that cancels to 0 within about 1e-14 of its terms'
#: size; errors below NOISE times that size are taken as noise (1e-12 of the terms
#: at the claim tolerance 1e-6).
NOISE = 1e-6

_KINKS = ("relu", "abs")
_TIES = ("max", "min")


def rel_error(claim: np.ndarray, exact: np.ndarray, floor: float = 0.0) -> float:
    """The largest |claim − exact| over max(|exact|, |claim|, floor), 0 when all are 0.

    Arrays of different shapes, or holding a non-finite value, are infinitely
    apart. ``floor`` is the noise floor of a derivative that is ~0 only by
    cancellation (:meth:`Context.noise_floor`): rounding of its terms then
    decides every digit, and is no error.

    >>> rel_error(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    0.5
    >>> rel_error(np.array([1e-17]), np.array([0.0])), rel_error(np.array([1e-16]),
    ...                                                          np.array([0.0]), 1e-6)
    (1.0, 1e-10)
    """
    claim, exact = np.asarray(claim, dtype=float), np.asarray(exact, dtype=float)
    if claim.shape != exact.shape:
        return math.inf
    if not (np.all(np.isfinite(claim)) and np.all(np.isfinite(exact))):
        return math.inf
    if claim.size == 0:
        return 0.0
    scale = max(float(np.abs(exact).max()), float(np.abs(claim).max()), floor)
    if scale == 0:
        return 0.0
    return float(np.abs(claim - exact).max()) / scale


def base_module(program: ir.Module) -> ir.Module:
    """``program`` without its claims and derivations: what the claims are about."""
    return program.replace(tuple(s for s in program.statements
                                 if not isinstance(s, (ir.Claim, ir.Derivation))))


def claim_layout(claim: ir.Claim) -> ir.Ref:
    """How a claim's value is laid out: as the tensor it differentiates by.

    A Jacobian's (``dg^d/dw^e``) is in the top's letters, then the bottom's.
    """
    return claim.wrt if claim.top is None else ir.Ref("J·", None, claim.free, "")


def claim_lhs(claim: ir.Claim) -> str:
    """A claim's left-hand side as text (``dL/dW^d_h``)."""
    return deriv_text(claim.of, claim.wrt, claim.top)


def _calls(expr: ir.Sum) -> Iterator[ir.Call]:
    for p in ir.iter_products(expr):
        for f in p.factors:
            while isinstance(f, (ir.Power, ir.Inverse)):
                f = f.base
            if isinstance(f, ir.Call):
                yield f


class Context:
    """What judging (and diagnosing) the claims of one program needs at one draw."""

    def __init__(self, program: ir.Module, sizes: Mapping[str, int]) -> None:
        self.program = base_module(program)
        self.sizes = dict(sizes)
        self.failed: dict[str, str] = {}
        self.pairs: list[tuple[str, str]] = []
        self.depends: dict[str, set[str]] = {}
        ofs = list(dict.fromkeys(c.of for c in program.claims if c.top is None))
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
        self.jacobians: dict[tuple[str, str], ir.Derivation] = {}
        self.flat: dict[tuple[str, str], ir.Module] = {}
        for claim in program.claims:
            if claim.top is not None and not claim.problem:
                self._jacobian(claim.of, claim.wrt.key)
        self.aug, self.derivations = augment(self.program, self.pairs)
        if self.jacobians:
            self.aug = self.aug.replace((*self.aug.statements, *self.jacobians.values()))
        self.aug_sizes = self.aug.size_model.resolve({}, self.sizes, defaults=True)
        self.compiled: Compiled = Compiled(self.aug, self.aug_sizes, "float64")
        self.available = {d.key for d in self.derivations} | {
            d.key for d in self.jacobians.values()}
        self.env: dict[str, Any] = {}
        self._claims: dict[tuple[ir.Ref, ir.Sum], tuple[Compiled, dict[str, int]]] = {}

    def _jacobian(self, of: str, key: str) -> None:
        """Work out the Jacobian (or second derivative) ``d{of}/d{key}`` a claim states."""
        if (of, key) in self.jacobians or ir.deriv_key(of, key) in self.failed:
            return
        try:
            found = jacobian(self.program, of, key)
        except IndexnetError as err:
            self.failed[ir.deriv_key(of, key)] = str(err).split("\n")[0]
            return
        self.jacobians[(of, key)] = found
        self.flat[(of, key)] = flatten(self.program, of)[0]
        for p in ir.iter_products(found.rhs):
            for f in p.factors:
                if isinstance(f, ir.DerivRef) and (f.of, f.wrt.key) not in self.pairs:
                    self.pairs.append((f.of, f.wrt.key))

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """The shape of every tensor of the program at the context's sizes."""
        model = self.program.size_model
        return {k: model.shape(k, self.aug_sizes) for k in self.program.tensors}

    def run(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Evaluate the program and every exact derivative on ``arrays``."""
        with np.errstate(all="ignore"):
            values = self.compiled(dict(arrays))
        self.env = {**arrays, **values}

    def compile_claim(self, wrt: ir.Ref, rhs: ir.Sum) -> tuple[Compiled, dict[str, int]]:
        """Compile ``rhs`` with ``wrt``'s letters free (raises if it does not size), once.

        The value is laid out as ``wrt``: a right-hand side whose free letters
        are ``wrt``'s in another order (a correction that swaps two letters) is
        transposed to fit, as the language lowers ``a^i_k = c^k_i``; one with
        other free letters does not fit (:class:`~indexnet.errors.ProgramSizeError`).
        """
        found = self._claims.get((wrt, rhs))
        if found is None:
            found = self._claims[(wrt, rhs)] = self._compile(wrt, rhs)
        return found

    def _compile(self, wrt: ir.Ref, rhs: ir.Sum) -> tuple[Compiled, dict[str, int]]:
        target = ir.Ref("claim·", None, wrt.upper, wrt.lower)
        decls = tuple(s for s in self.program.statements
                      if isinstance(s, (ir.ConstDecl, ir.ActDecl)))
        equation = ir.Equation(target, _laid_out_as(target, rhs))
        mini = self.program.replace((*decls, equation))
        model = SizeModel(mini)
        shapes = self.shapes()
        sizes = model.resolve(shapes, _unshaped_sizes(model, shapes, self.aug_sizes),
                              declared=False, defaults=True)
        return Compiled(mini, sizes, "float64", available=self.available), sizes

    def evaluate(self, wrt: ir.Ref, rhs: ir.Sum) -> np.ndarray:
        """The value of ``rhs`` at the current draw, laid out as ``wrt``."""
        compiled, _ = self.compile_claim(wrt, rhs)
        with np.errstate(all="ignore"):
            return np.asarray(compiled(self.env)["claim·"], dtype=float)

    def noise_floor(self, wrt: ir.Ref, rhs: ir.Sum, of: str) -> float:
        """How far from 0 rounding alone takes ``rhs`` or the exact derivative d{of}/d{wrt}.

        A derivative that is 0 by cancellation (through ``Σ_k softmax[k]``, a
        constant scalar) comes out as rounding noise, of the order of 1e-16
        times its terms: both the claim and the exact derivative are noise
        then, and their relative error means nothing. The floor is
        :data:`NOISE` times the largest entry of Σ |term| (parentheses at the
        top multiplied out) over the claim's terms and the exact derivative's,
        so a real error, which is of the order of the terms, still shows.
        """
        sums = [rhs]
        found = next((d for d in self.derivations if d.of == of and d.wrt.key == wrt.key), None)
        if found is not None:
            sums.append(found.rhs)
        return NOISE * max(self._terms_scale(wrt, s) for s in sums)

    def _terms_scale(self, wrt: ir.Ref, rhs: ir.Sum) -> float:
        total = None
        for term in (t for p in rhs.terms for t in distribute(Term.of(p))):
            one = ir.Sum((to_product(term, group=False),), rhs.output)
            try:
                value = np.abs(self.evaluate(wrt, one))
            except IndexnetError:
                return 0.0
            total = value if total is None else total + value
        if total is None or not np.all(np.isfinite(total)) or not total.size:
            return 0.0
        return float(total.max())

    def exact(self, of: str, key: str) -> np.ndarray:
        """The exact derivative ``d{of}/d{key}`` at the current draw, laid out as ``key``.

        It is one when ``key`` is ``of`` itself (dL/dL), and zero when ``of``
        does not depend on tensor ``key``.
        """
        if (of, key) in self.jacobians:
            return np.asarray(self.env[ir.deriv_key(of, key)], dtype=float)
        if key == of:
            return np.ones(self.program.size_model.shape(key, self.aug_sizes))
        if key not in self.depends.get(of, ()):
            return np.zeros(self.program.size_model.shape(key, self.aug_sizes))
        return np.asarray(self.env[ir.deriv_key(of, key)], dtype=float)

    def kink(self) -> tuple[float, str]:
        """How near the draw is to a kink: relu/abs at 0, a tie in max_k/min_k.

        The smallest |argument| of relu/abs, or gap between the two largest
        (smallest) entries of a max (min), relative to its scale; 0 at a kink.
        """
        worst, name = math.inf, ""
        # only the equations the differentiated scalars are computed from: a relu in an
        # equation that reads dL/dX after L (or that no claim's scalar needs) is no kink of it
        scalars = [*self.depends, *(of for of, _ in self.jacobians)]
        relevant = set().union(*(needed_by(self.program, of) for of in scalars))
        for eq in self.program.equations:
            if eq.target.key not in relevant:
                continue
            for call in _calls(eq.rhs):
                if call.function in _TIES and call.index is not None:
                    small = self._tie(call)
                    if small < worst:
                        worst, name = small, f"a tie in {call.function}_{call.index}"
                if call.function in _KINKS and not call.primes:
                    for arg in call.args:
                        value = self.evaluate(ir.Ref("k·", None, arg.output, ""), arg)
                        scale = max(float(np.abs(value).max(initial=0.0)), 1e-300)
                        small = float(np.abs(value).min(initial=math.inf)) / scale
                        if small < worst:
                            worst, name = small, f"{call.function}'s argument is 0"
        return worst, name

    def _tie(self, call: ir.Call) -> float:
        """The relative gap between the two extreme entries that ``max_k``/``min_k`` compares."""
        assert call.index is not None
        (arg,) = call.args
        layout = call.output + call.index
        value = self.evaluate(ir.Ref("t·", None, layout, ""), arg)
        return _gap(np.asarray(value, dtype=float), call.function == "max")


def _gap(values: np.ndarray, largest: bool) -> float:
    """The smallest gap between the two largest (smallest) entries along the last axis."""
    if values.shape[-1] < 2 or values.size == 0:
        return math.inf
    ordered = np.sort(values, axis=-1)
    gap = (ordered[..., -1] - ordered[..., -2]) if largest else (ordered[..., 1] - ordered[..., 0])
    scale = max(float(np.abs(values).max()), 1e-300)
    return float(gap.min()) / scale


def _unshaped_sizes(model: SizeModel, shapes: Mapping[str, tuple[int, ...]],
                   sizes: Mapping[str, int]) -> dict[str, int]:
    """The program's sizes for the letters of a claim that no tensor's axis sizes.

    ``|m|``, a broadcast ``sum_i 1`` or ``eye^i_i`` alone: such a letter has
    the size the program gives it (one size per letter, rule 8), not a default.
    One letter per class, so that two letters the claim joins cannot conflict.
    """
    program = model.program
    fixed = {model.axis_class(key, axis) for key in shapes if key in program.tensors
             for axis in range(program.tensors[key].rank)}
    out: dict[str, int] = {}
    for letters in model.classes():
        if model.letter_class(letters[0]) in fixed:
            continue
        known = next((c for c in letters if c in sizes), None)
        if known is not None:
            out[known] = sizes[known]
    return out


def _laid_out_as(target: ir.Ref, rhs: ir.Sum) -> ir.Sum:
    """``rhs`` with ``target``'s letters as its output (raises when its free letters differ).

    Evaluation lays an equation's value out in its target's letters, so the
    right-hand side's output must be exactly those letters, in that order.
    """
    free = target.subscripts
    stray = {c for p in rhs.terms for c in p.output} - set(free)
    if sorted(rhs.output) != sorted(free) or stray:
        have = rhs.output if not stray else "".join(sorted(set(rhs.output) | stray))
        raise ProgramSizeError(f"the right-hand side has the free indices {have!r}, but "
                               f"the derivative has {free!r}")
    return rhs if rhs.output == free else dataclasses.replace(rhs, output=free)


def downstream(program: ir.Module, keys: set[str], env: Mapping[str, Any],
               sizes: Mapping[str, int], of: str | None = None) -> tuple[Compiled, dict[str, Any]]:
    """The equations that depend on ``keys``, compiled, with everything else taken from ``env``.

    Evaluating it gives the scalar as a function of ``keys`` alone, the
    others held fixed: what ``dL/dX`` means for an intermediate ``X`` too.
    With ``of``, only the equations that ``of`` needs are kept, so that an
    equation reading a derivative atom (``delta^n_k = dL/da^n_k``) after
    ``of`` is never evaluated.
    """
    needed = needed_by(program, of) if of is not None else None
    moved = set(keys)
    kept: list[ir.Statement] = []
    for s in program.statements:
        if isinstance(s, ir.Equation):
            if s.target.key in keys:
                continue
            if needed is not None and s.target.key not in needed:
                continue
            if not {r.key for r in ir.iter_refs(s.rhs)} & moved:
                continue
            moved.add(s.target.key)
        kept.append(s)
    tensors = dict(program.tensors)
    for k, info in program.tensors.items():
        if info.role == "defined" and k not in moved - set(keys):
            tensors[k] = dataclasses.replace(info, role="input")
    cut = program.replace(kept, tensors)
    fixed = {k: v for k, v in env.items() if k in tensors and k not in moved}
    return Compiled(cut, sizes, "float64"), fixed

