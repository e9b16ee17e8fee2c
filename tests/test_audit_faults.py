"""The audit's fault corpus (issue 10): nothing foreign gets out, nothing saved is lost.

Each table row is a case the audit found: a bad CLI invocation that must be
one line on stderr and exit status 2, a bad array that must be a typed error
naming the operand, a corrupt checkpoint, a dangerous save target, a
diverging run, a non-JSON ``--json``, a gradient-checker trap.
"""

from __future__ import annotations

import json
import math
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import indexnet as ix
from indexnet.cli.main import main
from indexnet.cli.options import NON_FINITE, json_text
from indexnet.errors import AllocationError, DivergenceError
from indexnet.evaluate.domains import check_allocation, random_inputs
from indexnet.fileio import atomic_write_bytes, clean_stale_temporaries, temp_prefix
from indexnet.notation import read
from indexnet.seednet.data import split, synthetic
from indexnet.seednet.nn import Network
from indexnet.seednet.train import train
from indexnet.validate import numeric_operand, real_array

HUGE = "1" * 5000  # past Python's int-string limit of 4300 digits
SEED_IX = str(Path(__file__).resolve().parent.parent / "examples" / "seed.ix")

# -- the CLI: one line on stderr, exit 2, never a traceback ------------------------------

CLI_CASES = [
    (["explain", "nd,dh->nh", "--sizes", f"n={HUGE},d=2,h=3"], "at most"),
    (["plan", "nd,dh->nh", "--sizes", f"n={HUGE},d=2,h=3"], "at most"),
    (["bench", "nd,dh->nh", "--sizes", f"n={HUGE},d=2,h=3"], "at most"),
    (["eval", SEED_IX, "--sizes", f"n={HUGE}"], "at most"),
    (["check", SEED_IX, "--sizes", f"n={HUGE}"], "at most"),
    (["plan", "nd,dh->nh", "--sizes", "n=9223372036854775808,d=2,h=3"], "at most"),
    (["eval", SEED_IX, "--sizes", "n=1000000000000"], "random input"),
    (["check", SEED_IX, "--sizes", "n=1000000000000"], "random input"),
    (["train", "--epochs", HUGE], "--epochs"),
    (["train", "--hidden", HUGE], "--hidden"),
]


@pytest.mark.parametrize(("argv", "needle"), CLI_CASES,
                         ids=[" ".join(a)[:50] for a, _ in CLI_CASES])
def test_cli_fault_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str],
                                          needle: str) -> None:
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's usage errors
        status = exit_.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err and "internal error" not in err
    assert len(err.strip().splitlines()) == 1 and needle in err
    assert len(err) < 400  # a 5000-digit number is not echoed whole


def test_huge_sizes_name_tensor_shape_and_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", SEED_IX, "--sizes", "n=1000000000000"]) == 2
    err = capsys.readouterr().err
    assert "(1000000000000, " in err and "bytes" in err and "'x" in err


def test_random_inputs_are_sized_before_allocation() -> None:
    module = read("a^n_h = x^n_d W^d_h")
    with pytest.raises(AllocationError) as info:
        random_inputs(module, {"n": 1000, "d": 1000, "h": 2}, max_bytes=7_999_999)
    err = info.value
    assert (err.tensor, err.shape, err.nbytes) == ("x", (1000, 1000), 8_000_000)
    assert isinstance(err, MemoryError) and isinstance(err, ix.IndexnetError)
    assert random_inputs(module, {"n": 10, "d": 10, "h": 2}, max_bytes=10**6)["x"].shape == (10, 10)


@settings(deadline=None, max_examples=50)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=4),
       st.integers(0, 40_000))
def test_check_allocation_refuses_exactly_what_does_not_fit(shapes: list[tuple[int, int]],
                                                            limit: int) -> None:
    named = {f"t{i}": s for i, s in enumerate(shapes)}
    total = sum(8 * a * b for a, b in shapes)
    if total <= limit:
        check_allocation(named, 8, "input", limit)
    else:
        with pytest.raises(AllocationError):
            check_allocation(named, 8, "input", limit)


# -- non-numeric arrays: a typed error naming the operand --------------------------------

