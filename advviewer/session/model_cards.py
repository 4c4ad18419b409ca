"""The zoo's model cards in words a student reads: one line for the picker, a few rows for the About box."""

from __future__ import annotations

import re

from advviewer.errors import printable
from advviewer.models.zoo_cards import ZOO, model_card


def _card(name: str) -> dict | None:
    return model_card(name) if name in ZOO else None


def _percent(value: object) -> str:
    return f"{float(value):.1%}" if isinstance(value, (int, float)) else "not recorded"


def one_line(name: str) -> str:
    """'softmax regression (FC10), weight decay 1e-4; 8.9% test error' (a file: its name)."""
    card = _card(name)
    if card is None:
        return name
    return printable(f"{card.get('description', name)}; {_percent(card.get('test_error'))} test error")


def short_line(name: str) -> str:
    """The model's name and a few words, for the closed model picker: 'cnn: small smooth convnet' (a file: its name).

    The description up to its first ':', '(', ',' or ';', without its sizes ('sigmoid MLP 784-100-100-10'
    gives 'sigmoid MLP'): what fits a toolbar whole; the picker's list and tooltip give the rest.
    """
    card = _card(name)
    if card is None:
        return name
    head = re.split(r"[:(,;]", str(card.get("description", "")))[0]
    words = [word for word in head.split() if not any(ch.isdigit() for ch in word)]
    return printable(f"{name}: {' '.join(words)}") if words else name


def readable_card(card: dict) -> list[tuple[str, str]]:
    """(label, text) rows of a card: what it is, how big, what it learnt from, how often it is wrong."""
    decay = card.get("weight_decay") or {}
    values = decay.get("lambdas", []) if isinstance(decay, dict) else [decay]
    lambdas = ", ".join(f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in (values if isinstance(values, list) else [values]))
    rows = [
        ("What it is", str(card.get("description", card.get("name", "")))),
        ("Size", f"{card['parameters']:,} weights" if isinstance(card.get("parameters"), int) else "not recorded"),
        ("Wrong on", f"{_percent(card.get('test_error'))} of the 1,000 test digits it never saw "
                     f"({_percent(card.get('train_error'))} of its training digits)"),
        ("Learnt from", str(card.get("data", "not recorded"))),
        ("Training", f"{card.get('optimizer', '?')}, {card.get('epochs', '?')} epochs, seed {card.get('seed', '?')}"
                     + (f", weight decay λ = {lambdas}" if lambdas else "")
                     + (f", augmentation: {card['augmentation']}" if card.get("augmentation") else "")),
        ("Trained in", f"{card['train_seconds']:g} s with torch {card.get('torch', '?')}"
         if isinstance(card.get("train_seconds"), (int, float)) else "not recorded"),
        ("Weights", f"{card.get('weights_file', '?')}, sha256 {str(card.get('weights_sha256', ''))[:16]}…"),
    ] + _robustness_rows(card)
    return [(label, printable(text)) for label, text in rows]


def _robustness_rows(card: dict) -> list[tuple[str, str]]:
    """A robust model's: how it was trained, and how far the attack must push a digit beside the standard model."""
    rows = [("Made robust by", str(card["adversarial_training"]))] if card.get("adversarial_training") else []
    measured = card.get("robustness")
    if isinstance(measured, dict) and all(isinstance(measured.get(k), (int, float)) for k in ("median_l2", "median_l2_compared", "ratio")):
        rows.append(("Attack must go", f"a median L2 of {measured['median_l2']:.2f} to fool it, {measured['ratio']:.2f}x the "
                                       f"{measured.get('compared_with', 'standard model')}'s {measured['median_l2_compared']:.2f} "
                                       f"(our attack on {measured.get('pair_count', '?')} test digits it never saw, "
                                       "each towards a random other class)"))
    return rows
