"""Export from the window: the shown result, or every result of this session, into a folder.

The files, their names and their atomic writing are the core's (advviewer.export, through
advviewer.session.exporting); this module picks the folder and reports the outcome, saying
plainly when the 8-bit PNG no longer fools the model and offering the robust export that does.
"""

from __future__ import annotations

from pathlib import Path

from advviewer.errors import AdvViewerError
from advviewer.gui import dialogs
from advviewer.session.exporting import Exported, export_finished, write_index

NOTHING = "Nothing to export yet: run an attack first (Ctrl+R)."
ROUNDING_UNDID = ("<b>The 8-bit PNG no longer fools the model</b> (it reads as {png_class}): rounding pixels to 1/255 "
                  "undid part of the change; the .npy still fools it. <b>File ▸ Export, PNG still fools it</b> "
                  "(Ctrl+Alt+E) scales r up just enough.")


def _folder(w, folder: Path | None) -> Path | None:
    return folder if folder is not None else dialogs.choose_folder(w, w.settings.get("export_folder"))


def png_verdict(exported: Exported) -> str:
    """What the banner adds about the 8-bit PNG: that it still fools the model (and how, when robust), or not."""
    record = exported.record
    if exported.png_fools is None:
        return "The attack did not reach its target: only its JSON record was written."
    if not exported.png_fools:
        return ROUNDING_UNDID.format(png_class=record["png_class"])
    if record.get("png_robust"):
        return (f"The 8-bit PNG still fools the model: r scaled by {record['png_robust_scale']:.6g} "
                f"(‖r‖₂ {record['png_l2']:.4f} instead of {record['l2']:.4f}).")
    return "The 8-bit PNG still fools the model."


def export_current(w, folder: Path | None = None, robust: bool = False) -> Exported | None:
    """The result on screen: adversarial PNGs, figure, perturbation PNG, .npy and JSON record."""
    item = w.state.current_result()
    if item is None:
        w.message.show_message(NOTHING, "info")
        return None
    folder = _folder(w, folder)
    if folder is None:
        return None
    try:
        exported = export_finished(item, folder, robust=robust)
    except AdvViewerError as exc:
        w.message.show_message(f"Export failed, nothing was written: {exc}")
        return None
    w.settings.set("export_folder", str(folder))
    kind = "error" if exported.png_fools is False else "info"
    figure = " with a figure for slides" if "figure_png" in exported.files else ""
    w.message.show_message(f"Exported {len(exported.files)} files{figure} to {folder}. " + png_verdict(exported), kind)
    return exported


def export_everything(w, folder: Path | None = None, fooled_only: bool = False, robust: bool = False) -> list[Exported] | None:
    """Every result of this session (each explicit run and slider step; ``fooled_only``: those that fooled it), numbered."""
    items = [item for item in w.state.results.items if item.result.success or not fooled_only]
    if not items:
        w.message.show_message(NOTHING if not fooled_only else "No result of this session fooled the model yet.", "info")
        return None
    folder = _folder(w, folder)
    if folder is None:
        return None
    done: list[Exported] = []
    for n, item in enumerate(items, 1):
        try:
            done.append(export_finished(item, folder, number=n, robust=robust))
        except AdvViewerError as exc:
            w.message.show_message(f"Export stopped after {len(done)} of {len(items)} results "
                                   f"(those are complete; nothing partial was written): {exc}")
            _index(w, folder, done)
            return done
    index = _index(w, folder, done)
    w.settings.set("export_folder", str(folder))
    files = sum(len(d.files) for d in done)
    undone = sum(d.png_fools is False for d in done)
    note = (f" In {undone} of them the 8-bit PNG no longer fools the model (see {index.name if index else 'the JSON'}; "
            "Export all, PNG still fools it, fixes that)." if undone else "")
    w.message.show_message(f"Exported {len(done)} results ({files} files) to {folder}, listed in "
                           f"{index.name if index else '(no index)'}.{note}", "error" if undone else "info")
    return done


def _index(w, folder: Path, done: list[Exported]) -> Path | None:
    try:
        return write_index(folder, done) if done else None
    except AdvViewerError as exc:
        w.message.show_message(f"The results were written, but not their index: {exc}")
        return None
