"""What the numbers say, computed from a results record, so the report's verdicts follow any run."""

from __future__ import annotations

import math

import numpy as np

from advviewer.reproduce import paper
from advviewer.reproduce.config import STANDARD_AND_ROBUST
from advviewer.reproduce.tables import label, pct


def _paper_models(results: dict) -> list[str]:
    return [m for m in results["table1"] if paper.paper_name(m)]


def distortion_ratios(results: dict, split: str, reading: str) -> dict[str, float]:
    """Ours / the paper's average minimum distortion, per paper model with a successful attack."""
    out = {}
    for m in _paper_models(results):
        mean = results["table1"][m][split][reading]["mean_distortion"]
        if mean is not None:
            out[m] = mean / paper.TABLE1[paper.paper_name(m) or ""][2]
    return out


def rank_correlation(a: list[float], b: list[float]) -> float | None:
    """Spearman's rho (no ties expected among distortions)."""
    if len(a) < 3:
        return None
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def reading_verdict(results: dict, split: str) -> list[str]:
    """One line per reading (ratio range, geometric mean, order against the paper's), then the closer one."""
    lines, spread = [], {}
    for reading in ("nearest", "random"):
        ratios = distortion_ratios(results, split, reading)
        if not ratios:
            continue
        models = list(ratios)
        ours = [results["table1"][m][split][reading]["mean_distortion"] for m in models]
        theirs = [paper.TABLE1[paper.paper_name(m) or ""][2] for m in models]
        rho = rank_correlation(ours, theirs)
        gmean = math.exp(float(np.mean(np.log(list(ratios.values())))))
        spread[reading] = abs(math.log(gmean))
        order = " < ".join(label(m) for m in sorted(models, key=lambda m: results["table1"][m][split][reading]["mean_distortion"]))
        lines.append(f"- **{reading}**: ours / paper {min(ratios.values()):.2f}-{max(ratios.values()):.2f} "
                     f"(geometric mean {gmean:.2f}); rank correlation with the paper's column "
                     f"{'-' if rho is None else f'{rho:+.2f}'}; our order {order}.")
    if len(spread) == 2:
        closer = min(spread, key=lambda r: spread[r])
        lines.append(f"- Closer to the paper's magnitudes on these digits: the **{closer}** reading.")
    return lines


COMPARABLE = 0.02  # clean errors within 2 points of the paper's: the same kind of model


def comparable_models_verdict(results: dict, split: str) -> list[str]:
    """The readings on the models whose train and test errors match the paper's: there the gap is not the training set's."""
    same = [m for m in _paper_models(results)
            if abs(results["table1"][m]["train_error"] - paper.TABLE1[paper.paper_name(m) or ""][0]) <= COMPARABLE
            and abs(results["table1"][m]["test_error"] - paper.TABLE1[paper.paper_name(m) or ""][1]) <= COMPARABLE]
    if not same:
        return []
    parts = []
    for reading in ("nearest", "random"):
        ratios = distortion_ratios(results, split, reading)
        vals = [ratios[m] for m in same if m in ratios]
        if vals:
            span = f"{min(vals):.2f}" if len(vals) == 1 else f"{min(vals):.2f}-{max(vals):.2f}"
            parts.append(f"{reading} {span}x")
    return [f"- Models whose clean errors are within {100 * COMPARABLE:.0f} points of the paper's ({', '.join(label(m) for m in same)}), "
            f"so whose difference is not the training set: ours / paper {', '.join(parts)}."]


PAPER_ORDER = " < ".join(paper.PAPER_LABELS[m] for m in sorted(paper.TABLE1, key=lambda m: paper.TABLE1[m][2]))


def noise_verdict(results: dict) -> list[str]:
    """Which treatment of the box (clipped or not) gives errors nearer the paper's noise rows."""
    noise = results["table2"]["noise"]
    lines, gaps = [], {}
    for clipped in (True, False):
        diffs = []
        for std in paper.NOISE:
            row = noise.get(f"{std:g} {'clipped' if clipped else 'unclipped'}")
            if row is None:
                continue
            for m, e in row["errors"].items():
                ref = paper.noise_error(std, paper.paper_name(m) or "")
                if ref is not None and e is not None:
                    diffs.append(abs(e - ref))
        if diffs:
            gaps[clipped] = float(np.mean(diffs))
    if len(gaps) == 2:
        closer = "unclipped" if gaps[False] < gaps[True] else "clipped"
        lines.append(f"- Mean absolute gap to the paper's noise rows: clipped {pct(gaps[True])}, unclipped "
                     f"{pct(gaps[False])}: the paper's figures look like **{closer}** noise.")
    return lines


def transfer_verdict(results: dict, reading: str) -> list[str]:
    block = results["table2"][reading]
    rows = block["transfer"]
    diag = [r["errors"][m] for m, r in rows.items() if r["errors"].get(m) is not None]
    lines = []
    if diag:
        lines.append(f"- Diagonal (each model on its own successful examples, re-classified in batches of another size): "
                     f"{pct(min(diag))}-{pct(max(diag))}.")
    scaled = block["scaled_off_diagonal_mean"]
    means = {s: [v for v in col.values() if v is not None] for s, col in scaled.items()}
    if all(means.values()):
        climb = ", ".join(f"x{s}: {pct(float(np.mean(v)))}" for s, v in means.items())
        lines.append(f"- Mean error in the other models as the perturbations grow: {climb}.")
    own = [v["error_on_own_model"] for v in block["same_size_noise"].values() if v["error_on_own_model"] is not None]
    if own:
        lines.append(f"- Random noise of the same L2 as each example, on the model it was made for: "
                     f"{pct(min(own))}-{pct(max(own))} error (the adversarial examples: 100%).")
    return lines


def robust_verdict(results: dict) -> list[str]:
    """The adversarially trained cnn against the standard one: clean errors, and how much further the attack must go."""
    standard, robust = STANDARD_AND_ROBUST
    t1 = results["table1"]
    if standard not in t1 or robust not in t1:
        return []
    lines = [f"- Clean test error: {robust} {pct(t1[robust]['test_error'], 2)}, {standard} {pct(t1[standard]['test_error'], 2)}."]
    for split in ("train", "test"):
        for reading in ("nearest", "random"):
            mine, theirs = t1[robust][split][reading]["median_distortion"], t1[standard][split][reading]["median_distortion"]
            if mine is None or not theirs:
                continue
            lines.append(f"- {split} digits, {reading}: median minimal distortion {mine:.3f} against {theirs:.3f}, "
                         f"**{mine / theirs:.2f}x** the standard network's.")
    return lines
