"""One rendering of the document form everywhere (issue 13, item 3), and the small things of item 7.

The seed writes its activations with the leading index before the
parenthesis (``^n(δ_ℓ)_k``) and its weights with every index after it, lower
first (``(w_ℓ)_h^d``); derive, check (text and HTML), explain, the lint and
the LaTeX all spell a tensor that way, through one writer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings

from indexnet import parse
from indexnet.cli.explain import explain
from indexnet.cli.main import main
from indexnet.render import einsum_equation, render, spelling, tensor_text
from indexnet.strategies import einsum_equations

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.ix"
ATOMS = ["∂L/∂(w_ℓ)_k^h", "∂L/∂(w_{ℓ-1})_h^d", "∂L/∂^n(a_ℓ)_k", "∂L/∂(b_ℓ)_k"]


def _out(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    main(argv)
    return capsys.readouterr().out


def test_one_atom_one_spelling_in_derive_check_html_and_explain(capsys) -> None:
    derived = _out(["derive", str(SEED)], capsys)
    table = _out(["check", str(SEED)], capsys)
    program = parse(SEED.read_text(encoding="utf-8"))
    with spelling(program):
        html = program.check()._repr_html_()
    claims = [line for line in SEED.read_text(encoding="utf-8").splitlines()
              if line.startswith("claim ")]
    explained = " ".join(explain(c)["document"] for c in claims)
    for atom in ATOMS:
        assert f"{atom} = " in derived, atom
        assert f" {atom} " in table, atom
        assert f"<td>{atom}</td>" in html, atom
        assert f"claim {atom} = " in explained, atom
    # the weights are never spelled with an index before the parenthesis
    for text in (derived, table, html, explained):
        assert "^h(w_ℓ)" not in text and "(w_ℓ)^h_k" not in text


def test_the_seed_reads_back_as_it_prints() -> None:
    program = parse(SEED.read_text(encoding="utf-8"))
    document = render(program, "document")
    assert "param (w_{ℓ-1})_h^d, (b_{ℓ-1})_h" in document or "(w_{ℓ-1})_h^d" in document
    assert parse(document) == program


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.ix")), ids=lambda p: p.name)
def test_every_example_reads_back_from_the_document_form(path: Path) -> None:
    program = parse(path.read_text(encoding="utf-8"))
    assert parse(render(program, "document")) == program


def test_a_lint_message_spells_a_weight_as_derive_does() -> None:
    program = parse("param (w_ℓ)_k^h\ninput ^n(x)_h\n^n(a)_k = ^n(x)_h (w_ℓ)_k^h (w_ℓ)_k^h")
    with spelling(program):
        messages = " ".join(str(w) for w in program.warnings)
    assert "(w_ℓ)_k^h" in messages and "^h(w_ℓ)" not in messages


def test_tensor_text_is_the_one_spelling() -> None:
    program = parse("param (w_ℓ)_k^h\ninput ^n(x)_h\n^n(a)_k = ^n(x)_h (w_ℓ)_k^h")
    w = program.equations[0].rhs.terms[0].factors[1]
    with spelling(program):
        assert tensor_text(w) == "(w_ℓ)_k^h" == render(program.equations[0],
                                                      "document").split()[-1]
        assert tensor_text(w, "latex") == "(w_{\\ell})_{k}^{h}"
    assert tensor_text(w) == "^h(w_ℓ)_k"  # a piece alone knows no program


# -- explain of a plain einsum (item 5) ----------------------------------------------------


@pytest.mark.parametrize(("subscripts", "spelled"), [
    ("nd,nh->dh", "out^d_h = Aᵀ_n^d B^n_h"),
    ("bhqd,bhkd->bhqk", "out^{bhq}_k = A^{bhqd} B^{bh}_{kd}"),
    ("ij->i", "out^i = sum_j A^i_j"),
])
def test_explain_of_an_einsum_never_lints_its_own_spelling(subscripts, spelled, capsys) -> None:
    assert main(["explain", subscripts, "--strict"]) == 0
    out = capsys.readouterr().out
    assert f"equation  {spelled}" in out and "warnings  none" in out
    assert parse(spelled).warnings == []  # clean by the lint itself, not just unreported


@settings(max_examples=150, deadline=None)
@given(einsum_equations(max_operands=5, max_dims=4, allow_repeated=True))
def test_the_chosen_spelling_means_the_einsum_and_lints_no_more(subscripts: str) -> None:
    clean, plain = parse(einsum_equation(subscripts, clean=True)), parse(einsum_equation(
        subscripts))
    inputs, output = subscripts.split("->")
    operands = [t for t in inputs.split(",") if t]  # scalars are factors, not operands
    wanted = [] if not operands or operands == [output] else [f"{','.join(operands)}->{output}"]
    assert clean.equations[0].einsums() == wanted == plain.equations[0].einsums()
    assert len(clean.warnings) <= len(plain.warnings)


# -- derive --latex (item 7) -----------------------------------------------------------------


def _balanced(text: str) -> bool:
    depth = 0
    for c in text.replace("\\{", "").replace("\\}", ""):
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize("flag", [[], ["--no-einsum"]])
def test_derive_latex_is_one_aligned_block(flag: list[str], capsys) -> None:
    out = _out(["derive", str(SEED), "--latex", *flag], capsys).strip()
    lines = out.splitlines()
    assert lines[0] == r"\begin{aligned}" and lines[-1] == r"\end{aligned}"
    assert out.count(r"\begin{aligned}") == out.count(r"\end{aligned}") == 1
    body = lines[1:-1]
    assert len(body) == 6 and all(line.count("&=") == 1 for line in body)
    assert all(line.endswith(r" \\") for line in body[:-1]) and not body[-1].endswith("\\\\")
    assert _balanced(out) and out.count(r"\left(") == out.count(r"\right)")
    einsums = re.findall(r"\\quad \\texttt\{([^}]*)\}", out)
    if flag:
        assert einsums == [] and "texttt" not in out
    else:
        assert "nh,nk->hk" in einsums and "nd,nh->dh" in einsums


# -- Program.einsums (item 7) ----------------------------------------------------------------


def test_program_einsums_name_their_operands() -> None:
    program = parse((ROOT / "examples" / "two_layer.ix").read_text(encoding="utf-8"))
    listed = program.einsums()
    assert repr(listed[0]) == "Einsum('nd,dh->nh', x, W1 -> a1, line 11)"
    assert "Ref(" not in repr(listed) and "Product(" not in repr(listed)
    subscripts, equation = listed[0]
    assert subscripts == str(listed[0]) == "nd,dh->nh" and equation.target.key == "a1"
    assert [e.operands for e in listed[2:]] == [("y", "log(…)"), ("W1", "W1"), ("W2", "W2")]


# -- the small things of item 7 --------------------------------------------------------------


def test_the_docs_quote_an_einsum_for_the_shell() -> None:
    text = (ROOT / "docs" / "index-language.md").read_text(encoding="utf-8")
    assert "indexnet explain 'nd,nh->dh' --json" in text
    assert not re.search(r"explain [a-z,]+->[a-z]+", text)  # the shell would read '>'


def test_bench_help_cites_examples_that_exist(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    cited = set(re.findall(r"examples/[\w.]+\.ix", capsys.readouterr().out))
    assert cited and all((ROOT / c).exists() for c in cited)
