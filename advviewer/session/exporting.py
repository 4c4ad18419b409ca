"""Write finished attacks to files, named as the command line names them (advviewer.writing.export)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from advviewer.session.values import FinishedAttack

INDEX_NAME = "index.csv"
INDEX_COLUMNS = ("number", "stem", "model", "image", "target", "original_class", "adversarial_class", "fooled",
                 "png_fools_model", "c", "l2", "distortion", "files")


@dataclass(frozen=True)
class Exported:
    """What one export wrote, and whether its 8-bit PNG still fools the model (None: no PNG, the attack failed)."""

    files: dict[str, Path]
    record: dict

    @property
    def png_fools(self) -> bool | None:
        return self.record.get("png_fools_model")


def export_finished(item: FinishedAttack, folder: Path, number: int | None = None, robust: bool = False) -> Exported:
    """Write one result's PNGs, figure, .npy and JSON record; ``number`` prefixes "001_" etc. (Export all).

    ``robust``: the PNGs still fool the model after rounding (advviewer.writing.eight_bit). ExportError
    propagates with a one-line message; nothing partial is left behind.
    """
    from advviewer.writing.export import export_result, export_stem

    stem = export_stem(item.result, item.model.name, item.source)
    if number is not None:
        stem = f"{number:03d}_{stem}"
    files = export_result(item.result, folder, model=item.model.module, model_name=item.model.name, stem=stem,
                          source=item.source, robust=robust, weights_sha256=item.model.sha256)
    return Exported(files, json.loads(files["json"].read_text()))


def write_index(folder: Path, exported: list[Exported]) -> Path:
    """``index.csv``: one row per exported result (what was written, and whether it fooled the model)."""
    from advviewer.writing.atomic_files import write_all_or_nothing

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(INDEX_COLUMNS)
    for n, e in enumerate(exported, 1):
        r = e.record
        writer.writerow([n, Path(e.files["json"]).stem, r["model"], r.get("image") or "", r["target"], r["original_class"],
                         r["adversarial_class"], r["success"], r.get("png_fools_model", ""), f"{r['c']:.6g}",
                         f"{r['l2']:.6g}", f"{r['distortion']:.6g}", " ".join(r["files"])])
    return write_all_or_nothing(folder, {"index": (INDEX_NAME, out.getvalue().encode())})["index"]
