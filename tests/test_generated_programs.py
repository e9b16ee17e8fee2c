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

The strategy runs unnarrowed (:data:`NARROWED` is empty: every construct,
size-1 indices included). The minimal programs on which a property once
failed are kept as regression tests in ``tests/corpus_generated.py``.
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

#: Narrowings of the strategy while a defect is open, each with its corpus entry: none now.
NARROWED: dict[str, Any] = {}

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


def close(got: np.ndarray, want: np.ndarray, rtol: float = 1e-6, noise: float = 0.0) -> bool:
    """Equal to ``rtol`` relative to the larger of 1 and the reference's largest entry.

    ``noise`` is an absolute error the reference itself may carry (central
    differences of a large scalar lose digits to rounding).
    """
    if np.shape(got) != np.shape(want):
        return False
    scale = max(1.0, float(np.max(np.abs(want)))) if np.size(want) else 1.0
    return bool(np.allclose(got, want, rtol=rtol, atol=rtol * scale + noise))


#: The step of central differences, relative to each entry moved (see :func:`direction_for`).
STEP = 1e-6


def direction_for(base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random direction that moves each entry in proportion to its size (at least 1e-3).

    An intermediate may hold entries of wildly different sizes (1e-1 beside
    4e56 after a reciprocal of a tiny softmax); one step for all would be
    far too coarse for the small ones.
    """
    return rng.standard_normal(base.shape) * np.maximum(1e-3, np.abs(base))


def directional_fd(case: Case, key: str, base: np.ndarray, direction: np.ndarray) -> float:
    """dL/dkey along ``direction`` by central differences of the oracle."""
    ends = [case.reference(overrides={key: base + s * STEP * direction}, stop_after="L")["L"]
            for s in (1, -1)]
    return float(ends[0] - ends[1]) / (2 * STEP)


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
        again = case.program.evaluate(**case.arrays)  # remembered: no checks, the same values
    assert list(again) == list(got)
    for key, value in got.items():
        np.testing.assert_array_equal(again[key], value)
        assert not np.shares_memory(again[key], value), key
    assert list(got) == list(want), "evaluate and the oracle define different tensors"
    reads = any(isinstance(f, ir.DerivRef) for s in case.program.equations
                for p in ir.iter_products(s.rhs) for f in p.factors)
    # the oracle's dL/dX resolve no better than eps |L| / step (2e-11 |L|), which products
    # of them multiply: past |L| = 1e8 they say nothing
    _set_aside(not reads or abs(float(want["L"])) < 1e8, "|L| > 1e8: the oracle's dL/dX say "
               "nothing")
    spread = _difference_noise(case, want) if reads else {}
    for key, value in want.items():
        assert close(got[key], value, 1e-5 if reads else 1e-8, spread.get(key, 0.0)), (
            f"{key}: evaluate {got[key]!r} but the oracle {value!r}")


def _difference_noise(case: Case, want: dict[str, np.ndarray]) -> dict[str, float]:
    """How much the oracle's values move when its central differences take twice the step.

    The oracle takes ``dL/dX`` by central differences, which rounding makes
    uncertain by about eps |L| / step; an equation that reads them can
    multiply that by anything (``dL/dt^j dL/dW_k`` beside a large ``dL/dt``).
    The spread between two steps measures it; ten times it is allowed (and
    never less than ten times eps |L| / step).
    """
    other = Oracle(case.program, case.arrays, case.sizes, step=2 * case.oracle.step)
    try:
        again = other.run()
    except ARITHMETIC:
        return {}
    # and at least the rounding of the scalar itself, which a zero spread can hide (both
    # differences 0: L so large that moving an entry does not change it)
    floor = 10 * 2.2e-16 * abs(float(want["L"])) / case.oracle.step
    return {k: max(floor, 10 * float(np.max(np.abs(again[k] - v), initial=0.0)))
            for k, v in want.items() if k in again}


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
        direction = direction_for(base, rng)
        fd = directional_fd(case, key, base, direction)
        along = float(np.sum(exact[d.key] * direction))
        # rounding in L(X ± h v) is about eps |L| / h (h = STEP as in directional_fd)
        noise = 1e-6 + 1e-14 * abs(float(values["L"])) / STEP
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


#: Programs the check property judges under the ci profile (check costs most per program).
CHECKED = 600


@settings(max_examples=_examples(800))
@given(programs(**SMALL))
def test_derive_equals_finite_differences(text: str) -> None:
    derive_equals_finite_differences(text)


@settings(max_examples=_examples(CHECKED))
@given(programs(**SMALL))
def test_check_judges_exact_and_planted(text: str) -> None:
    check_judges_exact_and_planted(text)


# -- the corpus: minimal programs the properties found, expected to fail until fixed -------

PROPERTIES = {
    "evaluate": evaluate_equals_oracle,
    "derive": derive_equals_finite_differences,
    "check": check_judges_exact_and_planted,
}


def _set_aside(condition: bool,
               why: str = "the draw is outside the functions' domains or at a kink") -> None:
    """Hypothesis's ``assume`` inside a property; a skip for a corpus program run directly."""
    if currently_in_test_context():
        assume(condition)
    elif not condition:
        pytest.skip(why)


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
