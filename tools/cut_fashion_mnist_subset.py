"""One-off: cut the small Fashion-MNIST subset the tests bundle (tests/data/fashion-mnist/) from Debian's files.

The tests train a tiny convnet on it and attack it (tests/test_attack_any_classifier.py); a fresh CI
machine need not have Debian's ``dataset-fashion-mnist`` package, so the subset travels with the tests.

The cut: the first TRAIN_PER_CLASS images of every class of the training file and the first
TEST_PER_CLASS of every class of the t10k file, in file order (1,000 + 200 images, 10 classes
balanced), written as gzip'd IDX files with Debian's names. The output is byte-for-byte
deterministic (gzip mtime 0): re-running the script must not change the bundled files.

    python tools/cut_fashion_mnist_subset.py [SOURCE_DIR]

SOURCE_DIR defaults to /usr/share/datasets/fashion-mnist (``apt install dataset-fashion-mnist``).
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout: the IDX reader of this tree

from advviewer.data.idx import SPLITS, read_images_labels  # noqa: E402

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
OUT = ROOT / "tests" / "data" / "fashion-mnist"
TRAIN_PER_CLASS = 100
TEST_PER_CLASS = 20


def first_per_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` examples of every class, in file order."""
    keep = np.concatenate([np.flatnonzero(labels == k)[:per_class] for k in range(10)])
    return np.sort(keep)


def write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    # mtime=0 and no file name so the gzip bytes do not depend on when or where this ran
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def cut(source: Path, out: Path) -> list[str]:
    """Write the subset of the IDX files in ``source`` into ``out``; one line per split saying what was taken."""
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for split, per_class in (("train", TRAIN_PER_CLASS), ("test", TEST_PER_CLASS)):
        image_stem, label_stem = SPLITS[split]
        images, labels = read_images_labels(source / f"{image_stem}.gz", source / f"{label_stem}.gz")
        keep = first_per_class(labels, per_class)
        assert len(keep) == 10 * per_class
        write_idx(out / f"{image_stem}.gz", images[keep])
        write_idx(out / f"{label_stem}.gz", labels[keep])
        digest = hashlib.sha256((source / f"{image_stem}.gz").read_bytes()).hexdigest()
        lines.append(f"{split}: {len(keep)} of {len(labels)} images (last index {keep[-1]}); source sha256 {digest}")
    return lines


def main(argv: list[str]) -> int:
    for line in cut(Path(argv[0]) if argv else DEBIAN, OUT):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
