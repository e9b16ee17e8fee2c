"""Rich display in notebooks (``_repr_svg_``, ``_repr_html_``) and ``explain --svg/--html``."""

from __future__ import annotations

import itertools
import os
import xml.etree.ElementTree as ET

import pytest

from indexnet import parse, plan
from indexnet.check.report import CheckReport, ClaimResult
from indexnet.cli.main import main

pytest.importorskip("networkx")


def test_plan_shows_its_contraction_tree():
    p = plan("nd,dh,hk->nk", (8, 4), (4, 6), (6, 3))
    ET.fromstring(p._repr_svg_())
    html = p._repr_html_()
    assert "<pre>" in html and 'class="indexnet-tree"' in html


def test_equation_and_program_show_math_and_diagram():
    program = parse("a^n_h = x^n_d W^d_h + b_h")
    html = program.equations[0]._repr_html_()
    assert "$$" in html and "<svg" in html
    whole = program._repr_html_()
    assert whole.count('class="indexnet-statement"') == len(program.statements)


def test_check_report_is_a_table_with_pass_and_fail_marked():
    rows = [ClaimResult(4, "dL/dw^d", "claim dL/dw^d = x^n_d", ["nd->d"], True, 0.0),
            ClaimResult(5, "dL/db<", "claim …", [], False, 0.5, "a < b")]
    html = CheckReport(rows, {"n": 2}, 3)._repr_html_()
    ET.fromstring(html.replace("&#1", "&amp;#1"))  # well-formed apart from the entities
    assert html.count('class="pass"') == 1 and html.count('class="fail"') == 1
    assert "dL/db&lt;" in html and "1 of 2 claims hold" in html


def test_one_claim_holds():
    r = ClaimResult(4, "dL/dw^d", "claim dL/dw^d = x^n_d", ["nd->d"], True, 0.0)
    assert str(CheckReport([r], {"n": 2}, 1)).endswith("1 of 1 claim holds (1 draw, sizes n=2)")


def test_explain_writes_svg_and_html(tmp_path, capsys):
    svg, page = tmp_path / "d.svg", tmp_path / "d.html"
    assert main(["explain", "^d(g)_h = _n(x^T)^d ^n(δ)_h", "--sizes", "n=5,d=3,h=4",
                 "--svg", str(svg), "--html", str(page)]) == 0
    ET.fromstring(svg.read_text(encoding="utf-8"))
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text
    assert "http" not in text.replace("http://www.w3.org/2000/svg", "")  # nothing fetched


def test_explain_of_too_many_operands_draws_the_contraction_tree(tmp_path, capsys):
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("ABCDEF")
    einsum = ",".join(a + b for a, b in itertools.pairwise(letters)) + f"->a{letters[-1]}"
    svg = tmp_path / "t.svg"
    assert main(["explain", einsum, "--svg", str(svg)]) == 0
    assert 'class="indexnet-tree"' in svg.read_text(encoding="utf-8")
    assert "too many to draw legibly" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["missing/d.svg", "d.png"])
def test_explain_to_a_path_that_cannot_be_written_is_exit_2(tmp_path, capsys, name):
    assert main(["explain", "nd,dh->nh", "--svg", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err
    assert os.listdir(tmp_path) == []


def test_gradcheck_report_is_a_table_with_pass_and_fail_marked():
    import numpy as np

    from indexnet import gradcheck

    def f(p):
        return float(np.sum(p["W"] ** 2) + np.sum(p["b"]))

    def wrong(p):  # b's gradient is right, W's off by a factor 2
        return {"W": p["W"], "b": np.ones_like(p["b"])}

    rng = np.random.default_rng(0)
    point = {"W": rng.standard_normal((2, 3)), "b": rng.standard_normal(3)}
    report = gradcheck(f, point, wrong, mode="full")
    html = report._repr_html_()
    ET.fromstring(html.replace("&#1", "&amp;#1"))
    assert html.count('class="fail"') == 1 and html.count('class="pass"') == 1
    failed = report.failures[0]
    assert failed.name == "W" and f"{failed.analytic:.10e}" in html
    assert f"{failed.numeric:.10e}" in html and "FAIL" in html.split("<table>")[0]


def test_explain_results_show_as_html():
    from indexnet.cli.explain import explain

    info = explain("^d(g)_h = _n(x^T)^d ^n(δ)_h", {"n": 5, "d": 3, "h": 4})
    html = info._repr_html_()
    assert 'class="indexnet-explain"' in html and "<svg" in html
    assert "nd,nh-&gt;dh" in html and "g = xᵀ δ" in html
