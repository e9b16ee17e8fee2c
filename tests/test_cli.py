"""The command line: subcommands, JSON output, one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from indexnet.cli.main import main, parse_sizes


def test_plan_json(capsys):
    assert main(["plan", "nd,dh,hk->nk", "--sizes", "n=8,d=6,h=4,k=2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["subscripts"] == "nd,dh,hk->nk"
    assert out["shapes"] == [[8, 6], [6, 4], [4, 2]]
    assert len(out["steps"]) == 2
    assert out["flops"] <= out["naive_flops"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "nd,dh->nH", "--sizes", "n=2,d=3,h=4"], "output index 'H' occurs in no input"),
        (["plan", "nd,dh->nh", "--sizes", "n=2,d=3"], "missing: h"),
        (["plan", "nd,dh->nh", "--sizes", "n=2,d=x,h=1"], "not a whole number"),
        (["plan", "nd,dh->nh", "--sizes", "n=2,n=3,d=1,h=1"], "given twice"),
        (["plan", "nd,dh->nh", "--sizes", "n=2,d=1,h=1,z=4"], "does not use"),
        (["plan", "nd,dh->nh", "--sizes", "nd=2"], "one index letter"),
    ],
)
def test_errors_are_one_line_exit_2(capsys, argv, message):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err


def test_parse_sizes():
    assert parse_sizes("n=1, d=0") == {"n": 1, "d": 0}


def test_python_m_indexnet_runs_demo_without_training():
    result = subprocess.run(
        [sys.executable, "-m", "indexnet", "demo", "--no-train"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "nd,nh->dh" in result.stdout
    assert "every check passed" in result.stdout
    assert "MISMATCH" not in result.stdout


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "train", "plan"):
        assert command in out


@pytest.mark.parametrize(
    "argv",
    [[], ["plan", "ij->", "--sizes", "i=2", "--optimize", "nope"], ["train", "--epochs", "x"]],
)
def test_usage_errors_are_one_line_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--help" in err


def test_exponential_search_on_plan_is_budgeted(capsys):
    letters = "abcdefghijklm"
    expr = ",".join(letters[i : i + 2] for i in range(12)) + "->am"
    sizes = ",".join(f"{c}=2" for c in letters)
    assert main(["plan", expr, "--sizes", sizes, "--optimize", "optimal", "--budget", "0.5"]) == 2
    assert "budget" in capsys.readouterr().err


def test_demo_rejects_zero_epochs_and_negative_seed(capsys):
    for argv in (["demo", "--epochs", "0"], ["demo", "--seed", "-1"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 2
