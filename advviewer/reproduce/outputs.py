"""Write a reproduction into a folder: report.md, results.json, CSV tables, PNG figures (all or nothing)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from PIL import Image

from advviewer.reproduce import figures, tables
from advviewer.reproduce.report import write_report
from advviewer.reproduce.run import Reproduction
from advviewer.writing.atomic_files import write_all_or_nothing


def _csv(head: list[str], rows: list[list]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(head)
    writer.writerows([[tables.csv_cell(c) for c in row] for row in rows])
    return buf.getvalue().encode()


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _examples_csv(results: dict) -> bytes:
    head = ["model", "split", "reading", "digit", "label", "target", "success", "adversarial_class", "distortion"]
    rows = []
    for e in results["examples"]:
        labels = results["digits"][e["split"]]["labels"]
        for i, digit in enumerate(e["digit"]):
            rows.append([e["model"], e["split"], e["reading"], results["digits"][e["split"]]["positions"][digit], labels[digit],
                         e["target"][i] if e["target"][i] >= 0 else None, e["success"][i], e["adversarial_class"][i], e["distortion"][i]])
    return _csv(head, rows)


def results_json(reproduction: Reproduction) -> str:
    return json.dumps(reproduction.results, indent=1) + "\n"


def file_stem(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(model).stem if Path(model).suffix else model)


def write_outputs(reproduction: Reproduction, out_dir: str | Path, seconds: float | None = None,
                  cpu_seconds: float | None = None) -> dict[str, Path]:
    """Every file of the reproduction in ``out_dir``; raises ExportError (one line) if any cannot be written."""
    results = reproduction.results
    payload: dict[str, tuple[str, bytes]] = {
        "report": ("report.md", write_report(results, seconds, cpu_seconds).encode()),
        "json": ("results.json", results_json(reproduction).encode()),
        "examples_csv": ("examples.csv", _examples_csv(results)),
        "noise_csv": ("noise.csv", _csv(*tables.noise_rows(results))),
        "transfer_png": ("transfer.png", _png(figures.transfer_figure(results))),
    }
    for split in ("train", "test"):
        payload[f"table1_{split}"] = (f"table1_{split}.csv", _csv(*tables.table1_rows(results, split)))
        payload[f"distortions_{split}"] = (f"distortions_{split}.png", _png(figures.distortion_figure(results, split)))
    for reading in ("nearest", "random"):
        payload[f"table2_{reading}"] = (f"table2_{reading}.csv", _csv(*tables.transfer_rows(results, reading)))
        payload[f"scaling_{reading}"] = (f"scaling_{reading}.csv", _csv(*tables.scaling_rows(results, reading)))
    sample = reproduction.samples["train"]
    for model in results["table1"]:
        attacks = {r: reproduction.attacks[model, "train", r] for r in ("nearest", "random")}
        payload[f"examples_{model}"] = (f"examples_{file_stem(model)}.png", _png(figures.examples_figure(attacks, sample)))
    return write_all_or_nothing(Path(out_dir), payload)
