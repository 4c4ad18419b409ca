"""A scene file is read off the GUI thread: the window goes on meanwhile, the newest request wins, and a scene that
cannot be read changes nothing, the lecture's position included (issue 24: nothing in a scene file may hang the window).

A slow or hostile file is stood in for by holding the read (``read_scene``) on an event: a file that
keeps the sandbox's reader busy to its 10 s limit looks the same from the window.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import helpers
import numpy as np
import pytest
from PySide6.QtCore import QTimer

from advviewer.gui.scene_actions import open_scene_path, save_scene_to
from advviewer.session import scenes

HOLD_SECONDS = 10.0  # the most a held read waits (without the reading off the GUI thread, the window is frozen that long)


@pytest.fixture
def lecture(window, tmp_path):
    """A folder of three scenes that differ by their target: 01-three (3), 02-five (5), 03-eight (8); the window then
    back at no target."""
    folder = tmp_path / "lecture"
    for name, target in (("01-three", 3), ("02-five", 5), ("03-eight", 8)):
        window.state.set_target(target)
        assert save_scene_to(window, folder / name) is not None
    window.state.set_target(None)
    return folder


@pytest.fixture
def held_reads(monkeypatch):
    """Reading a scene file whose name is in ``held`` waits until ``release`` is set (``started`` says it began)."""
    hold = SimpleNamespace(held=set(), release=threading.Event(), started=threading.Event())
    real = scenes.read_scene

    def read(path, cancel=None):
        if Path(path).name in hold.held:
            hold.started.set()
            hold.release.wait(HOLD_SECONDS)
        return real(path, cancel=cancel)

    monkeypatch.setattr(scenes, "read_scene", read)
    yield hold
    hold.release.set()


def _status(window) -> str:
    return window.statusBar().currentMessage()


def test_the_window_stays_responsive_while_a_scene_is_read(window, qtbot, lecture, held_reads, draw):
    held_reads.held.add("02-five.advscene")
    ticks: list[float] = []
    timer = QTimer(window)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    open_scene_path(window, lecture / "02-five.advscene")
    assert held_reads.started.wait(HOLD_SECONDS)
    try:
        assert _status(window) == "Opening the scene 02-five.advscene…"
        assert window.state.target is None  # not shown before it is read
        qtbot.waitUntil(lambda: len(ticks) >= 10, timeout=5000)  # the event loop runs: timers fire, the window repaints
        version = window.state.input.version
        draw(window.canvas, [(0.3, 0.3), (0.7, 0.7)])  # another action meanwhile: a stroke is framed and evaluated
        qtbot.waitUntil(lambda: window.state.input.version > version and window.drawing.is_idle(), timeout=5000)
        assert window.state.evaluation.input.version == window.state.input.version
        assert not held_reads.release.is_set() and window.state.target is None  # all of it while the read was held
    finally:
        held_reads.release.set()
    helpers.wait_idle(qtbot, window)
    assert window.state.target == 5  # then the scene is shown, over the stroke
    assert _status(window) == "Opened the scene 02-five.advscene (scene 2 of 3)"
    assert window.actions["next_scene"].isEnabled()


def test_closing_the_window_does_not_wait_for_a_scene_being_read(window, qtbot, lecture, held_reads):
    held_reads.held.add("01-three.advscene")
    started = time.perf_counter()
    open_scene_path(window, lecture / "01-three.advscene")
    window.close()
    assert time.perf_counter() - started < HOLD_SECONDS / 2
    assert not window.isVisible()


def test_a_newer_request_wins_over_a_scene_still_being_read(window, qtbot, lecture, held_reads):
    opened = []
    window.state.events.scene_opened.connect(opened.append)
    held_reads.held.add("01-three.advscene")
    open_scene_path(window, lecture / "01-three.advscene")
    assert held_reads.started.wait(HOLD_SECONDS)
    open_scene_path(window, lecture / "03-eight.advscene")
    assert _status(window) == "Opening the scene 03-eight.advscene…"
    held_reads.release.set()
    helpers.wait_idle(qtbot, window)
    assert [scene.target for scene in opened] == [8]  # the earlier read's scene is never shown, not even for a moment
    assert window.state.target == 8 and _status(window) == "Opened the scene 03-eight.advscene (scene 3 of 3)"


def test_next_twice_while_reading_goes_two_scenes_on(window, qtbot, lecture, held_reads):
    open_scene_path(window, lecture / "01-three.advscene")
    helpers.wait_idle(qtbot, window)
    opened = []
    window.state.events.scene_opened.connect(opened.append)
    held_reads.held.add("02-five.advscene")
    window.actions["next_scene"].trigger()
    assert held_reads.started.wait(HOLD_SECONDS)
    window.actions["next_scene"].trigger()  # pressed again before the second scene came
    held_reads.release.set()
    helpers.wait_idle(qtbot, window)
    assert [scene.target for scene in opened] == [8]
    assert window.state.target == 8 and _status(window) == "Opened the scene 03-eight.advscene (scene 3 of 3)"


def test_a_scene_that_cannot_be_read_changes_nothing_and_next_steps_over_it(window, qtbot, lecture):
    (lecture / "02-five.advscene").write_bytes(b"scene.json says hello\n")
    open_scene_path(window, lecture / "01-three.advscene")
    helpers.wait_idle(qtbot, window)
    s = window.state
    assert s.target == 3
    kept, canvas = (s.model, s.input, s.target, s.c, s.results.latest), window.canvas.to_array().copy()

    window.actions["next_scene"].trigger()
    helpers.wait_idle(qtbot, window)
    text = window.message.text
    assert text.startswith("Scene not opened: 02-five.advscene: not a scene file") and text.count("Scene not opened") == 1
    assert text.endswith("The window is unchanged.") and "\n" not in text
    assert (s.model, s.input, s.target, s.c, s.results.latest) == kept
    assert np.array_equal(window.canvas.to_array(), canvas)
    assert _status(window) == "The lecture stays at scene 1 of 3; Next / Previous scene step on from scene 2 of 3."

    window.actions["next_scene"].trigger()  # over the broken scene
    helpers.wait_idle(qtbot, window)
    assert s.target == 8 and _status(window) == "Opened the scene 03-eight.advscene (scene 3 of 3)"
    assert not window.message.isVisible()  # the scene shown has moved past the file that could not be read
    window.actions["previous_scene"].trigger()
    helpers.wait_idle(qtbot, window)
    assert s.target == 8 and window.message.text.startswith("Scene not opened: 02-five.advscene")
    assert _status(window) == "The lecture stays at scene 3 of 3; Next / Previous scene step on from scene 2 of 3."
    window.actions["previous_scene"].trigger()
    helpers.wait_idle(qtbot, window)
    assert s.target == 3 and _status(window) == "Opened the scene 01-three.advscene (scene 1 of 3)"


def test_opening_a_picture_drops_a_scene_still_being_read(window, qtbot, lecture, held_reads, tmp_path, test_digits):
    opened = []
    window.state.events.scene_opened.connect(opened.append)
    held_reads.held.add("02-five.advscene")
    open_scene_path(window, lecture / "02-five.advscene")
    assert held_reads.started.wait(HOLD_SECONDS)
    images, labels = test_digits
    (picture,) = helpers.write_pngs(tmp_path, {"four": images[list(labels).index(4)]})
    task = window.open_path(picture)
    held_reads.release.set()
    helpers.wait_idle(qtbot, window)
    assert task.succeeded and opened == [] and window.state.target is None
    assert window.state.input.source.endswith("four.png")
    assert not _status(window).startswith("Opening")
