"""Write finished attacks to files, named as the command line names them (advviewer.export)."""

from __future__ import annotations

from pathlib import Path

from advviewer.session.values import FinishedAttack


def export_finished(item: FinishedAttack, folder: Path, number: int | None = None) -> dict[str, Path]:
    """Write one result's PNGs, .npy and JSON record; ``number`` prefixes "001_" etc. (Export all).

    ExportError propagates with a one-line message; nothing partial is left behind.
    """
    from advviewer.export import export_result, export_stem

    stem = export_stem(item.result, item.model.name, item.source)
    if number is not None:
        stem = f"{number:03d}_{stem}"
    return export_result(item.result, folder, model=item.model.module, model_name=item.model.name, stem=stem, source=item.source)
