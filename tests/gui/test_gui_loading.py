"""Opening pictures (every supported format, drag and drop, the gallery) and bad input."""

import os
import time

import numpy as np
import pytest
from helpers import open_and_wait, wait_idle
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

FORMATS = [("png", "L"), ("png", "RGBA"), ("png", "I;16"), ("jpg", "RGB"), ("bmp", "RGB"), ("tiff", "L"), ("webp", "RGB")]


@pytest.fixture(scope="module")
def three():
    """A real MNIST 3 from the bundled test split: (28, 28) floats."""
    from advviewer.data.bundled import bundled_split

    images, labels = bundled_split("test")
    return images[np.flatnonzero(labels == 3)[0]].astype(np.float32) / 255.0


def _save_as_photo(digit: np.ndarray, path, mode: str) -> None:
    """Dark ink on light paper, enlarged to 140x140, in the given PIL mode."""
    paper = Image.fromarray(((1.0 - digit) * 255).astype(np.uint8)).resize((140, 140), Image.Resampling.BILINEAR)
    if mode == "RGBA":
        paper = paper.convert("RGBA")
    elif mode == "I;16":
        paper = Image.fromarray(np.asarray(paper, dtype=np.uint16) * 257).convert("I;16")
    else:
        paper = paper.convert(mode)
    paper.save(path)


@pytest.mark.parametrize("suffix,mode", FORMATS, ids=[f"{s}-{m}" for s, m in FORMATS])
def test_open_each_image_format(window, qtbot, tmp_path, three, suffix, mode):
    path = tmp_path / f"three.{suffix}"
    _save_as_photo(three, path, mode)
    window.canvas.clear()
    assert open_and_wait(qtbot, window, path)
    assert window.state.input.source == str(path)  # the loaded 28x28 input itself, not a re-framing of the canvas
    assert window.canvas.to_array().any()
    assert int(window.state.evaluation.probs.argmax()) == 3
    assert not window.message.isVisible()


def test_open_npy_reaches_the_model_unchanged(window, qtbot, tmp_path, three):
    path = tmp_path / "three.npy"
    np.save(path, three)
    assert open_and_wait(qtbot, window, path)
    np.testing.assert_array_equal(window.state.input.pixels, three)
    np.testing.assert_array_equal(window.inputs.preview.image.image, three)


def test_drop_a_file_on_the_window(window, qtbot, tmp_path, three):
    path = tmp_path / "dropped.png"
    _save_as_photo(three, path, "L")
    window.canvas.clear()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    wait_idle(qtbot, window)
    assert int(window.state.evaluation.probs.argmax()) == 3


def test_gallery_browse_by_class_and_pick(window, qtbot):
    from advviewer.data.bundled import load_bundled

    window.actions["samples"].trigger()
    gallery = window.gallery
    qtbot.waitExposed(gallery)
    gallery.set_class(4)
    assert gallery.model.rowCount() == int((load_bundled()[1] == 4).sum())
    assert "class 4" in gallery.count.text()
    index = gallery.model.index(0)
    assert gallery.model.data(index, Qt.ItemDataRole.DecorationRole) is not None
    assert gallery.focusWidget() is gallery.view and gallery.view.currentIndex().row() == 0  # keyboard at once
    qtbot.keyClick(gallery.view, Qt.Key.Key_Return)  # Enter opens the current digit
    assert not gallery.isVisible()
    images, labels = load_bundled()
    k = gallery.model.dataset_index(0)
    assert labels[k] == 4
    qtbot.waitUntil(lambda: np.array_equal(window.state.input.pixels, images[k] / np.float32(255)), timeout=5000)
    assert window.state.input.source == f"bundled MNIST digit #{k} (labelled 4)"


