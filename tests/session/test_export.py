"""Exports off the GUI thread: whole files only, stopped between results, one export at a time."""

import csv
import os
import threading
import time

import advviewer.writing.atomic_files as atomic
from advviewer.session import export as session_export
from advviewer.session.export import ExportQueue, ExportRequest, export_job
from advviewer.session.tasks import DeliveryQueue, TaskState


def written(folder):
    """The results in ``folder`` (their JSON records), the rows of its index, and any temporary file left."""
    rows = []
    if (folder / "index.csv").exists():
        with open(folder / "index.csv") as f:
            rows = list(csv.DictReader(f))
    return sorted(p.name for p in folder.glob("*.json")), rows, [p.name for p in folder.iterdir() if p.name.startswith(".")]


def reporting(on_progress):
    return TaskState(lambda progress: on_progress(*progress), interval=0.0)


def test_an_export_stopped_between_results_keeps_whole_results_and_lists_them(seven_to_three, tmp_path):
    state = reporting(lambda n, total: n == 2 and state.cancel.set())
    outcome = export_job(ExportRequest((seven_to_three,) * 5, tmp_path, numbered=True))(state)
    assert outcome.stopped and not outcome.complete and len(outcome.done) == 2
    records, rows, temporary = written(tmp_path)
    assert records == ["001_" + records[0][4:], "002_" + records[0][4:]] and len(rows) == 2 and not temporary
    assert [row["stem"] for row in rows] == [r.removesuffix(".json") for r in records]


def test_a_disk_that_fills_up_midway_stops_the_export_with_whole_results(seven_to_three, tmp_path, monkeypatch):
    real_open = os.open

    def full_disk_open(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        if flags & os.O_CREAT:
            os.close(fd)
            return real_open("/dev/full", os.O_WRONLY)
        return fd

    state = reporting(lambda n, total: n == 1 and monkeypatch.setattr(atomic.os, "open", full_disk_open))
    outcome = export_job(ExportRequest((seven_to_three,) * 3, tmp_path, numbered=True))(state)
    assert len(outcome.done) == 1 and "disk full" in outcome.error
    assert "disk full" in outcome.index_error  # the index could not be written either, and says why
    records, rows, temporary = written(tmp_path)
    assert len(records) == 1 and not rows and not temporary


def test_one_export_at_a_time_and_closing_waits_only_for_the_result_being_written(seven_to_three, tmp_path, monkeypatch):
    real = session_export.export_finished
    entered = threading.Event()

    def slow(*args, **kwargs):  # a slow user model's 8-bit check
        entered.set()
        time.sleep(0.2)
        return real(*args, **kwargs)

    monkeypatch.setattr(session_export, "export_finished", slow)
    delivery = DeliveryQueue()
    queue = ExportQueue(delivery.post)
    refused, finished_events = [], []
    queue.events.refused.connect(refused.append)
    queue.events.finished.connect(finished_events.append)
    assert queue.start(ExportRequest((seven_to_three,) * 20, tmp_path / "first", numbered=True))
    assert not queue.start(ExportRequest((seven_to_three,), tmp_path / "second"))
    assert "still running" in refused[0] and not (tmp_path / "second").exists()
    assert entered.wait(10)
    assert queue.stop()  # as the window closes: the result being written is finished, the rest never started
    records, rows, temporary = written(tmp_path / "first")
    assert 1 <= len(records) < 20 and len(rows) == len(records) and not temporary
    delivery.run_pending()
    assert not finished_events  # nobody is left to tell
    queue.shutdown()
