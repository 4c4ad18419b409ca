"""The whole reproduction as one plain function: load, attack, transfer, noise -> a JSON-able record.

No printing and no files: :func:`run_reproduction` reports through ``progress(done, total,
message)`` and stops when ``cancel.is_set()``; report.py and figures.py turn its result into
files. Deterministic for a given seed on one machine (every random choice comes from the seed;
torch runs on one thread in the attack).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from advviewer.errors import AdvViewerError, Cancelled
from advviewer.models import load_model
from advviewer.reproduce.attacks import READINGS, AttackSet, attack_sample, correct_positions
from advviewer.reproduce.config import ReproduceConfig
from advviewer.reproduce.digits import DigitSample, sample_digits
from advviewer.reproduce.transfer import SCALES, gaussian_noise_rows, off_diagonal_mean, same_size_noise, transfer_table
from advviewer.training.train import error_rate, load_training_data

SPLITS = ("train", "test")
# the noise rows need only forward passes: measured on many more digits than the attacks, so
# their percentages are not in steps of 1/n
NOISE_DIGITS = 10_000

Progress = Callable[[int, int, str], None]


@dataclass
class Reproduction:
    config: ReproduceConfig
    results: dict  # everything measured, JSON-able (results.json)
    samples: dict[str, DigitSample] = field(repr=False)
    attacks: dict[tuple[str, str, str], AttackSet] = field(repr=False)  # (model, split, reading)


def _check(config: ReproduceConfig) -> None:
    if config.n < 1:
        raise AdvViewerError(f"--n must be at least 1, got {config.n}")
    if not config.models:
        raise AdvViewerError("no models to attack")
    if len(set(config.models)) != len(config.models):
        raise AdvViewerError(f"a model is named twice in {', '.join(config.models)}")


def run_reproduction(config: ReproduceConfig, progress: Progress | None = None, cancel=None) -> Reproduction:
    """Measure Table 1 and Table 2 of the paper on this machine's models; see the module docstring.

    Raises AdvViewerError (bad --data-dir, unknown model, bad n) before any long work starts,
    and :class:`advviewer.errors.Cancelled` when ``cancel`` is set.
    """
    _check(config)
    data = load_training_data(config.data_dir)
    models = {name: load_model(name) for name in config.models}
    streams = np.random.SeedSequence(config.seed).spawn(4)
    samples = {split: sample_digits(data, split, config.n, np.random.default_rng(s)) for split, s in zip(SPLITS, streams)}
    correct = {(m, s): correct_positions(model, samples[s]) for m, model in models.items() for s in SPLITS}
    total = sum(len(p) for p in correct.values()) * len(READINGS)
    done = 0

    def advance(k: int, message: str) -> None:
        nonlocal done
        done += k
        if progress is not None:
            progress(done, total, message)

    if progress is not None:
        progress(0, total, "classifying")
    attacks: dict[tuple[str, str, str], AttackSet] = {}
    for name, model in models.items():
        for split in SPLITS:
            for reading in READINGS:
                attacks[name, split, reading] = attack_sample(model, name, samples[split], reading, correct[name, split],
                                                              advance, cancel)
    if cancel is not None and cancel.is_set():
        raise Cancelled("reproduction cancelled")
    results = {
        "config": {"n": config.n, "models": list(config.models), "seed": config.seed, "data": data.description,
                   "torch": torch.__version__},
        "digits": {s: {"positions": samples[s].positions.tolist(), "labels": samples[s].labels.tolist(),
                       "random_targets": samples[s].random_targets.tolist()} for s in SPLITS},
        "table1": _table1(models, data, attacks),
        "table2": _table2(models, data, samples["train"], attacks, streams),
        "examples": [_example_record(a) for a in attacks.values()],
    }
    return Reproduction(config, _rounded(results), samples, attacks)


def _table1(models, data, attacks) -> dict:
    out = {}
    for name, model in models.items():
        row: dict = {"train_error": error_rate(model, data.train_x, data.train_y),
                     "test_error": error_rate(model, data.test_x, data.test_y)}
        for split in SPLITS:
            row[split] = {reading: attacks[name, split, reading].summary() for reading in READINGS}
        out[name] = row
    return out


def _table2(models, data, sample: DigitSample, attacks, streams) -> dict:
    rng = np.random.default_rng(streams[2])
    noise_sample = sample_digits(data, sample.split, NOISE_DIGITS, rng)
    out: dict = {"split": sample.split, "noise_digits": len(noise_sample.labels),
                 "noise": gaussian_noise_rows(noise_sample, models, rng)}
    for reading in READINGS:
        mine = {name: attacks[name, sample.split, reading] for name in models}
        by_scale = {f"{s:g}": transfer_table(mine, sample, models, s) for s in SCALES}
        out[reading] = {
            "transfer": by_scale["1"],
            "scaled_off_diagonal_mean": {scale: off_diagonal_mean(rows) for scale, rows in by_scale.items()},
            "scaled_mean_distortion": {scale: {m: r["mean_distortion"] for m, r in rows.items()} for scale, rows in by_scale.items()},
            "same_size_noise": same_size_noise(mine, sample, models, np.random.default_rng(streams[3])),
        }
    return out


def _example_record(a: AttackSet) -> dict:
    return {"model": a.model, "split": a.split, "reading": a.reading, "digit": a.attacked.tolist(),
            "target": a.targets.tolist(), "success": a.success.tolist(), "adversarial_class": a.adversarial_class.tolist(),
            "distortion": a.distortion.tolist()}


def _rounded(value):
    """Floats to 6 significant digits: the JSON stays readable and no figure claims more precision than it has."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value
