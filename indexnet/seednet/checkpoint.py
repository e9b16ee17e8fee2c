"""Saving and loading networks: atomic writes, validated loads.

A checkpoint is a NumPy ``.npz`` archive holding every parameter and a JSON
header (format version, layer sizes, activation, output, λ, dtype). It is
written to a temporary file in the target's folder, flushed to disk and then
renamed over the target, so a crash mid-write never destroys an earlier save.
Loading rejects truncated files, missing or extra arrays, wrong shapes and
non-finite weights with a :class:`~indexnet.CheckpointError` naming the file
and the fault.

>>> import os, tempfile
>>> from indexnet.seednet.nn import Network
>>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
>>> save_network(Network((3, 4, 2)), path)
>>> load_network(path)
Network(3-4-2, activation='sigmoid', output='softmax', l2=0.0, dtype='float64')
"""

from __future__ import annotations

import itertools
import json
import os
import zipfile
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CheckpointError, IndexnetError
from ..fileio import atomic_write_bytes

if TYPE_CHECKING:
    from .nn import Network

__all__ = ["FORMAT_VERSION", "atomic_write_bytes", "load_network", "save_network"]

FORMAT_VERSION = 1
_HEADER = "__indexnet__"


def save_network(network: Network, path: str | os.PathLike[str]) -> None:
    """Save ``network`` to ``path`` atomically (see the module docstring)."""
    header = {
        "format": FORMAT_VERSION,
        "layer_sizes": list(network.layer_sizes),
        "activation": network.activation,
        "output": network.output,
        "l2": network.l2,
        "seed": network.seed,
        "dtype": str(network.dtype),
    }
    arrays: dict[str, Any] = dict(network.parameters())
    arrays[_HEADER] = np.array(json.dumps(header))
    atomic_write_bytes(path, lambda handle: np.savez(handle, **arrays), what="checkpoint")


def load_network(path: str | os.PathLike[str]) -> Network:
    """Load a network written by :func:`save_network`; every fault is a CheckpointError."""
    from .nn import Network

    path = os.fspath(path)
    if os.path.isdir(path):
        raise CheckpointError(f"{path}: a folder, not a checkpoint file")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise CheckpointError(
                f"{path}: a single .npy array, not an indexnet checkpoint (.npz from Network.save)"
            )
        with loaded as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError) as err:
        raise CheckpointError(
            f"{path}: not a readable indexnet checkpoint (truncated or corrupt: {err})"
        ) from None
    if _HEADER not in arrays:
        raise CheckpointError(f"{path}: no indexnet header; was it written by Network.save?")
    try:
        header = json.loads(str(arrays.pop(_HEADER)))
        if not isinstance(header, dict):
            raise CheckpointError(f"{path}: bad header: a JSON object was expected")
        if header.get("format") != FORMAT_VERSION:
            raise CheckpointError(
                f"{path}: checkpoint format {header.get('format')!r}, this indexnet reads "
                f"{FORMAT_VERSION}"
            )
        _check_layer_sizes(path, header["layer_sizes"], arrays)
        network = Network(
            header["layer_sizes"],
            activation=header["activation"],
            output=header["output"],
            l2=header["l2"],
            seed=header.get("seed", 0),
            dtype=header["dtype"],
        )
    except CheckpointError:
        raise
    except (ValueError, KeyError, TypeError, IndexnetError) as err:
        raise CheckpointError(f"{path}: bad header: {err}") from None
    expected = {name: p.shape for name, p in network.parameters().items()}
    if set(arrays) != set(expected):
        missing = sorted(set(expected) - set(arrays))
        extra = sorted(set(arrays) - set(expected))
        raise CheckpointError(f"{path}: missing arrays {missing}, unexpected arrays {extra}")
    for name, shape in expected.items():
        value = arrays[name]
        if value.shape != shape:
            raise CheckpointError(
                f"{path}: {name} has shape {value.shape} but layer sizes "
                f"{tuple(network.layer_sizes)} need {shape}"
            )
        if not np.issubdtype(value.dtype, np.floating) or not np.all(np.isfinite(value)):
            raise CheckpointError(f"{path}: {name} holds non-finite or non-float values")
    network.set_parameters(arrays)
    return network


def _check_layer_sizes(path: str, layer_sizes: Any, arrays: dict[str, np.ndarray]) -> None:
    """The header's sizes must match the stored weights before any network is built."""
    if not isinstance(layer_sizes, list) or not all(type(s) is int for s in layer_sizes):
        raise CheckpointError(f"{path}: bad header: layer_sizes must be a list of integers")
    for i, (d, h) in enumerate(itertools.pairwise(layer_sizes), start=1):
        stored = arrays.get(f"W{i}")
        if stored is None:
            raise CheckpointError(f"{path}: missing array W{i} for layer sizes {layer_sizes}")
        if stored.shape != (d, h):
            raise CheckpointError(
                f"{path}: W{i} has shape {stored.shape} but layer sizes "
                f"{tuple(layer_sizes)} need {(d, h)}"
            )
