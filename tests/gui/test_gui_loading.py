"""Opening pictures (every supported format, drag and drop, the gallery) and bad input."""

import numpy as np
import pytest
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
def test_open_each_image_format(window, tmp_path, three, suffix, mode):
    path = tmp_path / f"three.{suffix}"
    _save_as_photo(three, path, mode)
    window.canvas.clear()
    assert window.open_path(path)
    assert window.canvas.exact_input is not None
    assert window.canvas.to_array().any()
    assert int(window.session.live.probs.argmax()) == 3
    assert not window.message.isVisible()


def test_open_npy_reaches_the_model_unchanged(window, tmp_path, three):
    path = tmp_path / "three.npy"
    np.save(path, three)
    assert window.open_path(path)
    np.testing.assert_array_equal(window.session.input, three)
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
    assert int(window.session.live.probs.argmax()) == 3


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
    gallery.view.doubleClicked.emit(index)
    assert not gallery.isVisible()
    images, labels = load_bundled()
    k = gallery.model.dataset_index(0)
    assert labels[k] == 4
    np.testing.assert_array_equal(window.canvas.exact_input, images[k] / np.float32(255))
    qtbot.waitUntil(lambda: np.array_equal(window.session.input, images[k] / np.float32(255)), timeout=5000)


@pytest.mark.parametrize("kind", ["text", "truncated", "directory", "missing", "huge"])
def test_bad_pictures_leave_the_canvas_alone(window, tmp_path, huge_png, kind, draw, gui):
    window.canvas.clear()
    draw(window.canvas, [(0.5, 0.2), (0.5, 0.8)])
    gui.wait_live(window)
    before, probs = window.canvas.to_array(), window.session.live.probs.copy()
    path = {"text": tmp_path / "notes.png", "truncated": tmp_path / "cut.png", "directory": tmp_path,
            "missing": tmp_path / "nothing.png", "huge": huge_png}[kind]
    if kind == "text":
        path.write_text("this is not an image\n")
    if kind == "truncated":
        full = tmp_path / "full.png"
        Image.fromarray((np.random.default_rng(0).random((64, 64)) * 255).astype(np.uint8)).save(full)
        path.write_bytes(full.read_bytes()[:200])
    assert not window.open_path(path)
    assert window.message.isVisible()
    assert window.message.kind == "error"
    assert "Could not open the image" in window.message.text and "unchanged" in window.message.text
    np.testing.assert_array_equal(window.canvas.to_array(), before)
    np.testing.assert_array_equal(window.session.live.probs, probs)
    # and the window still works
    window.canvas.clear()
    draw(window.canvas, [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)])
    gui.wait_live(window)
    assert not np.array_equal(window.session.live.probs, probs)


def test_a_big_picture_is_decoded_in_the_background(window, qtbot, tmp_path):
    from advviewer.gui.picture_loader import BIG_PIXELS

    side = int(BIG_PIXELS**0.5) + 200
    paper = Image.new("L", (side, side), 255)
    paper.paste(0, (side // 2 - 120, side // 5, side // 2 + 120, 4 * side // 5))  # a thick dark "1" on white
    path = tmp_path / "big.png"
    paper.save(path)
    window.canvas.clear()
    with qtbot.waitSignal(window.loader.loaded, timeout=60_000):
        assert window.open_path(path) is None  # not loaded yet: the window goes on responding
        assert "Opening big.png" in window.statusBar().currentMessage()
    assert int(window.session.live.probs.argmax()) == 1
    assert window.canvas.source == str(path)


def test_a_big_broken_picture_is_reported(window, qtbot, tmp_path, huge_png):
    from advviewer.gui import picture_loader

    path = tmp_path / "big_broken.png"
    full = Image.new("L", (2500, 2500), 255)
    full.save(path)
    path.write_bytes(path.read_bytes()[:400])  # the header promises 6 megapixels, the data stops
    before = window.canvas.to_array()
    assert picture_loader.is_big(path)
    with qtbot.waitSignal(window.loader.failed, timeout=60_000):
        assert window.open_path(path) is None
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
