"""``advviewer attack``: attack digit images from the command line and write the results.

    advviewer attack IMAGE... --model M (--target T | --untargeted | --all-targets) [--c C] [--out DIR] [--json]

For every attack: the adversarial PNG (8-bit), an enlarged copy, the perturbation PNG, the
float32 ``.npy`` and a JSON record (see :mod:`advviewer.writing.export`), and one line saying whether
the 8-bit PNG still fools the model. ``--path-gif`` adds the attack's path as an animated GIF and
APNG (:mod:`advviewer.writing.animation`). ``--json`` prints the JSON records on stdout instead (one
per line). Exit status: 0 all attacks succeeded, 1 some did not reach their target, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from advviewer.cli.progress import Progress
from advviewer.errors import AdvViewerError
from advviewer.models import ZOO, available_models
from advviewer.reading.files import shown

BATCH = 32  # attacks solved together (one progress-bar step; the solver's iteration shows meanwhile)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("attack", help="fool a model: box-constrained L-BFGS attack (Szegedy et al.)",
                       description="Find the smallest perturbation that makes the model answer a chosen class "
                                   "(or any other class), and write it as PNG, .npy and JSON.")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image file (PNG, JPEG, ...) or .npy array")
    p.add_argument("--model", default="cnn", help=f"a zoo model ({', '.join(available_models())}) or a model file (default: cnn)")
    goal = p.add_mutually_exclusive_group(required=True)
    goal.add_argument("--target", type=int, metavar="T", help="class 0..9 the model should answer")
    goal.add_argument("--untargeted", action="store_true", help="the smallest change to any other class")
    goal.add_argument("--all-targets", action="store_true", help="one attack per class other than the current answer")
    p.add_argument("--c", type=float, metavar="C", help="fixed penalty constant (default: search the minimal perturbation)")
    p.add_argument("--out", type=Path, default=Path("."), metavar="DIR", help="folder for the files (default: .)")
    p.add_argument("--json", action="store_true", help="print one JSON record per attack on stdout")
    p.add_argument("--paper-loss", action="store_true",
                   help="minimal mode with the paper's cross-entropy over all classes (no exact rival refinement)")
    p.add_argument("--confidence", type=float, metavar="P",
                   help="the smallest change that makes the model answer the target with probability >= P (0 < P < 1; "
                        "default: just across the decision boundary)")
    p.add_argument("--max-iter", type=int, default=500, metavar="N", help="solver iterations per c (default: 500)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.add_argument("--robust-png", action="store_true",
                   help="scale the perturbation up by the smallest factor that keeps the 8-bit PNG fooling the model "
                        "(the .npy stays exact; the JSON gives the factor)")
    p.add_argument("--path-gif", action="store_true",
                   help="also write the attack's path, step by step, as an animated GIF and APNG for slides "
                        "(<stem>_path.gif, <stem>_path.apng, 960x540)")
    p.set_defaults(func=run_attack_command)


def _jobs(args, model, load_image, predict) -> tuple[list[tuple[Path, object, int | None]], int]:
    """(path, image, target) for every attack asked for; bad images and targets are reported and skipped."""
    jobs, status = [], 0
    for path in args.images:
        try:
            image = load_image(path)
        except AdvViewerError as exc:
            print(f"advviewer: {exc}", file=sys.stderr)
            status = 2
            continue
        current = int(predict(model, image).argmax())
        if args.all_targets:
            jobs += [(Path(path), image, t) for t in range(10) if t != current]
        elif args.untargeted:
            jobs.append((Path(path), image, None))
        elif args.target == current and args.confidence is None:
            print(f"advviewer: {shown(path)}: the model already answers {current}; choose another --target or use --untargeted",
                  file=sys.stderr)
            status = 2
        else:
            jobs.append((Path(path), image, args.target))
    return jobs, status


def run_attack_command(args: argparse.Namespace) -> int:
    from advviewer.reading.sandbox import start_server

    if args.model not in ZOO:
        start_server(with_models=True)  # the file-reading server imports torch while this process does (advviewer.reading.sandbox)
    from advviewer.attack import lbfgs_attack_batch
    from advviewer.calculus.gradients import predict
    from advviewer.models import load_identified_model
    from advviewer.reading.image_io import load_image
    from advviewer.writing.animation import export_path
    from advviewer.writing.export import export_result, export_stem

    if args.target is not None and not 0 <= args.target <= 9:
        raise AdvViewerError(f"--target must be a class 0..9, got {args.target}")
    model, weights_sha256 = load_identified_model(args.model)  # the record names the weights used, not the file's later state
    model_name = args.model
    jobs, status = _jobs(args, model, load_image, predict)
    stems: set[str] = set()  # two inputs called 7.png (a/7.png, b/7.png) must not overwrite each other's files
    with Progress(len(jobs), "attack", enabled=len(jobs) >= 2) as bar:
        for start in range(0, len(jobs), BATCH):
            chunk = jobs[start:start + BATCH]
            images = np.stack([image for _, image, _ in chunk])
            results = lbfgs_attack_batch(model, images, [t for _, _, t in chunk], args.c, untargeted=args.untargeted,
                                         max_iter=args.max_iter, device=args.device, refine=not args.paper_loss,
                                         confidence=args.confidence, record_history=args.path_gif,
                                         callback=lambda p, start=start: _show_progress(bar, start, p))
            for (path, _, _), res in zip(chunk, results):
                stem = export_stem(res, model_name, str(path), taken=stems)
                files = export_result(res, args.out, model=model, model_name=model_name, stem=stem, source=str(path),
                                      robust=args.robust_png, weights_sha256=weights_sha256)
                path_files = export_path(res, args.out, model=model, stem=stem) if args.path_gif else {}
                record = json.loads(files["json"].read_text())
                if args.json:
                    print(json.dumps(record), flush=True)
                else:
                    path_note = f"  path: {path_files['gif'].name}, {path_files['apng'].name}" if path_files else ""
                    bar.write(_summary(path, res, record) + path_note, file=sys.stdout)
                if not res.success:
                    status = max(status, 1)
            bar.update_to(start + len(chunk))
    return status


def _show_progress(bar: Progress, start: int, progress) -> None:
    """The bar counts attacks whose answer is final as they settle (a batch's attacks solve together)."""
    settled = start + progress.settled if progress.settled is not None else start
    bar.update_to(max(bar.n, settled), f"solving together, iteration {progress.iteration}")


def _summary(path: Path, res, record: dict) -> str:
    if not res.success:
        return f"{shown(path)}: {res.message}"
    fools = "yes" if record["png_fools_model"] else f"no (the 8-bit PNG is classified {record['png_class']}; --robust-png writes one that does)"
    return (f"{shown(path)}: {res.original_class} -> {res.target}  L2 {res.l2:.4f}  distortion {res.distortion:.4f}  "
            f"c={res.c:.4g}  8-bit PNG still fools the model: {fools}  [{record['files'][0]}, ...]")
