"""Tests of indexnet.seednet.data: digits, IDX files, MNIST loading, splits, one-hot."""

from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

from indexnet.errors import DataError, IndexnetError, InvalidArgumentError
from indexnet.seednet.data import (
    DATASETS,
    MNIST_FILES,
    Dataset,
    load_dataset,
    load_digits,
    load_mnist,
    one_hot,
    read_idx,
    split,
    synthetic,
    write_idx,
)

# -- digits ------------------------------------------------------------------------


def test_digits_shape_classes_and_range() -> None:
    pytest.importorskip("sklearn")
    ds = load_digits()
    assert ds.x.shape == (1797, 64)
    assert ds.labels.shape == (1797,)
    assert ds.n_classes == 10
    assert set(np.unique(ds.labels).tolist()) == set(range(10))
    assert ds.x.min() == 0.0 and ds.x.max() == 1.0
    assert np.issubdtype(ds.x.dtype, np.floating)


def test_digits_without_sklearn_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("sklearn"):
            raise ImportError("no sklearn")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(DataError, match=r"pip install indexnet\[data\]"):
        load_digits()


# -- Dataset and one_hot -------------------------------------------------------------


def test_dataset_validates_and_is_read_only() -> None:
    ds = Dataset("t", np.zeros((3, 2)), np.array([0, 1, 2]), 3)
    assert len(ds) == 3 and ds.d == 2
    with pytest.raises(ValueError):
        ds.x[0, 0] = 1.0
    with pytest.raises(DataError, match="shape"):
        Dataset("t", np.zeros(3), np.array([0, 1, 2]), 3)
    with pytest.raises(DataError, match="labels must have shape"):
        Dataset("t", np.zeros((3, 2)), np.array([0, 1]), 3)
    with pytest.raises(DataError, match=r"0\.\.2"):
        Dataset("t", np.zeros((3, 2)), np.array([0, 1, 3]), 3)
    with pytest.raises(DataError, match="integers"):
        Dataset("t", np.zeros((2, 2)), np.array([0.5, 1.0]), 3)


def test_one_hot() -> None:
    y = one_hot(np.array([2, 0, 1, 2]), 3)
    np.testing.assert_array_equal(y, np.eye(3)[[2, 0, 1, 2]])
    assert y.dtype == np.float64
    assert one_hot([1], 4, dtype=np.float32).dtype == np.float32
    assert one_hot(np.array([], dtype=int), 3).shape == (0, 3)
    with pytest.raises(InvalidArgumentError, match=r"0\.\.2"):
        one_hot([3], 3)
    with pytest.raises(InvalidArgumentError, match=r"0\.\.2"):
        one_hot([-1], 3)
    with pytest.raises(InvalidArgumentError, match="integers"):
        one_hot([0.5], 3)
    with pytest.raises(InvalidArgumentError, match="1-D"):
        one_hot([[0]], 3)


# -- synthetic and split -------------------------------------------------------------


def test_synthetic_is_reproducible_and_balanced() -> None:
    a, b, c = (
        synthetic(n=90, d=5, k=3, seed=4),
        synthetic(n=90, d=5, k=3, seed=4),
        synthetic(n=90, d=5, k=3, seed=5),
    )
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.x, c.x)
    assert a.x.shape == (90, 5) and np.bincount(a.labels).tolist() == [30, 30, 30]
    with pytest.raises(InvalidArgumentError):
        synthetic(n=0)


@pytest.mark.parametrize(("n", "val", "test"), [(1000, 0.1, 0.2), (101, 0.15, 0.3), (50, 0.0, 0.5)])
def test_split_sizes_partition_and_stratification(n: int, val: float, test: float) -> None:
    ds = synthetic(n=n, d=3, k=4, seed=1)
    tr, va, te = split(ds, val=val, test=test, seed=2)
    assert len(va) == round(val * n) and len(te) == round(test * n)
    assert len(tr) + len(va) + len(te) == n
    # Every example lands in exactly one part (rows of x are distinct).
    rows = {tuple(r) for part in (tr, va, te) for r in part.x}
    assert len(rows) == n
    # Each class keeps close to its share of the test part.
    if len(te):
        share = np.bincount(ds.labels, minlength=4) / n * len(te)
        assert np.all(np.abs(np.bincount(te.labels, minlength=4) - share) <= 1.0)


def test_split_is_reproducible_and_seed_dependent() -> None:
    ds = synthetic(n=200, seed=0)
    a = split(ds, seed=7)
    b = split(ds, seed=7)
    c = split(ds, seed=8)
    for pa, pb in zip(a, b, strict=True):
        np.testing.assert_array_equal(pa.x, pb.x)
        np.testing.assert_array_equal(pa.labels, pb.labels)
    assert not np.array_equal(a[2].x, c[2].x)


