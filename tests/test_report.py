"""``indexnet report``: the page's structure, its self-containedness, every example, bad paths.

The browser test (a real headless Chromium laying the page out) is
``tests/test_report_browser.py``; these need no browser.
"""

from __future__ import annotations

import os
import re
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import indexnet.fileio
from indexnet.cli.main import main
from indexnet.program import parse
from indexnet.report import build_report, mathml, write_report
from indexnet.report.facts import chain_latex, matrix_latex
from indexnet.report.mathml import UNKNOWN_CLASS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.ix"))
SEED = ROOT / "examples" / "seed.ix"


@pytest.fixture(scope="module")
def seed_page() -> str:
    return build_report(SEED)


def _fragments(page: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}[ >].*?</{tag}>", page, flags=re.DOTALL)


def assert_self_contained(page: str) -> None:
    """Nothing the page holds makes a browser fetch anything."""
    assert not re.search(r"<script\b", page, re.IGNORECASE)
    assert not re.search(r"<link\b", page, re.IGNORECASE)
    assert not re.search(r"<(img|iframe|object|embed|video|audio)\b", page, re.IGNORECASE)
    assert not re.search(r"""\b(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "@import" not in page and "url(" not in page and "@font-face" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


# -- the page -------------------------------------------------------------------------------


def test_the_seed_page_has_every_part(seed_page: str) -> None:
    assert seed_page.startswith("<!DOCTYPE html>")
    for section in ("program", "equations", "derivation", "checks"):
        assert f'<section id="{section}">' in seed_page
    assert seed_page.count('<article class="card"') == 13  # 7 equations and 6 claims
    assert seed_page.count('<div class="steps"') == 6  # one per param
    assert seed_page.count('class="why">chain rule') == 6
    assert seed_page.count('class="why">local derivatives') == 6
    assert seed_page.count('class="verdict pass"') == 6 and "6 of 6 claims hold" in seed_page
    assert seed_page.count('class="indexnet-diagram"') == 13
    assert seed_page.count('<div class="loops">') == 13
    assert "nd,dh-&gt;nh" in seed_page  # an einsum string, escaped
    assert "the data matrix X_{ℓ-1}" in seed_page  # the source's comments come along
    assert UNKNOWN_CLASS not in seed_page


def test_the_seed_page_is_self_contained_and_small(seed_page: str) -> None:
    assert_self_contained(seed_page)
    assert len(seed_page.encode("utf-8")) < 1_000_000


def test_the_footer_names_the_version(seed_page: str) -> None:
    """The footer names the installed version, which is the package's (pyproject reads it)."""
    import importlib.metadata

    import indexnet

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    version = importlib.metadata.version("indexnet")
    assert f"(indexnet {version})" in seed_page
    assert version == indexnet.__version__
    root = Path(__file__).resolve().parents[1]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]  # one copy only
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "indexnet.__version__"}


def test_every_formula_and_diagram_is_well_formed_xml(seed_page: str) -> None:
    maths = _fragments(seed_page, "math")
    assert len(maths) > 60
    for fragment in maths:
        ET.fromstring(fragment.replace("&nbsp;", " "))
    for fragment in _fragments(seed_page, "svg"):
        ET.fromstring(fragment)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_builds(path: Path) -> None:
    page = build_report(path)
    assert_self_contained(page)
    assert len(page.encode("utf-8")) < 1_000_000
    assert UNKNOWN_CLASS not in page  # every LaTeX command render writes is known
    for fragment in _fragments(page, "math"):
        ET.fromstring(fragment)
    program = parse(path.read_text(encoding="utf-8"))
    cards = len(program.equations) + len(program.claims)
    assert page.count('<article class="card"') == cards


def test_failed_claims_show_their_diagnoses() -> None:
    page = build_report(ROOT / "examples" / "mistakes.ix")
    assert page.count('class="verdict fail"') == 7 and "0 of 7 claims hold" in page
    assert page.count("<b>Diagnosis:</b>") == 7
    assert "wrong sign" in page and "missing activation derivative" in page
    assert page.count('<div class="steps"') >= 4  # derive still applies: it has a loss


