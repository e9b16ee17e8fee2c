"""Datasets for the seed's network: scikit-learn's digits, MNIST from IDX files, Gaussian blobs.

A :class:`Dataset` holds a float matrix ``x`` of shape ``(n, d)`` (one example
a row, the seed's ``^n(x)_d``) and integer ``labels`` of shape ``(n,)``;
:func:`one_hot` turns the labels into the targets ``^n y_h`` the loss needs.
:func:`split` cuts a dataset into reproducible, class-stratified train,
validation and test parts, and :func:`load_dataset` does all of it by name.

Every fault in reading data (a missing file, a truncated one, a wrong magic
number) is a :class:`~indexnet.DataError` naming the file and what was expected.

>>> data = synthetic(n=100, d=4, k=3)
>>> data
Dataset('synthetic', n=100, d=4, n_classes=3)
>>> train, val, test = split(data, val=0.1, test=0.2)
>>> len(train), len(val), len(test)
(70, 10, 20)
>>> one_hot([0, 2], 3)
array([[1., 0., 0.],
       [0., 0., 1.]])
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError, InvalidArgumentError
from ..fileio import atomic_write_bytes
from ..validate import one_of, positive_int, require

__all__ = [
    "DATASETS",
    "MNIST_FILES",
    "Dataset",
    "load_dataset",
    "load_digits",
    "load_mnist",
    "one_hot",
    "read_idx",
    "split",
    "synthetic",
    "write_idx",
]

#: The names :func:`load_dataset` accepts.
DATASETS: tuple[str, ...] = ("digits", "mnist", "synthetic")

#: MNIST's four files, by part.
MNIST_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled dataset: ``x`` of shape ``(n, d)``, ``labels`` in ``0 … n_classes−1``.

    The constructor checks shapes and label range and stores read-only arrays.

    >>> ds = Dataset("tiny", np.zeros((2, 3)), np.array([0, 1]), 2)
    >>> len(ds), ds.d
    (2, 3)
    >>> Dataset("bad", np.zeros((2, 3)), np.array([0, 5]), 2)
    Traceback (most recent call last):
    ...
    indexnet.errors.DataError: dataset 'bad': labels must lie in 0..1, found 5
    """

    name: str
    x: np.ndarray
    labels: np.ndarray
    n_classes: int

    def __post_init__(self) -> None:
        x = np.asarray(self.x)
        labels = np.asarray(self.labels)
        if x.ndim != 2:
            raise DataError(f"dataset {self.name!r}: x must have shape (n, d), got {x.shape}")
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(np.float64)
        if labels.shape != (x.shape[0],):
            raise DataError(
                f"dataset {self.name!r}: labels must have shape ({x.shape[0]},) to match x, "
                f"got {labels.shape}"
            )
        if (
            labels.size
            and not np.issubdtype(labels.dtype, np.integer)
            and not np.all(np.equal(np.mod(labels, 1), 0))
        ):
            raise DataError(f"dataset {self.name!r}: labels must be integers")
        labels = labels.astype(np.int64)
        k = int(self.n_classes)
        if k < 1:
            raise DataError(f"dataset {self.name!r}: n_classes must be >= 1, got {k}")
        if labels.size and (labels.min() < 0 or labels.max() >= k):
            bad = labels.min() if labels.min() < 0 else labels.max()
            raise DataError(
                f"dataset {self.name!r}: labels must lie in 0..{k - 1}, found {int(bad)}"
            )
        x = x.view()
        labels = labels.view()
        x.flags.writeable = False
        labels.flags.writeable = False
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "n_classes", k)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def d(self) -> int:
        """Number of features (the seed's index ``d`` of the first layer)."""
        return int(self.x.shape[1])

    def subset(self, indices: Any, name: str | None = None) -> Dataset:
        """The examples at ``indices``, in that order."""
        idx = np.asarray(indices, dtype=np.intp)
        return Dataset(name or self.name, self.x[idx], self.labels[idx], self.n_classes)

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}, n={len(self)}, d={self.d}, n_classes={self.n_classes})"


