"""Issue 9: a window that fits the screen and says what it means (empty states, refusals, export verdicts)."""

import csv
import json

import helpers
import pytest
from helpers import run_minimal
from PySide6.QtCore import QRect

from advviewer.gui import export_actions
from advviewer.gui.actions import menu_path
from advviewer.gui.window_size import FRAME_ALLOWANCE, SMALLEST, fitted


def test_the_window_fits_a_1280x720_screen(window):
    hint = window.minimumSizeHint()
    assert hint.width() <= SMALLEST.width() - FRAME_ALLOWANCE.width()
    assert hint.height() <= SMALLEST.height() - FRAME_ALLOWANCE.height()


def test_a_fresh_or_remembered_window_opens_within_the_available_screen():
    for available in (QRect(0, 0, 1366, 768), QRect(0, 0, 1280, 720), QRect(1920, 0, 1366, 740)):
        for wanted in (QRect(0, 0, 1360, 860), QRect(3000, 900, 1360, 860), QRect(-200, -50, 2400, 1400)):
            placed = fitted(wanted, available)
            assert available.contains(placed), (wanted, available, placed)
    assert fitted(QRect(100, 100, 1000, 700), QRect(0, 0, 1920, 1080)) == QRect(100, 100, 1000, 700)  # fits: kept


def test_an_empty_canvas_says_so_and_why_the_model_still_answers(window, gui):
    window.canvas.clear()
    gui.wait_live(window)
    text = window.inputs.prediction.text()
    assert "Empty canvas" in text and "nothing" in text
    assert "model says" not in text


def test_the_result_panel_says_what_will_appear_before_any_attack(window, qtbot):
    assert "No attack yet" in window.results.summary.text()
    assert "fools the model" in window.results.views["adversarial"].placeholder_text
    run_minimal(window, qtbot, 3)
    assert window.results.views["adversarial"].placeholder_text == ""


def test_target_equal_to_the_answer_is_refused_in_full_and_never_waits(window, qtbot):
    run_minimal(window, qtbot, 3)
    answer = window.state.evaluation.predicted
    helpers.choose_target(window, answer)
    window.attack.minimal_button.click()
    helpers.wait_idle(qtbot, window)
    status = window.attack.status
    assert "choose another target" in status.text()
    assert status.wordWrap() and status.height() >= 2 * status.fontMetrics().lineSpacing()  # read in full
    assert "attacking again" not in window.results.summary.text()
    assert "stopped" in window.results.summary.text()


def test_export_banner_says_whether_the_png_still_fools_the_model(window, qtbot, tmp_path):
    # a sure mistake (a large c): rounding each pixel by at most half a level cannot undo it
    sure = helpers.run_at_c(window, qtbot, 3, 10.0)
    assert sure.success and sure.adversarial_probs[3] > 0.9
    plain = helpers.export_and_wait(qtbot, window, export_actions.export_current, tmp_path / "sure").done[0]
    assert json.loads(plain.files["json"].read_text())["png_fools_model"] is True
    assert "still fools the model" in window.message.text and "no longer" not in window.message.text
    assert window.message.kind == "info"
    assert plain.files["figure_png"].exists() and "viewing-copy" in plain.files["adversarial_x10_png"].name
    # a minimal attack on a digit a hair from the boundary changes each pixel by far less than half a
    # level: the 8-bit PNG is the digit itself, and the model reads its own class there
    first, other = helpers.open_boundary_digit(window, qtbot, tmp_path)
    minimal = run_minimal(window, qtbot, other, settle=True)
    assert minimal.success and minimal.linf < 0.5 / 255
    plain = helpers.export_and_wait(qtbot, window, export_actions.export_current, tmp_path / "boundary").done[0]
    record = json.loads(plain.files["json"].read_text())
    assert record["png_fools_model"] is False and record["png_class"] == first
    banner = window.message.text
    assert "no longer fools the model" in banner and menu_path("export_robust") in banner and window.message.kind == "error"
    robust = helpers.export_and_wait(qtbot, window, export_actions.export_current, tmp_path / "robust", robust=True).done[0]
    record = json.loads(robust.files["json"].read_text())
    assert record["png_fools_model"] and record["png_robust_scale"] >= 1.0
    assert "still fools the model" in window.message.text and window.message.kind == "info"