def test_a_program_without_params_says_why_it_has_no_derivatives() -> None:
    page = build_report(ROOT / "examples" / "identities.ix")
    assert "<b>No derivatives:</b> the program has no params" in page
    assert "<b>Nothing to check:</b> the program makes no claims" in page
    assert '<div class="steps"' not in page


def test_a_program_without_a_scalar_says_so() -> None:
    program = parse("input x^n_d\nparam W^d_h\na^n_h = x^n_d W^d_h")
    page = build_report(program)
    assert "the program defines no scalar to differentiate" in page
    assert "<h1>program</h1>" in page
    assert page.count('<article class="card"') == 1


def test_a_claim_that_does_not_fit_is_shown_with_its_problem() -> None:
    program = parse("size n=3\ninput x^n\nparam w_n\nL = x^n w_n\n"
                    "claim dL/dw_n = x^n\nclaim dL/dq_n = x^n")
    page = build_report(program)
    assert "This claim does not fit the program: unknown tensor &#x27;q&#x27;" in page
    assert page.count('class="verdict pass"') == 1 and page.count('class="verdict fail"') == 1


def test_sizes_wrt_and_title() -> None:
    page = build_report(SEED, {"n": 2}, wrt=["b_ℓ"], title="Lecture 1")
    assert "<h1>Lecture 1</h1>" in page and "sizes n=2, d=6, h=5, k=4" in page
    assert page.count('<div class="steps"') == 2  # as derive --wrt: b_ℓ and the δ it reads


def test_write_report_writes_atomically(tmp_path: Path) -> None:
    out = tmp_path / "seed.html"
    page = write_report(out, SEED)
    assert out.read_text(encoding="utf-8") == page
    assert os.listdir(tmp_path) == ["seed.html"]


# -- the MathML writer ------------------------------------------------------------------------


@pytest.mark.parametrize(("tex", "expected"), [
    (r"\frac{a}{b}", "<mfrac><mi>a</mi><mi>b</mi></mfrac>"),
    (r"\sqrt{x}", "<msqrt><mi>x</mi></msqrt>"),
    (r"x^{2}_{i}", "<msubsup><mi>x</mi><mi>i</mi><mn>2</mn></msubsup>"),
    (r"f'(x)", '<mrow><mi>f</mi><mo lspace="0" rspace="0">′</mo></mrow>'),
    (r"\hat{y}", "<mi>ŷ</mi>"),
    (r"\mathrm{yhat}", "<mi>yhat</mi>"),
    (r"\operatorname{softmax}_{k}", "<msub><mi>softmax</mi><mi>k</mi></msub>"),
    (r"\sum_{nk} x", '<munder><mo movablelimits="true">∑</mo><mrow><mi>n</mi><mi>k</mi></mrow>'),
    (r"\left(a\right)", '<mrow><mo fence="true" form="prefix">(</mo><mi>a</mi>'),
    (r"\lvert n\rvert", '<mo form="prefix" stretchy="false">|</mo><mi>n</mi>'
                         '<mo form="postfix" stretchy="false">|</mo>'),
    (r"\left.x\right|_{L}", '<msub><mrow><mi>x</mi><mo fence="true" form="postfix">|</mo>'),
    (r"a - b", "<mi>a</mi><mo>−</mo>"),
    (r"L = -x", '<mo>=</mo><mo form="prefix">−</mo><mi>x</mi>'),  # a sign, not a subtraction
    (r"(a) - b", '<mo stretchy="false">)</mo><mo>−</mo>'),
    (r"\lambda\,\odot\,\ell", "<mi>λ</mi><mspace"),
    (r"\texttt{a\_b \^{} \textbackslash{}}", '<mtext class="tt">a_b ^ \\</mtext>'),
    (r"\text{claim}\ x", "<mtext>claim</mtext>"),
    (r"x < y & z", "<mo>&lt;</mo>"),
])
def test_mathml_writes(tex: str, expected: str) -> None:
    out = mathml(tex)
    assert expected in out, out
    ET.fromstring(out)


