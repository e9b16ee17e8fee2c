"""The variance lint: warnings with the clean spelling, errors under strict."""

from __future__ import annotations

import pytest

from indexnet.errors import VarianceError
from indexnet.program import parse


def warnings(text: str) -> list[str]:
    return [w.message for w in parse(text).warnings]


@pytest.mark.parametrize("text", [
    "a^n_h = x^n_d W^d_h + b_h",
    "g^d_h = xᵀ_n^d δ^n_h",
    "^d(g)_h = _n(x^T)^d ^n(δ)_h",
    "s = x_i A^i_j x^j",
    "t = A^i_i",
    "d^n_h = f'(a^n_h) ⊙ e^n_h",
    "L = -sum_{nk} y^n_k log(p^n_k)",
    "s = sum_d a^d b^d",  # an explicit sum states the intent
])
def test_clean_programs_have_no_warnings(text: str) -> None:
    assert warnings(text) == []


def test_a_sum_over_two_upper_positions_shows_the_clean_spelling() -> None:
    (first, second) = parse("g^d_h = x^n_d δ^n_h").warnings
    assert first.message.startswith("n is summed over two upper positions (x^n_d, δ^n_h)")
    assert first.suggestion == "xᵀ_n^d δ^n_h"
    assert (first.line, first.column) == (1, 9)
    assert second.message.startswith("d is upper on the left but lower in x^n_d")


def test_a_sum_over_two_lower_positions() -> None:
    (warning, *_) = parse("a^n_h = x^n_d W_d^h").warnings
    assert warning.message.startswith("d is summed over two lower positions")
    assert warning.suggestion == "x^n_d Wᵀ_h^d"


def test_a_free_index_keeps_its_position() -> None:
    (warning,) = parse("a^n_h = x^n_d W^d^h").warnings
    assert warning.message.startswith("h is lower on the left but upper in W^{dh}")


def test_a_free_index_repeated_inside_a_product_suggests_another_letter() -> None:
    found = warnings("g^d = Xᵀ_n^d (X^n_d w^d - y^n)")
    assert any("d is free (it is on the left), so X^n_d w^d is not summed over d (rule 1)" in m
               and "use another letter: X^n_e w^e" in m for m in found)


def test_an_index_summed_once_by_rule_4() -> None:
    (warning,) = parse("db_k = delta^n_k").warnings
    assert warning.message.startswith("n occurs once (delta^n_k) and is summed by rule 4")
    assert warning.suggestion == "sum_n delta^n_k"


def test_strict_makes_warnings_errors() -> None:
    with pytest.raises(VarianceError) as info:
        parse("input x^n_d, y^n_h\ng^d_h = x^n_d y^n_h", strict=True)
    assert (info.value.line, info.value.column) == (2, 9)
    assert "the clean spelling: xᵀ_n^d y^n_h" in str(info.value)
    parse("input x^n_d, y^n_h\ng^d_h = xᵀ_n^d y^n_h", strict=True)
