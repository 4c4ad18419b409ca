"""Export from the window: finished attacks written to files, named as the command line names them
(:mod:`advviewer.writing.export` writes each), off the GUI thread, one at a time, with progress;
closing the window stops them cleanly.

Writing one result means PNGs, a figure, .npy, JSON and the 8-bit check (which runs the model),
and a session keeps up to 500 results: "Export all" on the GUI thread would freeze the window for
seconds, longer with a slow user model. Here the export is a plain job of a
TaskState on its own lane. A second export while one runs is refused (superseding it, as the
other lanes do, would leave half a folder). Between results the job looks at its cancel flag;
each result is all-or-nothing on disk (advviewer.writing.atomic_files), so stopping between results leaves
only whole files, listed in ``index.csv``. :meth:`ExportQueue.stop` is what the window calls when
it closes: it stops after the result being written and waits for that one, so no temporary file
is left behind when the process ends at once (advviewer.gui.app.exit_now).

:func:`export_finished` writes one result, :func:`export_path_of` its path as an animated GIF and APNG
(advviewer.writing.animation), :func:`write_index` the ``index.csv`` of "Export all";
:class:`ExportQueue` runs an :class:`ExportRequest` as a job and reports an :class:`ExportOutcome`.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from psygnal import Signal, SignalGroup

from advviewer.errors import AdvViewerError
from advviewer.session.lanes import Lane
from advviewer.session.tasks import Post, TaskState
from advviewer.session.values import FinishedAttack
from advviewer.text.wording import counted
from advviewer.writing.atomic_files import write_all_or_nothing

STOP_WAIT_SECONDS = 5.0  # at close: how long to wait for the result being written (a slow user model's 8-bit check)
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


def why_no_path(item: FinishedAttack | None) -> str | None:
    """Why the path of ``item`` (the result on screen) cannot be exported, or None when it can."""
    if item is None:
        return "No result on screen to animate: run an attack first (Ctrl+R)."
    if not item.result.history:
        return ("This result kept no path (only the latest results keep their iterates): "
                "run the attack again to animate it.")
    return None


def export_path_of(item: FinishedAttack, folder: Path) -> Exported:
    """Write the attack's path as ``<stem>_path.gif`` and ``<stem>_path.apng`` (advviewer.writing.animation)."""
    from advviewer.writing.animation import export_path
    from advviewer.writing.export import export_stem

    stem = export_stem(item.result, item.model.name, item.source)
    return Exported(export_path(item.result, folder, model=item.model.module, stem=stem), {})


def write_index(folder: Path, exported: list[Exported]) -> Path:
    """``index.csv``: one row per exported result (what was written, and whether it fooled the model)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(INDEX_COLUMNS)
    for n, e in enumerate(exported, 1):
        r = e.record
        writer.writerow([n, Path(e.files["json"]).stem, r["model"], r.get("image") or "", r["target"], r["original_class"],
                         r["adversarial_class"], r["success"], r.get("png_fools_model", ""), f"{r['c']:.6g}",
                         f"{r['l2']:.6g}", f"{r['distortion']:.6g}", " ".join(r["files"])])
    return write_all_or_nothing(folder, {"index": (INDEX_NAME, out.getvalue().encode())})["index"]


@dataclass(frozen=True)
class ExportRequest:
    items: tuple[FinishedAttack, ...]
    folder: Path
    robust: bool = False  # the 8-bit PNGs still fool the model (advviewer.writing.eight_bit)
    numbered: bool = False  # "Export all": stems numbered 001_..., and an index.csv
    path: bool = False  # the attack's path as an animated GIF and APNG instead of the result's files


@dataclass
class ExportOutcome:
    """What an export wrote. ``error``: why it stopped early (what it wrote is complete)."""

    request: ExportRequest
    done: list[Exported] = field(default_factory=list)
    error: str | None = None
    stopped: bool = False  # cancelled between results
    index: Path | None = None
    index_error: str | None = None

    @property
    def complete(self) -> bool:
        return self.error is None and not self.stopped and len(self.done) == len(self.request.items)


def export_job(request: ExportRequest):
    """The job: write each result in turn (progress: (written, total)), then the index for what was written."""
    def run(state: TaskState) -> ExportOutcome:
        outcome = ExportOutcome(request)
        total = len(request.items)
        for n, item in enumerate(request.items, 1):
            if state.cancel.is_set():
                outcome.stopped = True
                break
            try:
                outcome.done.append(export_path_of(item, request.folder) if request.path else
                                    export_finished(item, request.folder, number=n if request.numbered else None,
                                                    robust=request.robust))
            except AdvViewerError as exc:
                outcome.error = str(exc)
                break
            state.report((n, total))
        if request.numbered and outcome.done:
            try:
                outcome.index = write_index(request.folder, outcome.done)
            except AdvViewerError as exc:
                outcome.index_error = str(exc)
        return outcome

    return run


class ExportEvents(SignalGroup):
    progress = Signal(int, int)  # results written, of how many
    finished = Signal(object)  # ExportOutcome
    refused = Signal(str)  # why an export was not started


class ExportQueue:
    """Runs one export at a time on its own lane; see the module docstring."""

    def __init__(self, post: Post) -> None:
        self.events = ExportEvents()
        self._lane = Lane("export", post)
        self._request: ExportRequest | None = None
        self._progress = (0, 0)
        self._left_job = threading.Event()  # set while no export job is inside its loop
        self._left_job.set()

    def running(self) -> ExportRequest | None:
        return self._request

    def start(self, request: ExportRequest) -> bool:
        """Begin ``request`` unless an export runs (then ``refused`` says so); True if it began."""
        if self._request is not None:
            written, total = self._progress
            self.events.refused.emit(f"An export is still running ({written} of {counted(total, 'result')} written to "
                                     f"{self._request.folder}); wait for it to finish.")
            return False
        self._request, self._progress = request, (0, len(request.items))
        self._left_job.clear()
        job = export_job(request)

        def tracked(state: TaskState) -> ExportOutcome:
            try:
                return job(state)
            finally:
                self._left_job.set()

        self._lane.submit(tracked, self._finished, self._failed, self._progressed)
        return True

    def _progressed(self, progress: tuple[int, int]) -> None:
        self._progress = progress
        self.events.progress.emit(*progress)

    def _finished(self, outcome: ExportOutcome) -> None:
        self._request = None
        self.events.finished.emit(outcome)

    def _failed(self, message: str) -> None:  # not an AdvViewerError of one result: a bug, reported as such
        request, self._request = self._request, None
        if request is not None:
            self.events.finished.emit(ExportOutcome(request, error=message))

    def is_idle(self) -> bool:
        return not self._lane.is_busy()

    def stop(self, timeout: float = STOP_WAIT_SECONDS) -> bool:
        """Stop after the result being written and wait for it (at most ``timeout`` s); True if none is left half-written."""
        self._lane.cancel()
        self._request = None
        return self._left_job.wait(timeout)

    def shutdown(self) -> None:
        """Stop (waiting only for the result being written, see :meth:`stop`) and let the lane's thread go."""
        self.stop()
        self._lane.shutdown()