@pytest.mark.parametrize(("val", "test"), [(-0.1, 0.2), (0.5, 0.5), (0.1, 1.0), (0.6, 0.5)])
def test_split_rejects_bad_fractions(val: float, test: float) -> None:
    with pytest.raises(InvalidArgumentError):
        split(synthetic(n=20), val=val, test=test)


def test_load_dataset_by_name() -> None:
    pytest.importorskip("sklearn")
    tr, va, te = load_dataset("digits", seed=0)
    assert (len(tr), len(va), len(te)) == (1258, 180, 359)
    assert tr.d == 64 and te.n_classes == 10
    with pytest.raises(InvalidArgumentError, match="digits, mnist, synthetic"):
        load_dataset("cifar10")
    with pytest.raises(DataError, match="data_dir"):
        load_dataset("mnist")
    assert DATASETS == ("digits", "mnist", "synthetic")


# -- IDX files -----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
        np.array([-3, 0, 7], dtype=np.int8),
        np.arange(6, dtype=np.int16).reshape(3, 2) * -300,
        np.arange(5, dtype=np.int32) * 100_000,
        np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3),
        np.linspace(-1, 1, 4, dtype=np.float64),
    ],
    ids=["uint8-3d", "int8", "int16", "int32", "float32", "float64"],
)
def test_idx_round_trip(tmp_path: os.PathLike[str], array: np.ndarray, suffix: str) -> None:
    path = os.path.join(tmp_path, "a-idx" + suffix)
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    if suffix:
        with open(path, "rb") as f:
            assert f.read(2) == b"\x1f\x8b"  # really gzip


def test_idx_bytes_follow_the_format(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "labels-idx1-ubyte")
    write_idx(path, np.array([7, 2, 1], dtype=np.uint8))
    with open(path, "rb") as f:
        assert f.read() == bytes.fromhex("00000801 00000003") + bytes([7, 2, 1])


def test_write_idx_rejects_unsupported_dtype(tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(InvalidArgumentError, match="dtype"):
        write_idx(os.path.join(tmp_path, "x"), np.zeros(3, dtype=np.int64))


def _write_raw(path: str, raw: bytes) -> None:
    with open(path, "wb") as f:
        f.write(raw)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"\x00\x00", r"truncated.*4-byte magic.*found 2"),
        (bytes.fromhex("12340801") + b"\x00" * 8, "bad magic number 0x12340801"),
        (bytes.fromhex("00000701") + b"\x00" * 8, "bad magic number"),
        (bytes.fromhex("00000803") + b"\x00\x00\x00\x02", r"header.*expected 16 bytes.*found 8"),
        (
            bytes.fromhex("00000801 00000005") + b"\x01\x02",
            r"truncated.*need 5 data bytes, found 2",
        ),
        (bytes.fromhex("00000801 00000002") + b"\x01\x02\x03", r"trailing bytes.*need 2.*found 3"),
    ],
    ids=["short-magic", "bad-magic", "bad-type", "short-header", "truncated", "trailing"],
)
def test_bad_idx_files_name_the_file(tmp_path: os.PathLike[str], raw: bytes, match: str) -> None:
    path = os.path.join(tmp_path, "broken-idx1-ubyte")
    _write_raw(path, raw)
    with pytest.raises(DataError, match=match) as info:
        read_idx(path)
    assert "broken-idx1-ubyte" in str(info.value)


