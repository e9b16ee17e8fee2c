"""Checkpoint files: a network's arrays and a validated header, written atomically.

A checkpoint is a NumPy ``.npz`` archive holding every parameter (``W1``,
``b1``, ``W2``, …) and a JSON header (format version, layer sizes,
activation, output, λ, seed, dtype). :func:`write_checkpoint` writes it to a
temporary file in the target's folder, flushes it to disk and renames it over
the target, so a crash mid-write never destroys an earlier save.
:func:`read_checkpoint` rejects truncated files, foreign archives, headers
that do not match the stored weights, missing or extra arrays, wrong shapes
and non-finite weights with a :class:`~indexnet.CheckpointError` naming the
file and the fault. This module knows arrays and headers only;
:meth:`Network.save <indexnet.seednet.nn.Network.save>` and
:meth:`Network.load <indexnet.seednet.nn.Network.load>` build on it.

>>> import os, tempfile
>>> import numpy as np
>>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
>>> header = Header((2, 1), "sigmoid", "softmax", 0.0, 0, "float64")
>>> write_checkpoint(path, header, {"W1": np.ones((2, 1)), "b1": np.zeros(1)})
>>> saved = read_checkpoint(path)
>>> saved.header == header, sorted(saved.parameters())
(True, ['W1', 'b1'])
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import CheckpointError
from ..fileio import atomic_write_bytes

__all__ = ["FORMAT_VERSION", "Checkpoint", "Header", "read_checkpoint", "write_checkpoint"]

FORMAT_VERSION = 1
_HEADER = "__indexnet__"


@dataclass(frozen=True)
class Header:
    """What a checkpoint says about its network besides the weights.

    The fields are read as stored; the network's constructor validates them.
    """

    layer_sizes: tuple[int, ...]
    activation: str
    output: str
    l2: float
    seed: int
    dtype: str


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint as read: its path, its header and its arrays (header excluded)."""

    path: str
    header: Header
    arrays: dict[str, np.ndarray]

    def parameters(self) -> dict[str, np.ndarray]:
        """The stored parameters, checked: exactly ``W_i``, ``b_i`` of the right shapes, finite.

        The shapes follow the header's layer sizes; a missing or extra array, a
        wrong shape or a non-finite or non-float value is a CheckpointError.
        """
        path, sizes = self.path, self.header.layer_sizes
        expected = _shapes(sizes)
        if set(self.arrays) != set(expected):
            missing = sorted(set(expected) - set(self.arrays))
            extra = sorted(set(self.arrays) - set(expected))
            raise CheckpointError(f"{path}: missing arrays {missing}, unexpected arrays {extra}")
        for name, shape in expected.items():
            value = self.arrays[name]
            if value.shape != shape:
                raise CheckpointError(
                    f"{path}: {name} has shape {value.shape} but layer sizes "
                    f"{tuple(sizes)} need {shape}"
                )
            if not np.issubdtype(value.dtype, np.floating) or not np.all(np.isfinite(value)):
                raise CheckpointError(f"{path}: {name} holds non-finite or non-float values")
        return dict(self.arrays)


def write_checkpoint(
    path: str | os.PathLike[str], header: Header, arrays: Mapping[str, np.ndarray]
) -> None:
    """Write ``arrays`` and ``header`` to ``path`` atomically (see the module docstring)."""
    fields = {"format": FORMAT_VERSION, **asdict(header)}
    fields["layer_sizes"] = list(header.layer_sizes)
    contents: dict[str, Any] = dict(arrays)
    contents[_HEADER] = np.array(json.dumps(fields))
    atomic_write_bytes(path, lambda handle: np.savez(handle, **contents), what="checkpoint")


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint written by :func:`write_checkpoint`; every fault is a CheckpointError.

    The header must be a JSON object of the current format whose layer sizes
    match the stored weight matrices; :meth:`Checkpoint.parameters` checks the
    arrays themselves.
    """
    path = os.fspath(path)
    arrays = _read_arrays(path)
    if _HEADER not in arrays:
        raise CheckpointError(f"{path}: no indexnet header; was it written by Network.save?")
    try:
        fields = json.loads(str(arrays.pop(_HEADER)))
        if not isinstance(fields, dict):
            raise CheckpointError(f"{path}: bad header: a JSON object was expected")
        if fields.get("format") != FORMAT_VERSION:
            raise CheckpointError(
                f"{path}: checkpoint format {fields.get('format')!r}, this indexnet reads "
                f"{FORMAT_VERSION}"
            )
        _check_layer_sizes(path, fields["layer_sizes"], arrays)
        header = Header(
            layer_sizes=tuple(fields["layer_sizes"]),
            activation=fields["activation"],
            output=fields["output"],
            l2=fields["l2"],
            seed=fields.get("seed", 0),
            dtype=fields["dtype"],
        )
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"{path}: bad header: {err}") from None
    return Checkpoint(path, header, arrays)


def _read_arrays(path: str) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` archive at ``path``, header included.

    Whatever a damaged archive makes zipfile, zlib or NumPy raise (``BadZipFile``,
    ``NotImplementedError`` for a flipped compression method, ``RuntimeError`` for
    a flipped encryption flag, ``MemoryError`` for a flipped array shape, ...)
    is a CheckpointError naming the file.
    """
    if os.path.isdir(path):
        raise CheckpointError(f"{path}: a folder, not a checkpoint file")
    try:
        # Our own handle: np.load leaves the file it opened unclosed when the archive is corrupt.
        with open(path, "rb") as handle:
            return _load_npz(path, handle)
    except CheckpointError:
        raise
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except Exception as err:  # MemoryError too: every fault of a corrupt file, whatever raised it
        raise CheckpointError(
            f"{path}: not a readable indexnet checkpoint (truncated or corrupt: "
            f"{type(err).__name__}: {err})"
        ) from None


def _load_npz(path: str, handle: Any) -> dict[str, np.ndarray]:
    """The arrays of the open archive ``handle``; a lone ``.npy`` array is refused."""
    loaded = np.load(handle, allow_pickle=False)
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise CheckpointError(
            f"{path}: a single .npy array, not an indexnet checkpoint (.npz from Network.save)"
        )
    with loaded as archive:
        return {name: archive[name] for name in archive.files}


def _shapes(layer_sizes: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Every parameter's shape by name: ``W_i`` is (d, h) and ``b_i`` is (h,) for layer i."""
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (d, h) in enumerate(itertools.pairwise(layer_sizes), start=1):
        shapes[f"W{i}"] = (d, h)
        shapes[f"b{i}"] = (h,)
    return shapes


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
