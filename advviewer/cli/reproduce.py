"""``advviewer reproduce``: the paper's Tables 1 and 2 measured on the zoo models, written as a report.

    advviewer reproduce [--n N] [--models M...] [--data-dir DIR] [--out DIR] [--json] [--seed S]

Writes report.md, results.json, CSV tables and PNG figures into DIR (default: ./reproduce) and
prints where; ``--json`` prints results.json on stdout as well. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from advviewer.cli.progress import Progress
from advviewer.reproduce.config import DEFAULT_MODELS, DEFAULT_N, ReproduceConfig
from advviewer.text.wording import counted


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reproduce", help="reproduce the paper's Tables 1 and 2 (report, CSV, figures)",
                       description="Attack N training and N test digits with every model (nearest other class and a "
                                   "random target), measure transfer between models and Gaussian-noise controls, and "
                                   "write the paper's Tables 1 and 2 beside its figures.")
    p.add_argument("--n", type=int, default=DEFAULT_N, metavar="N", help=f"digits per split (default: {DEFAULT_N})")
    p.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), metavar="M",
                   help="zoo names or model files (default: the paper's six and cnn)")
    p.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="folder with full MNIST IDX files (train-/t10k-, plain or .gz); default: the bundled 5,000 digits")
    p.add_argument("--out", type=Path, default=Path("reproduce"), metavar="DIR", help="folder for the files (default: ./reproduce)")
    p.add_argument("--json", action="store_true", help="also print results.json on stdout")
    p.add_argument("--seed", type=int, default=0, help="chooses the digits, targets and noise (default: 0)")
    p.set_defaults(func=run_reproduce_command)


def run_reproduce_command(args: argparse.Namespace) -> int:
    from advviewer.reproduce.outputs import results_json, write_outputs
    from advviewer.reproduce.report import duration
    from advviewer.reproduce.run import run_reproduction

    config = ReproduceConfig(n=args.n, models=tuple(args.models), data_dir=args.data_dir, seed=args.seed)
    started, cpu_started = time.perf_counter(), time.process_time()
    bars: list[Progress] = []  # made at the first report, after the data and models were accepted

    def progress(done: int, total: int, message: str) -> None:
        if not bars:
            bars.append(Progress(total, "attack", "reproduce"))
        bars[0].update_to(done, message)

    try:
        reproduction = run_reproduction(config, progress)
    finally:
        for bar in bars:
            bar.close()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    files = write_outputs(reproduction, args.out, seconds, cpu_seconds)
    if args.json:
        sys.stdout.write(results_json(reproduction))
    else:
        print(f"wrote {counted(len(files), 'file')} to {args.out} in {duration(seconds)} ({duration(cpu_seconds)} of CPU time): "
              f"{files['report'].name}, {files['json'].name}, CSV tables and figures")
    return 0
