"""The ``advviewer`` command: the window with no arguments, sub-commands for the command line.

Every sub-command uses the same core as the window. Errors a user can cause print one line on
stderr and exit with status 2 (bad input) or 1 (anything else); never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from advviewer.errors import AdvViewerError

log = logging.getLogger("advviewer")

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


def _add_predict(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="classify digit images", description="Print the predicted class and all ten probabilities for each image.")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image file (PNG, JPEG, BMP, TIFF, WebP, ...) or .npy array")
    p.add_argument("--model", default="cnn", help="zoo model name or a model file (default: cnn)")
    p.add_argument("--json", action="store_true", help="one JSON record per image on stdout")
    p.set_defaults(func=_cmd_predict)


def _cmd_predict(args: argparse.Namespace) -> int:
    from advviewer.gradients import predict
    from advviewer.models import load_model
    from advviewer.preprocess import load_image

    model = load_model(args.model)
    status = 0
    for path in args.images:
        try:
            image = load_image(path)
        except AdvViewerError as exc:
            print(f"advviewer: {exc}", file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        probs = predict(model, image)
        cls = int(probs.argmax())
        if args.json:
            print(json.dumps({"image": str(path), "model": args.model, "class": cls, "probabilities": [round(float(p), 6) for p in probs]}))
        else:
            ranked = "  ".join(f"{i}:{p:.3f}" for i, p in enumerate(probs))
            print(f"{path}: {cls} ({probs[cls]:.1%})   {ranked}")
    return status


def _add_train(sub: argparse._SubParsersAction) -> None:
    from advviewer.models import available_models

    p = sub.add_parser("train", help="train a zoo model (reproduces the shipped weights)",
                       description="Train a zoo model deterministically and write its weights and JSON model card.")
    p.add_argument("model", choices=available_models(), metavar="MODEL", help="one of: " + ", ".join(available_models()))
    p.add_argument("--data-dir", type=Path, help="folder with full MNIST IDX files (train-/t10k-, plain or .gz); default: the bundled 5,000 digits")
    p.add_argument("--epochs", type=int, help="default: the model's own (as shipped)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="weights file to write (default: MODEL.pt); the card goes next to it as .json")
    p.set_defaults(func=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from advviewer.training import train_model

    bars: dict[str, tqdm] = {}

    def progress(step: int, total: int, message: str) -> None:
        phase = "pre-training autoencoder" if message.startswith("autoencoder") else f"training {args.model}"
        if phase not in bars:
            for old in bars.values():
                old.close()
            bars[phase] = tqdm(total=total, desc=phase, file=sys.stderr, unit="epoch", dynamic_ncols=True)
        bar = bars[phase]
        bar.set_postfix_str(message.split(", ")[-1] if "," in message else message.split(" ", 2)[-1], refresh=False)
        bar.update(step - bar.n)

    if args.epochs is not None and args.epochs < 1:
        raise AdvViewerError("--epochs must be at least 1")
    out = args.out or Path(f"{args.model}.pt")
    card = train_model(args.model, data_dir=args.data_dir, epochs=args.epochs, seed=args.seed, out=out, progress=progress)
    for bar in bars.values():
        bar.close()
    print(f"wrote {out} and {out.with_suffix('.json')}: train error {card['train_error']:.2%}, test error {card['test_error']:.2%}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="advviewer",
        description="See how neural networks are fooled. With no command, opens the window.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    gui = parser.add_argument_group("window options (no COMMAND)")
    gui.add_argument("--screenshot", metavar="FILE", type=Path, help="build the window offscreen, update it (and attack with --target), save a PNG of it and exit")
    gui.add_argument("--image", dest="gui_image", metavar="IMG", type=Path, help="image to open in the window")
    gui.add_argument("--model", dest="gui_model", metavar="M", help="model to select (default: the last used, else cnn)")
    gui.add_argument("--target", dest="gui_target", metavar="T", type=int, choices=range(10), help="attack target class 0..9")
    gui.add_argument("--c", dest="gui_c", metavar="C", type=float, help="attack constant c (default: find the minimal c)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_predict(sub)
    _add_train(sub)
    try:
        from advviewer.attack.command import add_attack_parser
    except ImportError:
        pass
    else:
        add_attack_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from advviewer import threads

    threads.configure()
    if args.command is None:
        try:
            from advviewer.gui.app import run as gui_main
        except ImportError as exc:  # a broken or missing Qt installation
            print(f"advviewer: the window cannot start ({exc}); the sub-commands still work, see --help", file=sys.stderr)
            return EXIT_FAILURE
        try:
            return int(gui_main(args) or 0)
        except AdvViewerError as exc:
            print(f"advviewer: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    try:
        return int(args.func(args) or 0)
    except AdvViewerError as exc:
        print(f"advviewer: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("advviewer: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"advviewer: {exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}", file=sys.stderr)
        return EXIT_FAILURE

