"""Export from the window: the shown result, or every result of this session, into a folder.

The files, their names and their atomic writing are the core's (the writing room, advviewer.writing),
written off the GUI thread by the session's ExportQueue (advviewer.session.export); this module
picks the folder and reports progress and outcome, saying plainly when the 8-bit PNG no longer
fools the model and offering the robust export that does.
"""

from __future__ import annotations

from pathlib import Path

from advviewer.gui import dialogs
from advviewer.gui.actions import menu_path
from advviewer.session.export import Exported, ExportOutcome, ExportRequest, why_no_path
from advviewer.text.wording import counted

NOTHING = "Nothing to export yet: run an attack first (Ctrl+R)."
ROUNDING_UNDID = ("<b>The 8-bit PNG no longer fools the model</b> (it reads as {png_class}): rounding pixels to 1/255 "
                  f"undid part of the change; the .npy still fools it. <b>{menu_path('export_robust')}</b> "
                  "(Ctrl+Alt+E) scales r up just enough.")


PATH_TIP = "Write the attack's path, step by step, as an animated GIF and APNG for slides (960x540)"
STALE_PATH = "The result on screen no longer matches the input, model or target: run the attack again to animate it."


def _folder(w, folder: Path | None) -> Path | None:
    return folder if folder is not None else dialogs.choose_folder(w, dialogs.start_folder(w.settings.get("export_folder")))


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


def export_current(w, folder: Path | None = None, robust: bool = False) -> bool:
    """Start exporting the result on screen (PNGs, figure, perturbation PNG, .npy, JSON); True if it started."""
    item = w.state.current_result()
    if item is None:
        w.message.show_message(NOTHING, "info")
        return False
    folder = _folder(w, folder)
    return folder is not None and w.state.exports.start(ExportRequest((item,), folder, robust=robust))


def export_everything(w, folder: Path | None = None, fooled_only: bool = False, robust: bool = False) -> bool:
    """Start exporting every result of this session (``fooled_only``: those that fooled it), numbered, with an index."""
    items = tuple(item for item in w.state.results.items if item.result.success or not fooled_only)
    if not items:
        w.message.show_message(NOTHING if not fooled_only else "No result of this session fooled the model yet.", "info")
        return False
    folder = _folder(w, folder)
    return folder is not None and w.state.exports.start(ExportRequest(items, folder, robust=robust, numbered=True))


def export_path(w, folder: Path | None = None) -> bool:
    """Start writing the shown result's path as an animated GIF and APNG; True if it started."""
    item = w.state.current_result()
    why_not = why_no_path(item)
    if why_not is not None:
        w.message.show_message(why_not, "info")
        return False
    folder = _folder(w, folder)
    return folder is not None and w.state.exports.start(ExportRequest((item,), folder, path=True))


def show_path_export_state(w) -> None:
    """File ▸ Export the path is enabled only while the shown result kept its path; its tooltip says why not."""
    action = w.actions["export_path"]
    item = w.state.current_result()
    why_not = STALE_PATH if item is None and w.state.result_view.shown is not None else why_no_path(item)
    action.setEnabled(why_not is None)
    action.setToolTip(why_not or PATH_TIP)
    action.setStatusTip(action.toolTip())


def bind_exports(w) -> None:
    """Show an export's progress and outcome in the message bar (the export itself runs off the GUI thread)."""
    events = w.state.exports.events
    w.state.events.result.connect(lambda _view: show_path_export_state(w))
    show_path_export_state(w)

    def progress(written: int, total: int) -> None:
        request = w.state.exports.running()
        if request is not None and request.numbered:
            w.message.show_message(f"Exporting to {request.folder}: {written} of {counted(total, 'result')} written…", "info")

    events.progress.connect(progress)
    events.refused.connect(lambda text: w.message.show_message(text, "info"))
    events.finished.connect(lambda outcome: _report(w, outcome))


def _report(w, outcome: ExportOutcome) -> None:
    request = outcome.request
    if outcome.done:
        w.settings.set("export_folder", str(request.folder))
    if not request.numbered:
        _report_one(w, outcome)
        return
    done, total = outcome.done, len(request.items)
    if outcome.error is not None:
        w.message.show_message(f"Export stopped after {len(done)} of {counted(total, 'result')} "
                               f"(those are complete; nothing partial was written): {outcome.error}")
        return
    if outcome.index_error is not None:
        w.message.show_message(f"The results were written, but not their index: {outcome.index_error}")
        return
    files = sum(len(d.files) for d in done)
    undone = sum(d.png_fools is False for d in done)
    index = outcome.index.name if outcome.index else "(no index)"
    note = (f" In {undone} of them the 8-bit PNG no longer fools the model (see {index}; "
            f"<b>{menu_path('export_all_robust')}</b> fixes that)." if undone else "")
    w.message.show_message(f"Exported {counted(len(done), 'result')} ({counted(files, 'file')}) to {request.folder}, listed in {index}.{note}",
                           "error" if undone else "info")


def _report_one(w, outcome: ExportOutcome) -> None:
    """The outcome of exporting the shown result (its files, or its path as GIF and APNG)."""
    request = outcome.request
    if outcome.error is not None or not outcome.done:
        w.message.show_message(f"Export failed, nothing was written: {outcome.error}")
        return
    exported = outcome.done[0]
    if request.path:
        names = " and ".join(path.name for path in exported.files.values())
        w.message.show_message(f"The attack's path written as {names} in {request.folder}.", "info")
        return
    kind = "error" if exported.png_fools is False else "info"
    figure = " with a figure for slides" if "figure_png" in exported.files else ""
    w.message.show_message(f"Exported {counted(len(exported.files), 'file')}{figure} to {request.folder}. " + png_verdict(exported),
                           kind)
