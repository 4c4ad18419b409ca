"""``advviewer train``: retrain a zoo model and write its weights and model card."""

from __future__ import annotations

import argparse
from pathlib import Path

from advviewer.cli.progress import Progress
from advviewer.errors import AdvViewerError
from advviewer.models import available_models


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a zoo model (same seed, same machine: same bytes)",
                       description="Train a zoo model deterministically and write its weights and JSON model card.")
    p.add_argument("model", choices=available_models(), metavar="MODEL", help="one of: " + ", ".join(available_models()))
    p.add_argument("--data-dir", type=Path, help="folder with full MNIST IDX files (train-/t10k-, plain or .gz); default: the bundled 5,000 digits")
    p.add_argument("--epochs", type=int, help="default: the model's own (as shipped)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="weights file to write (default: MODEL.pt); the card goes next to it as .json")
    p.set_defaults(func=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    from advviewer.training.train import train_model

    bars: dict[str, Progress] = {}

    def progress(step: int, total: int, message: str) -> None:
        phase = _phase(message, args.model)
        if phase not in bars:
            for old in bars.values():
                old.close()
            bars[phase] = Progress(total, {"drawing digits": "pool", "measuring robustness": "step"}.get(phase, "epoch"), phase)
        bars[phase].update_to(step, message.split(", ")[-1] if "," in message else message.split(" ", 2)[-1])

    if args.epochs is not None and args.epochs < 1:
        raise AdvViewerError("--epochs must be at least 1")
    out = args.out or Path(f"{args.model}.pt")
    card = train_model(args.model, data_dir=args.data_dir, epochs=args.epochs, seed=args.seed, out=out, progress=progress)
    for bar in bars.values():
        bar.close()
    print(f"wrote {out} and {out.with_suffix('.json')}: train error {card['train_error']:.2%}, test error {card['test_error']:.2%}")
    return 0


def _phase(message: str, model: str) -> str:
    """The progress bar a training message belongs to."""
    for start, phase in (("autoencoder", "pre-training autoencoder"), ("drawing", "drawing digits"),
                         ("attacking", "measuring robustness")):
        if message.startswith(start):
            return phase
    return f"training {model}"