def test_truncated_gzip_idx_raises_data_error(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "x-idx1-ubyte.gz")
    blob = gzip.compress(bytes.fromhex("00000801 00000100") + bytes(256))
    _write_raw(path, blob[: len(blob) // 2])
    with pytest.raises(DataError, match=r"x-idx1-ubyte\.gz"):
        read_idx(path)


def test_missing_idx_file_names_file_and_folder(tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(DataError) as info:
        read_idx(os.path.join(tmp_path, "nope-idx1-ubyte"))
    assert "nope-idx1-ubyte" in str(info.value) and str(tmp_path) in str(info.value)


# -- MNIST from small IDX files ------------------------------------------------------


def _write_mnist(
    folder: str, n_train: int = 12, n_test: int = 5, gz: bool = False, rows: int = 4, cols: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    suffix = ".gz" if gz else ""
    images = {}
    for part, n in (("train", n_train), ("test", n_test)):
        img = rng.integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
        lab = (np.arange(n) % 10).astype(np.uint8)
        images_name, labels_name = MNIST_FILES[part]
        write_idx(os.path.join(folder, images_name + suffix), img)
        write_idx(os.path.join(folder, labels_name + suffix), lab)
        images[part] = img
    return images["train"], images["test"]


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_idx_files(tmp_path: os.PathLike[str], gz: bool) -> None:
    train_img, _ = _write_mnist(os.fspath(tmp_path), gz=gz)
    train, test = load_mnist(tmp_path)
    assert train.x.shape == (12, 12) and test.x.shape == (5, 12)
    assert train.n_classes == 10
    np.testing.assert_allclose(train.x, train_img.reshape(12, -1) / 255.0, rtol=1e-6)
    assert train.x.dtype == np.float32
    np.testing.assert_array_equal(test.labels, np.arange(5))
    assert train.x.min() >= 0.0 and train.x.max() <= 1.0


def test_load_dataset_mnist_carves_val_from_train(tmp_path: os.PathLike[str]) -> None:
    _write_mnist(os.fspath(tmp_path), n_train=40, n_test=7)
    tr, va, te = load_dataset("mnist", data_dir=tmp_path, seed=0)
    assert (len(tr), len(va), len(te)) == (36, 4, 7)
    assert tr.name == va.name == te.name == "mnist"


def test_load_mnist_missing_file_names_file_and_folder(tmp_path: os.PathLike[str]) -> None:
    _write_mnist(os.fspath(tmp_path))
    os.remove(os.path.join(tmp_path, "t10k-labels-idx1-ubyte"))
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path)
    assert "t10k-labels-idx1-ubyte" in str(info.value) and str(tmp_path) in str(info.value)
    with pytest.raises(DataError, match="does not exist"):
        load_mnist(os.path.join(tmp_path, "absent"))


def test_load_mnist_truncated_images_file(tmp_path: os.PathLike[str]) -> None:
    _write_mnist(os.fspath(tmp_path))
    path = os.path.join(tmp_path, "train-images-idx3-ubyte")
    with open(path, "rb") as f:
        raw = f.read()
    _write_raw(path, raw[:-10])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.*truncated.*found 134"):
        load_mnist(tmp_path)


def test_load_mnist_rejects_mismatched_counts_and_kinds(tmp_path: os.PathLike[str]) -> None:
    folder = os.fspath(tmp_path)
    _write_mnist(folder)
    write_idx(os.path.join(folder, "train-labels-idx1-ubyte"), np.zeros(11, dtype=np.uint8))
    with pytest.raises(DataError, match="11 labels but"):
        load_mnist(folder)
    _write_mnist(folder)
    write_idx(os.path.join(folder, "train-images-idx3-ubyte"), np.zeros((12, 12), dtype=np.uint8))
    with pytest.raises(DataError, match="3-D uint8 images"):
        load_mnist(folder)
    _write_mnist(folder)
    write_idx(os.path.join(folder, "t10k-labels-idx1-ubyte"), np.full(5, 12, dtype=np.uint8))
    with pytest.raises(DataError, match=r"0\.\.9"):
        load_mnist(folder)


def test_data_errors_are_indexnet_errors() -> None:
    assert issubclass(DataError, IndexnetError)


# -- review findings: crafted, empty and misplaced IDX files ------------------------------


def test_idx_header_whose_size_overflows_int64_is_a_data_error(
    tmp_path: os.PathLike[str],
) -> None:
    # 4 dimensions of 65536: 2**64 elements, which wraps to 0 in int64 arithmetic.
    path = os.path.join(tmp_path, "huge-idx4-ubyte")
    _write_raw(path, bytes.fromhex("00000804") + bytes.fromhex("00010000") * 4)
    with pytest.raises(DataError, match=r"huge-idx4-ubyte: truncated.*18446744073709551616"):
        read_idx(path)


def test_idx_path_that_is_a_folder(tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(DataError, match="it is a folder"):
        read_idx(tmp_path)


def test_load_mnist_with_no_images_names_the_file(tmp_path: os.PathLike[str]) -> None:
    _write_mnist(os.fspath(tmp_path), n_train=0)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: holds no images"):
        load_mnist(tmp_path)


def test_load_mnist_with_zero_pixel_images_names_the_file(tmp_path: os.PathLike[str]) -> None:
    _write_mnist(os.fspath(tmp_path), rows=0)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: .*0x3 pixels hold no"):
        load_mnist(tmp_path)


def test_load_mnist_folder_that_is_a_file_or_holds_folders(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "mnist.gz")
    _write_raw(path, b"x")
    with pytest.raises(DataError, match=r"'.*mnist\.gz' is a file"):
        load_mnist(path)
    folder = os.path.join(tmp_path, "mnist")
    os.mkdir(folder)
    _write_mnist(folder)
    images = os.path.join(folder, "train-images-idx3-ubyte")
    os.remove(images)
    os.mkdir(images)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte' is a folder"):
        load_mnist(folder)
