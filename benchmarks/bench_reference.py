"""The batched engine against the reference engine (advviewer.attack.reference), minimal mode, per zoo model.

For PAIRS held-out test digits per model, each towards a random class other than the model's answer:
the ratio engine L2 / reference L2 (median and max), each engine's time per pair, and for the linear
models the reference's L2 against the exact smallest perturbation (tests/test_attack_exact.py's dual QP).

    python benchmarks/bench_reference.py [PAIRS]
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_attack_exact import exact_min_l2  # noqa: E402

from advviewer import load_model, predict  # noqa: E402
from advviewer.attack import lbfgs_attack  # noqa: E402
from advviewer.data import bundled_split  # noqa: E402
from advviewer.models import available_models  # noqa: E402
from advviewer.runtime.threads import torch_threads  # noqa: E402


def main(pairs: int) -> None:
    images, _ = bundled_split("test")
    images = images.astype(np.float32) / 255.0
    print("model          ratio median   ratio max   ref success  engine s/pair  reference s/pair  ref/exact max")
    for name in available_models():
        model = load_model(name)
        rng = np.random.default_rng(23)
        x = images[rng.choice(len(images), pairs, replace=False)]
        orig = predict(model, x).argmax(1)
        draw = rng.integers(0, 9, pairs)
        targets = [int(t) for t in np.where(draw >= orig, draw + 1, draw)]
        with torch_threads(1):
            started = time.perf_counter()
            engine = lbfgs_attack(model, x, targets)
            engine_s = (time.perf_counter() - started) / pairs
            started = time.perf_counter()
            reference = lbfgs_attack(model, x, targets, engine="reference")
            reference_s = (time.perf_counter() - started) / pairs
        ratio = engine.l2 / reference.l2
        exact = ""
        if name.startswith("fc10-"):
            W, b = model[1].weight.detach().double().numpy(), model[1].bias.detach().double().numpy()
            qp = np.array([exact_min_l2(W, b, xi.astype(np.float64).ravel(), t) for xi, t in zip(x, targets)])
            exact = f"{(reference.l2 / qp).max():.5f}"
        print(f"{name:14s} {np.median(ratio):12.5f} {ratio.max():11.5f} {reference.success.sum():5d}/{pairs:<5d}"
              f" {engine_s:14.3f} {reference_s:17.3f}  {exact}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
