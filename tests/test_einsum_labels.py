"""Any number of indices: Unicode letters and NumPy's interleaved form with hashable labels.

Every answer is checked against ``np.einsum(..., optimize=False)`` on the same
formula written in ASCII letters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import opt_einsum
import pytest
from hypothesis import given
from hypothesis import strategies as st
from opt_einsum.testing import rand_equation

from indexnet import FormulaSyntaxError, OperandCountError, contract, parse_subscripts, plan
from indexnet.einsum.subscripts import from_interleaved, is_index
from indexnet.strategies import einsum_problems

GREEK = "αβγδεζηθικλμνξοπρστυφχψω"


def relabel(subscripts: str, mapping: dict[str, Any]) -> str:
    return "".join(mapping.get(c, c) for c in subscripts)


def close(got: Any, expected: Any) -> None:
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-9, atol=1e-9)


@given(problem=einsum_problems(max_operands=3, max_dims=3, max_side=3))
def test_unicode_letters_give_what_ascii_letters_give(
    problem: tuple[str, list[np.ndarray]],
) -> None:
    subscripts, operands = problem
    letters = parse_subscripts(subscripts).letters
    greek = relabel(subscripts, dict(zip(letters, GREEK + "ÀÁÂÃÄÅÆÇ")))
    close(contract(greek, *operands), np.einsum(subscripts, *operands, optimize=False))


@given(
    problem=einsum_problems(max_operands=3, max_dims=3, max_side=3),
    kind=st.sampled_from(["int", "tuple", "str"]),
)
def test_the_interleaved_form_gives_what_the_string_gives(
    problem: tuple[str, list[np.ndarray]], kind: str
) -> None:
    subscripts, operands = problem
    parsed = parse_subscripts(subscripts)
    if any("..." in term for term in (*parsed.inputs, parsed.output)):
        return  # ellipses have their own test below
    label = {"int": lambda i: i * 7, "tuple": lambda i: ("axis", i), "str": lambda i: f"n{i}"}
    names = {c: label[kind](i) for i, c in enumerate(parsed.letters)}
    args: list[Any] = []
    for operand, term in zip(operands, parsed.inputs, strict=True):
        args += [operand, [names[c] for c in term]]
    args.append([names[c] for c in parsed.output])
    close(contract(*args), np.einsum(subscripts, *operands, optimize=False))


def test_interleaved_with_an_ellipsis_and_no_output() -> None:
    a, b = np.arange(24.0).reshape(2, 3, 4), np.arange(4.0)
    close(contract(a, [..., "k"], b, ["k"]), np.einsum("...k,k", a, b))


def test_rand_equation_of_about_100_indices_plans_and_runs() -> None:
    eq, shapes = rand_equation(50, 4, seed=0, d_min=2, d_max=2)[:2]
    assert len(parse_subscripts(eq).letters) > 52
    p = plan(eq, *shapes, optimize="greedy")
    rng = np.random.default_rng(0)
    operands = [rng.random(s) / 2 for s in shapes]
    # NumPy's einsum cannot take ~100 indices at once: opt_einsum's own contraction
    # of the same path (which shares no code with indexnet's kernels) is the reference
    close(p(*operands), opt_einsum.contract(eq, *operands, optimize=p.path))


def test_an_unhashable_label_is_named() -> None:
    with pytest.raises(FormulaSyntaxError, match=r"operand 1's labels: label \[1\] cannot be"):
        contract(np.ones(2), [0], np.ones(2), [[1]])


def test_an_output_label_in_no_operand_is_named() -> None:
    with pytest.raises(FormulaSyntaxError, match="label 'z' is in no operand's labels"):
        contract(np.ones(2), ["a"], ["z"])


def test_interleaved_labels_must_be_a_list() -> None:
    with pytest.raises(FormulaSyntaxError, match="takes a list of labels"):
        from_interleaved([np.ones(2), 3])
    with pytest.raises(OperandCountError):
        from_interleaved([np.ones(2)])


@pytest.mark.parametrize("char", ["1", "_", "$", " ", "\u3000", "!"])
def test_digits_punctuation_and_spaces_are_not_indices(char: str) -> None:
    assert not is_index(char)


def test_a_bad_character_still_names_its_position() -> None:
    with pytest.raises(FormulaSyntaxError, match=r"character '\$' is not an index.*position 4"):
        parse_subscripts("ij,j$->i")
