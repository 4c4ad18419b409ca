"""torch's convolution backend on the CPU, oneDNN (torch's default) against torch's own kernels, for the program's work.

    python benchmarks/bench_conv_backend.py [--rounds 3] [--models cnn cnn-robust] [--label NAME]

oneDNN (``torch.backends.mkldnn``) prepares every convolution call (weights reordered into its
blocked layout, a primitive made), which costs more than the arithmetic of a 28x28 convnet on
one image. The window's work is one image at a time, so the program runs with oneDNN off
(advviewer.runtime.threads.configure). Here each piece of that work runs with oneDNN on and off,
alternated within every round (on, off, then off, on, ...), one torch thread:

- live: probabilities + input gradient of one digit (``evaluate_input``, the window on every stroke);
- finite differences: the 1,568-pass gradient (``input_gradient(method="finite-difference")``), which switches
  oneDNN on for its passes itself since 2026-12-05 (both settings then time the same; before, 0.77-0.81x without it);
- find minimal c: the window's call (progress and cancel every iteration) on drawn digits, towards
  every other class and "any other class";
- slider: a fixed-c solve at c* x 1.1 and c* / 1.1, warm-started from the minimal result;
- batch: 90 (digit, target) pairs in one ``lbfgs_attack`` call (as ``advviewer reproduce`` and the
  Explore views run them);
- training: twenty batches of 128 (forward, backward, optimiser step) of the model's
  architecture (``advviewer train`` switches oneDNN on for its run).

Each piece: the median over its calls per round, then the median and range of those over the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_attack_common import drawn_digits, window_call  # noqa: E402

from advviewer import load_model, predict, preprocess  # noqa: E402
from advviewer.attack import lbfgs_attack  # noqa: E402
from advviewer.calculus.gradients import evaluate_input, input_gradient  # noqa: E402
from advviewer.data import bundled_split  # noqa: E402

TRAIN_BATCHES = 20


def workloads(model, digits: np.ndarray, labels: np.ndarray, drawn: list[np.ndarray]) -> dict[str, list[Callable[[], object]]]:
    """Each piece of work as a list of calls (the same calls in every round and setting); ``digits``: the test split."""
    rng = np.random.default_rng(3)
    live = [lambda d=d: evaluate_input(model, d) for d in digits[:40]]
    fd = [lambda d=d: input_gradient(model, d, 3, method="finite-difference") for d in digits[:3]]
    find = [lambda x=x, t=t: window_call(lbfgs_attack, model, x, t)
            for x in drawn[:3] for t in [*range(10), None] if t != int(predict(model, x).argmax())]
    found = [lbfgs_attack(model, digits[i], int((labels[i] + 1 + i % 9) % 10)) for i in range(8)]
    slider = [lambda i=i, f=f: lbfgs_attack(model, digits[i], found[i].target, c=found[i].c * f, warm_start=found[i])
              for i in range(8) if found[i].success for f in (1.1, 1 / 1.1)]
    pick = rng.choice(len(digits), 10, replace=False)
    images = np.repeat(digits[pick], 9, axis=0)
    targets = [int((labels[i] + k) % 10) for i in pick for k in range(1, 10)]
    batch = [lambda: lbfgs_attack(model, images, targets)]
    train_images, train_labels = bundled_split("train")
    x_train = torch.from_numpy(train_images[:128 * TRAIN_BATCHES].astype(np.float32) / 255).reshape(TRAIN_BATCHES, 128, 1, 28, 28)
    y_train = torch.from_numpy(train_labels[:128 * TRAIN_BATCHES].astype(np.int64)).reshape(TRAIN_BATCHES, 128)
    return {"live": live, "finite differences": fd, "find minimal c": find, "slider": slider, "batch of 90": batch,
            "training (20 batches of 128)": [lambda: train_batches(model, x_train, y_train)]}


def train_batches(model, x: torch.Tensor, y: torch.Tensor) -> None:
    """A copy of the model trained on ``x`` (batches, 128, 1, 28, 28) for one pass, as advviewer.training does a step."""
    import copy

    net = copy.deepcopy(model).train()
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    for xb, yb in zip(x, y):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(net(xb), yb).backward()
        optimiser.step()


def timed(calls: list[Callable[[], object]], onednn: bool) -> float:
    """The median seconds of ``calls`` with oneDNN on or off."""
    torch.backends.mkldnn.enabled = onednn
    try:
        seconds = []
        for call in calls:
            start = time.perf_counter()
            call()
            seconds.append(time.perf_counter() - start)
    finally:
        torch.backends.mkldnn.enabled = True
    return float(np.median(seconds))


def measure(name: str, rounds: int) -> dict:
    model = load_model(name)
    images, labels = bundled_split("test")
    digits = images.astype(np.float32) / 255
    work = workloads(model, digits, labels, drawn_digits(preprocess))
    out = {}
    for piece, calls in work.items():
        for onednn in (True, False):  # warm up both
            timed(calls[:2], onednn)
        medians: dict[str, list[float]] = {"on": [], "off": []}
        for r in range(rounds):
            for setting in (("on", "off") if r % 2 == 0 else ("off", "on")):
                medians[setting].append(timed(calls, setting == "on"))
        on, off = np.median(medians["on"]), np.median(medians["off"])
        out[piece] = {"calls": len(calls), "on_ms": [m * 1e3 for m in medians["on"]], "off_ms": [m * 1e3 for m in medians["off"]],
                      "speedup": float(on / off)}
        print(f"{name} {piece} ({len(calls)} calls): oneDNN on {on * 1e3:.2f} ms ({min(medians['on']) * 1e3:.2f}-"
              f"{max(medians['on']) * 1e3:.2f}), off {off * 1e3:.2f} ms ({min(medians['off']) * 1e3:.2f}-"
              f"{max(medians['off']) * 1e3:.2f}): {on / off:.2f}x", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=["cnn", "cnn-robust"])
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = {"label": args.label, "torch": torch.__version__, "rounds": args.rounds, "load_average_start": os.getloadavg()[0],
              "models": {name: measure(name, args.rounds) for name in args.models}, "load_average_end": os.getloadavg()[0]}
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"bench_conv_backend-{time.strftime('%Y%m%d-%H%M%S')}" + (f"-{args.label}" if args.label else "")
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out / stem}.json (load average {result['load_average_start']:.2f} -> {result['load_average_end']:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
