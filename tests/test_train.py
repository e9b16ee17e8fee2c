"""Tests of seednet.train: the SGD loop, checkpoints, divergence, plots and ``indexnet train``."""

from __future__ import annotations

import argparse
import builtins
import json
import math
import os
from typing import Any

import numpy as np
import pytest

from indexnet.cli.argtypes import parse_hidden
from indexnet.cli.train import register
from indexnet.errors import (
    IndexnetError,
    InvalidArgumentError,
    NonFiniteError,
    SizeMismatchError,
)
from indexnet.seednet.data import Dataset, split, synthetic
from indexnet.seednet.nn import Network
from indexnet.seednet.train import (
    DEFAULTS,
    TrainResult,
    accuracy,
    plot_history,
    train,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def blobs() -> tuple[Dataset, Dataset, Dataset]:
    return split(synthetic(n=600, d=8, k=4, seed=0), seed=0)


def _net(seed: int = 0, **kwargs: Any) -> Network:
    return Network((8, 16, 4), seed=seed, **kwargs)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="indexnet")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    return parser


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    args = _parser().parse_args(["train", *argv])
    status = args.func(args)
    return status, capsys.readouterr().out


# -- the training loop -----------------------------------------------------------------


def test_synthetic_reaches_high_accuracy(blobs: tuple[Dataset, Dataset, Dataset]) -> None:
    tr, va, te = blobs
    net = _net()
    before = accuracy(net, te)
    result = train(net, tr, va, epochs=8, progress=False)
    assert accuracy(net, te) >= 0.95 > before
    assert result.val_accuracy is not None and result.val_accuracy >= 0.95
    assert result.epochs == 8 and len(result.history["train_loss"]) == 8
    assert set(result.history) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy"}
    assert result.history["train_loss"][-1] < result.history["train_loss"][0]
    assert result.train_loss == result.history["train_loss"][-1]
    assert result.test_accuracy is None
    assert result.seconds > 0
    assert result.layer_sizes == (8, 16, 4) and result.dataset == "synthetic"


def test_same_seed_gives_identical_history(blobs: tuple[Dataset, Dataset, Dataset]) -> None:
    tr, va, _ = blobs
    a = train(_net(1), tr, va, epochs=3, seed=5, progress=False)
    b = train(_net(1), tr, va, epochs=3, seed=5, progress=False)
    c = train(_net(1), tr, va, epochs=3, seed=6, progress=False)
    assert a.history == b.history
    assert a.history["train_loss"] != c.history["train_loss"]


def test_data_is_cast_to_the_network_dtype(blobs: tuple[Dataset, Dataset, Dataset]) -> None:
    tr, _, te = blobs
    net = _net(dtype="float32")
    seen: list[np.dtype] = []
    original = net.train_step

    def spy(x: np.ndarray, y: np.ndarray, lr: float, momentum: float = 0.0) -> float:
        seen.append(x.dtype)
        seen.append(y.dtype)
        return original(x, y, lr, momentum)

    net.train_step = spy  # type: ignore[method-assign]
    train(net, tr, epochs=1, progress=False)
    assert set(seen) == {np.dtype(np.float32)}
    assert accuracy(net, te) > 0.5


@pytest.mark.parametrize(("drop_last", "sizes"), [(False, [32, 32, 32, 4]), (True, [32, 32, 32])])
def test_batches_and_ragged_last_batch(drop_last: bool, sizes: list[int]) -> None:
    tr = synthetic(n=100, d=8, k=4)
    net = _net()
    calls: list[int] = []
    original = net.train_step

    def spy(x: np.ndarray, y: np.ndarray, lr: float, momentum: float = 0.0) -> float:
        calls.append(len(x))
        return original(x, y, lr, momentum)

    net.train_step = spy  # type: ignore[method-assign]
    train(net, tr, epochs=2, batch_size=32, drop_last=drop_last, progress=False)
    assert calls == sizes * 2


