"""Export from the window: the shown result, or every result of this session, into a folder.

The files, their names and their atomic writing are the core's (advviewer.export, through
advviewer.session.exporting); this module picks the folder and reports the outcome.
"""

from __future__ import annotations

from pathlib import Path

from advviewer.errors import AdvViewerError
from advviewer.gui import dialogs
from advviewer.session.exporting import export_finished

NOTHING = "Nothing to export yet: run an attack first (Ctrl+R)."


def _folder(w, folder: Path | None) -> Path | None:
    return folder if folder is not None else dialogs.choose_folder(w, w.settings.get("export_folder"))


def export_current(w, folder: Path | None = None) -> dict[str, Path] | None:
    """The result on screen: adversarial PNGs, perturbation PNG, .npy and JSON record."""
    item = w.state.current_result()
    if item is None:
        w.message.show_message(NOTHING, "info")
        return None
    folder = _folder(w, folder)
    if folder is None:
        return None
    try:
        written = export_finished(item, folder)
    except AdvViewerError as exc:
        w.message.show_message(f"Export failed, nothing was written: {exc}")
        return None
    w.settings.set("export_folder", str(folder))
    w.message.show_message(f"Exported {len(written)} files to {folder}: " + ", ".join(p.name for p in written.values()), "info")
    return written


def export_everything(w, folder: Path | None = None) -> list[dict[str, Path]] | None:
    """Every result of this session (each explicit run and slider step), numbered in order."""
    items = w.state.results.items
    if not items:
        w.message.show_message(NOTHING, "info")
        return None
    folder = _folder(w, folder)
    if folder is None:
        return None
    done = []
    for n, item in enumerate(items, 1):
        try:
            done.append(export_finished(item, folder, number=n))
        except AdvViewerError as exc:
            w.message.show_message(f"Export stopped after {len(done)} of {len(items)} results "
                                   f"(those are complete; nothing partial was written): {exc}")
            return done
    w.settings.set("export_folder", str(folder))
    files = sum(len(d) for d in done)
    w.message.show_message(f"Exported {len(done)} results ({files} files) to {folder}.", "info")
    return done