def one_hot(labels: Any, n_classes: int, dtype: Any = np.float64) -> np.ndarray:
    """Targets ``^n y_h``: row ``n`` is 1 at column ``labels[n]`` and 0 elsewhere.

    >>> one_hot(np.array([1, 0]), 2, dtype="float32")
    array([[0., 1.],
           [1., 0.]], dtype=float32)
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise InvalidArgumentError(f"labels must be 1-D, got shape {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise InvalidArgumentError(f"labels must be integers, got dtype {labels.dtype}")
    if n_classes < 1:
        raise InvalidArgumentError(f"n_classes must be >= 1, got {n_classes}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise InvalidArgumentError(
            f"labels must lie in 0..{n_classes - 1}, found {labels.min()}..{labels.max()}"
        )
    out = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


# -- bundled and generated datasets ---------------------------------------------------


def load_digits() -> Dataset:
    """scikit-learn's bundled 8×8 digits (1797 images, 10 classes), pixels scaled to [0, 1].

    No network access is needed; scikit-learn ships the data.

    >>> ds = load_digits()
    >>> ds, float(ds.x.max())
    (Dataset('digits', n=1797, d=64, n_classes=10), 1.0)
    """
    try:  # scikit-learn is optional (indexnet[data]): only the digits need it
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError:
        raise DataError(
            "the digits dataset needs scikit-learn: pip install indexnet[data]"
        ) from None
    bunch = _sk_load_digits()
    x = np.asarray(bunch.data, dtype=np.float64) / 16.0
    return Dataset("digits", x, np.asarray(bunch.target, dtype=np.int64), 10)


def synthetic(n: int = 1000, d: int = 20, k: int = 3, seed: int = 0) -> Dataset:
    """A learnable problem: ``k`` Gaussian blobs in ``d`` dimensions, ``n`` points.

    Class centres are drawn at distance about 3 from each other in every
    direction of a random subspace, with unit noise around them, so a small
    network separates them almost perfectly. The same seed gives the same data.

    >>> a, b = synthetic(n=50, seed=1), synthetic(n=50, seed=1)
    >>> bool(np.array_equal(a.x, b.x)), a.n_classes
    (True, 3)
    """
    for name, value in (("n", n), ("d", d), ("k", k)):
        positive_int(f"synthetic: {name}", value)
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=1.5, size=(k, d))
    labels = np.arange(n) % k
    rng.shuffle(labels)
    x = centres[labels] + rng.normal(size=(n, d))
    return Dataset("synthetic", x, labels, k)


# -- IDX files (MNIST's format) -------------------------------------------------------

#: IDX type codes (third byte of the magic number) and their big-endian dtypes.
_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def write_idx(path: str | os.PathLike[str], array: Any) -> None:
    """Write ``array`` as an IDX file (gzip-compressed when ``path`` ends in ``.gz``).

    The element type is kept: uint8, int8, int16, int32, float32 or float64.

    >>> import tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "a-idx2-ubyte")
    >>> write_idx(p, np.arange(6, dtype=np.uint8).reshape(2, 3))
    >>> read_idx(p)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    array = np.asarray(array)
    code = next(
        (
            c
            for c, dt in _IDX_TYPES.items()
            if dt.kind == array.dtype.kind and dt.itemsize == array.dtype.itemsize
        ),
        None,
    )
    if code is None:
        raise InvalidArgumentError(
            f"IDX cannot store dtype {array.dtype}; use uint8, int8, int16, int32, float32 "
            "or float64"
        )
    if array.ndim < 1 or array.ndim > 255:
        raise InvalidArgumentError(f"IDX needs 1 to 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=_IDX_TYPES[code]).tobytes()
    if os.fspath(path).endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    atomic_write_bytes(path, lambda handle: handle.write(payload), "IDX file")


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (plain or ``.gz``), validating magic number, dimensions and length.

    Every fault is a :class:`~indexnet.DataError` naming the file and what was
    expected against what was found.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise DataError(f"{path}: cannot read an IDX file: it is a folder, not a file")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise DataError(
            f"{os.path.basename(path)}: no such file in folder "
            f"{os.path.dirname(os.path.abspath(path))!r}"
        ) from None
    except OSError as err:
        raise DataError(f"{path}: cannot read: {err.strerror or err}") from None
    if path.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(f"{path}: not a complete gzip file ({err})") from None
    return _parse_idx(raw, path)


def _parse_idx(raw: bytes, path: str) -> np.ndarray:
    if len(raw) < 4:
        raise DataError(
            f"{path}: truncated IDX file: expected a 4-byte magic number, found {len(raw)} bytes"
        )
    zero1, zero2, code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero1 or zero2 or code not in _IDX_TYPES or ndim == 0:
        raise DataError(
            f"{path}: not an IDX file: bad magic number 0x{raw[:4].hex()} "
            "(expected 0x0000 then a type code 08/09/0b/0c/0d/0e and the number of dimensions)"
        )
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataError(
            f"{path}: truncated IDX header: expected {header_len} bytes for {ndim} "
            f"dimensions, found {len(raw)}"
        )
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_TYPES[code]
    # Exact integers: a crafted header's product must not wrap around to a small number.
    count = math.prod(shape)
    expected = count * dtype.itemsize
    found = len(raw) - header_len
    if found != expected:
        what = "truncated IDX file" if found < expected else "IDX file has trailing bytes"
        raise DataError(
            f"{path}: {what}: dimensions {shape} of {dtype.name} need {expected} data bytes, "
            f"found {found}"
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header_len).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _find(folder: str, name: str) -> str:
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
        if os.path.isdir(path):
            raise DataError(f"MNIST file {path!r} is a folder, not an IDX file")
    raise DataError(
        f"MNIST file {name!r} (or {name + '.gz'!r}) is missing from folder {folder!r}; "
        "download the four IDX files of MNIST into it"
    )


def _read_mnist_part(folder: str, part: str) -> Dataset:
    images_name, labels_name = MNIST_FILES[part]
    images_path, labels_path = _find(folder, images_name), _find(folder, labels_name)
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"{images_path}: expected 3-D uint8 images (magic 0x00000803), found "
            f"{images.ndim}-D {images.dtype}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(
            f"{labels_path}: expected 1-D uint8 labels (magic 0x00000801), found "
            f"{labels.ndim}-D {labels.dtype}"
        )
    if images.shape[0] == 0:
        raise DataError(f"{images_path}: holds no images (its first dimension is 0)")
    if images.shape[1] * images.shape[2] == 0:
        raise DataError(
            f"{images_path}: images of {images.shape[1]}x{images.shape[2]} pixels hold no pixels"
        )
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{labels_path}: {labels.shape[0]} labels but {images_path} holds "
            f"{images.shape[0]} images"
        )
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path}: labels must lie in 0..9, found {int(labels.max())}")
    # float32 halves the memory of MNIST's 70 000 images; train() casts to the network's dtype.
    n, rows, cols = images.shape
    x = images.reshape(n, rows * cols).astype(np.float32) / np.float32(255.0)
    return Dataset(f"mnist-{part}", x, labels.astype(np.int64), 10)