BAD_ARRAYS = [
    ("None objects", np.array([[1.0, None]], dtype=object), "None"),
    ("text objects", np.array([["a", "b"]], dtype=object), "'a'"),
    ("text", np.array([["a", "b"]]), "<U1"),
    ("bytes", np.array([[b"a", b"b"]]), "S1"),
    ("dates", np.array([["2020-01-01", "2020-01-02"]], dtype="datetime64[D]"), "datetime64"),
    ("structured", np.zeros((1, 2), dtype=[("a", "f8")]), "dtype"),
    ("ragged", [[1.0], [1.0, 2.0]], "rectangular"),
]


@pytest.mark.parametrize(("what", "value", "needle"), BAD_ARRAYS,
                         ids=[w for w, _, _ in BAD_ARRAYS])
def test_program_evaluate_names_the_bad_array(what: str, value: Any, needle: str) -> None:
    program = ix.parse("a^n_h = x^n_d W^d_h")
    with pytest.raises(ix.InvalidArgumentError, match="'x'") as info:
        program.evaluate(x=value, W=np.ones((2, 3)))
    assert needle in str(info.value)


@pytest.mark.parametrize(("what", "value", "needle"), BAD_ARRAYS,
                         ids=[w for w, _, _ in BAD_ARRAYS])
def test_network_and_validate_name_the_bad_array(what: str, value: Any, needle: str) -> None:
    with pytest.raises(ix.InvalidArgumentError, match=r"^x "):
        Network((2, 3)).forward(value)
    with pytest.raises(ix.InvalidArgumentError, match=r"^operand 1 "):
        numeric_operand("operand 1", value)


def test_object_arrays_of_real_numbers_are_read() -> None:
    from decimal import Decimal
    from fractions import Fraction

    value = np.array([[Decimal("0.5"), Fraction(1, 4)]], dtype=object)
    assert real_array("x", value).tolist() == [[0.5, 0.25]]
    out = ix.parse("a^n_h = x^n_d W^d_h").evaluate(x=value, W=np.ones((2, 3)))
    assert out["a"].tolist() == [[0.75] * 3]
    assert numeric_operand("operand 0", np.array([1, 2.5], dtype=object)) is not None


# -- checkpoints: every corrupt file is a CheckpointError ---------------------------------


def test_every_single_byte_flip_is_a_checkpoint_error_or_harmless(tmp_path: Path) -> None:
    path, bad = tmp_path / "net.npz", tmp_path / "bad.npz"
    net = Network((3, 2), seed=1)
    net.save(path)
    data = path.read_bytes()
    errors = 0
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0xFF
        bad.write_bytes(bytes(flipped))
        try:
            loaded = Network.load(bad)
        except ix.CheckpointError:
            errors += 1
            continue
        for name, value in net.parameters().items():  # a flip that loads changed nothing
            np.testing.assert_array_equal(loaded.parameters()[name], value)
    assert errors > len(data) // 2


def test_a_single_npy_array_is_named_once(tmp_path: Path) -> None:
    path = tmp_path / "one.npy"
    np.save(path, np.ones(3))
    with pytest.raises(ix.CheckpointError) as info:
        Network.load(path)
    message = str(info.value)
    assert "a single .npy array" in message and "truncated or corrupt" not in message
    assert message.count(str(path)) == 1


# -- saving: through symlinks, never over special files, no orphan temporaries -------------


def test_save_through_a_symlink_replaces_its_target(tmp_path: Path) -> None:
    target, link = tmp_path / "real.npz", tmp_path / "link.npz"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    link.symlink_to("real.npz")
    Network((3, 2)).save(link)
    assert link.is_symlink() and os.readlink(link) == "real.npz"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    Network.load(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.npz", "real.npz"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_save_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(ix.CheckpointError, match="FIFO, not a regular file"):
        Network((3, 2)).save(fifo)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    if os.path.exists("/dev/null"):
        with pytest.raises(ix.CheckpointError, match="character device"):
            Network((3, 2)).save("/dev/null")


def test_stale_temporaries_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    target = tmp_path / "net.npz"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    prefix = temp_prefix(str(target))
    stale = tmp_path / f"{prefix}{dead.stdout.strip()}-abc.tmp"
    live = tmp_path / f"{prefix}{os.getppid()}-def.tmp"
    old = tmp_path / f"{prefix}garbage.tmp"
    other = tmp_path / f"{temp_prefix(str(tmp_path / 'other.npz'))}1-x.tmp"
    for p in (stale, live, old, other):
        p.write_bytes(b"x" * 100)
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    Network((3, 2)).save(target)
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"net.npz", live.name, other.name}
    assert clean_stale_temporaries(str(target)) == []


