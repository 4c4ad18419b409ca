"""What the second layer (advviewer.reading.sandbox, issue 21) adds to opening a normal file.

    python benchmarks/bench_sandbox.py [--repeats 15]

Opens a 640x480 PNG and JPEG of noise (load_image) and a user's model file, the zoo cnn's weights
copied as a file (.pt) and exported as a .pt2 program (load_model), alternately in this process
(ADVVIEWER_SANDBOX=off) and through the sandbox, on a warm fork server with torch (as the window has
it after its first model load); prints the medians. The results must be equal (same arrays, same
logits) or the script stops.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from advviewer.models import export_classifier, load_model
from advviewer.models.zoo_cards import shipped_weights_path
from advviewer.reading import sandbox
from advviewer.reading.image_io import load_image


def _files(folder: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((480, 640)) * 255).astype(np.uint8)).save(folder / "photo.png")
    Image.fromarray((rng.random((480, 640, 3)) * 255).astype(np.uint8)).save(folder / "photo.jpg", quality=90)
    shutil.copy(shipped_weights_path("cnn"), folder / "mine.pt")
    export_classifier(load_model("cnn"), folder / "mine.pt2")
    return [folder / name for name in ("photo.png", "photo.jpg", "mine.pt", "mine.pt2")]


def _open(path: Path):
    return load_model(path) if path.suffix in (".pt", ".pt2") else load_image(path)


def _same(a, b, digits: torch.Tensor) -> bool:
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b))
    with torch.no_grad():
        return bool(torch.equal(a(digits), b(digits)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    digits = torch.rand(4, 1, 28, 28)
    with tempfile.TemporaryDirectory() as folder:
        files = _files(Path(folder))
        sandbox.start_server(with_models=True)
        _open(files[-1])  # waits for the server's imports, warms this process
        for path in files:
            seconds: dict[str, list[float]] = {"off": [], "on": []}
            for _ in range(args.repeats):
                results = {}
                for mode in ("off", "on"):
                    os.environ["ADVVIEWER_SANDBOX"] = mode
                    start = time.perf_counter()
                    results[mode] = _open(path)
                    seconds[mode].append(time.perf_counter() - start)
                if not _same(results["off"], results["on"], digits):
                    raise SystemExit(f"{path.name}: the sandbox's result differs from this process's")
            off, on = statistics.median(seconds["off"]) * 1e3, statistics.median(seconds["on"]) * 1e3
            print(f"{path.name:10s} in this process {off:6.1f} ms, through the sandbox {on:6.1f} ms (+{on - off:.1f} ms)")


if __name__ == "__main__":
    main()
