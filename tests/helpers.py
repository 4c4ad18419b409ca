"""Helpers shared by the tests (tests/ is on sys.path, see conftest.py): one definition each.

Qt is imported only inside the window's helpers, so core tests can import this module headless.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ATTACK_TIMEOUT = 90_000  # ms to wait for an attack in the window; generous for a shared 2-core machine
IDLE_TIMEOUT = 60_000  # ms to wait for the window to settle (loading, attack and c sweep)


def save_pt2(module: torch.nn.Module, path) -> Path:
    """A user's classifier as advviewer opens it: a torch.export program (TorchScript is refused, it can run code)."""
    from advviewer.models import export_classifier

    return export_classifier(module, path)


def write_pngs(folder: Path, images: dict[str, np.ndarray]) -> list[Path]:
    """Each (H, W) image (uint8, or floats in [0, 1]) as ``folder/<name>.png``; the paths in order."""
    paths = []
    for name, image in images.items():
        pixels = image if image.dtype == np.uint8 else np.round(np.asarray(image) * 255).astype(np.uint8)
        path = Path(folder) / f"{name}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def boundary_digit(model) -> tuple[np.ndarray, int, int]:
    """An 8-bit digit a hair from the model's decision boundary: (28, 28) float32 pixels k/255, its class, the other class.

    A 7 blended towards a 3, each blend rounded to 8 bits, bisected until one step of one pixel by
    1/255 changes the model's answer. The minimal attack towards the other class then changes each
    pixel by far less than half a level, so rounding the adversarial to 8 bits gives back this very
    image and its class: the exported PNG cannot fool the model, whatever the CPU's float details.
    """
    from advviewer.calculus.gradients import predict
    from advviewer.data.bundled import load_bundled

    images, labels = load_bundled()
    seven, three = (images[np.flatnonzero(labels == k)[0]].astype(np.float64) for k in (7, 3))

    def blend(t: float) -> np.ndarray:
        return (np.round((1 - t) * seven + t * three) / 255.0).astype(np.float32)

    first = int(predict(model, blend(0.0)).argmax())
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if int(predict(model, blend(mid)).argmax()) == first else (lo, mid)
    return blend(lo), first, int(predict(model, blend(hi)).argmax())


# --- the window ----------------------------------------------------------------------------------

def wait_idle(qtbot, window, timeout: int = IDLE_TIMEOUT) -> None:
    """Until nothing waits: no pending stroke, no job running, every outcome delivered."""
    qtbot.waitUntil(window.is_idle, timeout=timeout)


def export_and_wait(qtbot, window, start, *args, **kwargs):
    """Start a window export (``export_actions.export_current`` or ``export_everything``) and wait for it to end.

    Returns its ExportOutcome, or None if it did not start (nothing to export, or refused).
    """
    outcomes: list = []
    window.state.exports.events.finished.connect(outcomes.append)
    try:
        started = start(window, *args, **kwargs)
        wait_idle(qtbot, window)
    finally:
        window.state.exports.events.finished.disconnect(outcomes.append)
    assert started == bool(outcomes)
    return outcomes[-1] if outcomes else None


def open_and_wait(qtbot, window, path) -> bool:
    """Open a picture or model file as a drop would, wait for it; True if it was opened."""
    task = window.open_path(Path(path))
    qtbot.waitUntil(lambda: task.finished, timeout=IDLE_TIMEOUT)
    wait_idle(qtbot, window)
    return bool(task.succeeded)


def choose_target(window, target: int | None) -> None:
    """Pick the attack target in its combo box, as a user does."""
    from advviewer.gui.widgets.attack_panel import TARGETS

    window.attack.target_box.setCurrentIndex(TARGETS.index(target))


def run_minimal(window, qtbot, target: int | None = 3, *, settle: bool = False):
    """Choose ``target``, click "Find minimal c", return the AttackResult; ``settle``: wait for the c sweep too."""
    choose_target(window, target)
    with qtbot.waitSignal(window.state.events.attack_finished, timeout=ATTACK_TIMEOUT) as blocker:
        window.attack.minimal_button.click()
    if settle:
        wait_idle(qtbot, window, ATTACK_TIMEOUT)
    return blocker.args[0].result


def run_at_c(window, qtbot, target: int, c: float):
    """Choose ``target``, set c, click "Run", return the AttackResult."""
    choose_target(window, target)
    window.state.set_c(c)
    with qtbot.waitSignal(window.state.events.attack_finished, timeout=ATTACK_TIMEOUT) as blocker:
        window.attack.run_button.click()
    wait_idle(qtbot, window)
    return blocker.args[0].result


def open_boundary_digit(window, qtbot, tmp_path):
    """Open boundary_digit as a .npy; returns (its class, the class a hair away)."""
    pixels, first, other = boundary_digit(window.state.model.module)
    np.save(tmp_path / "boundary.npy", pixels)
    assert open_and_wait(qtbot, window, tmp_path / "boundary.npy")
    assert window.state.evaluation.predicted == first != other
    return first, other


def send_mouse(widget, kind, x: float, y: float, button=None, buttons=None) -> None:
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    button = Qt.MouseButton.LeftButton if button is None else button
    if buttons is None:
        buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    pos = QPointF(x, y)
    QApplication.sendEvent(widget, QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier))


def stroke(widget, points, button=None) -> None:
    """Press at the first point, move through the rest, release: what a hand on a mouse does."""
    from PySide6.QtCore import QEvent, Qt

    button = Qt.MouseButton.LeftButton if button is None else button
    (x0, y0), rest = points[0], points[1:]
    send_mouse(widget, QEvent.Type.MouseButtonPress, x0, y0, button)
    for x, y in rest:
        send_mouse(widget, QEvent.Type.MouseMove, x, y, Qt.MouseButton.NoButton, button)
    send_mouse(widget, QEvent.Type.MouseButtonRelease, *points[-1], button)


def line(widget, start, end, steps: int = 20):
    """Points from start to end, given as fractions of the widget's width and height."""
    w, h = widget.width(), widget.height()
    return [(w * (start[0] + (end[0] - start[0]) * t), h * (start[1] + (end[1] - start[1]) * t)) for t in np.linspace(0, 1, steps)]


def draw(canvas, fractions, button=None) -> None:
    """Stroke through [(x0, y0), (x1, y1), ...] given as fractions of the canvas."""
    points = []
    for a, b in zip(fractions[:-1], fractions[1:]):
        points.extend(line(canvas, a, b))
    stroke(canvas, points, button)


def load_tool(name: str):
    """A script of tools/ (not a package) as a module, e.g. load_tool("colour_vision")."""
    path = Path(__file__).resolve().parents[1] / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def record_attack_jobs(monkeypatch) -> list[str]:
    """Every attack and c sweep any state or window starts from now on ("attack_job", "sweep_job"), in order (they
    still run): what a test of opening a scene checks stays empty."""
    from advviewer.session import jobs

    started: list[str] = []
    for name in ("attack_job", "sweep_job"):
        real = getattr(jobs, name)
        monkeypatch.setattr(jobs, name, lambda *a, real=real, name=name, **k: started.append(name) or real(*a, **k))
    return started