def test_on_epoch_sees_records_and_can_stop(blobs: tuple[Dataset, Dataset, Dataset]) -> None:
    tr, va, _ = blobs
    seen: list[tuple[int, dict[str, Any]]] = []

    def hook(epoch: int, record: dict[str, Any]) -> bool:
        seen.append((epoch, record))
        return epoch == 2

    result = train(_net(), tr, va, epochs=10, on_epoch=hook, progress=False)
    assert [e for e, _ in seen] == [1, 2]
    assert set(seen[0][1]) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy"}
    assert result.epochs == 2 and result.stopped_early


def test_progress_bar_goes_to_stderr(
    blobs: tuple[Dataset, Dataset, Dataset], capsys: pytest.CaptureFixture[str]
) -> None:
    tr, va, _ = blobs
    train(_net(), tr, va, epochs=2, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "epoch 2/2" in captured.err and "loss=" in captured.err and "acc=" in captured.err
    train(_net(), tr, va, epochs=1, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "epochs"),
        ({"epochs": 1.5}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"lr": -1.0}, "lr"),
        ({"lr": math.nan}, "lr"),
        ({"momentum": 1.0}, "momentum"),
        ({"momentum": -0.1}, "momentum"),
    ],
)
def test_bad_arguments(
    blobs: tuple[Dataset, Dataset, Dataset], kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        train(_net(), blobs[0], progress=False, **kwargs)


def test_dataset_must_fit_the_network(blobs: tuple[Dataset, Dataset, Dataset]) -> None:
    with pytest.raises(SizeMismatchError, match="8 features"):
        train(Network((5, 4)), blobs[0], progress=False)
    with pytest.raises(SizeMismatchError, match="4 classes"):
        train(Network((8, 3)), blobs[0], progress=False)


# -- checkpoints and divergence ----------------------------------------------------------


def test_save_leaves_a_loadable_checkpoint(
    blobs: tuple[Dataset, Dataset, Dataset], tmp_path: os.PathLike[str]
) -> None:
    tr, _, te = blobs
    path = os.path.join(tmp_path, "net.npz")
    net = _net()
    train(net, tr, epochs=2, save=path, progress=False)
    loaded = Network.load(path)
    for name, value in net.parameters().items():
        np.testing.assert_array_equal(loaded.parameters()[name], value)
    np.testing.assert_array_equal(loaded.predict(te.x), net.predict(te.x))
    assert [f for f in os.listdir(tmp_path) if f != "net.npz"] == []  # no temporary left


def test_non_finite_loss_stops_and_keeps_last_good_save(
    blobs: tuple[Dataset, Dataset, Dataset], tmp_path: os.PathLike[str]
) -> None:
    tr, _, _ = blobs
    path = os.path.join(tmp_path, "net.npz")
    net = _net()
    steps_per_epoch = math.ceil(len(tr) / 32)
    fail_at = steps_per_epoch + 3  # the third step of epoch 2
    calls = 0
    original = net.train_step
    after_epoch_1: dict[str, np.ndarray] = {}

    def flaky(x: np.ndarray, y: np.ndarray, lr: float, momentum: float = 0.0) -> float:
        nonlocal calls
        calls += 1
        if calls == fail_at:
            raise NonFiniteError("loss is nan; the weights were left unchanged")
        return original(x, y, lr, momentum)

    def snapshot(epoch: int, record: dict[str, Any]) -> None:
        if epoch == 1:
            after_epoch_1.update({k: v.copy() for k, v in net.parameters().items()})

    net.train_step = flaky  # type: ignore[method-assign]
    with pytest.raises(NonFiniteError) as info:
        train(net, tr, epochs=5, batch_size=32, save=path, on_epoch=snapshot, progress=False)
    message = str(info.value)
    assert f"epoch 2, step {fail_at}" in message
    assert path in message and "epoch 1" in message
    loaded = Network.load(path)
    for name, value in after_epoch_1.items():
        np.testing.assert_array_equal(loaded.parameters()[name], value)
        assert np.all(np.isfinite(loaded.parameters()[name]))


def test_non_finite_before_any_save_says_nothing_saved(
    blobs: tuple[Dataset, Dataset, Dataset], tmp_path: os.PathLike[str]
) -> None:
    net = _net()

    def boom(x: Any, y: Any, lr: float, momentum: float = 0.0) -> float:
        raise NonFiniteError("loss is inf")

    net.train_step = boom  # type: ignore[method-assign]
    path = os.path.join(tmp_path, "net.npz")
    with pytest.raises(NonFiniteError, match=r"epoch 1, step 1.*nothing was saved"):
        train(net, blobs[0], epochs=2, save=path, progress=False)
    assert not os.path.exists(path)
    with pytest.raises(NonFiniteError, match="smaller learning rate"):
        train(net, blobs[0], epochs=2, progress=False)


def test_real_divergence_with_a_huge_learning_rate(
    blobs: tuple[Dataset, Dataset, Dataset], tmp_path: os.PathLike[str]
) -> None:
    tr, _, _ = blobs
    path = os.path.join(tmp_path, "net.npz")
    net = _net(output="identity")  # squared error: a huge step overflows to inf
    with pytest.raises(NonFiniteError, match=r"epoch \d+, step \d+") as info:
        train(net, tr, epochs=20, lr=1e12, momentum=0.0, save=path, progress=False)
    assert isinstance(info.value, IndexnetError)
    if os.path.exists(path):  # an epoch finished before the overflow: its save is intact
        loaded = Network.load(path)
        assert all(np.all(np.isfinite(p)) for p in loaded.parameters().values())


# -- results and plots -------------------------------------------------------------------


def test_train_result_to_json_round_trips() -> None:
    result = TrainResult(
        0.25, 0.9, 0.8, 3, 1.5, {"train_loss": [1.0, 0.5, 0.25]}, layer_sizes=(4, 3, 2)
    )
    data = json.loads(json.dumps(result.to_json()))
    assert data["test_accuracy"] is None and data["layer_sizes"] == [4, 3, 2]
    assert {"train_loss", "epochs", "seconds", "history", "val_accuracy"} <= set(data)


def test_plot_history_writes_png(tmp_path: os.PathLike[str]) -> None:
    pytest.importorskip("matplotlib")
    path = os.path.join(tmp_path, "loss.png")
    plot_history(
        {
            "train_loss": [1.0, 0.5, 0.2],
            "train_accuracy": [0.5, 0.8, 0.9],
            "val_accuracy": [0.5, 0.7, 0.85],
        },
        path,
    )
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    with pytest.raises(InvalidArgumentError, match="train_loss"):
        plot_history({}, path)


def test_plot_without_matplotlib_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(InvalidArgumentError, match=r"pip install indexnet\[plot\]"):
        plot_history({"train_loss": [1.0]}, os.path.join(tmp_path, "x.png"))


# -- the command line --------------------------------------------------------------------


def test_parse_hidden() -> None:
    assert parse_hidden("128") == (128,)
    assert parse_hidden(" 64 , 32 ") == (64, 32)
    assert parse_hidden("none") == ()
    for bad in ("", "0", "-3", "64,,32", "x", "1.5"):
        with pytest.raises(InvalidArgumentError, match="--hidden"):
            parse_hidden(bad)


def test_cli_json(capsys: pytest.CaptureFixture[str], tmp_path: os.PathLike[str]) -> None:
    save = os.path.join(tmp_path, "net.npz")
    status, out = _cli(
        capsys,
        "--dataset",
        "synthetic",
        "--epochs",
        "4",
        "--hidden",
        "16,8",
        "--json",
        "--no-progress",
        "--save",
        save,
    )
    assert status == 0
    data = json.loads(out)  # exactly one JSON object
    for key in (
        "test_accuracy",
        "train_loss",
        "epochs",
        "seconds",
        "val_accuracy",
        "dataset",
        "layer_sizes",
        "history",
    ):
        assert key in data
    assert data["dataset"] == "synthetic" and data["layer_sizes"] == [20, 16, 8, 3]
    assert data["epochs"] == 4 and data["test_accuracy"] > 0.9
    assert Network.load(save).layer_sizes == (20, 16, 8, 3)


def test_cli_summary_and_plot(
    capsys: pytest.CaptureFixture[str], tmp_path: os.PathLike[str]
) -> None:
    pytest.importorskip("matplotlib")
    plot = os.path.join(tmp_path, "curve.png")
    status, out = _cli(
        capsys,
        "--dataset",
        "synthetic",
        "--epochs",
        "2",
        "--no-progress",
        "--plot",
        plot,
        "--activation",
        "tanh",
        "--dtype",
        "float32",
    )
    assert status == 0
    assert "test accuracy" in out and "20-128-3 tanh" in out and plot in out
    with open(plot, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE


def test_cli_same_seed_same_result(capsys: pytest.CaptureFixture[str]) -> None:
    runs = [
        json.loads(
            _cli(
                capsys,
                "--dataset",
                "synthetic",
                "--epochs",
                "2",
                "--json",
                "--no-progress",
                "--seed",
                "3",
            )[1]
        )
        for _ in range(2)
    ]
    assert runs[0]["history"] == runs[1]["history"]
    assert runs[0]["test_accuracy"] == runs[1]["test_accuracy"]


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--lr", "0"], "--lr"),
        (["--lr", "nan"], "--lr"),
        (["--momentum", "1"], "--momentum"),
        (["--hidden", "12,x"], "--hidden"),
        (["--data-dir", "."], "--data-dir"),
    ],
)
def test_cli_rejects_bad_arguments(
    capsys: pytest.CaptureFixture[str], argv: list[str], match: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        _cli(capsys, "--dataset", "synthetic", "--no-progress", *argv)


def test_cli_mnist_without_data_dir_is_a_data_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(IndexnetError, match="data-dir"):
        _cli(capsys, "--dataset", "mnist", "--no-progress")


def test_cli_help_describes_every_option() -> None:
    sub = argparse.ArgumentParser(prog="indexnet")
    train_parser = register(sub.add_subparsers())
    for action in train_parser._actions:
        assert action.help, f"option {action.option_strings} has no help"
    assert "default: 40" in train_parser.format_help()


def test_digits_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sklearn")
    status, out = _cli(capsys, "--epochs", "3", "--json", "--no-progress")
    data = json.loads(out)
    assert status == 0 and data["dataset"] == "digits" and data["layer_sizes"] == [64, 128, 10]
    assert data["test_accuracy"] > 0.85


def test_default_digits_run_reaches_95_percent(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sklearn")
    status, out = _cli(capsys, "--json", "--no-progress")
    data = json.loads(out)
    assert status == 0 and data["epochs"] == DEFAULTS["epochs"]
    assert data["test_accuracy"] >= 0.95, data["test_accuracy"]
    assert data["seconds"] < 30


def test_main_turns_errors_into_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    cli = pytest.importorskip("indexnet.cli.main")
    status = cli.main(["train", "--dataset", "synthetic", "--hidden", "abc", "--no-progress"])
    captured = capsys.readouterr()
    assert status == 2
    assert "--hidden" in captured.err and "Traceback" not in captured.err


def test_non_finite_weights_at_epoch_end_are_not_saved(
    blobs: tuple[Dataset, Dataset, Dataset], tmp_path: os.PathLike[str]
) -> None:
    tr, _, _ = blobs
    net = _net()
    path = os.path.join(tmp_path, "net.npz")
    original = net.train_step
    calls = 0
    steps_per_epoch = math.ceil(len(tr) / 32)

    def poison(x: np.ndarray, y: np.ndarray, lr: float, momentum: float = 0.0) -> float:
        nonlocal calls
        calls += 1
        loss = original(x, y, lr, momentum)
        if calls == 2 * steps_per_epoch:  # last step of epoch 2: a finite loss, bad weights
            net.parameters()["W1"][0, 0] = np.inf
        return loss

    net.train_step = poison  # type: ignore[method-assign]
    with pytest.raises(NonFiniteError, match=r"epoch 2 .*not saved.*epoch 1"):
        train(net, tr, epochs=3, save=path, progress=False)
    assert all(np.all(np.isfinite(p)) for p in Network.load(path).parameters().values())


# -- review findings: bad input is a one-line error, exit 2, never a traceback ------------


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from indexnet.cli.main import main

    status = main(["train", *argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.out, captured.err


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--seed", "-1", "expected an integer >= 0, got '-1'"),
        ("--epochs", "0", "expected an integer >= 1, got '0'"),
        ("--batch-size", "-3", "expected an integer >= 1, got '-3'"),
    ],
)
def test_cli_bounded_integers_are_usage_errors(
    capsys: pytest.CaptureFixture[str], option: str, value: str, needle: str
) -> None:
    with pytest.raises(SystemExit) as info:
        _main(capsys, "--dataset", "synthetic", "--no-progress", option, value)
    err = capsys.readouterr().err
    assert info.value.code == 2 and option in err and needle in err
    assert "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("option", "target", "needle"),
    [
        ("--plot", "folder.png", "cannot write --plot"),
        ("--plot", "curve.jpg", "PNG"),
        ("--plot", os.path.join("no", "such", "c.png"), "does not exist"),
        ("--save", "folder.png", "cannot write --save"),
        ("--save", os.path.join("no", "such", "net.npz"), "does not exist"),
    ],
)
def test_cli_bad_output_paths_fail_before_training(
    capsys: pytest.CaptureFixture[str],
    tmp_path: os.PathLike[str],
    option: str,
    target: str,
    needle: str,
) -> None:
    os.mkdir(os.path.join(tmp_path, "folder.png"))
    path = os.path.join(tmp_path, target)
    status, out, err = _main(
        capsys, "--dataset", "synthetic", "--epochs", "1", "--json", option, path
    )
    assert status == 2 and out == "" and needle in err and err.count("\n") == 1
    assert "epoch" not in err  # nothing was trained


def test_train_save_into_a_missing_folder_is_a_checkpoint_error(
    blobs: tuple[Dataset, Dataset, Dataset],
) -> None:
    from indexnet.errors import CheckpointError

    with pytest.raises(CheckpointError, match="does not exist"):
        train(_net(), blobs[0], progress=False,
              save=os.path.join("no", "such", "folder", "net.npz"))


def test_plot_history_into_a_folder_is_a_checkpoint_error(tmp_path: os.PathLike[str]) -> None:
    pytest.importorskip("matplotlib")
    from indexnet.errors import CheckpointError

    folder = os.path.join(tmp_path, "loss.png")
    os.mkdir(folder)
    with pytest.raises(CheckpointError, match="it is a folder"):
        plot_history({"train_loss": [1.0, 0.5]}, folder)
    assert os.listdir(folder) == []


def test_huge_hidden_layer_is_refused_naming_layer_and_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = _main(
        capsys, "--dataset", "synthetic", "--no-progress", "--hidden", "99999999999"
    )
    assert status == 2 and out == ""
    assert "layer 1 (W1, 20 -> 99999999999)" in err and "1,999,999,999,980" in err
    assert "2**31" in err and err.count("\n") == 1


def test_weight_limit_is_the_networks_and_documented() -> None:
    from indexnet.seednet.nn import MAX_WEIGHT_ELEMENTS

    Network((1, MAX_WEIGHT_ELEMENTS // 2**20, 1))  # below the limit is built
    with pytest.raises(InvalidArgumentError, match=r"layer 2 \(W2, 65536 -> 65537\)"):
        Network((3, 2**16, 2**16 + 1))
    assert "2**31" in register(argparse.ArgumentParser().add_subparsers()).format_help()


def test_cli_data_dir_that_is_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: os.PathLike[str]
) -> None:
    path = os.path.join(tmp_path, "mnist.tar")
    with open(path, "wb") as f:
        f.write(b"x")
    status, _, err = _main(capsys, "--dataset", "mnist", "--data-dir", path, "--no-progress")
    assert status == 2 and "is a file" in err and path in err
