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
