"""How much Gaussian noise costs each model: on 28x28 inputs, and on pictures that go through preprocessing.

    python benchmarks/noise_study.py [MODEL_OR_WEIGHTS_FILE ...]   (default: every zoo model)

Error on the bundled test split (1,000 digits) with noise of stddev 0.1 and 0.3 added:
- ``28x28 clipped``: straight onto the model's input, clipped to [0, 1] (what a noisy 28x28 PNG
  or .npy gives: load_image takes a 28x28 white-on-black array as it is);
- ``280 photo`` / ``280 scan``: the digit enlarged to 280x280 (bicubic), white on black or dark on
  white paper, noise added at that size, saved as 8 bits and preprocessed as any picture is;
- ``drawn``: the test suite's mouse-style drawings (3 stroke widths x 10 digits x 5 noise draws).
Accuracy only, no timings; deterministic (seeded). Prints a markdown table.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from strokes import draw_digit  # noqa: E402  (the test suite's drawings)

from advviewer import available_models, load_model, preprocess  # noqa: E402
from advviewer.data import bundled_split  # noqa: E402
from advviewer.reproduce.digits import classify  # noqa: E402

STDDEVS = (0.0, 0.1, 0.3)
BIG = 280


def _eight_bit(gray: np.ndarray) -> np.ndarray:
    return np.round(np.clip(gray, 0.0, 1.0) * 255).astype(np.uint8)


def inputs(stddev: float, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{condition: (model inputs (N, 28, 28), labels)} for one noise level."""
    rng = np.random.default_rng(seed)
    x, y = bundled_split("test")
    xf = x.astype(np.float32) / 255
    out = {"28x28 clipped": (np.clip(xf + rng.normal(0, stddev, xf.shape), 0, 1).astype(np.float32), y)}
    photo, scan = [], []
    for img in x:
        big = np.asarray(Image.fromarray(img).resize((BIG, BIG), Image.Resampling.BICUBIC), np.float64) / 255
        photo.append(preprocess(_eight_bit(big + rng.normal(0, stddev, big.shape))))
        scan.append(preprocess(_eight_bit(1 - big + rng.normal(0, stddev, big.shape))))
    out["280 photo (white on black)"] = (np.stack(photo), y)
    out["280 scan (dark on white)"] = (np.stack(scan), y)
    drawn, labels = [], []
    for width in (6, 18, 40):
        for digit in range(10):
            ink = draw_digit(digit, BIG, width).astype(np.float64) / 255
            for _ in range(5):
                drawn.append(preprocess(_eight_bit(ink + rng.normal(0, stddev, ink.shape))))
                labels.append(digit)
    out["drawn 280 (150)"] = (np.stack(drawn), np.array(labels))
    return out


def main(names: list[str]) -> None:
    models = {Path(n).name: load_model(n) for n in names}
    conditions = {s: inputs(s) for s in STDDEVS}
    print("| input | stddev | " + " | ".join(models) + " |")
    print("|---|---|" + "---|" * len(models))
    for cond in conditions[0.0]:
        for s in STDDEVS:
            images, labels = conditions[s][cond]
            errors = [f"{100 * float((classify(m, images) != labels).mean()):.1f}%" for m in models.values()]
            print(f"| {cond} | {s:g} | " + " | ".join(errors) + " |")


if __name__ == "__main__":
    main(sys.argv[1:] or available_models())
