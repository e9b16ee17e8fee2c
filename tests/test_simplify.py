"""Simplification: Kronecker deltas, like terms, zero terms, powers, domain facts, renaming."""

from __future__ import annotations

from fractions import Fraction

from indexnet import ir
from indexnet.derive.simplify import (
    Simplifier,
    Term,
    fresh_letter,
    multiply,
    rename_term,
    render_term,
    term_key,
    to_product,
)
from indexnet.program import parse

ONE = Fraction(1)


def ref(name: str, upper: str, lower: str = "") -> ir.Ref:
    return ir.Ref(name, None, upper, lower)


def simplify(terms: list[Term], output: str, text: str = "input v^i\ninput A^i_j\nL = v^i v^i",
             **kw: bool) -> list[str]:
    return [render_term(t) for t in Simplifier(parse(text), **kw).sum(terms, output)]


def test_kronecker_deltas_become_renames() -> None:
    t = Term(ONE, (), (ir.Eye("i", "j"), ref("v", "j")), "i")
    assert simplify([t], "i") == ["v^i"]
    t = Term(ONE, (), (ir.Eye("i", "j"), ref("A", "i", "j")), "")
    assert simplify([t], "") == ["sum_i A^i_i"]
    t = Term(ONE, (), (ir.Eye("i", "j"),), "ij")
    assert simplify([t], "ij") == ["eye^i_j"]


def test_like_terms_merge_up_to_renaming_and_zeros_drop() -> None:
    a = Term(ONE, (), (ref("v", "a"), ref("v", "a")), "")
    b = Term(Fraction(2), (), (ref("v", "b"), ref("v", "b")), "")
    assert simplify([a, b], "") == ["3 v^a v^a"]
    assert simplify([a, Term(-ONE, (), a.factors, "")], "") == []
    assert simplify([Term(Fraction(0), (), (ref("v", "i"),), "i")], "i") == []
    assert term_key(a) == term_key(b)


def test_powers_cancel() -> None:
    t = Term(ONE, (), (ref("v", "i"), ir.Inverse(ref("v", "i")), ref("A", "i", "j")), "ij")
    assert simplify([t], "ij") == ["A^i_j"]
    t = Term(ONE, (), (ir.Power(ref("v", "i"), Fraction(2)), ir.Inverse(ref("v", "i"))), "i")
    assert simplify([t], "i") == ["v^i"]


def test_onehot_sums_to_one_only_with_domains() -> None:
    text = "input y^n_k : onehot(k)\ninput p^n_k\nL = y^n_k p^n_k"
    t = Term(ONE, (), (ref("p", "n", "k"), ref("y", "n", "j")), "nk")
    assert simplify([t], "nk", text) == ["p^n_k"]
    assert simplify([t], "nk", text, domains=False) == ["sum_j p^n_k y^n_j"]


def test_calls_that_an_equation_defines_are_named() -> None:
    program = parse("input a^n_k\nyhat^n_k = softmax[k](a^n_k)\nL = sum_{nk} yhat^n_k")
    call = program.equations[0].rhs.terms[0].factors[0]
    assert isinstance(call, ir.Call)
    from indexnet.derive.simplify import rename_factor

    renamed = rename_factor(call, {"n": "m", "k": "j"})
    (t,) = Simplifier(program).sum([Term(ONE, (), (renamed,), "mj")], "mj")
    assert render_term(t) == "yhat^m_j"


def test_renaming_avoids_capture() -> None:
    t = Term(ONE, (), (ref("x", "n", "d"),), "d")
    moved = rename_term(t, {"d": "n"})
    assert moved.output == "n" and moved.factors[0] != ref("x", "n", "n")
    x = Term(ONE, (), (ref("x", "n", "d"),), "n")
    y = Term(ONE, (), (ref("y", "n", "d"),), "n")
    product = multiply(x, y, "n")
    assert len(set(product.bound)) == 2
    assert fresh_letter("abc") == "d"


def test_to_product_writes_sums_and_groups_contractions() -> None:
    t = Term(ONE, (), (ref("d", "n", "k"),), "k")
    assert to_product(t).explicit == "n"
    call = ir.Call("sigmoid", None, 1, None, (ir.Sum((ir.Product(ONE, (), (ref("a", "n", "h"),),
                                                                 "", "", "nh"),), "nh"),), "nh")
    t = Term(ONE, (), (call, ref("e", "n", "k"), ref("W", "h", "k")), "nh")
    p = to_product(t)
    assert isinstance(p.factors[1], ir.Group)
    einsums = [q.einsum for q in ir.iter_products(ir.Sum((p,), "nh")) if q.einsum]
    assert einsums == ["nk,hk->nh", "nh,nh->nh"]


def _derived(text: str) -> list[str]:
    from indexnet.program import parse

    return [str(d) for d in parse(text).derive().derivations]


def test_sqrt_prime_and_negative_powers_read_as_fractions() -> None:
    assert _derived("param v : positive\nparam x : positive\nL = sqrt(v) + 1/x + x^{-2}") == [
        "dL/dv = 1 / (2 sqrt(v))", "dL/dx = -1 / x^2 - 2 / x^3"]
    # the divisors come last, so the fraction reads as one
    assert _derived("param v^i : positive\ninput y^i\nL = sum_i y^i sqrt(v^i)") == [
        "dL/dv^i = y^i / (2 sqrt(v^i))"]
    # with z = sqrt(v) defined, sqrt'(v) is 1/(2 z)
    assert _derived("param v^i : positive\ninput y^i\nz^i = sqrt(v^i)\nL = sum_i y^i z^i") == [
        "dL/dv^i = y^i / (2 z^i)"]


def test_a_power_of_a_parenthesised_monomial_is_spread() -> None:
    # (2 s^2)^{-2} = s^{-4} / 4, which cancels against the 4 and the s beside it
    assert _derived("param s\ninput r^n\nL = sum_n (log s + r^n r^n / (2 s^2))") == [
        "dL/ds = |n| / s - r^n r^n / s^3"]
    # a power of a sum over a letter is no sum of powers: it stays
    assert _derived("param w^d\ninput x^d\nL = (sum_d w^d x^d)^3") == [
        "dL/dw^d = 3 x^d (w^b x^b)^2"]


def test_inner_sums_that_share_a_letter_are_printed_apart() -> None:
    # h is summed inside the call and inside the parenthesis: printed with one letter, the
    # language would read it as one sum outside both (rule 3)
    assert _derived("param g^j, W^h\nsize h=3, j=2\nL = tanh(W^h W^h g^j)")[0] == (
        "dL/dg^j = tanh'(g^j W^h W^h) (W^a W^a)")
