"""The "Explore this result" views bound to a bare SessionState: what a user sees and what a click does."""

import numpy as np
import pytest

from advviewer.gui.background import GuiThreadDelivery
from advviewer.session.state import SessionState


@pytest.fixture
def explored(qapp, qtbot, cnn, test_digits):
    """A state on cnn with a minimal attack 7 -> 3 shown, and the five views bound to it."""
    from advviewer.gui.bindings.explore_views import bind_explore_views
    from advviewer.gui.widgets.explore_views import ExploreViews
    from advviewer.gui.widgets.results_panel import ResultsPanel
    from advviewer.session.values import ModelChoice

    delivery = GuiThreadDelivery()
    state = SessionState(delivery.post)
    state._delivery = delivery
    state.use_model(ModelChoice(cnn, "cnn"))
    images, labels = test_digits
    state.set_picture(None, images[int(np.flatnonzero(labels == 7)[0])], "a 7")
    state.set_target(3)
    state.find_minimal_c()
    dock, results = ExploreViews(), ResultsPanel()
    qtbot.addWidget(dock)
    qtbot.addWidget(results)
    from PySide6.QtWidgets import QLabel

    from advviewer.gui.bindings.results import bind_results_panel

    timing = QLabel()
    qtbot.addWidget(timing)
    bind_results_panel(state, results, timing)
    bind_explore_views(state, dock, results)
    assert state.wait_until_idle(60, qapp.processEvents)
    dock.show()
    yield state, dock, results
    state.shutdown()


def _open(state, dock, name, qapp):
    from advviewer.gui.widgets.explore_views import TABS

    dock.tabs.setCurrentIndex([n for n, _ in TABS].index(name))
    dock.view_shown.emit(name)
    assert state.wait_until_idle(120, qapp.processEvents)


def test_clicking_an_all_targets_cell_shows_that_result(explored, qapp):
    state, dock, results = explored
    _open(state, dock, "all_targets", qapp)
    cells = dock.all_targets.cells
    assert [c.property("target") for c in cells] == [0, 1, 2, 3, 4, 5, 6, 8, 9]
    assert all("L2" in c.text() for c in cells) and cells[3].isChecked()  # the 3 on screen is marked
    cells[5].click()  # -> 5
    assert state.target == 5 and state.current_result().result.target == 5
    assert "→ 5" in results.summary.text() and "Fooled" in results.summary.text()
    assert results.class_labels["adversarial"].text().count(">5<") == 1
    assert cells[5].isChecked() and not cells[3].isChecked()


def test_transfer_lists_every_zoo_model(explored, qapp):
    from advviewer.models import available_models

    state, dock, _ = explored
    _open(state, dock, "transfer", qapp)
    table = dock.transfer.table
    names = [table.item(i, 0).text().split()[0] for i in range(table.rowCount())]
    assert names == available_models()
    row = names.index("cnn")
    assert "attacked" in table.item(row, 0).text() and table.item(row, 2).text().startswith("3")


def test_the_scrubber_moves_the_result_panels(explored, qapp):
    state, dock, results = explored
    _open(state, dock, "playback", qapp)
    slider = dock.playback.slider
    assert slider.isEnabled() and slider.value() == slider.maximum() > 2
    final = results.views["adversarial"].image.image.copy()
    slider.setValue(0)  # the start: the original itself (or the warm start)
    np.testing.assert_array_equal(results.views["adversarial"].image.image, state.current_result().result.history[0])
    assert not np.array_equal(results.views["adversarial"].image.image, final)
    last = slider.maximum()
    assert f"step 0 of {last}:" in dock.playback.frame_label.text()
    assert f"step 0 of {last}" in results.class_labels["adversarial"].text()  # panel 5 says it shows a playback step
    assert "Playback" in results.summary.text() and not results.export_button.isEnabled()
    slider.setValue(slider.maximum())
    np.testing.assert_array_equal(results.views["adversarial"].image.image, final)
    assert "Playback" not in results.summary.text() and results.export_button.isEnabled()


