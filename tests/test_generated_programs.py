"""Properties of evaluate, derive and check on random programs (issue 9, "the whole class").

Programs come from :func:`indexnet.program_strategies.programs`; the reference is
``tests/oracle_interp.py``, a per-element loop interpreter of the IR that
shares no code with indexnet's evaluator. Three properties:

* ``evaluate`` equals the oracle on every defined tensor (derivative atoms
  ``dL/dX`` included: the oracle takes them by central differences);
* ``derive`` equals central finite differences of the oracle, along a random
  direction, for every param and every intermediate tensor ``L`` reads;
* ``check`` passes every exact derivative written as a claim, and fails the
  derivative with a planted mistake (a coefficient doubled).

The strategy is narrowed by :data:`NARROWED` where today's code has open
defects; each narrowing names its defect, and the minimal programs are kept,
as expected failures, in ``tests/corpus_generated.py``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np
import pytest
from corpus_generated import CORPUS
from hypothesis import assume, given, settings
from hypothesis.control import currently_in_test_context
from oracle_interp import Oracle

from indexnet import ir
from indexnet.program import Program, parse
from indexnet.program_strategies import FUNCTIONS, UNDRAWN, programs

#: Narrowings of the strategy while defects are open (see the module docstring).
NARROWED: dict[str, Any] = {
    "derivative_reading": False,  # evaluate fails on equations that read dL/dX (corpus)
    "traces": False,  # derive makes repeated letters a call's output, eye^i_j renames (corpus)
    "softmax_cross_entropy": False,  # check: "defect" at relative error 0 (corpus)
    "functions": [f for f in FUNCTIONS if f != "softmax"] + ["loss"],  # issue 9 defect 6
    "broadcasts": False,  # derived programs that cannot be evaluated, |a| unsized (corpus)
    "lone_sums": False,  # derived programs that cannot be evaluated (corpus)
    "allow_size_one": False,
}

# Examples per property under the ci profile (60 a test), scaled with the profile.
_SCALE = settings.default.max_examples / 60


def _examples(n: int) -> int:
    return max(5, round(n * _SCALE))


KINK = 1e-3  # draws where relu/abs come closer to their kink than this are set aside
ARITHMETIC = (ArithmeticError, ValueError)  # the oracle leaving the functions' domains


@dataclasses.dataclass
class Case:
    """A generated program, its sizes, one draw of its inputs, and the oracle on them."""

    text: str
    program: Program
    sizes: dict[str, int]
    arrays: dict[str, np.ndarray]
    oracle: Oracle

    @classmethod
    def of(cls, text: str, seed: int = 0) -> Case:
        program = parse(text)
        sizes = dict(program.sizes)
        arrays = program.random_inputs(sizes, seed=seed)
        return cls(text, program, sizes, arrays, Oracle(program, arrays, sizes))

    def reference(self, **kwargs: Any) -> dict[str, np.ndarray]:
        """The oracle's values; draws outside the functions' domains are set aside."""
        try:
            values = self.oracle.run(**kwargs)
        except ARITHMETIC:
            _set_aside(False)
            raise
        _set_aside(self.oracle.kink > KINK)
        _set_aside(all(np.isfinite(v).all() for v in values.values()))
        return values

    @property
    def intermediates(self) -> list[str]:
        """Tensors defined before ``L`` (``L`` reads them, or is their last reader)."""
        out = []
        for eq in self.program.equations:
            if eq.target.key == "L":
                return out
            out.append(eq.target.key)
        return out


def close(got: np.ndarray, want: np.ndarray, rtol: float = 1e-6) -> bool:
    """Equal to ``rtol`` relative to the larger of 1 and the reference's largest entry."""
    if np.shape(got) != np.shape(want):
        return False
    scale = max(1.0, float(np.max(np.abs(want)))) if np.size(want) else 1.0
    return bool(np.allclose(got, want, rtol=rtol, atol=rtol * scale))


def directional_fd(case: Case, key: str, base: np.ndarray, direction: np.ndarray) -> float:
    """dL/dkey along ``direction`` by central differences of the oracle."""
    h = 1e-6 * max(1e-3, float(np.max(np.abs(base), initial=0.0)))
    ends = [case.reference(overrides={key: base + s * h * direction}, stop_after="L")["L"]
            for s in (1, -1)]
    return float(ends[0] - ends[1]) / (2 * h)


def claims(derived: Program) -> list[str]:
    """Every derivation of ``derived`` written as a claim line."""
    return [f"claim {d}" for d in derived.derivations]


def doubled(d: ir.Derivation) -> ir.Derivation:
    """``d`` with every coefficient doubled (a planted mistake)."""
    terms = tuple(dataclasses.replace(t, coefficient=2 * t.coefficient) for t in d.rhs.terms)
    return dataclasses.replace(d, rhs=dataclasses.replace(d.rhs, terms=terms))


# -- the properties --------------------------------------------------------------------------