def test_temporary_names_name_their_target(tmp_path: Path) -> None:
    seen: list[str] = []

    def spy(handle: Any) -> None:
        seen.extend(name for name in os.listdir(tmp_path) if name != "net.npz")
        handle.write(b"x")

    atomic_write_bytes(tmp_path / "net.npz", spy)
    assert seen[0].startswith(f".net.npz.indexnet-{os.getpid()}-") and seen[0].endswith(".tmp")


# -- training that diverges without NaN ---------------------------------------------------


@pytest.fixture(scope="module")
def blobs() -> Any:
    return split(synthetic(n=600, d=8, k=4, seed=0), seed=0)


def test_divergence_without_nan_stops_and_keeps_the_better_file(blobs: Any,
                                                                tmp_path: Path) -> None:
    tr, va, _ = blobs
    path = tmp_path / "net.npz"
    good = Network((8, 16, 4), seed=0)
    train(good, tr, va, epochs=5, progress=False, save=path)
    before = path.read_bytes()
    net = Network((8, 16, 4), activation="relu", seed=0)
    start = {k: v.copy() for k, v in net.parameters().items()}
    with pytest.raises(DivergenceError, match="diverged at epoch 3") as info:
        train(net, tr, va, epochs=20, lr=1e3, progress=False, save=path)
    assert isinstance(info.value, ix.IndexnetError) and info.value.best_epoch == 0
    assert path.read_bytes() == before  # the better weights were not replaced
    for name, value in start.items():  # the network is given back its starting weights
        np.testing.assert_array_equal(net.parameters()[name], value)


def test_save_keeps_the_best_epoch_by_validation_loss(blobs: Any, tmp_path: Path) -> None:
    tr, va, _ = blobs
    path = tmp_path / "net.npz"
    net = Network((8, 16, 4), seed=0)
    result = train(net, tr, va, epochs=12, lr=0.5, progress=False, save=path)
    losses = result.history["val_loss"]
    assert result.best_epoch == 1 + int(np.argmin(losses))
    saved = Network.load(path)
    xv = va.x
    yv = np.eye(4)[va.labels]
    assert saved.loss(xv, yv) == pytest.approx(min(losses))


def test_cli_divergence_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "net.npz"
    status = main(["train", "--dataset", "synthetic", "--lr", "1e3", "--activation", "relu",
                   "--save", str(path), "--no-progress", "--epochs", "10"])
    err = capsys.readouterr().err
    assert status == 2 and "diverged" in err and len(err.strip().splitlines()) == 1
    assert not path.exists()


# -- --json: no bare NaN or Infinity ------------------------------------------------------


def _strict(text: str) -> Any:
    def refuse(name: str) -> None:
        raise ValueError(f"bare {name} in JSON")

    return json.loads(text, parse_constant=refuse)


def test_eval_json_has_null_and_says_why(capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    program, inputs = tmp_path / "copy.ix", tmp_path / "x.npz"
    program.write_text("input x^n_d\ny^n_d = x^n_d\n")
    np.savez(inputs, x=np.array([[1.0, -np.inf], [np.nan, 2.0]]))
    assert main(["eval", str(program), "--inputs", str(inputs), "--json"]) == 0
    out = _strict(capsys.readouterr().out)
    assert out["tensors"]["y"]["min"] is None and out["tensors"]["y"]["shape"] == [2, 2]
    assert out[NON_FINITE]["tensors.y.min"] == "NaN"


finite_or_not = st.floats(allow_nan=True, allow_infinity=True)
nested = st.recursive(
    st.one_of(finite_or_not, st.integers(), st.text(max_size=3), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text("abc", max_size=2), inner, max_size=3)),
    max_leaves=12,
)


