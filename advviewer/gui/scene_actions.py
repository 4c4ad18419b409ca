"""File ▸ Save scene / Open scene or lecture, Next / Previous scene, and ``advviewer --scene FILE``.

The state builds and restores scenes (advviewer.session.scenes); this module asks for the file,
reports the outcome in one line, and makes the canvas and the Explore dock follow a restored scene.
A scene file is read here on the GUI thread: it is bounded (16 MB on disk, 8 MB a member once
unpacked; advviewer.reading.scene_file) and is read in the sandbox's child process, which is
stopped after 10 s at most (5 s of processor time; the largest real scene takes 0.4 s); its
models (the slow part) load on the state's model lane.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from advviewer.errors import AdvViewerError
from advviewer.gui import dialogs
from advviewer.gui.explore_dock import make_room
from advviewer.gui.widgets.message_bar import FILE
from advviewer.reading.files import shown
from advviewer.session import scenes
from advviewer.text.wording import counted

SCENE_FILTER = f"Scenes (*{scenes.SCENE_SUFFIX});;All files (*)"
STEP_TIPS = {"next_scene": "The lecture's next scene (the next scene file of the folder, by name; PageDown, Right when presenting)",
             "previous_scene": "The lecture's previous scene (PageUp, Left when presenting)"}


def connect_scene_actions(w) -> None:
    a = w.actions
    w.lecture = None
    a["save_scene"].triggered.connect(lambda: save_scene(w))
    a["open_scene"].triggered.connect(lambda: open_scene(w))
    a["next_scene"].triggered.connect(lambda: step_scene(w, +1))
    a["previous_scene"].triggered.connect(lambda: step_scene(w, -1))
    w.state.events.scene_opened.connect(lambda scene: show_scene(w, scene))


def save_scene(w) -> Path | None:
    folder = dialogs.start_folder(w.settings.get("scene_folder"))
    name, _ = QFileDialog.getSaveFileName(w, "Save the scene", str(Path(folder) / f"scene{scenes.SCENE_SUFFIX}"), SCENE_FILTER)
    return save_scene_to(w, Path(name)) if name else None


def save_scene_to(w, path: Path) -> Path | None:
    """Write what the window shows to ``path``; the status bar says where, the message bar why not."""
    w.drawing.flush()  # the picture on the canvas is the one saved
    try:
        scene = w.state.scene(w.explore_views.current_view())
        written = scenes.save_scene(path, scene)
    except AdvViewerError as exc:
        w.message.show_message(f"Scene not saved: {exc}", topic=FILE)
        return None
    w.settings.set("scene_folder", str(written.parent))
    kept = "with its result" if scene.result is not None else "without a result (none is current)"
    others = f" and {counted(len(scene.kept), 'other result')} of the session" if scene.kept else ""
    w.statusBar().showMessage(f"Saved the scene {kept}{others} to {shown(written)}", 8000)
    return written


def open_scene(w) -> None:
    folder = dialogs.start_folder(w.settings.get("scene_folder"))
    name, _ = QFileDialog.getOpenFileName(w, "Open a scene (its folder's scenes are the lecture)", folder, SCENE_FILTER)
    if name:
        w.settings.set("scene_folder", str(Path(name).parent))
        open_scene_path(w, Path(name))


def open_scene_path(w, path: Path) -> bool:
    """Open a scene file, or a folder's first scene; its folder's scenes become the lecture. False if refused."""
    try:
        lecture = scenes.Lecture.around(path)
    except AdvViewerError as exc:
        w.message.show_message(f"Scene not opened: {exc}. The window is unchanged.", topic=FILE)
        return False
    w.lecture = lecture
    for key, tip in STEP_TIPS.items():  # greyed out, saying why, until a lecture is open (actions.NO_LECTURE)
        w.actions[key].setEnabled(True)
        w.actions[key].setToolTip(tip)
    return _open(w, lecture.current)


def step_scene(w, by: int) -> None:
    """Next (+1) or previous (-1) scene of the lecture; at either end the status bar says so."""
    lecture = w.lecture
    if lecture is None:
        w.statusBar().showMessage("No lecture is open: File ▸ Open scene or lecture (Ctrl+L).", 8000)
        return
    path = lecture.step(by)
    if path is None:
        w.statusBar().showMessage(f"{'Last' if by > 0 else 'First'} scene of the lecture ({lecture.position()}).", 8000)
        return
    _open(w, path)


def _open(w, path: Path) -> bool:
    try:
        scene = scenes.read_scene(path)
    except AdvViewerError as exc:
        w.message.show_message(f"Scene not opened: {exc}. The window is unchanged.", topic=FILE)
        return False
    w.statusBar().showMessage(f"Opening the scene {shown(path.name)}…")
    w.state.open_scene(scene)
    return True


def show_scene(w, scene: scenes.Scene) -> None:
    """The state shows ``scene``: the canvas shows its picture, the Explore dock its tab (closed if none)."""
    w.drawing.show_picture(scene.input, scene.source)
    w.message.dismiss(FILE)
    dock = w.explore_views
    if scene.view is None:
        dock.hide()
    else:
        index = next((i for i in range(dock.tabs.count()) if dock.tabs.widget(i).objectName() == scene.view), 0)
        dock.tabs.setCurrentIndex(index)
        if not dock.isVisible():
            dock.show()
            make_room(w, dock)
    lecture = w.lecture
    where = f" ({lecture.position()})" if lecture is not None and len(lecture.paths) > 1 else ""
    name = shown(lecture.current.name) if lecture is not None else "scene"
    w.statusBar().showMessage(f"Opened the scene {name}{where}", 8000)
