"""Export from the window: the shown result, or every result of this session, into a folder.

The files and their atomic writing are the core's (:func:`advviewer.export.export_result`);
this module picks folders and names and reports the outcome in the window.
"""

from __future__ import annotations

from pathlib import Path

from advviewer.errors import AdvViewerError
from advviewer.export import export_stem
from advviewer.gui import dialogs


def _folder(w, folder: Path | None) -> Path | None:
    if folder is None:
        folder = dialogs.choose_folder(w, w.settings.get("export_folder"))
    return folder


def export_current(w, folder: Path | None = None) -> dict[str, Path] | None:
    """The result on screen: adversarial PNGs, perturbation PNG, .npy and JSON record."""
    item = w.session.current_item()
    if item is None:
        w.message.show_message("Nothing to export yet: run an attack first (Ctrl+R).", "info")
        return None
    folder = _folder(w, folder)
    if folder is None:
        return None
    try:
        written = w.session.export(item, folder, export_stem(item.result, item.model_name, item.source))
    except AdvViewerError as exc:
        w.message.show_message(f"Export failed, nothing was written: {exc}")
        return None
    w.settings.set("export_folder", str(folder))
    w.message.show_message(f"Exported {len(written)} files to {folder}: " + ", ".join(p.name for p in written.values()), "info")
    return written


def export_everything(w, folder: Path | None = None) -> list[dict[str, Path]] | None:
    """Every result of this session (each explicit run and slider step), numbered in order."""
    items = list(w.session.finished)
    if not items:
        w.message.show_message("Nothing to export yet: run an attack first (Ctrl+R).", "info")
        return None
    folder = _folder(w, folder)
    if folder is None:
        return None
    done = []
    for n, item in enumerate(items, 1):
        try:
            done.append(w.session.export(item, folder, f"{n:03d}_{export_stem(item.result, item.model_name, item.source)}"))
        except AdvViewerError as exc:
            w.message.show_message(f"Export stopped after {len(done)} of {len(items)} results "
                                   f"(those are complete; nothing partial was written): {exc}")
            return done
    w.settings.set("export_folder", str(folder))
    files = sum(len(d) for d in done)
    w.message.show_message(f"Exported {len(done)} results ({files} files) to {folder}.", "info")
    return done
