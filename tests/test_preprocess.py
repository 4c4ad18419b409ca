"""MNIST-style preprocessing: drawings, photos and files of any mode become digits the models read."""

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from strokes import draw_digit

from advviewer import load_image, predict, preprocess
from advviewer.errors import ImageLoadError


def assert_mnist_frame(x: np.ndarray) -> None:
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= 0.0 and x.max() <= 1.0
    rows = np.flatnonzero((x > 0.1).any(1))
    cols = np.flatnonzero((x > 0.1).any(0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 22  # fits the 20x20 box (+ anti-aliasing)
    cy, cx = ndimage.center_of_mass(x)
    assert abs(cy - 13.5) <= 1.0 and abs(cx - 13.5) <= 1.0  # centred by centre of mass


@pytest.mark.parametrize("width", [6, 18, 40])
def test_cnn_recognises_mouse_drawn_digits(cnn, width):
    """Strokes as the 280x280 canvas draws them, thin to thick: at least 9 of 10 right."""
    right = 0
    for digit in range(10):
        x = preprocess(draw_digit(digit, size=280, width=width))
        assert_mnist_frame(x)
        right += int(predict(cnn, x).argmax() == digit)
    assert right >= 9


def test_dark_on_light_is_inverted(cnn):
    light = preprocess(draw_digit(7, invert=True))
    dark = preprocess(draw_digit(7))
    np.testing.assert_allclose(light, dark, atol=1e-6)
    assert predict(cnn, light).argmax() == 7


def test_photo_like_input_with_grey_paper_and_noise(cnn):
    """Dark pencil on uneven grey paper with sensor noise, like a phone photo."""
    rng = np.random.default_rng(1)
    ink = draw_digit(4, size=600, width=30).astype(np.float64) / 255
    paper = 0.75 + 0.1 * np.linspace(0, 1, 600)[None, :] + rng.normal(0, 0.03, (600, 600))
    photo = np.clip(paper - 0.55 * ink, 0, 1)
    x = preprocess((photo * 255).astype(np.uint8))
    assert_mnist_frame(x)
    assert predict(cnn, x).argmax() == 4


@pytest.mark.parametrize("shape", [(28, 28), (1000, 37), (37, 1000), (3000, 2000)])
def test_any_size(shape):
    image = np.zeros(shape, np.uint8)
    h, w = shape
    image[h // 4 : 3 * h // 4, w // 3 : w // 3 + max(1, w // 8)] = 255
    assert_mnist_frame(preprocess(image))


def test_empty_and_flat_images_give_zeros_not_nan():
    for image in (np.zeros((280, 280)), np.full((280, 280), 255, np.uint8), np.full((50, 50), 0.5)):
        x = preprocess(image)
        assert x.shape == (28, 28) and np.isfinite(x).all() and x.max() == 0.0


def _save(tmp_path, image: Image.Image, name: str):
    path = tmp_path / name
    image.save(path)
    return path


def _digit_image(digit=2, size=200) -> np.ndarray:
    return draw_digit(digit, size=size, width=size // 14)


@pytest.mark.parametrize(
    "name, make",
    [
        ("gray.png", lambda a: Image.fromarray(a)),
        ("rgb.jpg", lambda a: Image.fromarray(np.stack([255 - a] * 3, -1))),  # dark ink on white
        ("palette.png", lambda a: Image.fromarray(a).convert("P")),
        ("bits16.png", lambda a: Image.fromarray(a.astype(np.uint16) * 257)),
        ("image.bmp", lambda a: Image.fromarray(a)),
        ("image.tiff", lambda a: Image.fromarray(a)),
        ("image.webp", lambda a: Image.fromarray(np.stack([a] * 3, -1))),
        ("white_on_transparent.png", lambda a: Image.fromarray(np.stack([np.full_like(a, 255)] * 3 + [a], -1), "RGBA")),
        ("black_on_transparent.png", lambda a: Image.fromarray(np.stack([np.zeros_like(a)] * 3 + [a], -1), "RGBA")),
    ],
)
def test_file_modes(tmp_path, cnn, name, make):
    path = _save(tmp_path, make(_digit_image(2)), name)
    x = load_image(path)
    assert_mnist_frame(x)
    assert predict(cnn, x).argmax() == 2


def test_npy_arrays(tmp_path, cnn, test_digits):
    images, labels = test_digits
    np.save(tmp_path / "mnist.npy", images[0])
    np.testing.assert_array_equal(load_image(tmp_path / "mnist.npy"), images[0])  # 28x28 in [0,1]: kept exactly
    np.save(tmp_path / "batch1.npy", images[:1][:, None])  # (1, 1, 28, 28)
    np.testing.assert_array_equal(load_image(tmp_path / "batch1.npy"), images[0])
    np.save(tmp_path / "big.npy", _digit_image(5, 280).astype(np.float64))  # 0..255 floats
    assert predict(cnn, load_image(tmp_path / "big.npy")).argmax() == 5


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((3, 28, 28)), "shape"),
        (np.zeros((5,)), "shape"),
        (np.full((28, 28), np.nan), "NaN"),
        (np.array(["a", "b"]), "numeric"),
        (np.zeros((0, 28)), "empty"),
    ],
)
def test_bad_arrays(tmp_path, array, message):
    path = tmp_path / "bad.npy"
    np.save(path, array)
    with pytest.raises(ImageLoadError, match=message):
        load_image(path)
    with pytest.raises(ImageLoadError, match=message):
        preprocess(array)


def test_pickled_npy_is_refused(tmp_path):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ImageLoadError, match="objects.npy"):
        load_image(path)


def test_bad_files(tmp_path, huge_png):
    (tmp_path / "notes.png").write_text("not an image at all")
    with pytest.raises(ImageLoadError, match="not an image file in a supported format"):
        load_image(tmp_path / "notes.png")
    good = _save(tmp_path, Image.fromarray(_digit_image()), "good.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(ImageLoadError, match="corrupt or truncated"):
        load_image(tmp_path / "cut.png")
    with pytest.raises(ImageLoadError, match="no such file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageLoadError, match="is a directory"):
        load_image(tmp_path)
    with pytest.raises(ImageLoadError, match="900,000,000 pixels.*refused"):
        load_image(huge_png)
