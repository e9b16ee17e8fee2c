"""``indexnet explain`` and ``indexnet eval``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from indexnet.cli.explain import explain, register
from indexnet.cli.main import run_command

EXAMPLES = Path(__file__).parent.parent / "examples"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="indexnet")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    status = run_command(args)
    out, err = capsys.readouterr()
    return status, out, err


def test_explain_an_equation_in_document_form(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["explain", "^n(a)_h = ^n(x)_d (w)^d_h + (b)_h"], capsys)
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "equation  a^n_h = x^n_d w^d_h + b_h"
    assert lines[1] == "document  ^n(a)_h = ^n(x)_d (w)_h^d + (b)_h"
    assert "free      n, h" in lines and "summed    d" in lines
    assert "einsum    nd,dh->nh" in lines and "matrix    a = x w + b" in lines
    assert "loops     for n, h:" in lines and "warnings  none" in lines


def test_explain_with_sizes_gives_flops_and_path(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["explain", "a^n_h = x^n_d W^d_h", "--sizes", "n=256,d=784,h=256"],
                         capsys)
    assert status == 0
    assert "flops     102,760,448" in out
    assert "step 0: (0, 1): nd,dh->nh [matmul]" in out
    assert "sizes     n=256, d=784, h=256" in out


def test_explain_an_einsum_string_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["explain", "nd,nh->dh", "--json", "--sizes", "n=4,d=3,h=2"], capsys)
    assert status == 0
    info = json.loads(out)
    assert info["einsum"] == ["nd,nh->dh"]
    assert info["free"] == ["d", "h"] and info["summed"] == ["n"]
    assert info["matrix_form"] == "out = Aᵀ B"
    # upper and lower are chosen by explain, the seed's xᵀδ, and never linted
    assert info["equation"] == "out^d_h = Aᵀ_n^d B^n_h" and info["warnings"] == []
    assert info["flops"] == 48
    assert info["path"][0]["path"] == [[0, 1]]


def test_explain_json_without_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["explain", "c^b^i_k = A^b^i_j B^b^j_k", "--json"], capsys)
    info = json.loads(out)
    assert info["matrix_form"] is None and info["flops"] is None
    assert info["matrix_form_reason"] == "c has 3 indices"
    for key in ("einsum", "free", "summed", "matrix_form", "warnings", "flops"):
        assert key in info


def test_explain_several_statements() -> None:
    info = explain("input x^n_d\nparam W^d_h\na^n_h = x^n_d W^d_h\ns^n = sum_h a^n_h",
                   {"n": 2, "d": 3, "h": 4})
    assert [item["einsum"] for item in info["equations"]] == [["nd,dh->nh"], ["nh->n"]]
    assert info["einsum"] == ["nd,dh->nh", "nh->n"] and info["flops"] > 0


@pytest.mark.parametrize(("argv", "needle"), [
    (["explain", "a = x^nd"], "line 1, column 8: one index after ^; write x^{nd} for two"),
    (["explain", "x^n_d W^d_h"], "neither an einsum string"),
    (["explain", "nd,dh->nH"], "output index 'H' occurs in no input"),
    (["explain", "a^n_h = x^n_d W^d_h", "--sizes", "n=2"], "the size of indices d, h is "
                                                            "unknown"),
    (["explain", "a^n_h = x^n_d W^d_h", "--sizes", "n=two"], "bad size"),
    (["explain", "g^d_h = x^n_d y^n_h", "--strict"], "n is summed over two upper positions"),
    (["explain", "input x\n"], "nothing to explain"),
])
def test_explain_errors_exit_2_with_one_message(argv: list[str], needle: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(argv, capsys)
    assert status == 2 and out == ""
    assert err.startswith("indexnet explain: error: ") and needle in err
    assert "Traceback" not in err


def test_syntax_errors_show_the_caret(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = run(["explain", "a = x^nd"], capsys)
    assert err.splitlines()[1:] == ["  a = x^nd", "         ^"]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.ix")), ids=lambda p: p.name)
def test_eval_every_example(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["eval", str(path)], capsys)
    assert status == 0, err
    assert "equation" in out.splitlines()[0]


def test_eval_prints_shapes_and_values(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["eval", str(EXAMPLES / "seed.ix"), "--seed", "3"], capsys)
    assert status == 0
    lines = out.splitlines()
    assert "(random inputs, seed 3)" in lines[0]
    assert all(f"{c}={n}" in lines[0] for c, n in (("n", 8), ("d", 6), ("h", 5), ("k", 4)))
    assert any(line.split()[:2] == ["ŷ", "(8,"] for line in lines)
    assert "6 claims not evaluated here" in out


def test_eval_json_and_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["eval", str(EXAMPLES / "two_layer.ix"), "--json", "--sizes", "n=20"],
                         capsys)
    assert status == 0
    info = json.loads(out)
    assert info["sizes"]["n"] == 20 and info["tensors"]["a1"]["shape"] == [20, 4]
    assert set(info["tensors"]["L"]) >= {"shape", "min", "max", "mean", "std"}


def test_eval_with_inputs_from_npz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "p.ix"
    source.write_text("input x^n_d\nparam w^d\ny^n = x^n_d w^d\n", encoding="utf-8")
    arrays = tmp_path / "in.npz"
    np.savez(arrays, x=np.ones((2, 3)), w=np.arange(3.0))
    status, out, _ = run(["eval", str(source), "--inputs", str(arrays), "--json"], capsys)
    assert status == 0
    info = json.loads(out)
    assert info["tensors"]["y"] == {"shape": [2], "min": 3.0, "max": 3.0, "mean": 3.0,
                                    "std": 0.0}
    # arrays that are missing from the file are drawn at the sizes the file fixes
    np.savez(arrays, x=np.ones((5, 3)))
    status, out, _ = run(["eval", str(source), "--inputs", str(arrays), "--json"], capsys)
    assert status == 0 and json.loads(out)["tensors"]["y"]["shape"] == [5]


@pytest.mark.parametrize(("setup", "needle"), [
    ("missing", "cannot read"),
    ("bad npz", "is not an .npz archive"),
    ("extra array", "holds 'q', which is not an input"),
    ("size conflict", "index 'd' has size 3 in x (axis 1) but 4 in w (axis 0)"),
    ("syntax", "line 2, column 10"),
])
def test_eval_errors(setup: str, needle: str, tmp_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "p.ix"
    source.write_text("input x^n_d\nparam w^d\ny^n = x^n_d w^d\n", encoding="utf-8")
    arrays = tmp_path / "in.npz"
    argv = ["eval", str(source)]
    if setup == "missing":
        argv = ["eval", str(tmp_path / "none.ix")]
    elif setup == "bad npz":
        arrays.write_text("not an archive", encoding="utf-8")
        argv += ["--inputs", str(arrays)]
    elif setup == "extra array":
        np.savez(arrays, q=np.ones(2))
        argv += ["--inputs", str(arrays)]
    elif setup == "size conflict":
        np.savez(arrays, x=np.ones((2, 3)), w=np.ones(4))
        argv += ["--inputs", str(arrays)]
    else:
        source.write_text("input x^n_d\ny^n = x^nd\n", encoding="utf-8")
    status, out, err = run(argv, capsys)
    assert status == 2 and out == ""
    assert err.startswith("indexnet eval: error: ") and needle in err


def test_eval_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "p.ix"
    source.write_text("input x^n_d, y^n_h\ng^d_h = x^n_d y^n_h\n", encoding="utf-8")
    status, _, err = run(["eval", str(source)], capsys)
    assert status == 0 and "n is summed over two upper positions" in err
    status, _, err = run(["eval", str(source), "--strict"], capsys)
    assert status == 2 and "line 2, column 9" in err


# -- review findings: bad input is a one-line error, exit 2, never a traceback ------------


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from indexnet.cli.main import main

    status = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.err


def _program(tmp_path: Path) -> Path:
    source = tmp_path / "p.ix"
    source.write_text("input x^n_d\nparam W^d_h\na^n_h = x^n_d W^d_h\n", encoding="utf-8")
    return source


def test_eval_negative_seed_is_a_usage_error(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from indexnet.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(["eval", str(_program(tmp_path)), "--seed", "-1"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "Traceback" not in err
    assert "--seed" in err and "expected an integer >= 0, got '-1'" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(("content", "needle"), [
    (b"\xff\xfe x", "not UTF-8 text"),
    (None, "it is a folder"),
    (b"", "is empty"),
    (b"  \n# nothing\n", "holds no equation"),
])
def test_eval_unreadable_or_empty_program(content: bytes | None, needle: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.ix"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    status, err = _main(["eval", str(path)], capsys)
    assert status == 2 and needle in err and str(path) in err
    assert err.startswith("indexnet eval: error: ") and err.count("\n") == 1


def test_eval_inputs_npy_is_rejected_naming_the_file(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    arrays = tmp_path / "x.npy"
    np.save(arrays, np.ones((2, 3)))
    status, err = _main(["eval", str(_program(tmp_path)), "--inputs", str(arrays)], capsys)
    assert status == 2 and str(arrays) in err and "not an .npz archive" in err


@pytest.mark.parametrize(("array", "needle"), [
    (np.array([["a", "b", "c"]] * 2), "dtype <U1"),
    (np.ones((2, 3)) + 1j, "complex arrays are not supported"),
    (np.array([[None, 1, 2]] * 2, dtype=object), "'x' cannot be read"),
])
def test_eval_inputs_of_wrong_dtype_name_array_and_dtype(
        array: np.ndarray, needle: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    arrays = tmp_path / "in.npz"
    np.savez(arrays, x=array)
    status, err = _main(["eval", str(_program(tmp_path)), "--inputs", str(arrays)], capsys)
    assert status == 2 and needle in err and "'x'" in err and str(arrays) in err


@pytest.mark.parametrize("setup", ["folder", "missing"])
def test_eval_inputs_folder_or_missing(setup: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    arrays = tmp_path / "in.npz"
    if setup == "folder":
        arrays.mkdir()
    status, err = _main(["eval", str(_program(tmp_path)), "--inputs", str(arrays)], capsys)
    assert status == 2 and str(arrays) in err
    assert ("it is a folder" if setup == "folder" else "no such file") in err


def test_eval_sizes_giving_a_letter_twice(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    status, err = _main(["eval", str(_program(tmp_path)), "--sizes", "n=2,n=3"], capsys)
    assert status == 2 and "'n' is given twice" in err


def test_program_evaluate_rejects_text_and_complex_arrays() -> None:
    from indexnet.errors import InvalidArgumentError
    from indexnet.program import parse

    program = parse("input x^n_d\nparam W^d_h\na^n_h = x^n_d W^d_h\n")
    w = np.ones((3, 2))
    with pytest.raises(InvalidArgumentError, match=r"array 'x' has dtype <U1"):
        program.evaluate(x=np.array([["a", "b", "c"]] * 2), W=w)
    with pytest.raises(InvalidArgumentError, match=r"'x' has dtype complex128.*not supported"):
        program.evaluate(x=np.ones((2, 3)) + 1j, W=w)
    with pytest.raises(InvalidArgumentError, match=r"array 'x' is not a rectangular array"):
        program.evaluate(x=[[1.0, 2.0, 3.0], [1.0]], W=w)
    # integers and bools still become float64
    out = program.evaluate(x=np.ones((2, 3), dtype=np.int32), W=w.astype(bool))
    assert out["a"].dtype == np.float64 and out["a"].tolist() == [[3.0, 3.0], [3.0, 3.0]]
