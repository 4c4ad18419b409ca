"""How far our attack must push a digit to fool a model: the median minimal L2 on held-out test digits.

What the robust model's card reports beside the standard ``cnn``'s, on the same pairs (digit,
target): the program's own attack (:func:`advviewer.attack.lbfgs_attack_batch` in minimal mode,
the smallest c that reaches the target) on bundled test digits no zoo model was trained on.
``benchmarks/bench_robust.py`` and ``tests/test_robust_model.py`` measure with the same pairs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from torch import nn

from advviewer.attack import lbfgs_attack_batch
from advviewer.calculus.gradients import predict
from advviewer.data import bundled_split

PAIRS = 100  # the card's: 100 attacks per model take about a minute on one core
PAIR_SEED = 0
CHUNK = 25  # images per batched solve


@dataclass(frozen=True)
class AttackPairs:
    """Held-out test digits that every compared model classifies correctly, each with a random other class."""

    positions: np.ndarray  # (k,) indices into the bundled test split
    images: np.ndarray  # (k, 28, 28) float32 in [0, 1]
    labels: np.ndarray  # (k,) int64
    targets: np.ndarray  # (k,) int64, never the label


@dataclass(frozen=True)
class MinimalAttacks:
    """One model's minimal attacks on a list of pairs."""

    l2: np.ndarray  # (k,) ||r||_2 of each answer (pixels in [0, 1])
    success: np.ndarray  # (k,) bool: the model answers the target
    adversarial: np.ndarray  # (k, 28, 28) float32
    seconds: float  # wall time of the attacks

    @property
    def median_l2(self) -> float:
        """The median over all pairs, a failed attack counted as infinitely far (it found no closer example)."""
        return float(np.median(np.where(self.success, self.l2, np.inf)))

    @property
    def success_rate(self) -> float:
        return float(self.success.mean()) if self.success.size else 0.0


def held_out_pairs(models: list[nn.Module], count: int = PAIRS, seed: int = PAIR_SEED) -> AttackPairs:
    """The first ``count`` test digits, in a seeded order, that all ``models`` classify correctly.

    The order and every digit's target are drawn for the whole split before any is chosen, so
    the first k pairs of a longer list are the pairs of a shorter one (a test recomputes a prefix
    of the card's pairs).
    """
    raw, labels = bundled_split("test")
    images = raw.astype(np.float32) / np.float32(255.0)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    targets = (labels.astype(np.int64) + rng.integers(1, 10, size=len(labels))) % 10
    correct = np.ones(len(labels), bool)
    for model in models:
        correct &= predict(model, images).argmax(1) == labels
    chosen = order[correct[order]][:count]
    return AttackPairs(chosen, images[chosen], labels[chosen].astype(np.int64), targets[chosen])


def minimal_attacks(model: nn.Module, pairs: AttackPairs) -> MinimalAttacks:
    """Our attack in minimal mode on every pair, CHUNK images per batched solve, one thread."""
    k = len(pairs.targets)
    l2, success = np.zeros(k), np.zeros(k, bool)
    adversarial = np.zeros((k, 28, 28), np.float32)
    started = time.perf_counter()
    for start in range(0, k, CHUNK):
        rows = slice(start, min(start + CHUNK, k))
        results = lbfgs_attack_batch(model, pairs.images[rows], [int(t) for t in pairs.targets[rows]])
        for j, res in zip(range(rows.start, rows.stop), results):
            l2[j], success[j], adversarial[j] = res.l2, res.success, res.adversarial
    return MinimalAttacks(l2, success, adversarial, time.perf_counter() - started)


def robustness_record(robust: nn.Module, standard: nn.Module, standard_name: str, count: int = PAIRS) -> dict:
    """The card's block: both models' median minimal L2 on the same held-out pairs, and their ratio."""
    pairs = held_out_pairs([robust, standard], count)
    mine, theirs = minimal_attacks(robust, pairs), minimal_attacks(standard, pairs)
    return {
        "attack": "advviewer.lbfgs_attack_batch in minimal mode (the smallest c whose answer is the target), one thread",
        "pairs": f"{len(pairs.targets)} bundled test digits (never trained on) that both this model and {standard_name} "
                 f"classify correctly, in a seeded order (seed {PAIR_SEED}), each towards a random other class "
                 "(advviewer.training.robustness.held_out_pairs)",
        "pair_count": len(pairs.targets),
        "median_l2": round(mine.median_l2, 4),
        "compared_with": standard_name,
        "median_l2_compared": round(theirs.median_l2, 4),
        "ratio": round(mine.median_l2 / theirs.median_l2, 3),
        "success_rate": round(mine.success_rate, 4),
        "success_rate_compared": round(theirs.success_rate, 4),
        "attack_seconds": round(mine.seconds + theirs.seconds, 1),
    }
