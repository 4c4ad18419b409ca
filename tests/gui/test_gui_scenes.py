"""Scenes in the window: save, close, open in a fresh window on fresh settings: the same panels, no attack run."""

from __future__ import annotations

import helpers
import numpy as np
import pytest
from hostile_scenes import HOSTILE_SCENES
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage, QKeySequence

from advviewer.gui.scene_actions import open_scene_path, save_scene_to

SIZE = (1280, 800)


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())[:, : 4 * image.width()].copy()


def _panels(window) -> np.ndarray:
    """The five panels and the message bar as they are painted (the central widget; the status bar's timings are not in it)."""
    return _pixels(window.centralWidget().grab().toImage())


@pytest.fixture
def attacks_started(monkeypatch):
    """Every attack and c sweep any window starts from now on."""
    return helpers.record_attack_jobs(monkeypatch)


def _attacked(make_window, qtbot, target: int):
    window = make_window()
    window.resize(*SIZE)
    window.state.set_target(target)
    with qtbot.waitSignal(window.state.events.attack_finished, timeout=60_000):
        window.actions["find_minimal_c"].trigger()
    helpers.wait_idle(qtbot, window)  # the c sweep's points too
    assert window.state.current_result() is not None
    return window


def _fresh_settings(tmp_path, name: str) -> None:
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / name))


def test_a_scene_opens_in_a_fresh_window_with_the_same_panels_and_no_attack(make_window, qtbot, tmp_path, attacks_started):
    first = _attacked(make_window, qtbot, target=3)
    path = save_scene_to(first, tmp_path / "lecture" / "01-seven")
    assert path is not None and path.name == "01-seven.advscene"
    shown_first = first.state.current_result().result
    summary, status = first.results.summary.text(), first.attack.status.text()
    panels_first = _panels(first)
    first.close()

    _fresh_settings(tmp_path, "fresh-settings")
    second = make_window()
    second.resize(*SIZE)
    helpers.wait_idle(qtbot, second)
    attacks_started.clear()  # the first window's attack and sweep
    started = []
    second.state.events.attack_started.connect(started.append)
    assert open_scene_path(second, path)
    helpers.wait_idle(qtbot, second)
    qtbot.wait(50)  # the canvas's coalescing timer and a repaint
    helpers.wait_idle(qtbot, second)
    assert started == [] and attacks_started == []  # nothing was attacked again
    restored = second.state.current_result().result
    assert restored.c == shown_first.c and restored.l2 == shown_first.l2
    assert np.array_equal(restored.adversarial, shown_first.adversarial)
    assert second.results.summary.text() == summary and second.attack.status.text() == status
    panels_second = _panels(second)
    assert panels_second.shape == panels_first.shape
    differing = int(np.count_nonzero(panels_first != panels_second))
    assert differing == 0, f"{differing} bytes of the panels differ"


def test_next_and_previous_scene_step_through_a_lecture(make_window, qtbot, tmp_path, attacks_started):
    window = _attacked(make_window, qtbot, target=3)
    folder = tmp_path / "lecture"
    save_scene_to(window, folder / "01-three")
    window.state.set_target(5)
    with qtbot.waitSignal(window.state.events.attack_finished, timeout=60_000):
        window.actions["find_minimal_c"].trigger()
    helpers.wait_idle(qtbot, window)
    save_scene_to(window, folder / "02-five")
    attacks_started.clear()
    a = window.actions
    assert a["next_scene"].shortcut() == QKeySequence("PgDown") and a["previous_scene"].shortcut() == QKeySequence("PgUp")

    assert open_scene_path(window, folder / "01-three.advscene")
    helpers.wait_idle(qtbot, window)
    assert window.state.target == 3 and window.state.current_result().result.target == 3
    a["next_scene"].trigger()
    helpers.wait_idle(qtbot, window)
    assert window.state.target == 5 and window.state.current_result().result.target == 5
    assert "scene 2 of 2" in window.statusBar().currentMessage()
    a["next_scene"].trigger()  # the end: nothing changes
    assert window.state.target == 5 and "Last scene" in window.statusBar().currentMessage()
    a["previous_scene"].trigger()
    helpers.wait_idle(qtbot, window)
    assert window.state.target == 3 and attacks_started == []


def test_a_scene_keeps_the_open_explore_tab(window, qtbot, tmp_path):
    window.explore_views.tabs.setCurrentWidget(window.explore_views.playback)
    window.explore_views.show()
    helpers.wait_idle(qtbot, window)
    path = save_scene_to(window, tmp_path / "tab")
    window.explore_views.hide()
    window.explore_views.tabs.setCurrentWidget(window.explore_views.transfer)
    assert open_scene_path(window, path)
    helpers.wait_idle(qtbot, window)
    assert window.explore_views.current_view() == "playback"


@pytest.mark.parametrize("case", HOSTILE_SCENES[::4], ids=[case.name for case in HOSTILE_SCENES[::4]])
def test_a_hostile_scene_is_one_line_and_the_window_unchanged(window, qtbot, tmp_path, case):
    from hostile_scenes import good_scene

    path = case.build(good_scene(tmp_path), tmp_path)
    s = window.state
    kept, canvas = (s.model, s.input, s.target, s.c, s.results.latest), window.canvas.to_array().copy()
    open_scene_path(window, path)  # read in the background
    helpers.wait_idle(qtbot, window)
    assert window.message.isVisible()
    text = window.message.text
    assert text.startswith("Scene not opened: ") and case.expected in text and "\n" not in text and "Traceback" not in text
    assert (s.model, s.input, s.target, s.c, s.results.latest) == kept
    assert np.array_equal(window.canvas.to_array(), canvas)


def test_advviewer_scene_in_a_new_process_paints_the_same_window(make_window, qtbot, tmp_path):
    """The program closed and started again: ``advviewer --scene FILE --screenshot`` (its own empty settings folder)
    paints what the saving window showed, every pixel above the status bar (which says what was opened)."""
    import subprocess
    import sys

    from advviewer.gui.window_size import PREFERRED

    first = _attacked(make_window, qtbot, target=3)
    path = save_scene_to(first, tmp_path / "seven")
    first.guide.hide()  # as --screenshot does
    first.resize(PREFERRED)
    qtbot.wait(50)
    saved = _pixels(first.grab().toImage())
    status_top = first.statusBar().geometry().top()
    first.close()
    shot = tmp_path / "reopened.png"
    done = subprocess.run([sys.executable, "-m", "advviewer", "--scene", str(path), "--screenshot", str(shot)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    reopened = _pixels(QImage(str(shot)))
    assert reopened.shape == saved.shape
    differing = int(np.count_nonzero(reopened[:status_top] != saved[:status_top]))
    assert differing == 0, f"{differing} bytes above the status bar differ"


def test_advviewer_scene_refuses_a_hostile_file_in_one_line(tmp_path):
    import subprocess
    import sys

    from hostile_scenes import good_scene

    case = next(c for c in HOSTILE_SCENES if c.name == "pickle inside npy")
    path = case.build(good_scene(tmp_path), tmp_path)
    done = subprocess.run([sys.executable, "-m", "advviewer", "--scene", str(path), "--screenshot", str(tmp_path / "x.png")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("advviewer:")]
    assert len(lines) == 1 and "never unpickled" in lines[0], done.stderr
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "x.png").exists()
