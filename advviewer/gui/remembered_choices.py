"""The choices restored at start-up and saved at close: the state's, and the widgets' own preferences."""

from __future__ import annotations

from advviewer.gui.window_size import place_on_screen
from advviewer.session import catalog
from advviewer.session.choices import FINITE_DIFFERENCES


def restore(w, model: str | None) -> None:
    """Bring back the last session's choices, load the model (``model`` first) and show the first digit."""
    s, state = w.settings, w.state
    geometry, window_state = s.geometry()
    place_on_screen(w, restored=geometry is not None and w.restoreGeometry(geometry))
    if window_state is not None:
        w.restoreState(window_state)
    w.inputs.brush.setValue(s.get("brush_size"))
    w.gradient.overlay.setChecked(s.get("gradient_overlay"))
    w.results.magnify.setChecked(s.get("magnify"))
    w.guide.setVisible(not s.get("guide_dismissed"))
    w.guide.dismissed.connect(lambda: s.set("guide_dismissed", True))
    state.set_c(s.get("c"))
    state.set_target(s.get("target"))
    state.set_objective(s.get("objective"))
    state.set_gradient_class(s.get("gradient_class"))
    # nothing expensive from an earlier session runs before the user asks for it in this one: finite
    # differences (a model evaluation per pixel on every stroke) and a model file of the user's own
    # (perhaps slow) are not brought back; the message bar says how to get the model back
    if s.get("gradient_method") != FINITE_DIFFERENCES:
        state.set_gradient_method(s.get("gradient_method"))
    remembered = s.get("model")
    if model is None and remembered not in catalog.zoo_models():
        w.message.show_message(f"Last time you used the model file {remembered}; it is not reopened at start "
                               "(File → Open model file… opens it again).", "info")
        remembered = catalog.default_model()
    state.load_model(model or remembered, fallback=catalog.default_model())
    w.drawing.show_picture(*catalog.starting_sample())


def save(w) -> None:
    s, state = w.settings, w.state
    s.set_geometry(w.saveGeometry(), w.saveState())
    s.set("brush_size", w.canvas.brush_size)
    s.set("gradient_overlay", w.gradient.overlay.isChecked())
    s.set("magnify", w.results.magnify.isChecked())
    s.set("c", state.c)
    s.set("target", state.target)
    s.set("objective", state.objective)
    s.set("gradient_class", state.gradient.cls)
    s.set("gradient_method", state.gradient.method)
    if state.model is not None:
        s.set("model", state.model.name)
    s.sync()