@pytest.mark.parametrize("kind", ["text", "truncated", "directory", "missing", "huge"])
def test_bad_pictures_leave_the_canvas_alone(window, qtbot, tmp_path, huge_png, kind, draw, gui):
    window.canvas.clear()
    draw(window.canvas, [(0.5, 0.2), (0.5, 0.8)])
    gui.wait_live(window)
    before, probs = window.canvas.to_array(), window.state.evaluation.probs.copy()
    path = {"text": tmp_path / "notes.png", "truncated": tmp_path / "cut.png", "directory": tmp_path,
            "missing": tmp_path / "nothing.png", "huge": huge_png}[kind]
    if kind == "text":
        path.write_text("this is not an image\n")
    if kind == "truncated":
        full = tmp_path / "full.png"
        Image.fromarray((np.random.default_rng(0).random((64, 64)) * 255).astype(np.uint8)).save(full)
        path.write_bytes(full.read_bytes()[:200])
    assert not open_and_wait(qtbot, window, path)
    assert window.message.isVisible()
    assert window.message.kind == "error"
    assert "Could not open the image" in window.message.text and "unchanged" in window.message.text
    np.testing.assert_array_equal(window.canvas.to_array(), before)
    np.testing.assert_array_equal(window.state.evaluation.probs, probs)
    # and the window still works
    window.canvas.clear()
    draw(window.canvas, [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)])
    gui.wait_live(window)
    assert not np.array_equal(window.state.evaluation.probs, probs)


BIG_PIXELS = 4_000_000  # decoding takes about 0.3 s and more


def test_a_big_picture_is_decoded_in_the_background(window, qtbot, tmp_path):
    side = int(BIG_PIXELS**0.5) + 200
    paper = Image.new("L", (side, side), 255)
    paper.paste(0, (side // 2 - 120, side // 5, side // 2 + 120, 4 * side // 5))  # a thick dark "1" on white
    path = tmp_path / "big.png"
    paper.save(path)
    window.canvas.clear()
    with qtbot.waitSignal(window.opener.opened, timeout=60_000):
        assert not window.open_path(path).finished  # not loaded yet: the window goes on responding
        assert "Opening big.png" in window.statusBar().currentMessage()
    assert int(window.state.evaluation.probs.argmax()) == 1
    assert window.state.input.source == str(path)


def test_a_big_broken_picture_is_reported(window, qtbot, tmp_path, huge_png):
    path = tmp_path / "big_broken.png"
    full = Image.new("L", (2500, 2500), 255)
    full.save(path)
    path.write_bytes(path.read_bytes()[:400])  # the header promises 6 megapixels, the data stops
    before = window.canvas.to_array()
    with qtbot.waitSignal(window.opener.refused, timeout=60_000):
        assert not window.open_path(path).finished  # decoded in the background, like every picture
    assert "Could not open the image" in window.message.text
    np.testing.assert_array_equal(window.canvas.to_array(), before)


def test_the_gallery_is_one_dialog_that_remembers_its_class(window, qtbot):
    window.actions["samples"].trigger()
    first = window.gallery
    first.set_class(6)
    first.reject()
    window.actions["samples"].trigger()
    assert window.gallery is first and first.isVisible()
    assert "class 6" in first.count.text()
    first.reject()


def test_a_fifo_dropped_on_the_window_does_not_freeze_it(window, qtbot, tmp_path, draw, gui):
    """Issue 7: no file is read on the GUI thread; opening a FIFO (which blocks until a writer comes) leaves the window working."""
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    t0 = time.perf_counter()
    window.open_path(fifo)
    assert time.perf_counter() - t0 < 0.5
    window.canvas.clear()
    draw(window.canvas, [(0.5, 0.15), (0.5, 0.85)])  # the window keeps drawing and evaluating meanwhile
    gui.wait_live(window)
    assert int(window.state.evaluation.probs.argmax()) == 1
    t0 = time.perf_counter()
    window.close()  # whether or not the core has refused the FIFO by now
    assert time.perf_counter() - t0 < 2


def test_closing_while_a_picture_decodes_returns_at_once(window, qtbot, tmp_path, monkeypatch):
    """Issue 7: a decode cannot be cancelled (a big picture on a slow disk takes seconds), so closing
    must not wait for it. The decode is made to hang: since issue 7 even 40 megapixels decode in 0.1 s."""
    import threading

    import advviewer.reading.image_io

    release = threading.Event()
    real = advviewer.reading.image_io.load_image

    def slow_decode(path, cancel=None):
        release.wait(30)
        return real(path, cancel=cancel)

    monkeypatch.setattr(advviewer.reading.image_io, "load_image", slow_decode)
    path = tmp_path / "digit.png"
    Image.new("L", (280, 280), 0).save(path)
    task = window.open_path(path)
    qtbot.wait(100)  # the decode has begun
    assert not task.finished
    t0 = time.perf_counter()
    window.close()
    assert time.perf_counter() - t0 < 2
    release.set()
