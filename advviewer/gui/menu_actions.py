"""What the menu, toolbar and keyboard actions do: each is connected to an intent once, here."""

from __future__ import annotations

from advviewer.gui import dialogs, export_actions
from advviewer.gui.widgets.attack_panel import STEPS_PER_DECADE
from advviewer.gui.widgets.gallery import GalleryDialog
from advviewer.gui.widgets.message_bar import FILE
from advviewer.session import catalog
from advviewer.session.choices import next_target

BRUSH_STEP = 3
C_STEP = STEPS_PER_DECADE // 4  # Ctrl+Up/Down: a quarter of a decade


def connect_menu_actions(w) -> None:
    a, canvas, panel = w.actions, w.canvas, w.attack
    a["open_image"].triggered.connect(lambda: open_image(w))
    a["samples"].triggered.connect(lambda: open_gallery(w))
    a["open_model"].triggered.connect(lambda: open_model(w))
    a["export"].triggered.connect(lambda: export_actions.export_current(w))
    a["export_robust"].triggered.connect(lambda: export_actions.export_current(w, robust=True))
    a["export_all"].triggered.connect(lambda: export_actions.export_everything(w))
    a["export_all_robust"].triggered.connect(lambda: export_actions.export_everything(w, robust=True))
    a["export_fooled"].triggered.connect(lambda: export_actions.export_everything(w, fooled_only=True))
    a["export_path"].triggered.connect(lambda: export_actions.export_path(w))
    export_actions.bind_exports(w)
    a["help"].triggered.connect(lambda: dialogs.show_help(w))
    a["guide"].triggered.connect(w.guide.show)
    a["quit"].triggered.connect(w.close)
    a["about"].triggered.connect(lambda: dialogs.show_about(w, w.state.model))
    w.results.export_requested.connect(lambda: export_actions.export_current(w))
    canvas.history_changed.connect(lambda *_: w.statusBar().clearMessage())  # the start-up hint has served
    a["undo"].triggered.connect(canvas.undo)
    a["redo"].triggered.connect(canvas.redo)
    a["clear"].triggered.connect(canvas.clear)
    a["eraser"].toggled.connect(w.inputs.eraser.setChecked)
    w.inputs.eraser.toggled.connect(a["eraser"].setChecked)
    a["brush_smaller"].triggered.connect(lambda: w.inputs.brush.setValue(w.inputs.brush.value() - BRUSH_STEP))
    a["brush_larger"].triggered.connect(lambda: w.inputs.brush.setValue(w.inputs.brush.value() + BRUSH_STEP))
    a["run"].triggered.connect(panel.run_requested)
    a["find_minimal_c"].triggered.connect(panel.minimal_requested)
    a["cancel"].triggered.connect(panel.cancel_requested)
    a["c_smaller"].triggered.connect(lambda: panel.step_c(-C_STEP))
    a["c_larger"].triggered.connect(lambda: panel.step_c(C_STEP))
    a["next_target"].triggered.connect(lambda: choose_next_target(w))
    a["present"].triggered.connect(w.presentation.toggle)


def choose_next_target(w) -> None:
    """T: the next target class, skipping the class the model sees now."""
    evaluation = w.state.evaluation
    w.state.set_target(next_target(w.state.target, evaluation.predicted if evaluation is not None else None))


def open_image(w) -> None:
    path = dialogs.choose_image(w, dialogs.start_folder(w.settings.get("open_folder")))
    if path is not None:
        w.settings.set("open_folder", str(path.parent))
        w.open_path(path)


def open_model(w) -> None:
    path = dialogs.choose_model(w, dialogs.start_folder(w.settings.get("model_folder")))
    if path is not None:
        w.settings.set("model_folder", str(path.parent))
        w.state.load_model(str(path))


def open_gallery(w) -> None:
    gallery = getattr(w, "gallery", None)  # one dialog, kept with its class choice and pixmaps
    if gallery is None:
        images, labels = catalog.sample_digits()
        gallery = w.gallery = GalleryDialog(images, labels, w)
        gallery.picked.connect(lambda k: show_sample(w, catalog.sample_input(images, labels, k)))
    gallery.open()


def show_sample(w, sample: tuple) -> None:
    """A picked sample digit is the new input: an error about a file that could not be opened has gone by."""
    w.drawing.show_picture(*sample)
    w.message.dismiss(FILE)
