"""The derive and check subcommands: output, --json, exit status."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from indexnet.cli import derive as derive_cli
from indexnet.cli.main import run_command

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="indexnet")
    derive_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    status = run_command(args)
    out, err = capsys.readouterr()
    return status, out, err


def test_derive_prints_the_seed_backprop(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["derive", str(EXAMPLES / "seed.ix")], capsys)
    lines = out.splitlines()
    assert status == 0 and len(lines) == 6
    assert lines[0] == "∂L/∂^n(a_ℓ)_k = ^n(ŷ)_k − ^n(y)_k"
    # the seed's own δ names: (1.4) reads δ_ℓ, (1.9) δ_ℓ, (1.7) δ_{ℓ-1}, each after its δ
    assert lines[1] == "∂L/∂(w_ℓ)_k^h = _n(x_ℓ^T)^h ^n(δ_ℓ)_k + λ (w_ℓ)_k^h    [nh,nk->hk]"
    assert lines[2] == "∂L/∂(b_ℓ)_k = Σ_n ^n(δ_ℓ)_k    [nk->k]"
    assert lines[3].endswith("[nk,hk->nh; nh,nh->nh]") and "⊙ (^n(δ_ℓ)_k" in lines[3]
    assert "^n(δ_{ℓ-1})_h" in lines[4] and "[nd,nh->dh]" in lines[4]
    assert lines[5] == "∂L/∂(b_{ℓ-1})_h = Σ_n ^n(δ_{ℓ-1})_h    [nh->h]"


def test_derive_forms(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["derive", str(EXAMPLES / "seed.ix"), "--latex", "--wrt", "w_ℓ"], capsys)
    assert status == 0 and "\\frac{\\partial L}" in out
    status, out, _ = run(["derive", str(EXAMPLES / "seed.ix"), "--compact", "--json"], capsys)
    rows = json.loads(out)
    assert status == 0 and rows[0]["derivative"] == "dL/da_ℓ" and rows[0]["einsum"] == []
    status, out, _ = run(["derive", str(EXAMPLES / "calculus.ix"), "--of", "Q", "--wrt", "x"],
                         capsys)
    assert status == 0 and out.startswith("∂Q/∂")


def test_derive_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(["derive", str(EXAMPLES / "seed.ix"), "--wrt", "nope"], capsys)
    assert status == 2 and "unknown tensor 'nope'" in err
    status, _, err = run(["derive", str(tmp_path / "missing.ix")], capsys)
    assert status == 2 and "cannot read" in err


def test_check_passes_the_seed(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["check", str(EXAMPLES / "seed.ix")], capsys)
    assert status == 0 and "6 of 6 claims hold" in out
    assert out.splitlines()[2].split()[:4] == ["46", "∂L/∂(w_ℓ)_k^h", "nh,nk->hk", "pass"]


def test_check_fails_the_mistakes(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["check", str(EXAMPLES / "mistakes.ix"), "--json"], capsys)
    rows = json.loads(out)
    assert status == 1 and len(rows) == 7 and not any(r["ok"] for r in rows)
    assert rows[0] == rows[0] | {"line": 17, "claim": "dL/da2^n_k", "ok": False,
                                 "max_rel_error": 2.0}
    assert rows[0]["diagnosis"].startswith("wrong sign")


def test_check_exit_2_with_a_caret(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.ix"
    bad.write_text("input x^n_d\nL = x^nd\n", encoding="utf-8")
    status, out, err = run(["check", str(bad)], capsys)
    assert status == 2 and out == ""
    assert err.startswith("indexnet check: error: line 2") and err.splitlines()[-1].strip() == "^"
    sizes = tmp_path / "sizes.ix"
    sizes.write_text("input x^n_d\nparam w^d\nsize n=3, d=4\nL = x^n_d w^n\n", encoding="utf-8")
    status, _, err = run(["check", str(sizes)], capsys)
    assert status == 2 and "size" in err
    status, _, err = run(["check", str(tmp_path / "none.ix")], capsys)
    assert status == 2


def test_check_at_mnist_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["check", str(EXAMPLES / "seed.ix"), "--sizes",
                          "n=256,d=784,h=256,k=10", "--draws", "2"], capsys)
    assert status == 0 and "n=256, d=784, h=256, k=10" in out


# -- review findings: bad input is a one-line error, exit 2, never a traceback ------------


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from indexnet.cli.main import main

    status = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.err


@pytest.mark.parametrize(("option", "value", "needle"), [
    ("--seed", "-1", "expected an integer >= 0, got '-1'"),
    ("--draws", "0", "expected an integer >= 1, got '0'"),
    ("--draws", "x", "expected an integer >= 1, got 'x'"),
])
def test_check_bounded_integer_options(option: str, value: str, needle: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from indexnet.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(["check", str(EXAMPLES / "seed.ix"), option, value])
    err = capsys.readouterr().err
    assert info.value.code == 2 and option in err and needle in err
    assert "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("command", ["derive", "check"])
@pytest.mark.parametrize(("content", "needle"), [
    (b"\xff\xfe x", "not UTF-8 text"),
    (None, "it is a folder"),
    (b"", "is empty"),
])
def test_unreadable_or_empty_program(command: str, content: bytes | None, needle: str,
                                     tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.ix"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    status, err = _main([command, str(path)], capsys)
    assert status == 2 and needle in err and str(path) in err
    assert err.startswith(f"indexnet {command}: error: ") and err.count("\n") == 1


# -- warnings where a typo hides (spec 5.9): check, derive and eval print the same ----------

TYPO = ("input x^n_d\nparam W^d_h\na^n_h = x^n_d W^h_d\nL = sum_{nh} a^n_h\n"
        "claim dL/dW^d_h = x^n_d\n")
AXES = ("line 3, column 15: W^h_d names W's axes h, d but W is declared W^d_h (line 2): this "
        "forces h and d to one size; did you mean W^d_h or Wᵀ_d^h?")


@pytest.mark.parametrize(("command", "status"), [("check", 1), ("derive", 0), ("eval", 0)])
def test_check_derive_and_eval_print_the_same_warnings(command: str, status: int,
                                                      tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from indexnet.program import parse

    path = tmp_path / "typo.ix"
    path.write_text(TYPO, encoding="utf-8")
    got, err = _main([command, str(path)], capsys)
    assert got == status  # warnings never change the exit status
    lines = err.splitlines()
    assert f"{path}: {AXES}" in lines
    assert lines == [f"{path}: {w}" for w in parse(TYPO).warnings]


def test_eval_strict_makes_the_axes_warning_an_error(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "typo.ix"
    path.write_text("input A^i_j, x_j\ny_i = A^j_i x_j\n", encoding="utf-8")
    status, err = _main(["eval", str(path)], capsys)
    assert status == 0 and "A^j_i names A's axes j, i" in err
    status, err = _main(["eval", str(path), "--strict"], capsys)
    assert status == 2 and err.startswith("indexnet eval: error: line 2, column 7: A^j_i names")


def test_the_examples_print_no_warning(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["derive", str(EXAMPLES / "two_layer.ix")], capsys)
    assert status == 0 and err == ""


# -- --json is strict JSON: never a bare NaN or Infinity -----------------------------------


def _strict(text: str) -> object:
    def refuse(constant: str) -> object:
        raise AssertionError(f"bare {constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


def test_check_json_never_prints_nan_or_infinity(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from indexnet.check.report import CheckReport, ClaimResult
    from indexnet.program import Program

    results = [ClaimResult(4, "dL/dw", "claim dL/dw = w", [], False, float("nan")),
               ClaimResult(5, "dL/dw", "claim dL/dw = 2 w", [], False, float("inf")),
               ClaimResult(6, "dL/dw", "claim dL/dw = x", [], True, 0.0)]
    report = CheckReport(results, {"n": 2}, 3)
    monkeypatch.setattr(Program, "check", lambda self, *a, **k: report)
    status, out, _ = run(["check", str(EXAMPLES / "two_layer.ix"), "--json"], capsys)
    rows = _strict(out)
    assert status == 1 and isinstance(rows, list)
    assert [r["max_rel_error"] for r in rows] == [None, None, 0.0]
    assert rows[0]["non_finite"] == {"max_rel_error": "NaN"}
    assert rows[1]["non_finite"] == {"max_rel_error": "Infinity"}
    assert "non_finite" not in rows[2]
    assert _strict(report.json()) == rows  # the library's text is strict too


def test_derive_json_is_strict_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["derive", str(EXAMPLES / "seed.ix"), "--json"], capsys)
    rows = _strict(out)
    assert status == 0 and isinstance(rows, list) and rows[0]["derivative"] == "dL/da_ℓ"


def test_derive_steps_shows_the_chain_rule_then_the_local_derivatives(capsys) -> None:
    status, out, _ = run(["derive", str(EXAMPLES / "seed.ix"), "--steps"], capsys)
    blocks = [b.splitlines() for b in out.strip().split("\n\n")]
    assert status == 0 and len(blocks) == 6
    first, local, simplified = blocks[1]  # (1.4): the output layer's weights
    assert first == ("dL/d(w_ℓ)_k^h = ∂L/∂^n(a_ℓ)_k ∂^n(a_ℓ)_k/∂(w_ℓ)_k^h + "
                     "∂L/∂(w_ℓ)_k^h|_L    (chain rule)")
    assert local.strip().startswith("= _n(x_ℓ^T)^h dL/d^n(a_ℓ)_k + λ/2")
    assert simplified.strip() == ("= _n(x_ℓ^T)^h ^n(δ_ℓ)_k + λ (w_ℓ)_k^h    [nh,nk->hk]    "
                                  "(simplified)")
    status, out, _ = run(["derive", str(EXAMPLES / "seed.ix"), "--steps", "--json"], capsys)
    rows = json.loads(out)
    assert rows[1]["steps"]["chain rule"].startswith("∂L/∂^n(a_ℓ)_k")
