"""Each panel bound to a bare SessionState, without a window (napari's test_qt_image_layer.py style)."""

import numpy as np
import pytest
from helpers import draw

from advviewer.gui.background import GuiThreadDelivery
from advviewer.session.choices import PREDICTED, TARGET
from advviewer.session.state import SessionState


@pytest.fixture
def state(qapp):
    delivery = GuiThreadDelivery()
    s = SessionState(delivery.post)
    s._delivery = delivery  # kept alive with the state
    yield s
    s.shutdown()


@pytest.fixture
def cnn_state(state, cnn):
    from advviewer.session.values import ModelChoice

    state.use_model(ModelChoice(cnn, "cnn"))
    return state


def test_attack_panel_shows_the_state_and_sends_intents(qtbot, state):
    from advviewer.gui.bindings.attack import bind_attack_panel
    from advviewer.gui.widgets.attack_panel import AttackPanel, c_to_position, position_to_c

    panel = AttackPanel()
    qtbot.addWidget(panel)
    flushed = []
    bind_attack_panel(state, panel, before_attack=lambda: flushed.append(1))
    assert panel.target_box.currentText() == "any other class" and panel.c_label.text() == "c = 1"
    state.set_target(3)
    state.set_c(2.0)
    assert panel.target_box.currentText() == "class 3"
    assert panel.c_label.text() == "c = 2" and panel.slider.value() == c_to_position(2.0)
    panel.target_box.setCurrentIndex(0)  # the user picks "any other class"
    assert state.target is None
    panel.slider.setValue(panel.slider.value() + 5)  # a drag: the state's c follows, the pending stroke is flushed first
    assert state.c == pytest.approx(position_to_c(c_to_position(2.0) + 5)) and flushed == [1]
    assert panel.c_label.text() == f"c = {state.c:.3g}"


def test_gradient_view_shows_the_state_and_sends_intents(qtbot, cnn_state, test_digits):
    from advviewer.gui.bindings.gradient import bind_gradient_view
    from advviewer.gui.widgets.gradient_view import GradientView

    view = GradientView()
    qtbot.addWidget(view)
    bind_gradient_view(cnn_state, view)
    cnn_state.set_picture(None, test_digits[0][0], "digit")
    assert view.class_box.currentData() == PREDICTED
    np.testing.assert_allclose(view.map.image.image, cnn_state.evaluation.gradient)
    cnn_state.set_gradient_class(4)
    assert view.class_box.currentData() == 4 and "<b>4</b>" in view.info.text()
    view.class_box.setCurrentIndex(view.class_box.findData(TARGET))
    assert cnn_state.gradient.cls == TARGET


def test_results_panel_follows_the_states_result(qtbot, cnn_state, test_digits):
    from PySide6.QtWidgets import QLabel

    from advviewer.gui.bindings.results import bind_results_panel
    from advviewer.gui.widgets.results_panel import PLACEHOLDER, ResultsPanel

    panel, timing = ResultsPanel(), QLabel()
    qtbot.addWidget(panel)
    bind_results_panel(cnn_state, panel, timing)
    x = test_digits[0][0]
    cnn_state.set_picture(None, x, "digit")
    cnn_state.set_target(int(np.argsort(cnn_state.evaluation.probs)[-2]))
    with qtbot.waitSignal(cnn_state.events.attack_finished, timeout=60_000) as blocker:
        cnn_state.find_minimal_c()
    result = blocker.args[0].result
    np.testing.assert_array_equal(panel.views["original"].image.image, x)
    np.testing.assert_array_equal(panel.views["perturbation"].image.image, result.perturbation)  # the core's, not recomputed
    assert panel.export_button.isEnabled() and "attack" in timing.text()
    cnn_state.set_picture(None, np.roll(x, 3, axis=1), "moved")
    assert "The input changed" in panel.summary.text() and not panel.export_button.isEnabled()
    assert panel.summary.text() != PLACEHOLDER


def test_model_picker_shows_the_model_in_use(qtbot, state, cnn):
    from PySide6.QtWidgets import QComboBox, QStatusBar

    from advviewer.gui.bindings.model_picker import bind_model_picker
    from advviewer.session.values import ModelChoice

    picker, status = QComboBox(), QStatusBar()
    qtbot.addWidget(picker)
    picker.addItem("cnn", "cnn")
    bind_model_picker(state, picker, status)
    state.use_model(ModelChoice(cnn, "/somewhere/mine.pt"))
    assert picker.currentText() == "mine.pt" and picker.currentData() == "/somewhere/mine.pt"
    state.use_model(ModelChoice(cnn, "cnn"))
    assert picker.currentData() == "cnn"


def test_a_stroke_reaches_the_state_with_its_picture_coalesced(qtbot, state):
    from advviewer.gui.bindings.drawing import DrawingBinding
    from advviewer.gui.widgets.canvas import DrawingCanvas

    canvas = DrawingCanvas()
    canvas.resize(280, 280)
    qtbot.addWidget(canvas)
    binding = DrawingBinding(canvas, state)
    pictures = []
    real = state.set_picture
    state.set_picture = lambda *args: (pictures.append(args), real(*args))
    draw(canvas, [(0.5, 0.2), (0.5, 0.8)])  # twenty mouse moves in one pass of the event loop
    qtbot.waitUntil(binding.is_idle, timeout=2000)
    assert len(pictures) == 1  # evaluated once, for the newest picture
    pixels, exact, source = pictures[0]
    np.testing.assert_array_equal(pixels, canvas.to_array())
    assert exact is None and source is None and state.input.source == "drawn on the canvas"
    binding.show_picture(np.eye(28, dtype=np.float32), "eye.npy")  # a loaded picture: at once, exactly
    np.testing.assert_array_equal(state.input.pixels, np.eye(28, dtype=np.float32))
    assert state.input.source == "eye.npy"
    canvas.undo()
    qtbot.waitUntil(binding.is_idle, timeout=2000)
    assert state.input.source == "drawn on the canvas"


def test_attack_panel_shows_the_states_objective_and_sends_the_users_pick(qtbot, state):
    from advviewer.gui.bindings.attack import bind_attack_panel
    from advviewer.gui.widgets.attack_panel import AttackPanel
    from advviewer.session.choices import PAPER_OBJECTIVE, RIVAL_OBJECTIVE

    panel = AttackPanel()
    qtbot.addWidget(panel)
    bind_attack_panel(state, panel, before_attack=lambda: None)
    box = panel.objective_box
    assert box.currentData() == state.objective == RIVAL_OBJECTIVE
    assert box.currentText() == "rival loss (target against its strongest rival)"
    assert "Objective: paper's loss (cross-entropy) / rival loss (target against its strongest rival)" in box.toolTip()
    assert "rival loss" in panel.c_plot.getPlotItem().getAxis("bottom").labelText
    state.set_objective(PAPER_OBJECTIVE)  # the state's choice is shown, in the box and the c plot's legend
    assert box.currentData() == PAPER_OBJECTIVE and box.currentText() == "paper's loss (cross-entropy)"
    assert "paper's loss" in panel.c_plot.getPlotItem().getAxis("bottom").labelText
    chosen = []
    state.events.objective.connect(chosen.append)
    box.setCurrentIndex(box.findData(RIVAL_OBJECTIVE))  # the user's pick is an intent the state carries out
    assert state.objective == RIVAL_OBJECTIVE and chosen == [RIVAL_OBJECTIVE]