@pytest.mark.parametrize("leave", ["another tab", "closing the views"])
def test_leaving_playback_puts_the_result_back(explored, qapp, leave):
    """A scrubbed step borrows panel 5; leaving the tab or closing the dock gives it back, captions and all."""
    state, dock, results = explored
    _open(state, dock, "playback", qapp)
    shown = state.current_result().result
    dock.playback.slider.setValue(1)
    assert not np.array_equal(results.views["adversarial"].image.image, shown.adversarial)
    if leave == "another tab":
        _open(state, dock, "transfer", qapp)
    else:
        dock.hide()
        dock.view_shown.emit(None)
    np.testing.assert_array_equal(results.views["adversarial"].image.image, shown.adversarial)
    np.testing.assert_array_equal(results.views["perturbation"].image.image, shown.perturbation)
    assert f"‖r‖₂ = {shown.l2:.3f}" in results.summary.text() and "Playback" not in results.summary.text()
    assert f"±{shown.linf:.3f}" in results.class_labels["perturbation"].text()


def test_compare_shows_three_attacks(explored, qapp):
    state, dock, _ = explored
    _open(state, dock, "compare", qapp)
    assert [t.text() for t in dock.compare.titles] == ["<b>FGSM</b>", "<b>DDN</b>", "<b>L-BFGS</b>"]
    l2 = [float(c.text()) for c in dock.compare.cells[1]]
    assert l2[2] == pytest.approx(state.current_result().result.l2, abs=1e-3)
    assert l2[0] > l2[2]  # one signed step is far from the minimal change
    assert all("yes" in c.text() for c in dock.compare.cells[0])
    assert not np.allclose(dock.compare.maps[0].image.image, 0)


def test_noise_of_the_attacks_size_keeps_the_original_class(explored, qapp):
    state, dock, _ = explored
    _open(state, dock, "noise_check", qapp)
    summary = dock.noise_check.summary.text()
    kept = int(summary.split("in <b>")[1].split(" of")[0])
    assert kept >= 6 and "of 8</b>" in summary  # noise of the same size rarely fools it; the attack did
    first = dock.noise_check.tiles[0][0].pixmap().toImage()
    dock.noise_check.redraw.click()
    assert state.wait_until_idle(60, qapp.processEvents)
    assert dock.noise_check.tiles[0][0].pixmap().toImage() != first  # new draws


def test_hidden_views_compute_nothing(explored, qapp):
    state, dock, _ = explored
    dock.view_shown.emit(None)
    state.find_minimal_c()
    assert state.wait_until_idle(60, qapp.processEvents)
    assert dock.transfer.table.rowCount() == 0 and not dock.playback.slider.isEnabled()


def test_every_control_in_the_views_is_named(qtbot):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QComboBox, QGraphicsView, QWidget

    from advviewer.gui.widgets.explore_views import ExploreViews

    dock = ExploreViews()
    qtbot.addWidget(dock)
    dock.show()
    controls = [w for w in dock.findChildren(QWidget) if isinstance(w, (QAbstractButton, QAbstractSlider, QComboBox, QGraphicsView))
                and not w.objectName().startswith("qt_") and type(w).__name__ not in ("QToolBarExtension", "QScrollBar")]
    unnamed = [w.objectName() for w in controls if not w.objectName() or not (w.accessibleName() or getattr(w, "text", lambda: "")())]
    assert len(controls) >= 9 and not unnamed