def evaluate_equals_oracle(text: str) -> None:
    case = Case.of(text)
    want = case.reference()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = case.program.evaluate(**case.arrays)
    assert list(got) == list(want), "evaluate and the oracle define different tensors"
    for key, value in want.items():
        reads = any(isinstance(f, ir.DerivRef) for s in case.program.equations
                    for p in ir.iter_products(s.rhs) for f in p.factors)
        assert close(got[key], value, 1e-5 if reads else 1e-8), (
            f"{key}: evaluate {got[key]!r} but the oracle {value!r}")


def derive_equals_finite_differences(text: str) -> None:
    case = Case.of(text)
    values = case.reference(stop_after="L")
    wrt = [*case.program.params, *case.intermediates]
    derived = case.program.derive("L", wrt, confirm=False)
    exact = derived.evaluate(**case.arrays)
    rng = np.random.default_rng(1)
    for d in derived.derivations:
        key = d.wrt.key
        base = case.arrays[key] if key in case.arrays else values[key]
        direction = rng.standard_normal(base.shape)
        fd = directional_fd(case, key, base, direction)
        along = float(np.sum(exact[d.key] * direction))
        # rounding in L(X ± h v) is about eps |L| / h (h as in directional_fd)
        h = 1e-6 * max(1e-3, float(np.max(np.abs(base), initial=0.0)))
        noise = 1e-6 + 1e-14 * abs(float(values["L"])) / h
        assert math.isclose(along, fd, rel_tol=1e-5, abs_tol=noise), (
            f"{d.key} = {d.rhs and str(d).split(' = ', 1)[1]}: along a random direction "
            f"derive gives {along}, finite differences {fd}")


def check_judges_exact_and_planted(text: str) -> None:
    case = Case.of(text)
    case.reference(stop_after="L")
    derived = case.program.derive("L", confirm=False)
    lines = claims(derived)
    report = parse(text + "\n".join(lines) + "\n").check(draws=1)
    assert report.ok, f"check fails the exact derivatives:\n{report}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        exact = derived.evaluate(**case.arrays)
    for d in derived.derivations:
        if float(np.max(np.abs(exact[d.key]), initial=0.0)) > 1e-6:
            planted = parse(f"{text}claim {doubled(d)}\n").check(draws=1)
            assert not planted.ok, f"check passes a doubled derivative:\n{planted}"
            return


@settings(max_examples=_examples(1600))
@given(programs(**NARROWED))
def test_evaluate_equals_oracle(text: str) -> None:
    evaluate_equals_oracle(text)


#: Smaller programs for derive and check, which cost far more per program than evaluate.
SMALL = {**NARROWED, "max_equations": 2, "max_factors": 2, "max_depth": 1}


# derive costs about 0.4 s a program here (2 shared CPUs), check about 1.7 s
@settings(max_examples=_examples(400))
@given(programs(**SMALL))
def test_derive_equals_finite_differences(text: str) -> None:
    derive_equals_finite_differences(text)


@pytest.mark.xfail(strict=False, reason=(
    "open: about 1 program in 6 still fails check (exact derivative judged 1/2 of itself "
    "after render and parse, 'indexnet defect' at relative error 0); the programs are kept "
    "in tests/corpus_generated.py"))
@settings(max_examples=_examples(30))
@given(programs(**SMALL))
def test_check_judges_exact_and_planted(text: str) -> None:
    check_judges_exact_and_planted(text)


# -- the corpus: minimal programs the properties found, expected to fail until fixed -------

PROPERTIES = {
    "evaluate": evaluate_equals_oracle,
    "derive": derive_equals_finite_differences,
    "check": check_judges_exact_and_planted,
}


def _set_aside(condition: bool) -> None:
    """Hypothesis's ``assume`` inside a property; a skip for a corpus program run directly."""
    if currently_in_test_context():
        assume(condition)
    elif not condition:
        pytest.skip("the draw is outside the functions' domains or at a kink")


def _corpus_params() -> list[Any]:
    params = []
    for entry in CORPUS:
        marks = [pytest.mark.xfail(strict=True, reason=entry.reason)] if entry.failing else []
        params.append(pytest.param(entry.prop, entry.text, id=entry.name, marks=marks))
    return params


@pytest.mark.parametrize(("prop", "text"), _corpus_params())
def test_corpus(prop: str, text: str) -> None:
    PROPERTIES[prop](text)


def test_strategy_draws_every_builtin() -> None:
    from indexnet.ir.elementwise import FUNCTIONS as BUILTINS

    # a new built-in fails this test until the strategy draws it (or lists it as undrawn)
    assert set(BUILTINS) == set(FUNCTIONS) | {"softmax", "loss"} | set(UNDRAWN)


def test_oracle_disagrees_with_a_wrong_value() -> None:
    # the properties can fail: the oracle tells a wrong value from a right one
    case = Case.of("param W^i_j\nsize i=2, j=3\nL = sum_{ij} tanh(W^i_j)^2\n")
    want = case.oracle.run()
    assert close(case.program.evaluate(**case.arrays)["L"], want["L"])
    assert not close(want["L"] * (1 + 1e-6), want["L"], 1e-8)
