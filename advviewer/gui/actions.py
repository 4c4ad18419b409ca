"""Menus, the toolbar and keyboard shortcuts, all in one table."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QToolBar

from advviewer.gui.widgets.elided_combo import FACE_ROLE, ElidedComboBox
from advviewer.session.rules import MODEL_SWITCH_RULE

NO_LECTURE = "Steps through the scenes of a lecture (Left/Right in presentation mode); no lecture is open"

# menu -> [(key, text, shortcut(s), tooltip, on toolbar)]; None separates groups
MENUS = {
    "&File": [
        ("open_image", "&Open image…", "Ctrl+O", "Open a picture of a digit (PNG, JPEG, BMP, TIFF, WebP) or a .npy array", True),
        ("samples", "&Sample digits…", "Ctrl+G", "Pick one of 5,000 real MNIST digits, by class", True),
        ("open_model", "Open &model file…", "Ctrl+Shift+O", "Use your own classifier: advviewer weights or a torch.export program (.pt2)", True),
        None,
        ("export", "&Export…", "Ctrl+E",
         "Write the adversarial image (28x28 and enlarged PNG), perturbation PNG, .npy and JSON record into a folder", True),
        ("export_robust", "Export, PNG still &fools it…", "Ctrl+Alt+E",
         "Export with r scaled up just enough that the 8-bit PNG still fools the model after rounding to 1/255", False),
        ("export_all", "Export &all results…", "Ctrl+Shift+E",
         "Write every result of this session into a folder, numbered in order, with an index.csv", False),
        ("export_all_robust", "Export all, PNG still fools &it…", "",
         "Export every result of this session with r scaled up just enough that each 8-bit PNG still fools the model", False),
        ("export_fooled", "Export all that f&ooled it…", "", "Write only the results that fooled the model, with an index.csv", False),
        ("export_path", "Export the &path as GIF/APNG…", "",
         "Write the attack's path, step by step, as an animated GIF and APNG for slides (960x540)", False),
        None,
        ("save_scene", "Sa&ve scene…", "Ctrl+S",
         "Save what the window shows (digit, model, target, c, the result on screen) as a scene file to open again", False),
        ("open_scene", "Open scene or &lecture…", "Ctrl+L",
         "Open a scene file; the scene files of its folder, in name order, are a lecture (PageDown / PageUp step)", False),
        ("next_scene", "&Next scene", "PgDown", NO_LECTURE, False),
        ("previous_scene", "P&revious scene", "PgUp", NO_LECTURE, False),
        None,
        ("quit", "&Quit", "Ctrl+Q", "Close the window", False),
    ],
    "&Edit": [
        ("undo", "&Undo stroke", "Ctrl+Z", "", False),
        ("redo", "&Redo stroke", ("Ctrl+Shift+Z", "Ctrl+Y"), "", False),
        ("clear", "&Clear canvas", "Delete", "", False),
        ("eraser", "&Eraser", "E", "", False),
        ("brush_smaller", "Smaller brush", "[", "", False),
        ("brush_larger", "Larger brush", "]", "", False),
    ],
    "&Attack": [
        ("run", "&Run at this c", ("Ctrl+R", "F5"), "", False),
        ("find_minimal_c", "Find &minimal c", "Ctrl+M", "", False),
        ("cancel", "&Cancel", "Esc", "", False),
        None,
        ("c_smaller", "Smaller c", "Ctrl+Down", "", False),
        ("c_larger", "Larger c", "Ctrl+Up", "", False),
        ("next_target", "Next &target", "T", "The next target class: any other class, 0, 1, ..., 9 (skips the class the model sees)", False),
    ],
    "&View": [  # Explore this result (Ctrl+T) goes first: explore_dock adds the dock's own toggle
        ("present", "&Present (full screen, large text)", "F11",
         "Full screen for a projector: the five panels only, text and lines at least twice as large; "
         "Space, Up/Down, T, Left/Right work the window, Esc leaves", False),
    ],
    "&Help": [
        ("help", "&Help: what am I looking at?", "F1", "What an adversarial example is, what each panel shows, what c does", True),
        ("guide", "Show the &first-run guide", "", "", False),
        ("about", "&About advviewer and the model…", "Shift+F1", "The model card of the selected model", True),
    ],
}


@dataclass(frozen=True)
class ModelEntry:
    """One model in the picker."""

    name: str  # what the state loads
    face: str  # the closed box, whole: the name and a few words ("cnn: small smooth convnet")
    description: str  # the list and the tooltip: the whole plain description


def menu_path(key: str) -> str:
    """Where a user finds an action, as a message names it: 'File ▸ Export all, PNG still fools it'."""
    for menu_title, entries in MENUS.items():
        for entry in entries:
            if entry is not None and entry[0] == key:
                return f"{menu_title.replace('&', '')} ▸ {entry[1].replace('&', '').rstrip('…')}"
    raise KeyError(key)


def build_actions(window: QMainWindow) -> dict[str, QAction]:
    actions: dict[str, QAction] = {}
    for menu_title, entries in MENUS.items():
        menu = window.menuBar().addMenu(menu_title)
        for entry in entries:
            if entry is None:
                menu.addSeparator()
                continue
            key, text, shortcut, tip, _ = entry
            action = QAction(text, window)
            action.setObjectName(f"action_{key}")
            shortcuts = shortcut if isinstance(shortcut, tuple) else (shortcut,)
            action.setShortcuts([QKeySequence(s) for s in shortcuts if s])
            if tip:
                action.setToolTip(f"{tip} ({shortcuts[0]})" if shortcuts[0] else tip)
                action.setStatusTip(tip)
            action.setCheckable(key in ("eraser", "present"))
            action.setEnabled(key not in ("previous_scene", "next_scene"))  # until a lecture is open
            menu.addAction(action)
            window.addAction(action)  # its keys work while the menu bar is hidden (presentation mode)
            actions[key] = action
    return actions


def build_toolbar(window: QMainWindow, actions: dict[str, QAction], models: list[ModelEntry]) -> QComboBox:
    """The main toolbar: the model picker first, then the common file actions. Returns the picker."""
    bar = QToolBar("Main", window)
    bar.setObjectName("main_toolbar")
    bar.setMovable(False)
    window.addToolBar(bar)
    bar.addWidget(QLabel(" Model: "))
    picker = ElidedComboBox(objectName="model")
    picker.setAccessibleName("Model")
    picker.setToolTip("The classifier to inspect and attack (Shift+F1 shows its model card).\n" + MODEL_SWITCH_RULE + "\n"
                      "FC10: softmax regression; FC100/200: sigmoid MLPs; AE400: autoencoder features; cnn: a small convnet.")
    # the closed box is as wide as the longest short face, so each reads whole
    picker.setMinimumContentsLength(max((len(m.face) for m in models), default=20) + 2)
    picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    for model in models:
        picker.addItem(f"{model.name}: {model.description}", model.name)
        picker.setItemData(picker.count() - 1, model.face, FACE_ROLE)
        picker.setItemData(picker.count() - 1, model.description, Qt.ItemDataRole.ToolTipRole)
    picker.view().setMinimumWidth(picker.view().sizeHintForColumn(0) + 24)  # the list shows the whole description
    bar.addWidget(picker)
    bar.addSeparator()
    for entries in MENUS.values():
        for entry in entries:
            if entry is not None and entry[4]:
                bar.addAction(actions[entry[0]])
                bar.widgetForAction(actions[entry[0]]).setObjectName(f"tool_{entry[0]}")
    return picker
