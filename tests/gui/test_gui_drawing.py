"""Drawing on the canvas updates the probabilities, the 28x28 preview and the gradient heatmap."""

import numpy as np
from PySide6.QtCore import Qt

ONE = [(0.5, 0.15), (0.5, 0.85)]  # a vertical bar
SEVEN = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]


def test_drawing_changes_probabilities_and_heatmap(window, qtbot, draw, gui):
    window.canvas.clear()
    gui.wait_live(window)
    empty_probs = window.probabilities.probabilities.copy()
    assert not window.canvas.to_array().any()
    assert not window.inputs.preview.image.image.any()

    draw(window.canvas, ONE)
    gui.wait_live(window)
    one_probs = window.probabilities.probabilities.copy()
    one_map = window.gradient.map.image.image.copy()
    assert window.canvas.to_array().max() == 255
    assert window.inputs.preview.image.image.max() > 0.9  # the model sees the stroke
    assert not np.allclose(one_probs, empty_probs)
    assert int(one_probs.argmax()) == 1
    assert np.abs(one_map).max() > 0
    levels = window.gradient.map.bar.levels()
    assert levels[0] == -levels[1]  # symmetric about zero

    window.canvas.clear()
    draw(window.canvas, SEVEN)
    gui.wait_live(window)
    assert int(window.probabilities.probabilities.argmax()) == 7
    assert not np.allclose(window.gradient.map.image.image, one_map)
    assert "7" in window.inputs.prediction.text()


def test_live_updates_happen_during_the_stroke(window, qtbot, draw, gui):
    """Probabilities change while the button is still down, not only at release."""
    from PySide6.QtCore import QEvent

    line, send_mouse = gui.line, gui.send_mouse
    window.canvas.clear()
    gui.wait_live(window)
    updates = []
    window.state.events.evaluated.connect(lambda e: updates.append(e.probs.copy()))
    points = line(window.canvas, (0.5, 0.15), (0.5, 0.85), 12)
    send_mouse(window.canvas, QEvent.Type.MouseButtonPress, *points[0])
    for x, y in points[1:]:
        send_mouse(window.canvas, QEvent.Type.MouseMove, x, y, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
        gui.wait_live(window)
    assert len(updates) >= 5
    send_mouse(window.canvas, QEvent.Type.MouseButtonRelease, *points[-1])


def test_undo_redo_clear_and_eraser(window, qtbot, draw, gui):
    canvas = window.canvas
    canvas.clear()
    draw(canvas, ONE)
    drawn = canvas.to_array()
    assert drawn.any()
    window.actions["undo"].trigger()
    assert not canvas.to_array().any()
    window.actions["redo"].trigger()
    assert np.array_equal(canvas.to_array(), drawn)

    window.inputs.eraser.setChecked(True)
    assert window.actions["eraser"].isChecked()
    draw(canvas, [(0.3, 0.5), (0.7, 0.5)])
    erased = canvas.to_array()
    assert erased.sum() < drawn.sum()
    window.inputs.eraser.setChecked(False)

    draw(canvas, [(0.3, 0.5), (0.7, 0.5)], button=Qt.MouseButton.RightButton)  # right button erases too
    window.actions["clear"].trigger()
    assert not canvas.to_array().any()
    window.actions["undo"].trigger()
    assert canvas.to_array().any()


def test_brush_size_widens_the_stroke(window, qtbot, draw, gui):
    canvas = window.canvas
    canvas.clear()
    window.inputs.brush.setValue(8)
    draw(canvas, ONE)
    thin = int((canvas.to_array() > 127).sum())
    canvas.clear()
    window.inputs.brush.setValue(40)
    draw(canvas, ONE)
    thick = int((canvas.to_array() > 127).sum())
    assert thick > 3 * thin


def test_gradient_class_choice_and_finite_differences(window, qtbot, gui):
    gui.wait_live(window)
    assert window.state.evaluation.gradient_class == window.state.evaluation.predicted
    index = window.gradient.class_box.findData(3)
    window.gradient.class_box.setCurrentIndex(index)
    assert window.state.gradient.cls == 3 and window.state.evaluation.gradient_class == 3
    assert "<b>3</b>" in window.gradient.info.text()

    with qtbot.waitSignal(window.state.events.finite_differences, timeout=20_000) as blocker:
        window.gradient.method_buttons["finite-difference"].setChecked(True)
    state = blocker.args[0]
    assert state.gradient_class == 3
    assert state.relative_difference < 0.05  # the smooth cnn: backprop and finite differences agree
    assert "relative difference" in window.gradient.info.text()
    assert np.allclose(window.gradient.map.image.image, state.gradient)

    window.gradient.method_buttons["autograd"].setChecked(True)
    assert "relative difference" not in window.gradient.info.text()


def test_outline_overlay_can_be_switched_off(window):
    assert window.gradient._outline.isVisible()
    window.gradient.overlay.setChecked(False)
    assert not window.gradient._outline.isVisible()
