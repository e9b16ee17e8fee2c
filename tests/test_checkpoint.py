"""Checkpoints: round trip, atomic writes, validated loads."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from indexnet import CheckpointError, Network
from indexnet.fileio import atomic_write_bytes
from indexnet.seednet.nn import load_network, save_network


def test_round_trip_keeps_everything(tmp_path):
    net = Network((5, 4, 3, 2), activation="tanh", output="identity", l2=0.25, seed=7,
                  dtype="float32")
    path = tmp_path / "net.npz"
    net.save(path)
    loaded = Network.load(path)
    assert repr(loaded) == repr(net)
    for name, value in net.parameters().items():
        np.testing.assert_array_equal(loaded.parameters()[name], value)
        assert loaded.parameters()[name].dtype == value.dtype
    x = np.random.default_rng(0).standard_normal((3, 5))
    np.testing.assert_array_equal(loaded.forward(x), net.forward(x))


def test_failed_write_keeps_the_earlier_file(tmp_path):
    path = tmp_path / "net.npz"
    save_network(Network((3, 2), seed=1), path)
    before = path.read_bytes()

    def crash(handle):
        handle.write(b"half a file")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write_bytes(path, crash)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.npz"]  # no temp file left


def test_truncated_file_is_rejected(tmp_path):
    path = tmp_path / "net.npz"
    save_network(Network((3, 2)), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_network(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_network(tmp_path / "nothing.npz")
    with pytest.raises(CheckpointError, match="does not exist"):
        save_network(Network((3, 2)), tmp_path / "no" / "net.npz")


def _write(path, arrays, header):
    arrays = dict(arrays)
    arrays["__indexnet__"] = np.array(json.dumps(header))
    np.savez(path, **arrays)


HEADER = {"format": 1, "layer_sizes": [3, 2], "activation": "sigmoid", "output": "softmax",
          "l2": 0.0, "seed": 0, "dtype": "float64"}


@pytest.mark.parametrize(
    ("arrays", "header", "match"),
    [
        ({"W1": np.ones((2, 3)), "b1": np.zeros(2)}, HEADER, r"W1 has shape \(2, 3\)"),
        ({"W1": np.full((3, 2), np.nan), "b1": np.zeros(2)}, HEADER, "non-finite"),
        ({"W1": np.ones((3, 2))}, HEADER, "missing arrays"),
        ({"W1": np.ones((3, 2)), "b1": np.zeros(2)}, {**HEADER, "format": 99}, "format 99"),
        ({"W1": np.ones((3, 2)), "b1": np.zeros(2)}, {**HEADER, "activation": "x"}, "bad header"),
    ],
)
def test_invalid_contents_are_rejected(tmp_path, arrays, header, match):
    path = os.fspath(tmp_path / "bad.npz")
    _write(path, arrays, header)
    with pytest.raises(CheckpointError, match=match):
        load_network(path)


def test_foreign_npz_is_rejected(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.ones(3))
    with pytest.raises(CheckpointError, match="header"):
        load_network(path)


def test_header_that_is_not_an_object_is_rejected(tmp_path):
    path = tmp_path / "list.npz"
    np.savez(path, W1=np.ones((3, 2)), b1=np.zeros(2), __indexnet__=np.array("[1, 2]"))
    with pytest.raises(CheckpointError, match="JSON object"):
        load_network(path)


def test_huge_layer_sizes_are_rejected_before_building_a_network(tmp_path):
    path = os.fspath(tmp_path / "huge.npz")
    _write(path, {"W1": np.ones((3, 2)), "b1": np.zeros(2)},
           {**HEADER, "layer_sizes": [100000, 100000, 100000]})
    with pytest.raises(CheckpointError, match="W1 has shape"):
        load_network(path)


def test_saving_onto_a_folder_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="folder"):
        save_network(Network((3, 2)), tmp_path)


def test_npy_file_is_rejected(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.ones(3))
    with pytest.raises(CheckpointError):
        load_network(path)