def load_mnist(data_dir: str | os.PathLike[str]) -> tuple[Dataset, Dataset]:
    """MNIST's (train, test) sets from the four IDX files in ``data_dir``, pixels in [0, 1].

    The files are ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each also
    accepted with a ``.gz`` suffix. Pixels come back as float32 in [0, 1]
    (:func:`~indexnet.seednet.train.train` casts them to the network's dtype once).
    """
    folder = os.fspath(data_dir)
    if not os.path.exists(folder):
        raise DataError(f"MNIST folder {folder!r} does not exist")
    if not os.path.isdir(folder):
        raise DataError(
            f"MNIST folder {folder!r} is a file; --data-dir names the folder holding the "
            "four IDX files"
        )
    train = _read_mnist_part(folder, "train")
    test = _read_mnist_part(folder, "test")
    if train.d != test.d:
        raise DataError(f"{folder}: training images have {train.d} pixels but test images {test.d}")
    return train, test


# -- splitting and loading by name ----------------------------------------------------


def split(
    dataset: Dataset, val: float = 0.1, test: float = 0.2, seed: int = 0
) -> tuple[Dataset, Dataset, Dataset]:
    """Reproducible, class-stratified ``(train, val, test)`` split.

    ``round(val·n)`` and ``round(test·n)`` examples go to validation and test,
    drawn so that each class keeps close to its share in every part. The same
    seed gives the same split.

    >>> tr, va, te = split(synthetic(n=200, k=4), val=0.25, test=0.25, seed=3)
    >>> len(tr), len(va), len(te), np.bincount(te.labels).tolist()
    (100, 50, 50, [12, 13, 12, 13])
    """
    for name, frac in (("val", val), ("test", test)):
        require(isinstance(frac, (int, float)) and 0 <= frac < 1, f"split: {name}", frac,
                "a fraction in [0, 1)")
    n = len(dataset)
    n_val, n_test = round(val * n), round(test * n)
    if n - n_val - n_test < 1:
        raise InvalidArgumentError(
            f"split: val={val} and test={test} leave no training examples out of {n}"
        )
    rng = np.random.default_rng(seed)
    # Each example's rank within its class, shuffled, as a fraction of the class size;
    # ordering by it interleaves the classes, so any prefix is close to stratified.
    order = rng.permutation(n)
    labels = dataset.labels[order]
    rank = np.empty(n, dtype=np.float64)
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        rank[where] = (np.arange(where.size) + rng.random()) / where.size
    order = order[np.argsort(rank, kind="stable")]
    test_idx = order[:n_test]
    val_idx = order[n_test : n_test + n_val]
    train_idx = np.sort(order[n_test + n_val :])
    train_idx = train_idx[rng.permutation(train_idx.size)]
    return (
        dataset.subset(train_idx),
        dataset.subset(np.sort(val_idx)),
        dataset.subset(np.sort(test_idx)),
    )


