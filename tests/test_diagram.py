"""Tensor-network diagrams and contraction trees: well-formed SVG that matches the formula."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from indexnet import IndexnetError, parse
from indexnet.einsum.compiled import cached_plan
from indexnet.render import contraction_tree, diagram

pytest.importorskip("networkx")

SVG = "{http://www.w3.org/2000/svg}"


def _tree(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed XML


def _classes(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if cls in e.get("class", "").split()]


def _count(root: ET.Element, cls: str) -> int:
    return len(_classes(root, cls))


@pytest.mark.parametrize("subscripts, nodes, edges, legs", [
    ("nd,dh->nh", 2, 1, 2),
    ("ab,bc,cd,de,ea->", 5, 5, 0),
    ("bhqd,bhkd->bhqk", 2, 1, 2),  # d an edge; q, k legs; b, h Hadamard dots
    ("i,i->", 2, 1, 0),
    ("nd->", 1, 0, 0),
])
def test_nodes_edges_and_legs_match_the_einsum(subscripts, nodes, edges, legs):
    root = _tree(diagram(subscripts))
    tensors = [e for e in _classes(root, "node") if "tensor" in e.get("class", "")]
    assert len(tensors) == nodes
    # lines into a dot (a Hadamard or three-way index) end at a node numbered after the tensors
    plain_edges = [e for e in _classes(root, "edge") if int(e.get("data-to")) < nodes]
    assert len(plain_edges) == edges
    direct_legs = [e for e in _classes(root, "leg") if int(e.get("data-node")) < nodes]
    assert len(direct_legs) == legs


def test_every_letter_is_drawn_once_per_occurrence():
    root = _tree(diagram("nd,dh,hk->nk", {"n": 5, "d": 3, "h": 4, "k": 2}))
    labels = {t.text for t in root.iter(f"{SVG}text")}
    assert {"n=5", "d=3", "h=4", "k=2"} <= labels


def test_upper_legs_leave_upward_and_lower_legs_downward():
    eq = parse("^d(g)_h = _n(x^T)^d ^n(δ)_h").equations[0]
    root = _tree(diagram(eq))
    centre = {e.get("data-node"): float(e.get("data-cy")) for e in _classes(root, "node")}
    legs = _classes(root, "leg")
    assert {leg.get("data-index"): leg.get("data-variance") for leg in legs} == {
        "d": "upper", "h": "lower"}
    for leg in legs:
        line = leg.find(f"{SVG}line")
        y1, y2 = float(line.get("y1")), float(line.get("y2"))
        node_y = centre[leg.get("data-node")]
        if leg.get("data-variance") == "upper":
            assert y2 < y1 < node_y
        else:
            assert y2 > y1 > node_y
    # the n-edge joins x's lower leg (below x) to δ's upper leg (above δ): x is drawn above δ
    (edge,) = _classes(root, "edge")
    assert edge.get("data-index") == "n"
    names = {e.get("data-node"): e.get("data-name") for e in _classes(root, "node")}
    assert names[edge.get("data-from")] == "xᵀ" and names[edge.get("data-to")] == "δ"
    assert centre[edge.get("data-from")] < centre[edge.get("data-to")]


def test_hadamard_trace_and_delta_are_told_apart():
    eq = parse("a^n_h = x^n_h y^n_h + A^i_i b^n_h + eye^n_k W^k_h").equations[0]
    root = _tree(diagram(eq))
    assert _count(root, "term") == 3
    hadamard = [e for e in _classes(root, "node") if "hadamard" in e.get("class")]
    assert len(hadamard) == 2  # n and h, each shared by x and y
    (trace,) = _classes(root, "trace")
    assert trace.get("data-index") == "i"
    (delta,) = [e for e in _classes(root, "node") if "delta" in e.get("class")]
    assert delta.find(f"{SVG}circle") is not None
    plain = [e for e in _classes(root, "node") if "tensor" in e.get("class")]
    assert {e.get("data-name") for e in plain} == {"x", "y", "A", "b", "W"}


def test_a_sum_over_one_factor_ends_in_the_ones_vector():
    root = _tree(diagram("nh->h"))
    (summed,) = _classes(root, "sum")
    assert summed.get("data-index") == "n"


def test_more_than_thirty_operands_is_refused():
    big = ",".join("ab" for _ in range(31)) + "->"
    with pytest.raises(IndexnetError, match="too large to draw legibly"):
        diagram(big)
    diagram(",".join("ab" for _ in range(30)) + "->")  # thirty are drawn


def test_a_product_and_a_derivation_draw():
    program = parse("input x^n_d\nparam W^d_h\nL = x^n_d W^d_h x^n_e W^e_h")
    root = _tree(diagram(program.equations[0].rhs.terms[0]))
    assert len([e for e in _classes(root, "node") if "tensor" in e.get("class")]) == 4
    derived = program.derive("L").derivations[0]
    _tree(diagram(derived))


def test_contraction_tree_marks_the_largest_intermediate():
    plan = cached_plan("ab,bc,cd,de->ae", ((20, 3), (3, 40), (40, 5), (5, 60)), "float64",
                       "greedy")
    root = _tree(contraction_tree(plan))
    steps = _classes(root, "step")
    assert len(steps) == len(plan.steps) == 3
    assert _count(root, "leaf") == 4
    (largest,) = _classes(root, "largest")
    texts = [t.text for t in largest.iter(f"{SVG}text")]
    assert f"size {plan.largest_intermediate:,}" in texts and "largest" in texts
    kinds = {t.text for s in steps for t in s.iter(f"{SVG}text")}
    assert "matmul" in kinds and any(t.startswith("FLOPs ") for t in kinds)


def test_side_by_side_shows_two_trees_their_flops_and_the_ratio():
    from indexnet.render import side_by_side

    shapes = ((256, 784), (784, 256), (256, 10))
    greedy = cached_plan("nd,dh,hk->nk", shapes, "float64", "greedy")
    best = cached_plan("nd,dh,hk->nk", shapes, "float64", "optimal")
    svg = side_by_side(greedy, best)
    root = ET.fromstring(svg)
    trees = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "tree"]
    assert [t.get("data-title") for t in trees] == ["greedy", "optimal"]
    for tree, p in zip(trees, (greedy, best)):
        texts = [t.text for t in tree.iter("{http://www.w3.org/2000/svg}text")]
        assert any(t and t.startswith(f"FLOPs {p.flops:,}") for t in texts)
        marked = [g for g in tree.iter("{http://www.w3.org/2000/svg}g")
                  if g.get("class") == "step largest"]
        assert len(marked) >= 1
    assert f"({greedy.flops / best.flops:.2f}× the FLOPs of optimal)" in svg
    with pytest.raises(IndexnetError, match="two plans of one einsum"):
        side_by_side(greedy, cached_plan("nd,dh->nh", shapes[:2], "float64", "greedy"))
