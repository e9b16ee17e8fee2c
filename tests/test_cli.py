"""The command line: subcommands, JSON output, one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from indexnet.cli import plan as cli_plan
from indexnet.cli import train as cli_train
from indexnet.cli.argtypes import parse_sizes
from indexnet.cli.commands import COMMANDS
from indexnet.cli.main import main
from indexnet.errors import InvalidArgumentError


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


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_help_page_fits_80_columns(command: str, monkeypatch, capsys) -> None:
    """Prose is filled to the width, examples are kept as written, and long choices are
    named by a metavar: no line over 80 characters (report --help had one of 389)."""
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        main([command, "--help"] if command else ["--help"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 3
    assert [line for line in lines if len(line) > 80] == []


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
    # issue 10: a search that runs out of budget returns the best path so far and says so
    assert main(["plan", expr, "--sizes", sizes, "--optimize", "optimal", "--budget", "0.5"]) == 0
    captured = capsys.readouterr()
    assert "budget" in captured.out + captured.err


def test_demo_rejects_zero_epochs_and_negative_seed(capsys):
    for argv in (["demo", "--epochs", "0"], ["demo", "--seed", "-1"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 2


# -- the one error policy of main: subcommands raise, main prints one line -----------------

PLAN = ["plan", "nd,dh->nh", "--sizes", "n=2,d=3,h=4"]


def _raising(exc: BaseException):
    def run(args):
        raise exc

    return run


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (ZeroDivisionError("division by zero"),
         "indexnet plan: internal error, please report: ZeroDivisionError: division by zero"),
        (KeyError("k"), "indexnet plan: internal error, please report: KeyError: 'k'"),
        (RuntimeError("first line\n  second line"),
         "indexnet plan: internal error, please report: RuntimeError: first line"),
    ],
)
def test_unexpected_exception_is_one_line_exit_2(monkeypatch, capsys, exc, line):
    monkeypatch.setattr(cli_plan, "run", _raising(exc))
    assert main(PLAN) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == line + "\n"
    assert "internal error, please report" in captured.err
    assert "Traceback" not in captured.err


def test_every_subcommand_goes_through_the_policy(monkeypatch, capsys):
    monkeypatch.setattr(cli_train, "run", _raising(ZeroDivisionError("x")))
    assert main(["train", "--dataset", "synthetic"]) == 2
    err = capsys.readouterr().err
    assert err == "indexnet train: internal error, please report: ZeroDivisionError: x\n"


def test_library_errors_keep_their_one_line_format(monkeypatch, capsys):
    error = InvalidArgumentError("a  message\twith odd spacing")
    monkeypatch.setattr(cli_plan, "run", _raising(error))
    assert main(PLAN) == 2
    assert capsys.readouterr().err == "indexnet plan: error: a message with odd spacing\n"
    error = InvalidArgumentError("first line\n  source\n  ^")
    monkeypatch.setattr(cli_plan, "run", _raising(error))
    assert main(PLAN) == 2
    assert capsys.readouterr().err == "indexnet plan: error: first line\n"


def test_index_language_errors_keep_their_caret(capsys):
    assert main(["explain", "a = x^nd"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "indexnet explain: error: line 1, column 8: one index after ^; write x^{nd} for two",
        "  a = x^nd",
        "         ^",
    ]


@pytest.mark.parametrize(
    ("exc", "status", "line"),
    [
        (KeyboardInterrupt(), 130, "indexnet plan: interrupted"),
        (MemoryError(), 2, "indexnet plan: error: out of memory: the sizes asked for are too "
                           "large for this machine"),
        (OSError(28, "No space left on device"), 2,
         "indexnet plan: error: cannot use the output: No space left on device"),
    ],
)
def test_interrupts_memory_and_os_errors(monkeypatch, capsys, exc, status, line):
    monkeypatch.setattr(cli_plan, "run", _raising(exc))
    assert main(PLAN) == status
    assert capsys.readouterr().err == line + "\n"


def test_closed_pipe_exits_quietly():
    proc = subprocess.Popen(
        [sys.executable, "-m", "indexnet", "demo", "--no-train", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `indexnet demo | head -0` would
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 1
    assert err == ""


def test_bench_svg_draws_greedy_beside_the_fewest_flops(tmp_path, capsys) -> None:
    out = tmp_path / "trees.svg"
    status = main(["bench", "nd,dh,hk->nk", "--sizes", "n=256,d=784,h=256,k=10",
                   "--optimizers", "greedy,optimal", "--repeats", "1", "--svg", str(out)])
    assert status == 0 and f"wrote {out}" in capsys.readouterr().out
    svg = out.read_text(encoding="utf-8")
    assert svg.startswith("<svg") or "<svg" in svg[:200]
    # the seed chain: greedy's path takes 12.96x the FLOPs of the optimal one
    assert "greedy" in svg and "optimal" in svg and "12.96×" in svg


def test_bench_svg_to_a_missing_folder_exits_2_before_benchmarking(tmp_path, capsys) -> None:
    status = main(["bench", "nd,dh->nh", "--sizes", "n=4,d=4,h=4",
                   "--svg", str(tmp_path / "no" / "t.svg")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "does not exist" in err
