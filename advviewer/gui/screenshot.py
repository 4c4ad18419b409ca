"""``advviewer --screenshot FILE``: build the window offscreen, open, attack, save a PNG of it, exit.

Opens ``--image`` or ``--scene``, uses ``--model``, runs the attack when ``--target`` is given (at ``--c``, else
the minimal c, then the c sweep), waits for all of it, then saves the whole window at 1360x860.
The user's remembered choices are not read (app.run points the settings at an empty folder), so
the same command gives the same picture. Exit status 2
for bad input (as on the command line), 1 when the attack or the file fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from advviewer.gui.window_size import PREFERRED

WAIT_SECONDS = 180.0


def _fail(text: str, status: int) -> int:
    print(f"advviewer: {text}", file=sys.stderr)
    return status


def _open_scene(window, path: Path) -> bool:
    """The scene shown as it was saved (its result not re-run); False if it was refused (the message bar says why)."""
    from advviewer.gui.scene_actions import open_scene_path

    shown: list = []
    window.state.events.scene_opened.connect(shown.append)
    open_scene_path(window, path)  # read in the background, then its models loaded: wait for both
    idle = window.wait_until_idle(WAIT_SECONDS)
    window.state.events.scene_opened.disconnect(shown.append)
    return idle and bool(shown) and not window.message.text.startswith("Scene not opened")


def _attack(window, args) -> str | None:
    """Attack towards ``--target`` (at ``--c``, else the minimal c) and wait; why it gave no result, or None."""
    state = window.state
    stopped: list[str] = []
    state.events.attack_stopped.connect(lambda text, error: stopped.append(text))
    state.set_target(args.gui_target)
    if args.gui_c is not None:
        state.set_c(args.gui_c)
        window.attack.run_button.click()
    else:
        window.attack.minimal_button.click()
    if not window.wait_until_idle(WAIT_SECONDS):
        return "the attack did not finish in time"
    if state.current_result() is None:
        return stopped[-1] if stopped else "the attack gave no result"
    return None


def take_screenshot(window, args) -> int:
    """The window is shown (offscreen) already; waits for the model, then does what the docstring above says."""
    state = window.state
    if not window.wait_until_idle(WAIT_SECONDS):
        return _fail("the model did not load in time", 1)
    if args.gui_model is not None and (state.model is None or state.model.name != args.gui_model):
        return _fail(window.message.label.text(), 2)
    if args.gui_image is not None:
        task = window.open_path(Path(args.gui_image))
        window.wait_until_idle(WAIT_SECONDS)
        if not task.succeeded:
            return _fail(window.message.label.text(), 2)
    if getattr(args, "gui_scene", None) is not None and not _open_scene(window, Path(args.gui_scene)):
        return _fail(window.message.label.text(), 2)
    if args.gui_target is not None and (problem := _attack(window, args)) is not None:
        return _fail(problem, 1)
    window.guide.hide()  # a figure, not a first run
    window.resize(PREFERRED)  # the same picture on every machine: not the offscreen screen's size, not remembered
    window.show()
    for _ in range(3):
        QApplication.processEvents()
    path = Path(args.screenshot)
    if not window.grab().save(str(path)):
        return _fail(f"could not write the screenshot {path}", 1)
    print(f"wrote {path}")
    return 0