def load_dataset(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
    val: float = 0.1,
    test: float = 0.2,
) -> tuple[Dataset, Dataset, Dataset]:
    """Load a dataset by name and split it: ``(train, val, test)``.

    * ``digits``: :func:`load_digits`, split by :func:`split`.
    * ``synthetic``: :func:`synthetic` with ``seed``, split by :func:`split`.
    * ``mnist``: :func:`load_mnist` from ``data_dir``; the test set is MNIST's
      own ``t10k`` files and ``val`` of the training files become the
      validation set (``test`` is not used).

    >>> [len(part) for part in load_dataset("synthetic", seed=0)]
    [700, 100, 200]
    >>> load_dataset("cifar")
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: unknown dataset 'cifar'; valid: digits, mnist, synthetic
    """
    one_of("dataset", name, DATASETS)
    if name == "digits":
        return split(load_digits(), val=val, test=test, seed=seed)
    if name == "synthetic":
        return split(synthetic(seed=seed), val=val, test=test, seed=seed)
    if data_dir is None:
        raise DataError(
            "mnist needs the folder holding its four IDX files (train-images-idx3-ubyte, "
            "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte); "
            "pass data_dir (--data-dir on the command line)"
        )
    full_train, test_set = load_mnist(data_dir)
    train_set, val_set, _ = split(full_train, val=val, test=0.0, seed=seed)
    return (
        Dataset("mnist", train_set.x, train_set.labels, 10),
        Dataset("mnist", val_set.x, val_set.labels, 10),
        Dataset("mnist", test_set.x, test_set.labels, 10),
    )