def test_a_window_layout_saved_before_the_rename_still_shows_the_explore_dock(window, qtbot):
    """Saved layouts name the dock by its Qt objectName, ``science_views`` since the first release: a user who
    left the Explore dock open finds it open again (the code calls it explore_views; the saved name stays)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDockWidget, QMainWindow

    earlier = QMainWindow()  # what the window saved before: its dock, shown, under the name it had then
    qtbot.addWidget(earlier)
    dock = QDockWidget("Explore this result", earlier)
    dock.setObjectName("science_views")
    earlier.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    earlier.show()
    qtbot.waitUntil(dock.isVisible)
    saved = earlier.saveState()

    window.show()
    assert not window.explore_views.isVisible()
    assert window.restoreState(saved)
    qtbot.waitUntil(window.explore_views.isVisible)


def test_models_shows_the_digit_on_the_standard_and_the_robust_model_on_one_scale(explored, qapp):
    """The Models tab: cnn (in use) beside cnn-robust, the numbers side_by_side gives, one colour scale for both changes."""
    from advviewer import load_model
    from advviewer.explore.side_by_side import compare_models
    from advviewer.gui.widgets.map_view import nice_limit

    state, dock, _ = explored
    _open(state, dock, "models", qapp)
    view, shown = dock.models, state.current_result().result
    assert [t.text() for t in view.titles] == ["<b>cnn</b> (in use)", "<b>cnn-robust</b>"]
    expected = compare_models(("cnn", state.model.module), ("cnn-robust", load_model("cnn-robust")),
                              np.asarray(shown.original), shown.target)
    levels = [tuple(m.image.getLevels()) for m in view.maps]
    limit = nice_limit(expected.scale)
    assert levels[0] == levels[1] == (pytest.approx(-limit), pytest.approx(limit))  # one colour scale
    for col, side in enumerate(expected.sides):
        assert float(view.cells[0][col].text()) == pytest.approx(side.result.l2, abs=2e-3)
        answer = side.result.adversarial_class
        assert view.cells[1][col].text() == f"{answer} ({side.result.adversarial_probs[answer]:.1%})"
        assert view.cells[2][col].text().startswith(str(side.read_by_other_as))
        np.testing.assert_allclose(view.adversarials[col].image.image, side.result.adversarial, atol=1e-3)
    assert float(view.cells[0][1].text()) > 1.3 * float(view.cells[0][0].text())  # the robust model needs more
    assert f"{expected.l2_ratio:.1f}×" in view.status.text()


def test_models_says_it_is_out_of_date_when_the_digit_changes_and_never_shows_the_last_digit_while_working(
        explored, qapp, test_digits):
    state, dock, _ = explored
    _open(state, dock, "models", qapp)
    view = dock.models
    assert view.shown and view.stale.isHidden()
    images, labels = test_digits
    state.set_picture(None, images[int(np.flatnonzero(labels == 2)[0])], "a 2")
    qapp.processEvents()
    assert not view.stale.isHidden() and "Out of date" in view.stale.text()
    assert not view.maps[0].isEnabled() and not view.adversarials[1].isEnabled()
    seen_while_working = []
    state.explore.events.status.connect(lambda name, text: name == "models" and text and seen_while_working.append(
        (view.shown, [t.text() for t in view.titles], float(np.abs(view.maps[0].image.image).max()),
         float(np.ptp(view.adversarials[1].image.image)))))
    state.find_minimal_c()
    assert state.wait_until_idle(120, qapp.processEvents)
    assert seen_while_working and all(s == (False, ["", ""], 0.0, 0.0) for s in seen_while_working)  # emptied at once
    shown = state.current_result().result
    assert view.shown and view.stale.isHidden() and view.maps[0].isEnabled()
    assert f"Towards <b>{shown.target}</b>" in view.status.text()
    np.testing.assert_allclose(view.maps[0].image.image, shown.perturbation, atol=0.05)  # the new digit's change


@pytest.mark.parametrize("tab", ["transfer", "compare", "all_targets"])
def test_every_tab_says_its_result_is_out_of_date_when_the_digit_changes(explored, qapp, test_digits, tab):
    """A view never lies: the other tabs, too, say that the result they explore no longer matches the digit."""
    state, dock, _ = explored
    _open(state, dock, tab, qapp)
    assert dock.stale.isHidden()
    images, labels = test_digits
    state.set_picture(None, images[int(np.flatnonzero(labels == 2)[0])], "a 2")
    qapp.processEvents()
    assert not dock.stale.isHidden() and "Out of date" in dock.stale.text() and "input changed" in dock.stale.text()
    state.find_minimal_c()
    assert state.wait_until_idle(120, qapp.processEvents)
    assert dock.stale.isHidden()
