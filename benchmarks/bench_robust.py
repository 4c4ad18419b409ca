"""The robust model's card, measured again: clean error, and the median minimal L2 against it and the cnn.

    python benchmarks/bench_robust.py [--pairs 100] [--robust cnn-robust] [--standard cnn] [--label NAME]
        [--out benchmarks/results]

On the same held-out pairs for both models (advviewer.training.robustness.held_out_pairs: bundled
test digits both classify correctly, in a seeded order, each towards a random other class), our
attack in minimal mode (advviewer.lbfgs_attack_batch), torch on one thread. Reports per model:
clean test error, success, median / mean / p10 / p90 minimal L2, time per pair; the ratio of the
medians; how often each model's adversarials also make the *other* model answer the target (an
adversarial that fools a network it was not made for looks like the target to it too); and the
card's figures beside the measured ones. Writes JSON and markdown, and a PNG of the first pairs
(digit, the standard model's adversarial, the robust model's, both perturbations on one grey scale).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from advviewer import load_model, predict  # noqa: E402
from advviewer.models.zoo import model_card  # noqa: E402
from advviewer.training.robustness import AttackPairs, MinimalAttacks, held_out_pairs, minimal_attacks  # noqa: E402
from advviewer.training.train import error_rate, load_training_data  # noqa: E402


def _summary(name: str, attacks: MinimalAttacks, clean_error: float) -> dict:
    ok = attacks.l2[attacks.success]
    return {"model": name, "test_error": clean_error, "success_rate": attacks.success_rate,
            "median_l2": attacks.median_l2, "mean_l2": float(ok.mean()) if ok.size else None,
            "p10_l2": float(np.percentile(ok, 10)) if ok.size else None, "p90_l2": float(np.percentile(ok, 90)) if ok.size else None,
            "seconds": attacks.seconds, "ms_per_pair": 1000 * attacks.seconds / max(len(attacks.l2), 1)}


def _cross_answers(other, attacks: MinimalAttacks, pairs: AttackPairs) -> float:
    """The fraction of successful adversarials that ``other`` also reads as the target."""
    ok = attacks.success
    if not ok.any():
        return 0.0
    return float((predict(other, attacks.adversarial[ok]).argmax(1) == pairs.targets[ok]).mean())


def _picture(path: Path, pairs: AttackPairs, standard: MinimalAttacks, robust: MinimalAttacks, count: int = 8) -> None:
    """Rows: digit, standard adversarial, robust adversarial, standard |r|, robust |r| (one scale for both)."""
    from PIL import Image

    k = min(count, len(pairs.targets))
    r_std = np.abs(standard.adversarial[:k] - pairs.images[:k])
    r_rob = np.abs(robust.adversarial[:k] - pairs.images[:k])
    scale = max(float(r_std.max()), float(r_rob.max()), 1e-6)
    rows = [pairs.images[:k], standard.adversarial[:k], robust.adversarial[:k], r_std / scale, r_rob / scale]
    grid = np.ones((len(rows) * 30, k * 30), np.float32) * 0.5
    for i, row in enumerate(rows):
        for j in range(k):
            grid[i * 30 + 1 : i * 30 + 29, j * 30 + 1 : j * 30 + 29] = row[j]
    Image.fromarray((grid * 255).round().astype(np.uint8)).resize((k * 30 * 4, len(rows) * 30 * 4), Image.NEAREST).save(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--robust", default="cnn-robust")
    ap.add_argument("--standard", default="cnn")
    ap.add_argument("--label", default="")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = ap.parse_args()
    torch.set_num_threads(1)
    started = time.strftime("%Y%m%d-%H%M%S")
    load_before = os.getloadavg()[0]
    robust, standard = load_model(args.robust), load_model(args.standard)
    data = load_training_data(None)
    pairs = held_out_pairs([robust, standard], args.pairs)
    attacks = {args.standard: minimal_attacks(standard, pairs), args.robust: minimal_attacks(robust, pairs)}
    errors = {name: error_rate(model, data.test_x, data.test_y) for name, model in ((args.standard, standard), (args.robust, robust))}
    rows = {name: _summary(name, a, errors[name]) for name, a in attacks.items()}
    card = model_card(args.robust).get("robustness", {}) if args.robust in ("cnn-robust",) else {}
    record = {
        "started": started, "label": args.label, "torch": torch.__version__, "platform": platform.machine(),
        "load_average_1min": [load_before, os.getloadavg()[0]], "pairs": len(pairs.targets),
        "pair_positions": pairs.positions.tolist(), "targets": pairs.targets.tolist(),
        "models": rows,
        "median_ratio": rows[args.robust]["median_l2"] / rows[args.standard]["median_l2"],
        "robust_adversarials_read_as_target_by_standard": _cross_answers(standard, attacks[args.robust], pairs),
        "standard_adversarials_read_as_target_by_robust": _cross_answers(robust, attacks[args.standard], pairs),
        "l2_per_pair": {name: a.l2.tolist() for name, a in attacks.items()},
        "card": card,
    }
    stem = f"bench_robust-{started}" + (f"-{args.label}" if args.label else "")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(record, indent=1) + "\n")
    _picture(args.out / f"{stem}.png", pairs, attacks[args.standard], attacks[args.robust])
    (args.out / f"{stem}.md").write_text(_markdown(record, args.standard, args.robust, stem))
    print(_markdown(record, args.standard, args.robust, stem))
    return 0


def _markdown(record: dict, standard: str, robust: str, stem: str) -> str:
    lines = [f"Run {stem}: {record['pairs']} held-out pairs (bundled test digits both models classify correctly, seeded "
             f"order, a random other class each), our attack in minimal mode, torch {record['torch']} on one thread, "
             f"load average {record['load_average_1min'][0]:.2f} -> {record['load_average_1min'][1]:.2f} (2 cores).", "",
             "| model | clean test error | success | median L2 | mean L2 | p10-p90 L2 | ms per pair |", "|---|---|---|---|---|---|---|"]
    for row in record["models"].values():
        lines.append(f"| {row['model']} | {row['test_error']:.1%} | {row['success_rate']:.0%} | {row['median_l2']:.3f} | "
                     f"{row['mean_l2']:.3f} | {row['p10_l2']:.2f}-{row['p90_l2']:.2f} | {row['ms_per_pair']:.0f} |")
    lines += ["", f"Median ratio {robust} / {standard}: **{record['median_ratio']:.2f}x**.",
              f"{robust}'s adversarials that {standard} also reads as the target: {record['robust_adversarials_read_as_target_by_standard']:.0%}; "
              f"{standard}'s that {robust} reads as the target: {record['standard_adversarials_read_as_target_by_robust']:.0%}.",
              f"Picture `{stem}.png`: rows digit, {standard}'s adversarial, {robust}'s, then |r| of each on one scale."]
    card = record["card"]
    if card:
        lines.append(f"The card (pairs {card.get('pair_count')}): median L2 {card.get('median_l2')} against "
                     f"{card.get('median_l2_compared')} for {card.get('compared_with')}, ratio {card.get('ratio')}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
