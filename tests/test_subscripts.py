"""Parsing einsum strings: errors with positions, canonical form, NumPy's implicit mode.

The generated formulas come from :mod:`indexnet.strategies`, whose own
argument checks and guarantees are tested at the end of this module.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
import pytest
from corpus import CORPUS, cases
from hypothesis import example, given
from hypothesis import strategies as st

import indexnet
from indexnet import (
    FormulaSyntaxError,
    IndexnetError,
    InvalidArgumentError,
    OperandCountError,
    SizeMismatchError,
    Subscripts,
    contract,
    parse_subscripts,
)
from indexnet.einsum.subscripts import index_sizes as sizes_of
from indexnet.strategies import (
    einsum_equations,
    einsum_problems,
    einsum_shapes,
    example_problem,
    index_sizes,
)

parse = parse_subscripts


# -- syntax errors: a position, a caret, a cause ------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "cause"),
    [
        ("nd,dh->nH", 8, "output index 'H' occurs in no input"),
        ("n1,dh->nh", 1, "character '1' is not an index"),
        ("nd,dh->n h", None, None),  # spaces are ignored: no error
        ("nd;dh->nh", 2, "character ';' is not an index"),
        ("ij->i->j", 5, "'->' occurs twice"),
        ("i.j->ij", 1, "'.' is allowed only as the ellipsis '...'"),
        ("i..->i", 1, "'.' is allowed only as the ellipsis '...'"),
        ("......->...", 3, "a term may hold only one ellipsis"),
        ("...i->......", 9, "a term may hold only one ellipsis"),
        ("ij->ii", 5, "output index 'i' occurs twice"),
        ("ij,jk->kik", 9, "output index 'k' occurs twice"),
        ("ij-k", 2, "'-' must be followed by '>'"),
        ("ij-", 2, "'-' must be followed by '>'"),
        ("ij>k", 2, "'>' must follow '-'"),
        ("ij->i,j", 5, "',' after '->'"),
        ("i->...", 3, "the output has '...' but no input does"),
        ("i->i...", 4, "the output has '...' but no input does"),
    ],
)
def test_syntax_errors_name_position_and_cause(
    text: str, position: int | None, cause: str | None
) -> None:
    if cause is None or position is None:
        parse(text)
        return
    with pytest.raises(FormulaSyntaxError) as info:
        parse(text)
    err = info.value
    assert err.position == position
    assert err.source == text
    assert err.message.startswith(cause)
    lines = str(err).splitlines()
    assert lines[0] == f"{err.message} (at position {position})"
    assert lines[1] == f"  {text}"
    assert lines[2] == "  " + " " * position + "^"  # the caret sits under the fault
    assert isinstance(err, IndexnetError) and isinstance(err, ValueError)


def test_non_string_is_a_syntax_error() -> None:
    with pytest.raises(FormulaSyntaxError, match="must be a string"):
        parse(["ij"])  # type: ignore[arg-type]


@given(text=st.text(alphabet="ab,->. A1", max_size=12))
@example(text="--->")
@example(text="...")
@example(text="..")
def test_any_text_parses_or_raises_a_positioned_error(text: str) -> None:
    try:
        parsed = parse(text)
    except FormulaSyntaxError as err:
        assert err.position is not None and 0 <= err.position < len(text)
        assert str(err).splitlines()[-1].index("^") == 2 + err.position
    else:
        assert parse(str(parsed)) == parsed
        letters = set(text) - set(" ,->.")
        assert set(parsed.letters) == letters


# -- errors once the shapes are known ------------------------------------------------------


def test_operand_count_mismatch() -> None:
    with pytest.raises(OperandCountError) as info:
        parse("ij,jk->ik", ndims=(2,))
    assert "'ij,jk->ik' has 2 input term(s) but 1 operand(s)" in str(info.value)
    with pytest.raises(OperandCountError):
        contract("ij,jk->ik", np.ones((2, 3)), np.ones((3, 4)), np.ones(2))
    assert issubclass(OperandCountError, IndexnetError)
    assert issubclass(OperandCountError, ValueError)


def test_disagreeing_sizes_name_index_operands_axes_and_sizes() -> None:
    with pytest.raises(SizeMismatchError) as info:
        sizes_of(parse("nd,dh->nh"), [(5, 3), (2, 4)])
    assert str(info.value) == (
        "index 'd' has size 3 in operand 0 ('nd', axis 1) but 2 in operand 1 ('dh', axis 0)"
    )
    with pytest.raises(SizeMismatchError) as info:
        contract("ij,kj->ik", np.ones((2, 3)), np.ones((4, 5)))
    message = str(info.value)
    for part in ("index 'j'", "size 3", "operand 0", "axis 1", "5 in operand 1", "'kj'"):
        assert part in message


def test_size_one_broadcasts_but_nothing_else_does() -> None:
    assert sizes_of(parse("ij,ij->"), [(1, 3), (2, 3)]) == {"i": 2, "j": 3}
    assert sizes_of(parse("ij,ij->"), [(2, 3), (1, 3)]) == {"i": 2, "j": 3}
    assert sizes_of(parse("i,i,i->"), [(1,), (0,), (1,)]) == {"i": 0}
    with pytest.raises(SizeMismatchError, match="index 'i' has size 2 in operand 1"):
        sizes_of(parse("i,i,i->"), [(1,), (2,), (3,)])


@pytest.mark.parametrize(
    ("subscripts", "shape", "axes"),
    [
        ("ii->", (1, 3), "axis 0) but 3"),
        ("iij->j", (2, 1, 4), "axis 0) but 1"),
        ("jii", (2, 3, 1), "axis 1) but 1"),
    ],
)
def test_a_diagonal_needs_equal_axes(subscripts: str, shape: tuple[int, ...], axes: str) -> None:
    # NumPy refuses to broadcast within a diagonal; so must indexnet, with its own error
    with pytest.raises(ValueError):
        np.einsum(subscripts, np.ones(shape))
    with pytest.raises(SizeMismatchError) as info:
        contract(subscripts, np.ones(shape))
    assert "repeated in one term" in str(info.value) and axes in str(info.value)


def test_ndim_mismatch() -> None:
    with pytest.raises(SizeMismatchError, match=r"operand 0 \('ij'\) has 2 indices but its array"):
        parse("ij->", ndims=(3,))
    with pytest.raises(SizeMismatchError, match=r"names 2 indices besides '\.\.\.'"):
        parse("...ij->...", ndims=(1,))
    with pytest.raises(SizeMismatchError, match="has shape"):
        sizes_of(parse("ij->"), [(2, 3, 4)])


def test_ellipsis_axes_need_an_output_ellipsis() -> None:
    with pytest.raises(FormulaSyntaxError, match="covers 2 axis/axes but the output has no"):
        parse("...i->i", ndims=(3,))
    assert str(parse("...i->i", ndims=(1,))) == "i->i"  # zero ellipsis axes are fine


# -- canonical form ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("nd,dh->nh", "nd,dh->nh"),
        ("nd,dh", "nd,dh->hn"),
        ("ii", "ii->"),
        ("ij,ji", "ij,ji->"),
        ("ba", "ba->ab"),
        ("bA,aB", "bA,aB->ABab"),
        (" i j , j k -> i k ", "ij,jk->ik"),
        ("", "->"),
        (",", ",->"),
        ("...i,i", "...i,i->..."),
    ],
)
def test_canonical_form(text: str, canonical: str) -> None:
    assert str(parse(text)) == canonical
    assert parse(canonical) == parse(text)


def test_subscripts_properties() -> None:
    s = parse("nd,dh->nh")
    assert s == Subscripts(("nd", "dh"), "nh")
    assert (s.letters, s.summed) == ("ndh", "d")
    assert parse("...i,i->...", ndims=(3, 1)).inputs == ("YZi", "i")
    assert parse("i...,...j->...ij", ndims=(2, 3)) == Subscripts(("iZ", "YZj"), "YZij")


@given(
    subscripts=einsum_equations(allow_ellipsis=True, letters=string.ascii_letters[:12]),
    spaces=st.lists(st.integers(0, 20), max_size=3),
)
def test_canonical_form_round_trips(subscripts: str, spaces: list[int]) -> None:
    parsed = parse(subscripts)
    assert parse(str(parsed)) == parsed
    assert str(parse(str(parsed))) == str(parsed)
    spaced = subscripts
    for at in spaces:
        at = min(at, len(spaced))
        if spaced[at - 1 : at + 1] not in ("->", ".."):  # not inside '->' or '...'
            spaced = spaced[:at] + " " + spaced[at:]
    assert parse(spaced) == parsed


@given(subscripts=einsum_equations(allow_ellipsis=True, implicit=True, letters="abcdABCD"))
def test_implicit_canonical_form_round_trips(subscripts: str) -> None:
    parsed = parse(subscripts)
    assert parse(str(parsed)) == parsed
    assert "..." not in parsed.output or parsed.output.startswith("...")


@given(problem=einsum_problems(allow_ellipsis=True, max_side=3))
@example(problem=example_problem("...ij,...jk->...ik", (2, 1, 3, 4), (3, 4, 5)))
def test_resolved_formula_means_what_the_original_means(
    problem: tuple[str, list[np.ndarray]],
) -> None:
    subscripts, arrays = problem
    parsed = parse(subscripts, ndims=[a.ndim for a in arrays])
    assert "..." not in str(parsed)
    expected = np.einsum(subscripts, *arrays, optimize=False)
    np.testing.assert_allclose(np.einsum(str(parsed), *arrays, optimize=False), expected)
    sizes = sizes_of(parsed, [a.shape for a in arrays])
    assert tuple(sizes[c] for c in parsed.output) == expected.shape


# -- implicit mode is NumPy's --------------------------------------------------------------


@given(
    problem=einsum_problems(
        max_side=3, allow_ellipsis=True, implicit=True, letters="abcdeABCDE"
    )
)
@example(problem=example_problem("bA,aB", (2, 3), (4, 5)))
@example(problem=example_problem("...ij,...jk", (2, 3, 4), (4, 5)))
def test_implicit_output_is_numpys(problem: tuple[str, list[np.ndarray]]) -> None:
    subscripts, arrays = problem
    assert "->" not in subscripts
    expected = np.einsum(subscripts, *arrays, optimize=False)
    parsed = parse(subscripts, ndims=[a.ndim for a in arrays])
    sizes = sizes_of(parsed, [a.shape for a in arrays])
    assert tuple(sizes[c] for c in parsed.output) == expected.shape
    got = contract(subscripts, *arrays)
    assert np.shape(got) == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-9)


@pytest.mark.parametrize(("subscripts", "shapes"), cases("implicit"))
def test_corpus_implicit_output_is_numpys(subscripts: str, shapes: list[tuple[int, ...]]) -> None:
    _, arrays = example_problem(subscripts, *shapes)
    expected = np.einsum(subscripts, *arrays, optimize=False)
    # the canonical explicit form, given to NumPy, gives the same answer
    explicit = str(parse(subscripts, ndims=[a.ndim for a in arrays]))
    np.testing.assert_allclose(np.einsum(explicit, *arrays, optimize=False), expected)


@pytest.mark.parametrize(("subscripts", "shapes"), cases())
def test_corpus_formulas_parse_and_fit(subscripts: str, shapes: list[tuple[int, ...]]) -> None:
    parsed = parse(subscripts, ndims=[len(s) for s in shapes])
    sizes = sizes_of(parsed, shapes)
    assert set(sizes) == set(parsed.letters)
    assert parse(str(parsed)) == parsed


# -- the strategies behind these tests -----------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "kwargs", "message"),
    [
        (einsum_equations, {"min_operands": 0}, "min_operands=0 must be at least 1"),
        (einsum_equations, {"min_operands": 3, "max_operands": 2}, "greater than max_operands"),
        (einsum_equations, {"max_dims": -1}, "max_dims=-1"),
        (einsum_equations, {"max_dims": 2.0}, "max_dims must be an integer"),
        (einsum_equations, {"max_operands": True}, "must be an integer"),
        (einsum_equations, {"letters": ""}, "non-empty string"),
        (einsum_equations, {"letters": "ab1"}, "holds '1'"),
        (einsum_equations, {"letters": "aba"}, "a letter twice"),
        (einsum_equations, {"allow_repeated": "yes"}, "allow_repeated must be True or False"),
        (einsum_equations, {"implicit": None}, "implicit must be True or False"),
        (einsum_equations, {"max_dims": 0, "allow_scalars": False}, "only scalar terms"),
        (einsum_problems, {"min_side": 3, "max_side": 2}, "min_side=3 is greater than"),
        (einsum_problems, {"max_side": 1, "allow_size_one": False, "allow_size_zero": False},
         "no axis size is possible"),
        (einsum_problems, {"dtype": "not a dtype"}, "is not a NumPy dtype"),
        (einsum_problems, {"dtype": object}, "not numeric"),
        (einsum_problems, {"elements": [1.0]}, "must be a Hypothesis strategy"),
        (einsum_problems, {"letters": "ab c"}, "holds ' '"),
        (index_sizes, {"letters": 3}, "letters must be a string"),
        (index_sizes, {"letters": "ab", "min_side": -1}, "min_side=-1"),
        (einsum_shapes, {"subscripts": "ij->k"}, "occurs in no input"),
        (einsum_shapes, {"subscripts": ["ij"]}, "must be a string"),
        (einsum_shapes, {"subscripts": "ij", "max_dims": "4"}, "max_dims must be an integer"),
        (example_problem, {"subscripts": "ij", "shapes": [(2, -1)]}, "must be at least 0"),
        (example_problem, {"subscripts": "ij", "shapes": [5]}, "must be a tuple"),
        (example_problem, {"subscripts": "ij", "shapes": [(2, 2)], "dtype": "U3"}, "not numeric"),
        (example_problem, {"subscripts": "ij,jk", "shapes": [(2, 3), (4, 2)]}, "index 'j'"),
        (example_problem, {"subscripts": "ij,jk", "shapes": [(2, 3)]}, "2 input term"),
        (example_problem, {"subscripts": "ij->", "shapes": [(2,)]}, "1 dimension"),
    ],
)
def test_strategies_reject_bad_arguments_at_once(
    factory: Any, kwargs: dict[str, Any], message: str
) -> None:
    args = []
    if "letters" in kwargs and factory is index_sizes:
        args.append(kwargs.pop("letters"))
    if "subscripts" in kwargs:
        args.append(kwargs.pop("subscripts"))
    args += kwargs.pop("shapes", [])
    # raised by the call itself, before any example is drawn
    with pytest.raises(InvalidArgumentError, match=message):
        factory(*args, **kwargs)


@given(
    data=st.data(),
    min_operands=st.integers(1, 3),
    extra=st.integers(0, 2),
    max_dims=st.integers(1, 4),
    letters=st.sampled_from(["ab", "abcdefgh", "xyzXYZ"]),
    allow_repeated=st.booleans(),
    allow_ellipsis=st.booleans(),
    allow_scalars=st.booleans(),
    implicit=st.booleans(),
)
def test_equations_keep_to_their_arguments(
    data: st.DataObject,
    min_operands: int,
    extra: int,
    max_dims: int,
    letters: str,
    allow_repeated: bool,
    allow_ellipsis: bool,
    allow_scalars: bool,
    implicit: bool,
) -> None:
    subscripts = data.draw(
        einsum_equations(
            min_operands=min_operands,
            max_operands=min_operands + extra,
            max_dims=max_dims,
            letters=letters,
            allow_repeated=allow_repeated,
            allow_ellipsis=allow_ellipsis,
            allow_scalars=allow_scalars,
            implicit=implicit,
        )
    )
    parsed = parse(subscripts)  # valid: no error
    assert ("->" not in subscripts) == implicit
    assert min_operands <= len(parsed.inputs) <= min_operands + extra
    assert set(parsed.letters) <= set(letters)
    for term in (*parsed.inputs, parsed.output):
        plain = term.replace("...", "")
        assert len(plain) <= max_dims or (term == parsed.output and implicit)
        assert allow_ellipsis or "..." not in term
    for term in parsed.inputs:
        plain = term.replace("...", "")
        assert allow_repeated or len(set(plain)) == len(plain)
        assert allow_scalars or term


@given(
    data=st.data(),
    min_side=st.integers(0, 3),
    span=st.integers(0, 2),
    allow_size_one=st.booleans(),
    allow_size_zero=st.booleans(),
)
def test_problems_keep_to_their_arguments(
    data: st.DataObject, min_side: int, span: int, allow_size_one: bool, allow_size_zero: bool
) -> None:
    max_side = min_side + span
    possible = {n for n in range(min_side, max_side + 1) if n != 1 or allow_size_one}
    if not allow_size_zero:
        possible.discard(0)
    if not possible:
        return
    subscripts, arrays = data.draw(
        einsum_problems(
            max_operands=3,
            max_dims=3,
            allow_ellipsis=True,
            min_side=min_side,
            max_side=max_side,
            allow_size_one=allow_size_one,
            allow_size_zero=allow_size_zero,
        )
    )
    parsed = parse(subscripts, ndims=[a.ndim for a in arrays])  # shapes fit the formula
    sizes = sizes_of(parsed, [a.shape for a in arrays])
    # a size-1 axis may broadcast against nothing, and so leave its index at size 1
    assert set(sizes.values()) <= possible | ({1} if allow_size_one else set())
    for array in arrays:
        assert array.dtype == np.float64 and array.ndim <= 3
        assert set(array.shape) <= possible | ({1} if allow_size_one else set())
        assert np.all(np.abs(array) <= 2)
    np.einsum(subscripts, *arrays, optimize=False)  # NumPy accepts every problem


@given(shapes=einsum_shapes("ii,i...,...j->...j", max_dims=3, min_side=2))
def test_shapes_fit_numpy(shapes: list[tuple[int, ...]]) -> None:
    (d0, d1), dot, jay = shapes
    assert d0 == d1  # a diagonal's axes are equal
    assert len(dot) <= 3 and len(jay) <= 3
    arrays = [np.ones(s) for s in shapes]
    assert np.einsum("ii,i...,...j->...j", *arrays).shape == contract(
        "ii,i...,...j->...j", *arrays
    ).shape


@given(sizes=index_sizes("abc", min_side=0, max_side=2, allow_size_one=False))
def test_index_sizes_strategy(sizes: dict[str, int]) -> None:
    assert list(sizes) == ["a", "b", "c"]
    assert set(sizes.values()) <= {0, 2}


def test_example_problem_is_deterministic() -> None:
    first = example_problem("ij,jk->ik", (2, 3), (3, 4))
    second = example_problem("ij,jk->ik", (2, 3), (3, 4))
    assert first[0] == second[0] == "ij,jk->ik"
    for a, b in zip(first[1], second[1], strict=True):
        np.testing.assert_array_equal(a, b)
    _, (ints,) = example_problem("i", (5,), dtype="int8")
    assert ints.dtype == np.int8 and np.all(np.abs(ints) <= 3)
    _, (zs,) = example_problem("i", (5,), dtype=complex)
    assert zs.dtype == np.complex128 and np.any(zs.imag != 0)


def test_the_corpus_is_valid_for_numpy() -> None:
    assert set(CORPUS) >= {
        "seed", "hadamard", "trace_diagonal", "outer", "gemm", "batched", "tensordot",
        "broadcast_one", "ellipsis", "scalars", "size_zero", "implicit", "past_failures",
    }
    for entries in CORPUS.values():
        for subscripts, shapes in entries:
            np.einsum(subscripts, *[np.ones(s) for s in shapes], optimize=False)


def test_package_exports() -> None:
    assert indexnet.parse_subscripts is parse
    assert issubclass(FormulaSyntaxError, IndexnetError)
    assert issubclass(FormulaSyntaxError, ValueError)
