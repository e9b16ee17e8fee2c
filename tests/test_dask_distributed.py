"""The seed's network on a ``dask.distributed.LocalCluster`` of processes (issue 12, item 3).

The full-batch loss and every gradient over two million rows, drawn chunk by
chunk on the workers, equal NumPy's over the same rows held at once; no
worker holds more than a few chunks; a worker that dies mid-computation is
retried; training steps on the client and checkpoints there; ``indexnet
train --dask`` runs on a cluster, and names an address it cannot reach.
The features are kept small (d=8, h=16, k=4) so that the module runs in
seconds on two cores. No warning of dask.distributed needs filtering here:
``local_cluster`` gives each scheduler a free port, so the clusters this
module starts side by side do not collide on port 8787.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

from indexnet import Network  # noqa: E402
from indexnet.cli import main  # noqa: E402
from indexnet.seednet.distributed import (  # noqa: E402
    ClusterGradient,
    local_cluster,
    synthetic_chunks,
    synthetic_dataset,
    train_on_cluster,
)

SIZES = (8, 16, 4)


@pytest.fixture(scope="module")
def client() -> Any:
    with local_cluster(workers=2) as cluster, distributed.Client(
            cluster, set_as_default=False) as c:
        yield c


class PeakBytes(distributed.WorkerPlugin):
    """Records the most bytes of task results a worker held at once."""

    name = "indexnet-peak-bytes"

    def setup(self, worker: Any) -> None:
        self.worker = worker
        self.peak = 0

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        self.peak = max(self.peak, self.worker.state.nbytes)


def _peak(dask_worker: Any) -> int:
    return dask_worker.plugins[PeakBytes.name].peak


def _die_once(block: np.ndarray, marker: str, block_info: Any = None) -> np.ndarray:
    """Kill the worker computing chunk 1, the first time only."""
    if block_info[0]["chunk-location"][0] == 1 and not os.path.exists(marker):
        Path(marker).touch()
        os._exit(1)
    return block


def _numpy(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    return dask.compute(x, y, scheduler="threads")


def test_two_million_rows_equal_numpy_and_no_worker_holds_many_chunks(client: Any) -> None:
    rows, chunk = 2_000_000, 250_000
    x, y = synthetic_chunks(rows, d=SIZES[0], k=SIZES[-1], chunk_rows=chunk, seed=1)
    net = Network(SIZES, seed=0, l2=1e-4)
    client.register_plugin(PeakBytes())
    gradient = ClusterGradient(client, x, y)
    loss, grads, acc = gradient.loss_and_gradients(net)
    peaks = client.run(_peak)

    expected_loss, expected = net.loss_and_gradients(*_numpy(x, y))
    assert loss == pytest.approx(expected_loss, rel=1e-10)
    for name, value in expected.items():
        np.testing.assert_allclose(grads[name], value, rtol=1e-10, atol=1e-13)
    assert 0.0 <= acc <= 1.0
    chunk_bytes = chunk * (SIZES[0] + SIZES[-1]) * 8
    assert gradient.chunks == 8 and len(peaks) == 2
    assert max(peaks.values()) <= 2 * chunk_bytes, peaks  # a chunk is drawn and dropped
    print(f"peak bytes held by a worker: {peaks}; one chunk of x and y: {chunk_bytes}")


def test_a_worker_that_dies_mid_computation_is_retried(client: Any, tmp_path: Path) -> None:
    x, y = synthetic_chunks(40_000, d=SIZES[0], k=SIZES[-1], chunk_rows=10_000, seed=2)
    marker = tmp_path / "died"
    deadly = x.map_blocks(_die_once, marker=str(marker), dtype=x.dtype)
    net = Network(SIZES, seed=3)
    loss, grads, _ = ClusterGradient(client, deadly, y).loss_and_gradients(net)
    assert marker.exists()  # a worker did die
    expected_loss, expected = net.loss_and_gradients(*_numpy(x, y))
    assert loss == pytest.approx(expected_loss, rel=1e-10)
    for name, value in expected.items():
        np.testing.assert_allclose(grads[name], value, rtol=1e-10, atol=1e-13)
    client.wait_for_workers(2, timeout=60)


def _numpy_descent(net: Network, x: np.ndarray, y: np.ndarray, steps: int, lr: float,
                   momentum: float, batches: list[slice]) -> None:
    velocity = {k: np.zeros_like(v) for k, v in net.parameters().items()}
    for _ in range(steps):
        for rows in batches:
            _, grads = net.loss_and_gradients(x[rows], y[rows])
            for name, g in grads.items():
                velocity[name] = momentum * velocity[name] - lr * g
                net.parameters()[name] += velocity[name]


def test_full_batch_descent_equals_numpy_and_the_client_checkpoints(
        client: Any, tmp_path: Path) -> None:
    x, y = synthetic_chunks(30_000, d=SIZES[0], k=SIZES[-1], chunk_rows=7_000, seed=4)
    val = synthetic_dataset(500, d=SIZES[0], k=SIZES[-1], seed=4)
    net, twin = Network(SIZES, seed=5, l2=1e-3), Network(SIZES, seed=5, l2=1e-3)
    save = tmp_path / "net.npz"
    result = train_on_cluster(net, ClusterGradient(client, x, y), epochs=4, lr=0.5,
                              momentum=0.5, val=(val.x, val.labels), save=save,
                              progress=False)
    _numpy_descent(twin, *_numpy(x, y), steps=4, lr=0.5, momentum=0.5, batches=[slice(None)])
    for name, value in twin.parameters().items():
        np.testing.assert_allclose(net.parameters()[name], value, rtol=1e-9, atol=1e-12)
    assert result.epochs == 4 and len(result.history["val_loss"]) == 4
    assert result.history["train_loss"][-1] < result.history["train_loss"][0]
    best = int(np.argmin(result.history["val_loss"])) + 1
    assert result.best_epoch == best and save.exists()
    assert Network.load(save).loss(val.x, np.eye(4)[val.labels]) == pytest.approx(
        result.history["val_loss"][best - 1], rel=1e-12)


def test_large_batches_are_whole_chunks(client: Any) -> None:
    x, y = synthetic_chunks(12_000, d=SIZES[0], k=SIZES[-1], chunk_rows=2_000, seed=6)
    gradient = ClusterGradient(client, x, y)
    net = Network(SIZES, seed=7)
    result = train_on_cluster(net, gradient, epochs=2, lr=0.3, momentum=0.0,
                              batch_rows=3_000, progress=False)
    assert result.epochs == 2  # 3 steps an epoch: batches of chunks 0-1, 2-3, 4-5


def test_numpy_data_are_scattered_once_and_chunked(client: Any) -> None:
    rng = np.random.default_rng(8)
    x, labels = rng.normal(size=(5_000, 8)), rng.integers(0, 4, 5_000)
    y = np.eye(4)[labels]
    net = Network(SIZES, seed=9, l2=0.01)
    gradient = ClusterGradient(client, x, y, chunk_rows=1_024)
    loss, grads, acc = gradient.loss_and_gradients(net)
    expected_loss, expected = net.loss_and_gradients(x, y)
    assert gradient.chunks == 5 and loss == pytest.approx(expected_loss, rel=1e-12)
    assert acc == np.mean(net.predict(x) == labels)
    for name, value in expected.items():
        np.testing.assert_allclose(grads[name], value, rtol=1e-10, atol=1e-13)


def test_cli_trains_on_the_cluster(client: Any, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    save = tmp_path / "cli.npz"
    status = main(["train", "--dask", client.scheduler.address, "--dataset", "synthetic",
                   "--rows", "60000", "--chunk-rows", "15000", "--hidden", "8", "--epochs", "3",
                   "--json", "--no-progress", "--save", str(save)])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and save.exists()
    assert out["n_train"] == 60_000 and out["batch_size"] is None and out["epochs"] == 3
    assert out["test_accuracy"] > 0.5


def test_cli_on_a_local_cluster_with_large_batches(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["train", "--dask", "local", "--dataset", "synthetic", "--hidden", "8",
                   "--epochs", "2", "--batch-size", "200", "--chunk-rows", "100",
                   "--no-progress"])
    out = capsys.readouterr().out
    assert status == 0 and "on the Dask cluster at local (7 chunks)" in out, out


def test_an_unreachable_cluster_is_named_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["train", "--dask", "tcp://127.0.0.1:1", "--dataset", "synthetic"])
    err = capsys.readouterr().err
    assert status == 2 and "tcp://127.0.0.1:1" in err and err.count("\n") == 1, err


@pytest.mark.parametrize(("argv", "match"), [
    (["--rows", "10"], "--rows is only used with --dask"),
    (["--dask", "local", "--backend", "torch"], "--dask computes with NumPy"),
])
def test_bad_dask_options(argv: list[str], match: str,
                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--dataset", "synthetic", *argv]) == 2
    assert match in capsys.readouterr().err
