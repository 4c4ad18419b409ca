"""Speed of the core's live path (issue 2, section 6).

    python benchmarks/bench_core.py [--repeats N] [--json FILE]

Measures on the default model `cnn`, one bundled test digit at a time:
  - live: probabilities + autograd input gradient (`evaluate_input`), target <= 2 ms median
  - fd:   finite-difference gradient (1,568 forward passes), target <= 100 ms median
  - preprocess: MNIST-style framing of a 280x280 canvas drawing (part of the live path)
  - cold: `advviewer predict IMAGE` as a fresh process, target <= 3 s
each with torch on 1 and on 2 threads, reported as median, 10th-90th percentile and max.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def stats(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000
    return {"median_ms": float(np.median(ms)), "p10_ms": float(np.percentile(ms, 10)), "p90_ms": float(np.percentile(ms, 90)),
            "max_ms": float(ms.max()), "n": len(ms)}


def timed(fn, repeats: int, warmup: int = 3) -> dict:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return stats(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from strokes import draw_digit

    from advviewer import load_model, preprocess
    from advviewer.calculus.gradients import evaluate_input, input_gradient
    from advviewer.data import bundled_split

    images, labels = bundled_split("test")
    digits = images.astype(np.float32) / 255
    model = load_model("cnn")
    drawing = draw_digit(3)
    results: dict = {"machine": {"cpus": torch.get_num_threads(), "torch": torch.__version__}}
    from advviewer.runtime.threads import configure

    for threads in (1, 2):
        configure(threads)  # as the program runs: that many torch threads, torch's own convolutions
        counter = iter(range(10**9))

        def live():
            i = next(counter) % 1000
            evaluate_input(model, digits[i], int(labels[i]))

        def fd():
            i = next(counter) % 1000
            input_gradient(model, digits[i], int(labels[i]), method="finite-difference")

        results[f"live_{threads}t"] = timed(live, args.repeats)
        results[f"fd_{threads}t"] = timed(fd, max(args.repeats // 10, 10))
        results[f"preprocess_{threads}t"] = timed(lambda: preprocess(drawing), args.repeats // 2)

    with tempfile.TemporaryDirectory() as tmp:
        from PIL import Image

        path = Path(tmp) / "three.png"
        Image.fromarray(drawing).save(path)
        cold = []
        for _ in range(7):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "advviewer", "predict", str(path)], check=True, capture_output=True)
            cold.append(time.perf_counter() - t)
        results["cold_predict"] = stats(cold)

    targets = {"live": 2.0, "fd": 100.0, "cold_predict": 3000.0}
    print(f"{'measure':<16}{'median ms':>11}{'p10':>9}{'p90':>9}{'max':>9}   target")
    for key, value in results.items():
        if key == "machine":
            continue
        target = next((f"<= {t:g} ms median" for k, t in targets.items() if key.startswith(k)), "")
        print(f"{key:<16}{value['median_ms']:>11.2f}{value['p10_ms']:>9.2f}{value['p90_ms']:>9.2f}{value['max_ms']:>9.2f}   {target}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