def test_mathml_shows_an_unknown_command_as_written() -> None:
    out = mathml(r"\weird{x} + 1")
    assert f'<mtext class="{UNKNOWN_CLASS}">\\weird</mtext>' in out
    ET.fromstring(out)


@pytest.mark.parametrize("tex", ["{", "}", "x^", r"\frac{a}", r"\left(", r"\right)", "_{",
                                 "\\", r"\hat", "''", "^^"])
def test_mathml_never_fails_on_broken_input(tex: str) -> None:
    ET.fromstring(mathml(tex))


def test_chain_and_matrix_forms_in_latex() -> None:
    assert chain_latex("0") == "0"
    fractions = r"\frac{\partial L}{\partial a}\,\frac{\partial a}{\partial W}"
    assert chain_latex("∂L/∂a ∂a/∂W") == fractions
    assert r"\right|_{L}" in chain_latex("∂L/∂W|_L")
    assert chain_latex("no chain here") == "no chain here"
    assert matrix_latex("a = x W + b") == r"a = x\,W + b"
    assert r"\mathrm{softmax} [k](a)" in matrix_latex("p = softmax[k](a)")
    assert r"\lvert e\rvert" in matrix_latex("S = 1/sqrt(|e|) Q Kᵀ")
    assert matrix_latex("P = S⁻¹") == "P = S^{-1}"


# -- the command ------------------------------------------------------------------------------


def test_the_command_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "seed.html"
    assert main(["report", str(SEED), "-o", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"wrote {out} (") and "6 of 6 claims hold" in line
    assert_self_contained(out.read_text(encoding="utf-8"))


def test_the_command_exits_0_when_claims_fail(tmp_path: Path) -> None:
    out = tmp_path / "m.html"
    assert main(["report", str(ROOT / "examples" / "mistakes.ix"), "-o", str(out)]) == 0
    assert out.exists()


def test_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["report", "--help"])
    assert raised.value.code == 0
    text = capsys.readouterr().out
    assert "indexnet report examples/seed.ix -o seed.html" in text and "--sizes" in text


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("indexnet report: error: ")
    return err


@pytest.mark.parametrize("name", ["no/such/folder/r.html", "r.txt", "."])
def test_a_path_that_cannot_be_written_is_refused_first(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    target = tmp_path / name if name != "." else tmp_path
    if name == ".":
        target = tmp_path / "folder.html"
        target.mkdir()
    assert main(["report", str(SEED), "-o", str(target)]) == 2
    _one_error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["folder.html"] if name == "." else [])


def test_a_failed_write_leaves_nothing_half_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "r.html"
    out.write_text("the old page", encoding="utf-8")

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(indexnet.fileio.os, "fsync", full_disk)
    assert main(["report", str(SEED), "-o", str(out)]) == 2
    assert "No space left on device" in _one_error_line(capsys)
    assert os.listdir(tmp_path) == ["r.html"]  # no temporary file left behind
    assert out.read_text(encoding="utf-8") == "the old page"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_a_read_only_folder_is_an_error(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert main(["report", str(SEED), "-o", str(folder / "r.html")]) == 2
        _one_error_line(capsys)
        assert os.listdir(folder) == []
    finally:
        folder.chmod(stat.S_IRWXU)


@pytest.mark.parametrize(("argv", "message"), [
    (["no_such_file.ix"], "no such file"),
    (["--sizes", "q=3", str(SEED)], "no index q"),
    (["--draws", "0", str(SEED)], "expected an integer >= 1"),
    ([str(SEED), "--wrt", "nothing"], "nothing"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          argv: list[str], message: str) -> None:
    out = tmp_path / "r.html"
    try:
        status = main(["report", *argv, "-o", str(out)])
    except SystemExit as usage:  # argparse's usage errors exit from the parser
        status = usage.code  # type: ignore[assignment]
    assert status == 2
    assert message in _one_error_line(capsys)
    assert not out.exists()


def test_a_program_that_does_not_parse_shows_the_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.ix"
    bad.write_text("a^n = x^n +\n", encoding="utf-8")
    assert main(["report", str(bad), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("indexnet report: error: ") and "^" in err
    assert not (tmp_path / "r.html").exists()