@settings(deadline=None, max_examples=100)
@given(st.dictionaries(st.text("xyz", min_size=1, max_size=2), nested, max_size=4))
def test_json_text_is_strict_json_and_lists_every_null_it_made(value: dict[str, Any]) -> None:
    out = _strict(json_text(value))
    notes = out.pop(NON_FINITE, {})

    def count(v: Any) -> int:
        if isinstance(v, float) and not math.isfinite(v):
            return 1
        if isinstance(v, dict):
            return sum(count(x) for x in v.values())
        if isinstance(v, list):
            return sum(count(x) for x in v)
        return 0

    assert len(notes) == count(value)
    assert set(notes.values()) <= {"NaN", "Infinity", "-Infinity"}


# -- the gradient checker's traps ---------------------------------------------------------

relu_sum = lambda p: float(np.sum(np.maximum(p["x"], 0)))  # noqa: E731


@pytest.mark.parametrize("mode", ["full", "directional"])
def test_missing_factor_at_a_degenerate_point_is_vacuous_not_ok(mode: str) -> None:
    w = np.zeros(3)
    report = ix.gradcheck(lambda p: np.sum(p["w"] ** 3), {"w": w}, {"w": 2 * w**2}, mode=mode)
    assert not report.ok and report.vacuous and "random point" in str(report)
    w = np.array([0.5, -1.0, 2.0])  # at a random point the mistake is caught
    report = ix.gradcheck(lambda p: np.sum(p["w"] ** 3), {"w": w}, {"w": 2 * w**2}, mode=mode)
    assert not report.ok and not report.vacuous


@pytest.mark.parametrize("mode", ["full", "directional"])
@pytest.mark.parametrize("at", [0.0, 1e-9])
def test_a_kink_is_reported_as_not_differentiable(mode: str, at: float) -> None:
    x = np.array([at, 1.0, -1.0])
    report = ix.gradcheck(relu_sum, {"x": x}, {"x": (x > 0).astype(float)}, mode=mode)
    assert not report.ok
    row = report.entries[0]
    assert row.status == "kink" and "not differentiable at" in row.message
    assert "not differentiable" in str(report)


def test_a_tie_in_max_is_a_kink() -> None:
    x = np.array([1.0, 1.0, 0.5])
    report = ix.gradcheck(lambda p: float(np.max(p["x"])), {"x": x},
                          {"x": np.array([1.0, 0.0, 0.0])}, mode="full")
    assert report.entries[0].status == "kink"


@pytest.mark.parametrize("mode", ["full", "directional"])
def test_large_parameters_pass_with_a_relative_step(mode: str) -> None:
    x = np.array([1e6, -2e6, 3e6])
    report = ix.gradcheck(lambda p: np.sum(p["x"] ** 3), {"x": x}, {"x": 3 * x**2}, mode=mode)
    assert report.ok, str(report)


@pytest.mark.parametrize("mode", ["full", "directional"])
def test_float32_f_is_reported_as_noisy(mode: str) -> None:
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((4, 4)), "x": rng.standard_normal(4)}

    def f32(p: dict[str, np.ndarray]) -> float:
        return float(np.sum(np.tanh(p["W"].astype(np.float32) @ p["x"].astype(np.float32))))

    def grads(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        s = 1 - np.tanh(p["W"] @ p["x"]) ** 2
        return {"W": np.outer(s, p["x"]), "x": p["W"].T @ s}

    report = ix.gradcheck(f32, params, grads, mode=mode)
    assert not report.ok
    assert any(row.status == "noisy" for row in report.failures)
    assert "not the gradient" in str(report)


@pytest.mark.parametrize("mode", ["full", "directional"])
def test_a_wrong_gradient_is_a_plain_failure(mode: str) -> None:
    x = np.array([0.3, -1.2, 0.7])
    report = ix.gradcheck(lambda p: float(np.sum(np.tanh(p["x"]))), {"x": x},
                          {"x": 2 * (1 - np.tanh(x) ** 2)}, mode=mode)
    assert not report.ok and not report.vacuous
    assert all(row.status == "" for row in report.failures)


@pytest.mark.parametrize("mode", ["full", "directional"])
def test_size_zero_tensors_say_zero_entries_checked(mode: str) -> None:
    report = ix.gradcheck(lambda p: 0.0, {"e": np.zeros((0, 3))}, {"e": np.zeros((0, 3))},
                          mode=mode)
    assert not report.ok and report.vacuous
    assert report.entries[0].checks == 0
    assert "0 entries checked" in str(report)
    assert " ok" not in str(report).splitlines()[-2]
