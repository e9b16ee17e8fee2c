"""Meaning: the scope rules of INDEX-LANGUAGE.md section 2, names, sizes, and their errors."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from indexnet import ir
from indexnet.errors import NotSupportedError, ProgramError, ProgramSizeError
from indexnet.program import parse


def einsums(text: str) -> list[str]:
    return parse(text).equations[-1].einsums()


# -- the rules, with the contract's own examples -------------------------------------------------


@pytest.mark.parametrize(("text", "expected", "free", "summed"), [
    # rule 7
    ("a^n_h = x^n_d W^d_h", ["nd,dh->nh"], "nh", "d"),
    ("g^d_h = xᵀ_n^d δ^n_h", ["nd,nh->dh"], "dh", "n"),
    # rule 2: a term lacking free indices is broadcast
    ("a^n_h = x^n_d W^d_h + b_h", ["nd,dh->nh"], "nh", "d"),
    # rule 1: a free index repeated in a product is a Hadamard product
    ("d^n_h = f'(a^n_h) ⊙ e^n_h", ["nh,nh->nh"], "nh", ""),
    # rule 2: a tensor reference repeating a letter: trace and diagonal
    ("t = A^i_i", ["ii->"], "", "i"),
    ("t^i = A^i_i", ["ii->i"], "i", ""),
    # rule 3: summed inside the function
    ("a^n_h = sigmoid(x^n_d W^d_h)", ["nd,dh->nh"], "nh", "d"),
    ("L = lambda/2 (W1^d_h W1^d_h + W2^h_k W2^h_k)", ["dh,dh->", "hk,hk->"], "", "dhk"),
    # rule 4: at a whole term, every non-free index is summed
    ("L = lambda abs(W^d_h)", ["dh->"], "", "dh"),
    ("db_k = delta^n_k", ["nk->k"], "k", "n"),
    # rule 5: an explicit sum, even of a free index
    ("s = sum_d a^d b_d", ["d,d->"], "", "d"),
    ("y^n = sum_n x^n", ["n->"], "n", "n"),
    ("y^n_h = exp(a^n_h) / sum_h exp(a^n_h)", ["nh->n", "nh,n->nh"], "nh", "h"),
    # rule 8 makes i and j one size, and the product is one einsum
    ("s = x^i A^i_j x^j", ["i,ij,j->"], "", "ij"),
    # the seed's fused back-propagation
    ("d^n_h = f'(a^n_h) ⊙ δ^n_k wᵀ^k_h", ["nh,nk,hk->nh"], "nh", "k"),
])
def test_scope_rules(text: str, expected: list[str], free: str, summed: str) -> None:
    eq = parse(text).equations[-1]
    assert eq.einsums() == expected
    assert eq.free == free
    assert sorted(eq.summed) == sorted(summed)


def test_rule_3_keeps_an_index_used_elsewhere_in_the_term() -> None:
    # j is in both factors of the inner product but also outside it: it passes up
    assert einsums("s = (A^i_j B^j_k) C^j") == ["ij,jk,j->"]
    # an inner sum that cannot merge with the product around it stays apart
    assert einsums("y = sigmoid(a^i b^i) c^i") == ["i,i->i", "i,i->"]


def test_parenthesised_products_merge_into_one_einsum() -> None:
    assert einsums("y^i_l = A^i_j (B^j_k C^k_l)") == ["ij,jk,kl->il"]
    assert einsums("s = x^i (A^i_j y^j)") == ["i,ij,j->"]


def test_an_explicit_sum_shadowing_a_letter_stays_apart() -> None:
    eq = parse("y^d = x^d sum_d z^d").equations[0]
    assert eq.einsums() == ["d->"]  # x^d times a scalar needs no einsum
    np.testing.assert_allclose(
        parse("y^d = x^d sum_d z^d").evaluate(x=np.arange(3.0), z=np.ones(3))["y"],
        np.arange(3.0) * 3)


def test_rule_6_one_precedence_left_to_right() -> None:
    program = parse("y = a / b c")
    x = program.evaluate(a=6.0, b=2.0, c=5.0)["y"]
    assert float(x) == 15.0
    product = parse("const lambda = 2\ny^n = lambda/2 (x^n + z^n)").equations[0].rhs.terms[0]
    assert product.coefficient == Fraction(1, 2)
    assert product.consts == (("lambda", 1),)


def test_powers_eye_constants_and_transposes() -> None:
    program = parse("const c = 0.5\ninput A^i_j, x^i\n"
                    "p^i = c x^i^2\nt = eye^i_j A^i_j\nr^j_i = Aᵀ^j_i")
    rng = np.random.default_rng(0)
    a, x = rng.normal(size=(3, 3)), rng.normal(size=3)
    out = program.evaluate(A=a, x=x)
    np.testing.assert_allclose(out["p"], 0.5 * x**2)
    np.testing.assert_allclose(out["t"], np.trace(a))
    np.testing.assert_allclose(out["r"], a.T)  # Aᵀ^j_i names the array Aᵀ


def test_act_declarations_and_labels() -> None:
    program = parse("input ^n(a_ℓ)_h\nact f = tanh\nact f_ℓ = sigmoid\n"
                    "^n(x_1)_h = f_ℓ(^n(a_ℓ)_h)\n^n(x_2)_h = f(^n(a_ℓ)_h)\n"
                    "^n(x_3)_h = f'_{ℓ+1}(^n(a_ℓ)_h)")
    a = np.linspace(-1, 1, 6).reshape(2, 3)
    out = program.evaluate(**{"a_ℓ": a})
    np.testing.assert_allclose(out["x_1"], 1 / (1 + np.exp(-a)))
    np.testing.assert_allclose(out["x_2"], np.tanh(a))
    np.testing.assert_allclose(out["x_3"], 1 - np.tanh(a) ** 2)  # the label falls back to f


def test_softmax_and_loss() -> None:
    program = parse("input a^n_k, y^n_k\np^n_k = softmax[k](a^n_k)\n"
                    "L = sum_{nk} loss(y^n_k, p^n_k)\ng^n_k = loss'(y^n_k, p^n_k)")
    rng = np.random.default_rng(1)
    a, y = rng.normal(size=(2, 3)), np.eye(3)[[0, 2]]
    out = program.evaluate(a=a, y=y)
    e = np.exp(a - a.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    np.testing.assert_allclose(out["p"], p)
    np.testing.assert_allclose(out["L"], -(y * np.log(p)).sum())
    np.testing.assert_allclose(out["g"], -y / p)


def test_a_function_name_that_is_a_tensor_multiplies() -> None:
    program = parse("const lambda = 3\ny^n = lambda(x^n + 1)")
    np.testing.assert_allclose(program.evaluate(x=np.ones(2))["y"], [6.0, 6.0])


def test_programs_without_declarations_take_every_unknown_tensor_as_input() -> None:
    program = parse("a^n_h = x^n_d W^d_h + b_h")
    assert program.implicit and program.inputs == ("x", "W", "b")
    assert program.tensors["x"].role == "implicit"


def test_claims_are_lowered_with_their_derivative_atoms() -> None:
    program = parse("input x^n_d\nparam W^d_h\nz^n_h = x^n_d W^d_h\nL = z^n_h z^n_h\n"
                    "claim dL/dW^d_h = 2 xᵀ_n^d z^n_h\n"
                    "claim dL/dx^n_d = 2 dL/dz^n_h Wᵀ^h_d")
    first, second = program.claims
    assert (first.of, first.wrt.key, first.einsums()) == ("L", "W", ["nd,nh->dh"])
    assert second.einsums() == ["nh,dh->nd"]
    assert isinstance(second.rhs.terms[0].factors[0], ir.DerivRef)
    program.evaluate(x=np.ones((2, 3)), W=np.ones((3, 4)))  # claims are not evaluated


def test_derivative_atoms_in_equations_evaluate_to_the_exact_derivative() -> None:
    program = parse("input x^n\nL = x^n x^n\ng^n = dL/dx^n")
    assert program.equations[1].einsums() == []
    x = np.array([1.0, -2.0, 3.0])
    out = program.evaluate(x=x)
    assert list(out) == ["L", "g"]
    np.testing.assert_allclose(out["g"], 2 * x)


def test_a_derivative_of_a_derivative_is_not_supported() -> None:
    program = parse("input x^n\nL = x^n x^n\ng^n = dL/dx^n\nM = g^n g^n\nh^n = dM/dx^n")
    with pytest.raises(NotSupportedError) as info:
        program.evaluate(x=np.ones(3))
    assert (info.value.line, info.value.column) == (3, 7)


# -- errors -------------------------------------------------------------------------------------


def error(text: str, cls: type[ProgramError] = ProgramError) -> ProgramError:
    with pytest.raises(cls) as info:
        parse(text)
    assert info.value.line >= 1 and info.value.column >= 1
    return info.value


def test_unknown_tensor_lists_the_known_ones() -> None:
    err = error("input x^n_d\nparam W^d_h\nconst c = 1\na^n_h = x^n_d V^d_h")
    assert err.message == "unknown tensor 'V'; known tensors: x, W, a; constants: c"
    assert (err.line, err.column) == (4, 15)


def test_disagreeing_terms_name_the_term() -> None:
    err = error("y^n = sigmoid(a^i + b^j)")
    assert "term 2 (b^j) has j, which term 1 (a^i) lacks" in err.message
    assert err.column == 21


@pytest.mark.parametrize(("text", "needle"), [
    ("a = b\nb = 1", "b is used before it is defined (line 2)"),
    ("a = a + 1", "a is used in its own definition"),
    ("a = 1\na = 2", "a is defined twice (first on line 1)"),
    ("input x\ninput x", "x is declared twice"),
    ("input x\nx = 1", "x is declared as input but defined by the equation on line 2"),
    ("const c = 1\ny = c^n", "c is a constant; it takes no indices"),
    ("const c = 1\nconst c = 2", "constant c is declared twice"),
    ("input x^n_d\ny = x^n", "x has 2 indices (x^n_d, line 1) but 1 here"),
    ("y^n = softmax(x^n)", "softmax needs the index it normalises over"),
    ("y^n = softmax[k](x^n)", "its argument has no free index k"),
    ("y^n = sigmoid(x^n, z^n)", "sigmoid takes 1 argument, got 2"),
    ("y^n = sigmoid''(x^n)", "only first derivatives"),
    ("y^n = softmax'[n](x^n)", "softmax' is not elementwise"),
    ("y = exp[k](x)", "exp takes no [index]"),
    ("input x^n\ny^n = g(x^n)", "unknown function 'g'"),
    ("y = sum_n x^m", "sum_n: index n does not occur"),
    ("y^n_n = x^n", "index n appears twice in the left-hand side"),
    ("y^n = xᵀ^n\nzᵀ^n = y^n", "the left-hand side cannot be transposed"),
    ("y = 1/0", "division by zero"),
    ("y = 2^{0.5}", "a number can be raised to a whole power only"),
    ("input x^n : onehot(k)", "onehot(k): x has no index k"),
    ("input x^n : uniform(2, 1)", "uniform(a, b) needs a < b"),
    ("size n=2, n=3", "the size of n is given twice"),
    ("size n=0", "at least 1"),
    ("act sigmoid = tanh", "sigmoid is built in"),
    ("act f = softmax", "softmax needs the index it normalises over"),
    ("act f = tanh[k]", "tanh takes no [index]"),
    ("eye^i_j = 1", "eye is the built-in Kronecker delta"),
    ("y = eye", "eye needs indices"),
])
def test_meaning_errors(text: str, needle: str) -> None:
    assert needle in error(text).message


@pytest.mark.parametrize(("text", "needle"), [
    ("input x^n\nclaim dL/dx^n = x^n", "dL/d…: L is not a tensor of this program"),
    ("input x^n\nL^n = x^n\nclaim dL/dx^n = x^n", "needs a scalar L"),
    ("input x^n\nL = x^n x^n\nclaim dL/dx^n_d = x^n", "x has 1 index (x^n) but 2 here"),
])
def test_a_claim_that_does_not_fit_keeps_its_problem(text: str, needle: str) -> None:
    (claim,) = parse(text).claims
    assert needle in claim.problem and "column" in claim.problem
    assert claim.rhs.terms == ()


# -- sizes (rule 8) -----------------------------------------------------------------------------


def test_one_size_per_index_from_the_arrays() -> None:
    program = parse("input x^n_d\nparam W^d_h\na^n_h = x^n_d W^d_h")
    with pytest.raises(ProgramSizeError) as info:
        program.evaluate(x=np.ones((2, 3)), W=np.ones((5, 4)))
    assert info.value.message == "index 'd' has size 3 in x (axis 1) but 5 in W (axis 0)"
    assert (info.value.line, info.value.column) == (2, 7)


def test_indices_naming_one_axis_share_a_size() -> None:
    program = parse("s = x^i A^i_j x^j")
    assert program.size_model.same("i", "j")
    with pytest.raises(ProgramSizeError) as info:
        program.evaluate(x=np.ones(3), A=np.ones((3, 4)))
    assert "name the same axis" in info.value.message
    assert "3 in x (axis 0) but 4 in A (axis 1)" in info.value.message


def test_array_rank_is_checked() -> None:
    program = parse("input x^n_d\ny^n = x^n_d x^n_d")
    with pytest.raises(ProgramSizeError, match=r"x has 2 indices \(n, d\) but its array has "
                                               r"shape \(3,\)"):
        program.evaluate(x=np.ones(3))


def test_unknown_sizes_are_named() -> None:
    program = parse("input x^n\ny^n_k = x^n")
    with pytest.raises(ProgramSizeError, match="the size of index k is unknown"):
        program.evaluate(x=np.ones(3))
    assert parse("input x^n\nsize k=2\ny^n_k = x^n").evaluate(x=np.ones(3))["y"].shape == (3, 2)


def test_declared_sizes_that_conflict() -> None:
    with pytest.raises(ProgramSizeError, match="name the same axis"):
        parse("size i=2, j=3\ns = x^i A^i_j x^j").random_inputs()


def test_frac_pieces_keep_their_own_letters() -> None:
    """Temporary nodes built for \\frac once shared a letter cache by id (a freed id reused)."""
    latex = parse(r"c_h = \frac{p^h_e}{2} \frac{q^k r_k}{3} s_h \frac{t^h}{1}")
    plain = parse("c_h = 1/6 p^h_e q^k r_k s_h t^h")
    assert latex.einsums()[0][0] == plain.einsums()[0][0]
    arrays = plain.random_inputs({"h": 3, "e": 4, "k": 5}, seed=2)
    np.testing.assert_allclose(latex.evaluate(**arrays)["c"], plain.evaluate(**arrays)["c"])
