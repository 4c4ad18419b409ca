"""What each of the engine's speed measures buys: the same pairs with each strategy off, against all on.

    python benchmarks/bench_strategies.py [--digits 10] [--models cnn fc100-100-10] [--repeats 3]

For every model: one image per call (every target of each digit: the window's case) and all pairs in
one batched call, with all strategies on, each one off, and all off: model evaluations per pair,
seconds per pair (median of ``--repeats`` runs, the on and off runs interleaved), and the L2 against
all on (median and max of the per-pair ratio). One torch thread. Writes a markdown table to
benchmarks/results/.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advviewer import lbfgs_attack, lbfgs_attack_batch, load_digits, load_model, predict  # noqa: E402
from advviewer.attack import Strategies  # noqa: E402

SWITCHES = [f.name for f in dataclasses.fields(Strategies)]


@dataclasses.dataclass
class Run:
    evaluations: float
    seconds: list[float]
    l2: np.ndarray


def pairs(model, digits: int):
    images, labels = load_digits("test")
    idx = np.arange(500, 500 + digits)  # held-out test digits, away from the other benchmarks' first ones
    orig = predict(model, images[idx]).argmax(1)
    img = np.repeat(idx, 9)
    targets = [t for o in orig.tolist() for t in range(10) if t != o]
    return images[img], targets


def one_image_calls(model, images, targets, strategies) -> tuple[float, float, np.ndarray]:
    started, evaluations, l2 = time.perf_counter(), 0, []
    for x, t in zip(images, targets):
        r = lbfgs_attack(model, x, t, strategies=strategies)
        evaluations += r.evaluations
        l2.append(r.l2)
    return evaluations / len(targets), (time.perf_counter() - started) / len(targets), np.array(l2)


def batch_call(model, images, targets, strategies) -> tuple[float, float, np.ndarray]:
    started = time.perf_counter()
    r = lbfgs_attack_batch(model, images, targets, strategies=strategies)
    return float(r.evaluations.mean()), (time.perf_counter() - started) / len(targets), r.l2


def measure(model, images, targets, how, repeats: int) -> dict[str, Run]:
    all_on = Strategies(**{n: True for n in SWITCHES})
    variants = {"all on": all_on, **{f"{name} off": dataclasses.replace(all_on, **{name: False}) for name in SWITCHES},
                "all off": Strategies(**{n: False for n in SWITCHES}), "default": Strategies()}
    runs: dict[str, Run] = {}
    for _ in range(repeats):
        for label, strategies in variants.items():  # interleaved: drift falls on all alike
            evaluations, seconds, l2 = how(model, images, targets, strategies)
            run = runs.setdefault(label, Run(evaluations, [], l2))
            run.seconds.append(seconds)
    return runs


def table(title: str, runs: dict[str, Run]) -> list[str]:
    base = runs["all on"]
    lines = [f"### {title}", "", "| strategies | evaluations per pair | ms per pair (median, min-max) | time vs all on | "
             "L2 vs all on: median / max |", "|---|---|---|---|---|"]
    for label, run in runs.items():
        ms = 1000 * np.array(run.seconds)
        ratio = run.l2 / base.l2
        lines.append(f"| {label} | {run.evaluations:.0f} | {np.median(ms):.1f} ({ms.min():.1f}-{ms.max():.1f}) | "
                     f"{np.median(run.seconds) / np.median(base.seconds):.2f} | {np.median(ratio):.5f} / {ratio.max():.4f} |")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=10)
    parser.add_argument("--models", nargs="+", default=["cnn", "fc100-100-10"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    torch.set_num_threads(1)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    lines = [f"# What each speed measure buys ({stamp} UTC)", "",
             f"`python benchmarks/bench_strategies.py --digits {args.digits} --models {' '.join(args.models)} "
             f"--repeats {args.repeats}`; torch {torch.__version__}, {platform.machine()}, one torch thread; "
             f"{args.digits} test digits x 9 targets per model.", ""]
    for name in args.models:
        model = load_model(name)
        images, targets = pairs(model, args.digits)
        lines += table(f"{name}: one image per call (every target)", measure(model, images, targets, one_image_calls,
                                                                              args.repeats))
        lines += table(f"{name}: all {len(targets)} pairs in one call", measure(model, images, targets, batch_call,
                                                                                 args.repeats))
        print("\n".join(lines[-30:]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"bench_strategies-{stamp}.md"
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