def test_export_all_writes_an_index_and_can_keep_only_fooled_results(window, qtbot, tmp_path):
    run_minimal(window, qtbot, 3, settle=True)
    window.state.set_c(1e-3)
    window.attack.run_button.click()  # too weak: not fooled
    helpers.wait_idle(qtbot, window)
    results = window.state.results.items
    assert any(not i.result.success for i in results) and any(i.result.success for i in results)
    helpers.export_and_wait(qtbot, window, export_actions.export_everything, tmp_path / "all")
    with open(tmp_path / "all" / "index.csv") as f:
        assert len(list(csv.DictReader(f))) == len(results)
    helpers.export_and_wait(qtbot, window, export_actions.export_everything, tmp_path / "fooled", fooled_only=True)
    with open(tmp_path / "fooled" / "index.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(row["fooled"] == "True" for row in rows) and len(rows) < len(results)


def test_the_first_run_guide_is_remembered_once_dismissed(make_window):
    first = make_window()
    assert first.guide.isVisible()
    from PySide6.QtWidgets import QPushButton

    first.guide.findChild(QPushButton, "guide_dismiss").click()
    assert not first.guide.isVisible()
    first.close()
    assert not make_window().guide.isVisible()


def test_the_model_picker_describes_each_model_in_plain_words(window):
    texts = [window.model_picker.itemText(i) for i in range(window.model_picker.count())]
    assert any("softmax regression" in t and "test error" in t for t in texts)
    picker = window.model_picker  # closed, it shows a short face; squeezed, that ends in "…", never mid-word bare
    face = picker.face_text()
    picker.setFixedWidth(120)
    shown = picker.elided_text()
    assert shown.endswith("…") and face.startswith(shown[:-1]) and len(shown) < len(face)


def test_help_page_explains_c_and_the_png(window):
    window.actions["help"].trigger()
    from PySide6.QtWidgets import QDialog, QTextBrowser

    dialog = window.findChild(QDialog, "help")
    text = dialog.findChild(QTextBrowser).toPlainText()
    assert "adversarial example" in text and "c weighs" in text and "256 levels" in text


def test_the_adversarials_probabilities_stand_beside_the_originals(window, qtbot):
    assert window.probabilities.adversarial_probabilities is None
    result = run_minimal(window, qtbot, 3)
    shown = window.probabilities.adversarial_probabilities
    assert shown is not None and shown.argmax() == result.adversarial_class == 3
    helpers.choose_target(window, 5)  # the result no longer matches: its bars go
    assert window.probabilities.adversarial_probabilities is None


def test_the_folder_dialog_creates_a_typed_folder(window, tmp_path):
    from advviewer.gui.dialogs import FolderDialog

    dialog = FolderDialog(window, "Export into folder", str(tmp_path))
    typed = tmp_path / "lecture" / "figures"
    dialog.selectFile(str(typed))
    dialog.accept()
    assert typed.is_dir() and dialog.result() == FolderDialog.DialogCode.Accepted
    assert dialog.selectedFiles()[0] == str(typed)


@pytest.mark.parametrize("screen_width", [1280, 1920])
def test_opening_the_explore_dock_never_squeezes_the_panels(window, qtbot, monkeypatch, screen_width):
    """Docked into a full window the panels went below their minimum: the probability plot showed
    classes 0-3 only. Now the window widens where the screen has room, else the dock floats."""
    from PySide6.QtGui import QAction

    screen = window.screen()
    monkeypatch.setattr(type(screen), "availableGeometry", lambda self: QRect(0, 0, screen_width, 1000))
    window.setGeometry(QRect(0, 30, 1278, 900))
    window.show()
    qtbot.waitExposed(window)
    toggle = next(a for a in window.findChildren(QAction) if a.objectName() == "toggle_explore_views")
    toggle.trigger()
    qtbot.waitUntil(window.explore_views.isVisible)
    qtbot.wait(50)
    central = window.centralWidget()
    assert central.width() >= central.minimumSizeHint().width()
    assert window.explore_views.isFloating() == (screen_width == 1280)
    if screen_width == 1920:
        assert window.width() > 1278 and window.geometry().right() <= 1920
