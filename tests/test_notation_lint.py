"""The variance lint: warnings with the clean spelling, errors under strict."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexnet.errors import VarianceError
from indexnet.notation.lint import Lint
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


# -- axes named differently from the declaration (spec 5.9: warnings where a typo hides) ------

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TYPO = "input x^n_d\nparam W^d_h\na^n_h = x^n_d W^h_d\nL = sum_{nh} a^n_h\n"


def axes(text: str) -> list[Lint]:
    return [w for w in parse(text).warnings if w.kind == "axes"]


def test_swapped_letters_of_a_declared_tensor_warn_naming_both_lines() -> None:
    (warning,) = axes(TYPO)
    assert (warning.line, warning.column) == (3, 15)
    assert warning.message == ("W^h_d names W's axes h, d but W is declared W^d_h (line 2): "
                               "this forces h and d to one size; did you mean W^d_h or Wᵀ_d^h?")
    assert warning.suggestion == "W^d_h"
    assert str(warning).startswith("line 3, column 15: W^h_d names W's axes h, d")
    # the variance warnings of the same line are still there, of their own kind
    assert {w.kind for w in parse(TYPO).warnings} == {"variance", "axes"}


@pytest.mark.parametrize(("text", "start"), [
    # a defined tensor, read with its letters swapped
    ("input x^n_d\nparam W^d_h\na^n_h = x^n_d W^d_h\nL = sum_{nh} a^h_n",
     "a^h_n names a's axes h, n but a is defined a^n_h (line 3): this forces h and n"),
    # a derivative atom names its tensor's axes too
    ("input x^n_d\nparam W^d_h\nL = sum_{nh} x^n_d W^d_h\ng^h_d = dL/dW^h_d",
     "W^h_d names W's axes h, d but W is declared W^d_h (line 2)"),
    # a ᵀ that lands the letters on the other axes (what the variance lint would suggest)
    ("input x^n_d\nparam W^d_h\na^n_h = x^n_d Wᵀ_h^d",
     "Wᵀ_h^d names W's axes h, d but W is declared W^d_h (line 2)"),
    # one letter of the declaration on another axis, the other a fresh letter
    ("input x^n_d\nparam W^d_h\na^n_k = x^n_d W^h_k", "W^h_k names W's axes h, k"),
    # a permutation of three axes
    ("input T^{abc}\nU^{abc} = T^{bca}",
     "T^{bca} names T's axes b, c, a but T is declared T^{abc} (line 1): this forces b, c and "
     "a to one size; did you mean T^{abc}?"),
    # a square matrix's transpose without ᵀ, when nothing else makes it square
    ("input A^i_j\nS^i_j = A^i_j + A^j_i", "A^j_i names A's axes j, i"),
    # document form, labelled names
    ("input ^n(x)_d\nparam (w_ℓ)^d_h\n^n(a)_h = ^n(x)_d (w_ℓ)^h_d",
     "(w_ℓ)_d^h names w_ℓ's axes h, d but w_ℓ is declared (w_ℓ)_h^d (line 2)"),
])
def test_axes_named_as_another_axis_warn(text: str, start: str) -> None:
    (warning,) = axes(text)
    assert warning.message.startswith(start)
    assert warning.line == text.count("\n") + 1


def test_every_misnamed_use_warns_even_when_repeated() -> None:
    text = TYPO + "b^n_h = x^n_d W^h_d\n"
    assert [(w.line, w.column) for w in axes(text)] == [(3, 15), (5, 15)]


@pytest.mark.parametrize("text", [
    "input A^i_j, x^j\ny^i = A^i_j x^j",                        # the declared letters
    "input A^i_j\nt = eye_i^j A^i_j",                            # eye
    "input A^i_j\nt = A^i_i\nd^i = A^i_i",                       # a trace, a diagonal
    "input x^n_d, δ^n_h\ng^d_h = xᵀ_n^d δ^n_h",                  # a transpose with ᵀ
    "input Q^q_e, K^m_e\nS^q_m = Q^q_e Kᵀ^e_m",
    "input A^i_j, x^j\ny^i = A^i_j x^j\nz^i = A^i_j y^j",        # A(Ax): y^j, fresh letter
    "input h^n_i\nparam W^i_j\nh1^n_j = tanh(h^n_i W^i_j)\nh2^n_j = tanh(h1^n_i W^i_j)",
    "input W^d_h\nparam x^n_i\na^n_j = x^n_i W^i_j",             # renamed letters only
    # a square matrix: A + Aᵀ is fine where a vector on both sides makes i and j one size
    "input A^i_j, x^j\ny^i = (A^i_j + A^j_i) x^j\nL = y^i x^i",
    "input A^i_j, x^j\ny^i = (A^i_j + Aᵀ^i_j) x^j\nL = y^i x^i",
    # ... or a trace, or eye, elsewhere
    "input A^i_j\nt = A^i_i\nhad^i_j = A^i_j ⊙ Aᵀ^i_j",
    "input A^i_j\nt = eye_i^j A^i_j\nB^i_j = A^j_i",
    # claims never force a size (check judges them), and programs without declarations
    # have no declared layout to compare with
    "input x^n_d\nparam W^d_h\nL = sum_{nh} x^n_d W^d_h\nclaim dL/dW^d_h = x^n_d W^h_d",
    "y^i = A^i_j x^j + A^j_i x^j",
])
def test_legitimate_uses_do_not_warn(text: str) -> None:
    assert axes(text) == []


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.ix")), ids=lambda p: p.name)
def test_the_examples_have_no_axes_warning(path: Path) -> None:
    assert axes(path.read_text(encoding="utf-8")) == []


def test_strict_makes_axes_warnings_errors() -> None:
    text = "input A^i_j, x_j\ny_i = A^j_i x_j"  # variance-clean: only the axes warning
    (warning,) = parse(text).warnings
    assert warning.kind == "axes"
    with pytest.raises(VarianceError) as info:
        parse(text, strict=True)
    assert (info.value.line, info.value.column) == (2, 7)
    assert "A^j_i names A's axes j, i but A is declared A^i_j (line 1)" in str(info.value)
