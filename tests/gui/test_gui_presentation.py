"""Presentation mode (View ▸ Present, F11): large text for a projector, the five panels only, keys for a talk, and
leaving puts the window back exactly as it was."""

import helpers
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolBar

from advviewer.gui.menu_actions import C_STEP
from advviewer.gui.widgets.attack_panel import STEPS_PER_DECADE


def _active(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)


def _axis_points(plot, side: str) -> tuple[float, float]:
    """The point sizes of an axis's tick labels and its title as drawn (a tick font of None is the application's)."""
    axis = plot.getPlotItem().getAxis(side)
    tick = axis.style["tickFont"] or QApplication.font()
    return tick.pointSizeF(), axis.label.font().pointSizeF()


def _looks(window) -> dict:
    """What a person sees of the window's arrangement and text sizes."""
    return {
        "geometry": window.geometry().getRect(), "full_screen": window.isFullScreen(),
        "menu": window.menuBar().isVisible(), "status": window.statusBar().isVisible(),
        "toolbar": window.findChild(QToolBar, "main_toolbar").isVisible(), "dock": window.explore_views.isVisible(),
        "objective": window.attack.objective_box.isVisible(), "export": window.results.export_button.isVisible(),
        "titles": [box.title() for box in window.panel_boxes],
        "summary": window.results.summary.text(), "summary_pt": window.results.summary.font().pointSizeF(),
        "title_pt": window.panel_boxes[0].font().pointSizeF(), "c_pt": window.attack.c_label.font().pointSizeF(),
        "prediction_height": window.inputs.prediction.height(),
        "probability_axes": _axis_points(window.probabilities, "left"),
        "c_plot_axes": _axis_points(window.attack.c_plot, "bottom"),
        "bar_label_pt": window.probabilities._labels[0].textItem.font().pointSizeF(),
        "keys": {key: [s.toString() for s in window.actions[key].shortcuts()] for key in ("cancel", "find_minimal_c")},
    }


def test_present_doubles_the_text_and_shows_the_five_panels_only(window, qtbot):
    helpers.run_minimal(window, qtbot, 3, settle=True)
    window.explore_views.toggleViewAction().trigger()  # a dock the teacher had open at the desk
    desk = _looks(window)
    assert desk["dock"] and desk["menu"] and desk["toolbar"]
    window.actions["present"].trigger()
    shown = _looks(window)
    assert shown["full_screen"] and window.presentation.presenting
    assert not (shown["menu"] or shown["status"] or shown["toolbar"] or shown["dock"] or shown["objective"]
                or shown["export"])
    for key in ("summary_pt", "title_pt", "c_pt", "bar_label_pt"):
        assert shown[key] >= 2 * desk[key], key
    for key in ("probability_axes", "c_plot_axes"):
        assert all(big >= 2 * small for big, small in zip(shown[key], desk[key])), key
    assert all(panel.isVisible() for panel in window.panel_boxes)


def test_esc_puts_back_exactly_what_presenting_borrowed(window, qtbot):
    helpers.run_minimal(window, qtbot, 3, settle=True)
    window.explore_views.toggleViewAction().trigger()
    qtbot.wait(50)
    desk = _looks(window)
    _active(window, qtbot)
    QTest.keyClick(window, Qt.Key.Key_F11)
    assert window.presentation.presenting and _looks(window) != desk
    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert not window.presentation.presenting
    qtbot.waitUntil(lambda: _looks(window) == desk, timeout=3000)
    assert window.actions["cancel"].shortcuts()[0].toString() == "Esc"  # Esc cancels an attack again


def test_the_talk_keys_do_what_the_mouse_would(window, qtbot):
    from advviewer.session.choices import next_target

    window.actions["present"].trigger()
    _active(window, qtbot)
    requests = []
    window.state.events.attack_started.connect(requests.append)
    QTest.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: bool(requests), timeout=5000)
    assert requests[0].c is None  # None: the minimal c is searched
    helpers.wait_idle(qtbot, window)
    position = window.attack.slider.value()
    QTest.keyClick(window, Qt.Key.Key_Up)
    assert window.attack.slider.value() == position + C_STEP
    QTest.keyClick(window, Qt.Key.Key_Down)
    QTest.keyClick(window, Qt.Key.Key_Down)
    assert window.attack.slider.value() == position - C_STEP
    assert window.state.c == pytest.approx(10 ** ((position - C_STEP) / STEPS_PER_DECADE) * 1e-3)
    helpers.wait_idle(qtbot, window)
    before = window.state.target
    QTest.keyClick(window, Qt.Key.Key_T)
    assert window.state.target == next_target(before, window.state.evaluation.predicted) != before
    assert window.attack.target_box.currentText() == ("any other class" if window.state.target is None
                                                       else f"class {window.state.target}")
    helpers.wait_idle(qtbot, window)


def test_left_and_right_step_scenes_only_when_a_lecture_is_open(window, qtbot):
    stepped = []
    window.actions["next_scene"].triggered.connect(lambda: stepped.append("next"))
    window.actions["previous_scene"].triggered.connect(lambda: stepped.append("previous"))
    assert not window.actions["next_scene"].isEnabled() and "no lecture is open" in window.actions["next_scene"].toolTip()
    window.actions["present"].trigger()
    _active(window, qtbot)
    QTest.keyClick(window, Qt.Key.Key_Right)
    assert stepped == []  # no lecture: the key does nothing, the action says why
    for key in ("next_scene", "previous_scene"):  # what opening a lecture does
        window.actions[key].setEnabled(True)
    QTest.keyClick(window, Qt.Key.Key_Right)
    QTest.keyClick(window, Qt.Key.Key_Left)
    assert stepped == ["next", "previous"]


def test_outside_presentation_mode_space_and_arrows_stay_with_the_focused_control(window, qtbot):
    _active(window, qtbot)
    window.attack.slider.setFocus()
    position = window.attack.slider.value()
    QTest.keyClick(window.attack.slider, Qt.Key.Key_Up)
    assert window.attack.slider.value() == position + 1  # the slider's own single step, not the talk's quarter decade
    helpers.wait_idle(qtbot, window)


def test_help_explains_presentation_mode_and_its_keys(window):
    from PySide6.QtWidgets import QDialog, QTextBrowser

    window.actions["help"].trigger()
    page = window.findChild(QDialog, "help").findChild(QTextBrowser).toPlainText()
    assert "Presentation mode" in page and "F11" in page
    for key in ("Space: Find minimal c", "Up / Down", "T: the next target", "Left / Right", "Esc (or F11 again): leave"):
        assert key in page, key


def test_closing_while_presenting_remembers_the_desk_window(make_window, qtbot):
    first = make_window()
    smallest = first.minimumSizeHint()  # lower than the (offscreen) screen that presentation mode fills
    first.setGeometry(60, 80, smallest.width(), smallest.height())
    qtbot.waitUntil(lambda: first.geometry().size() == smallest, timeout=3000)
    desk = first.geometry()
    first.actions["present"].trigger()
    assert first.isFullScreen()
    first.close()
    again = make_window()  # the next launch, same settings folder
    assert not again.isFullScreen() and again.geometry().size() == desk.size()
    assert again.menuBar().isVisible() and again.findChild(QToolBar, "main_toolbar").isVisible()
