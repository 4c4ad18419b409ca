"""Signal connections between the panels and the Session: what happens when the user acts.

Split from main_window.py to keep both short; every handler takes the window first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from advviewer.gui import dialogs, export_actions
from advviewer.gui.attack_panel import ANY, STEPS_PER_DECADE
from advviewer.gui.jobs import FiniteDifferenceState
from advviewer.gui.session import LiveState

# --- live probabilities and gradient ---------------------------------------------------------

def connect_live(w) -> None:
    s = w.session
    w.canvas.changed.connect(w._live_timer.start)
    w._live_timer.timeout.connect(w.refresh_now)
    s.live_updated.connect(lambda state: show_live(w, state))
    s.fd_updated.connect(lambda state: show_finite_differences(w, state))
    s.fd_failed.connect(lambda msg: w.gradient.show_pending(f"Finite differences failed: {msg}"))
    w.gradient.class_changed.connect(lambda cls: s.set_gradient_choice(gradient_class=cls))
    w.gradient.method_changed.connect(lambda method: s.set_gradient_choice(method=method))
    w.model_picker.currentIndexChanged.connect(lambda i: w.select_model(w.model_picker.itemData(i)))


def show_live(w, state: LiveState) -> None:
    w.inputs.show_input(state.input, state.predicted, float(state.probs[state.predicted]))
    w.probabilities.set_probabilities(state.probs, w.session.target)
    if w.session.gradient_method == "autograd":
        w.gradient.show_gradient(state.gradient, state.input, state.gradient_class)
    else:
        w.gradient.show_pending("Finite differences: computing in the background…")
    s = w.session
    key = s.current_key()
    if w.attack.c_plot.key not in (None, key):
        w.attack.c_plot.clear_points()  # its runs were on another input, model or target
    if w.results.result is not None and s.result_key != key:
        w.results.mark_stale(stale_reason(s.result_key, key))
    w.live_time.setText(f"live update {state.preprocess_ms + state.model_ms:.1f} ms "
                        f"(framing {state.preprocess_ms:.1f} + model {state.model_ms:.1f})")


def stale_reason(old: tuple | None, new: tuple) -> str:
    if old is None or old[0] != new[0]:
        return "The input changed: run the attack again (Ctrl+R)."
    if old[1] != new[1]:
        return f"The model changed to {Path(new[1]).name}: run the attack again (Ctrl+R)."
    return "The target changed: run the attack again (Ctrl+R)."


def show_finite_differences(w, state: FiniteDifferenceState) -> None:
    if not np.array_equal(state.input, w.session.input):
        return  # an older input: a newer request is on its way
    note = (f"Finite differences vs backprop: relative difference {state.relative_difference:.2%}, "
            f"correlation {state.correlation:.5f} ({1e3 * state.seconds:.0f} ms)")
    w.gradient.show_gradient(state.gradient, state.input, state.gradient_class, note)


# --- the attack --------------------------------------------------------------------------------

def connect_attack(w) -> None:
    s, panel, a = w.session, w.attack, w.actions
    panel.run_requested.connect(lambda: run_attack(w, minimal=False))
    panel.minimal_requested.connect(lambda: run_attack(w, minimal=True))
    panel.cancel_requested.connect(s.cancel_attack)
    panel.c_dragged.connect(lambda c: run_attack(w, minimal=False, warm=True))
    panel.target_changed.connect(lambda t: s.set_target(None if t == ANY else t))
    a["run"].triggered.connect(panel.run_requested)
    a["find_minimal_c"].triggered.connect(panel.minimal_requested)
    a["cancel"].triggered.connect(panel.cancel_requested)
    a["c_smaller"].triggered.connect(lambda: panel.slider.setValue(panel.slider.value() - STEPS_PER_DECADE // 4))
    a["c_larger"].triggered.connect(lambda: panel.slider.setValue(panel.slider.value() + STEPS_PER_DECADE // 4))
    s.attack_started.connect(lambda text: attack_started(w, text))
    s.attack_progress.connect(lambda p: attack_progress(w, p))
    s.attack_finished.connect(lambda result: attack_finished(w, result))
    s.sweep_finished.connect(w.attack.c_plot.add_many)
    s.attack_failed.connect(lambda msg: attack_stopped(w, f"The attack failed: {msg}", error=True))
    s.attack_cancelled.connect(lambda: attack_stopped(w, "Cancelled."))


def run_attack(w, minimal: bool, warm: bool = False) -> None:
    if w.session.model is None:
        return
    if w._live_timer.isActive():
        w.refresh_now()  # attack what is on the canvas now
    w.session.run_attack(None if minimal else w.attack.c, warm=warm)


def attack_started(w, text: str) -> None:
    w.attack.set_running(True, text, target_prob=0.0)
    if w.results.result is not None and w.session.result_key != w.session.current_key():
        w.results.mark_stale(f"{stale_reason(w.session.result_key, w.session.current_key()).split(':')[0]}: attacking again…")


def attack_progress(w, p) -> None:
    w.attack.show_status(f"iteration {p.iteration} · c = {p.c:.3g} · ‖r‖₂ = {p.l2:.3f}")
    w.attack.show_target_prob(p.target_prob)
    if getattr(p, "adversarial", None) is not None:
        w.results.show_iterate(p.adversarial, w.session.input)


def attack_finished(w, result) -> None:
    verdict = "fooled the model" if result.success else "did not fool the model"
    w.attack.set_running(False, f"Done: {verdict} ({result.iterations} iterations, {result.seconds:.2f} s).",
                         target_prob=float(result.adversarial_probs[result.target]))
    w.attack.set_c(result.c)
    w.attack.c_plot.add(w.session.result_key, result.c, result.l2, result.success)
    w.results.show_result(result, w.session.input)
    w.attack_time.setText(f"attack {result.seconds:.2f} s, {result.iterations} iterations")
    if result.mode == "minimal" and result.success:
        w.session.sweep(result)  # draw how |r| and success change with c around the c found


def attack_stopped(w, text: str, error: bool = False) -> None:
    w.attack.set_running(False, text)
    if error:
        w.message.show_message(text)


# --- files, samples, models, export, about ---------------------------------------------------

def connect_files(w) -> None:
    a, c = w.actions, w.canvas
    a["open_image"].triggered.connect(lambda: open_image(w))
    a["samples"].triggered.connect(lambda: open_gallery(w))
    a["open_model"].triggered.connect(lambda: open_model(w))
    a["export"].triggered.connect(lambda: export_actions.export_current(w))
    a["export_all"].triggered.connect(lambda: export_actions.export_everything(w))
    a["quit"].triggered.connect(w.close)
    a["about"].triggered.connect(lambda: dialogs.show_about(w, w.session.model_name))
    w.results.export_requested.connect(lambda: export_actions.export_current(w))
    c.history_changed.connect(lambda *_: w.statusBar().clearMessage())  # the start-up hint has served
    a["undo"].triggered.connect(c.undo)
    a["redo"].triggered.connect(c.redo)
    a["clear"].triggered.connect(c.clear)
    a["eraser"].toggled.connect(w.inputs.eraser.setChecked)
    w.inputs.eraser.toggled.connect(a["eraser"].setChecked)
    a["brush_smaller"].triggered.connect(lambda: w.inputs.brush.setValue(w.inputs.brush.value() - 3))
    a["brush_larger"].triggered.connect(lambda: w.inputs.brush.setValue(w.inputs.brush.value() + 3))


def open_image(w) -> None:
    path = dialogs.choose_image(w, w.settings.get("open_folder"))
    if path is not None:
        w.settings.set("open_folder", str(path.parent))
        w.open_path(path)


def open_model(w) -> None:
    path = dialogs.choose_model(w, w.settings.get("model_folder"))
    if path is not None:
        w.settings.set("model_folder", str(path.parent))
        w.select_model(str(path))


def open_gallery(w) -> None:
    from advviewer.data.bundled import load_bundled
    from advviewer.gui.gallery import GalleryDialog

    gallery = getattr(w, "gallery", None)  # one dialog, kept with its class choice and pixmaps
    if gallery is None:
        images, labels = load_bundled()
        gallery = w.gallery = GalleryDialog(images, labels, w)
        gallery.picked.connect(lambda image, label, k: w.show_sample(image, f"bundled MNIST digit #{k} (labelled {label})"))
    gallery.open()
