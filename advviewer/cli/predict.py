"""``advviewer predict``: classify digit images and print all ten probabilities."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from advviewer.cli.common import EXIT_BAD_INPUT
from advviewer.errors import AdvViewerError
from advviewer.models import ZOO, available_models
from advviewer.reading.files import shown
from advviewer.runtime import threads

if TYPE_CHECKING:
    import numpy as np


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="classify digit images", description="Print the predicted class and all ten probabilities for each image.")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image file (PNG, JPEG, BMP, TIFF, WebP, ...) or .npy array")
    p.add_argument("--model", default="cnn", help=f"a zoo model ({', '.join(available_models())}) or a model file (default: cnn)")
    p.add_argument("--json", action="store_true", help="one JSON record per image on stdout")
    p.set_defaults(func=_cmd_predict, torch_on_demand=True)


def _classifier(name_or_path: str) -> Callable[[np.ndarray], np.ndarray]:
    """image -> probabilities. A zoo model answers without torch (numpy forward pass; importing torch
    alone takes longer than the cold-start budget); a model file goes through torch's safe loading."""
    if name_or_path in ZOO:
        from advviewer.models.numpy_zoo import load_numpy_zoo_model

        return load_numpy_zoo_model(name_or_path).predict
    from advviewer.reading.sandbox import start_server

    start_server(with_models=True)  # the file-reading server imports torch while this process does (advviewer.reading.sandbox)
    from advviewer.calculus.gradients import predict
    from advviewer.models import load_model

    threads.configure()
    model = load_model(name_or_path)
    return lambda image: predict(model, image)


def _cmd_predict(args: argparse.Namespace) -> int:
    from advviewer.reading.image_io import load_image

    predict = _classifier(args.model)
    status = 0
    for path in args.images:
        try:
            image = load_image(path)
        except AdvViewerError as exc:  # the message names the file
            print(f"advviewer: {shown(str(exc))}", file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        try:
            probs = predict(image)
        except AdvViewerError as exc:  # a user's model that fails on this image (ModelOutputError)
            print(f"advviewer: {shown(path)}: {shown(str(exc))}", file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        cls = int(probs.argmax())
        if args.json:
            print(json.dumps({"image": str(path), "model": args.model, "class": cls, "probabilities": [round(float(p), 6) for p in probs]}))
        else:
            ranked = "  ".join(f"{i}:{p:.3f}" for i, p in enumerate(probs))
            print(f"{shown(path)}: {cls} ({probs[cls]:.1%})   {ranked}")
    return status
