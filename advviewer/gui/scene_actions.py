"""File ▸ Save scene / Open scene or lecture, Next / Previous scene, and ``advviewer --scene FILE``.

The state builds, reads and restores scenes (advviewer.session.scenes, advviewer.session.scene_opening);
this module asks for the file, says in the status bar that a scene is being opened and reports the
outcome in one line, and makes the canvas and the Explore dock follow a restored scene. A scene
file is never read on the GUI thread: the state reads it on its "scene" lane (in the sandbox's
child process, stopped after 10 s at most; the largest real scene takes 0.4 s) and loads its
models on its model lane, so the window repaints, closes and takes other actions meanwhile. The
newest request wins, and the lecture's position moves only when the scene asked for is shown.
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
from advviewer.session.tasks import Task
from advviewer.text.wording import counted

SCENE_FILTER = f"Scenes (*{scenes.SCENE_SUFFIX});;All files (*)"
STEP_TIPS = {"next_scene": "The lecture's next scene (the next scene file of the folder, by name; PageDown, Right when presenting)",
             "previous_scene": "The lecture's previous scene (PageUp, Left when presenting)"}


OPENING = "Opening the scene"


def connect_scene_actions(w) -> None:
    a = w.actions
    opening = w.state.scene_files
    a["save_scene"].triggered.connect(lambda: save_scene(w))
    a["open_scene"].triggered.connect(lambda: open_scene(w))
    a["next_scene"].triggered.connect(lambda: step_scene(w, +1))
    a["previous_scene"].triggered.connect(lambda: step_scene(w, -1))
    opening.events.opening.connect(lambda name: w.statusBar().showMessage(f"{OPENING} {name}…"))
    opening.events.refused.connect(lambda text: w.message.show_message(text, topic=FILE))
    opening.events.ended.connect(lambda text: _done_opening(w, text))
    w.state.events.scene_opened.connect(lambda scene: show_scene(w, scene))


def _done_opening(w, text: str) -> None:
    """No scene is being opened any more: the status bar stops saying so, or says ``text`` (where a lecture stands)."""
    status = w.statusBar()
    if text:
        status.showMessage(text, 8000)
    elif status.currentMessage().startswith(OPENING):
        status.clearMessage()


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


def open_scene_path(w, path: Path) -> Task:
    """Start opening a scene file, or a folder's first scene, in the background; once it is shown, its folder's scenes
    are the lecture. A picture still being opened is dropped (the scene is what the window then shows)."""
    w.opener.cancel()
    return w.state.scene_files.open_path(path)


def step_scene(w, by: int) -> Task | None:
    """Next (+1) or previous (-1) scene of the lecture, in the background; at either end the status bar says so."""
    opening = w.state.scene_files
    lecture = opening.latest
    if lecture is None:
        w.statusBar().showMessage("No lecture is open: File ▸ Open scene or lecture (Ctrl+L).", 8000)
        return None
    task = opening.step(by)
    if task is None:
        w.statusBar().showMessage(f"{'Last' if by > 0 else 'First'} scene of the lecture ({lecture.position()}).", 8000)
        return None
    w.opener.cancel()  # a picture still being opened is dropped: the scene is what the window then shows
    return task


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
    lecture = w.state.scene_files.lecture
    if lecture is not None:
        for key, tip in STEP_TIPS.items():  # greyed out, saying why, until a lecture is open (actions.NO_LECTURE)
            w.actions[key].setEnabled(True)
            w.actions[key].setToolTip(tip)
    where = f" ({lecture.position()})" if lecture is not None and len(lecture.paths) > 1 else ""
    name = shown(lecture.current.name) if lecture is not None else "scene"
    w.statusBar().showMessage(f"Opened the scene {name}{where}", 8000)
