"""The attack's path as a moving picture (advviewer.writing.animation): GIF and APNG read back with Pillow."""

import errno
import io
import os

import numpy as np
import pytest
from PIL import Image, ImageSequence

from advviewer import load_model
from advviewer.attack import lbfgs_attack
from advviewer.cli import main
from advviewer.data.bundled import load_digits
from advviewer.errors import ExportError
from advviewer.writing import animation
from advviewer.writing.animation import PathOptions, _Layout, export_path, path_movie, render_frame
from advviewer.writing.pixels import to_8bit


@pytest.fixture(scope="module")
def model():
    return load_model("cnn")


@pytest.fixture(scope="module")
def seven_to_three(model):
    images, labels = load_digits("test")
    seven = images[int(np.flatnonzero(labels == 7)[0])]
    result = lbfgs_attack(model, seven, target=3, record_history=True)
    assert result.success and len(result.history) >= 6
    return result


def frames_of(path) -> list[np.ndarray]:
    with Image.open(path) as image:
        return [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)]


def cell(frame: np.ndarray, which: int, size=animation.SLIDE_SIZE) -> np.ndarray:
    """The pixels of picture ``which`` (0 original, 1 r, 2 the image at that step) in a frame of ``size``."""
    lay = _Layout.of(*size)
    left = lay.lefts[which]
    return frame[lay.top:lay.top + lay.cell, left:left + lay.cell]


def enlarged(image: np.ndarray, size=animation.SLIDE_SIZE) -> np.ndarray:
    side = _Layout.of(*size).cell
    return np.asarray(Image.fromarray(to_8bit(image)).convert("RGB").resize((side, side), Image.Resampling.NEAREST))


def test_history_records_the_c_of_every_iterate(seven_to_three):
    r = seven_to_three
    assert len(r.history_c) == len(r.history)
    assert np.isnan(r.history_c[0])  # the start point, before any solve
    assert r.history_c[-1] == pytest.approx(r.c)  # the last iterate is the result's solve
    assert len(set(r.history_c[1:])) >= 2  # minimal mode: the path runs through several c's warm starts


def test_gif_and_apng_read_back_frame_by_frame(seven_to_three, model, tmp_path):
    files = export_path(seven_to_three, tmp_path, model=model, stem="seven")
    assert {p.name for p in files.values()} == {"seven_path.gif", "seven_path.apng"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seven_path.apng", "seven_path.gif"]  # no temporary file
    steps = len(seven_to_three.history)
    for fmt, path in files.items():
        with Image.open(path) as image:
            assert image.format == ("GIF" if fmt == "gif" else "PNG") and image.is_animated
            assert image.size == animation.SLIDE_SIZE and image.n_frames == steps
    with Image.open(files["gif"]) as gif:  # the original and the result held, the steps between evenly paced
        durations = [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]
    assert durations[0] == animation.FIRST_FRAME_MS and durations[-1] == animation.LAST_FRAME_MS
    assert len(set(durations[1:-1])) == 1 and 60 <= durations[1] <= 400
    first, *_, last = frames_of(files["apng"])  # lossless: the pictures exactly as drawn
    original = enlarged(seven_to_three.original)
    np.testing.assert_array_equal(cell(first, 0), original)
    np.testing.assert_array_equal(cell(first, 2), original)  # step 0 is the original itself
    np.testing.assert_array_equal(cell(last, 2), enlarged(seven_to_three.adversarial))  # the last frame is the result
    assert not np.array_equal(cell(first, 1), cell(last, 1))  # r: blank at the start, drawn at the end
    gif_first, *_, gif_last = frames_of(files["gif"])  # a palette per frame: close, not exact
    assert np.abs(cell(gif_last, 2).astype(int) - enlarged(seven_to_three.adversarial)).mean() < 2


def test_long_paths_are_subsampled_keeping_first_and_last(seven_to_three, model, tmp_path):
    options = PathOptions(size=(640, 360), max_frames=5)
    files = export_path(seven_to_three, tmp_path, model=model, stem="short", options=options)
    for path in files.values():
        with Image.open(path) as image:
            assert image.n_frames == 5 and image.size == (640, 360)
    movie = path_movie(model, seven_to_three, 5)
    assert [f.step for f in movie.frames][0] == 0 and movie.frames[-1].step == len(seven_to_three.history) - 1
    frames = frames_of(files["apng"])
    np.testing.assert_array_equal(cell(frames[-1], 2, (640, 360)), enlarged(seven_to_three.adversarial, (640, 360)))


def test_a_file_over_the_size_cap_is_made_with_fewer_frames(seven_to_three, model, monkeypatch):
    movie = path_movie(model, seven_to_three)
    full = animation.animation_bytes(movie, "gif")
    monkeypatch.setattr(animation, "MAX_BYTES", len(full) * 2 // 3)
    capped = animation.animation_bytes(movie, "gif")
    assert len(capped) <= len(full) * 2 // 3
    with Image.open(io.BytesIO(capped)) as image:
        assert 2 <= image.n_frames <= len(movie.frames) // 2 + 1
        image.seek(image.n_frames - 1)  # still ends on the result
        last = np.asarray(image.convert("RGB"))
    assert np.abs(cell(last, 2).astype(int) - enlarged(seven_to_three.adversarial)).mean() < 2


def test_captions_are_written_in_every_frame(seven_to_three, model, tmp_path):
    movie = path_movie(model, seven_to_three)
    files = export_path(seven_to_three, tmp_path, model=model, stem="seven", formats=("apng",))
    frames = frames_of(files["apng"])
    lay = _Layout.of(*animation.SLIDE_SIZE)
    title_band = slice(lay.top - 2 * lay.text, lay.top - lay.text // 2)
    caption_band = slice(lay.top + lay.cell + 2, lay.top + lay.cell + 3 * lay.text)
    for shown, frame in zip(frames, movie.frames):
        bare = np.asarray(render_frame(movie, frame, captions=False))
        differs = np.any(shown != bare, axis=2)
        assert differs[title_band].sum() > 500 and differs[caption_band].sum() > 2000  # step, c, ||r||; answers
        np.testing.assert_array_equal(cell(shown, 2), cell(bare, 2))  # text beside the pictures, never over them
    # the title changes with the step (step number, c, ||r||)
    assert not np.array_equal(frames[0][title_band], frames[-1][title_band])
    assert movie.frames[0].c is None and movie.frames[-1].c == pytest.approx(seven_to_three.c)
    assert movie.frames[-1].answer == 3 and movie.frames[0].answer == 7


def test_a_write_that_fails_leaves_no_file(seven_to_three, model, tmp_path, monkeypatch):
    written = []
    real_write = os.write

    def full_disk(fd, data):
        written.append(fd)
        if len(written) > 1:  # the GIF goes in whole, the APNG does not
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(ExportError, match="disk full"):
        export_path(seven_to_three, tmp_path, model=model, stem="seven")
    assert list(tmp_path.iterdir()) == []


def test_a_result_without_a_path_and_bad_options_are_one_line(seven_to_three, model, tmp_path):
    no_path = lbfgs_attack(model, seven_to_three.original, target=3)
    with pytest.raises(ExportError, match="kept no iterates"):
        export_path(no_path, tmp_path, model=model, stem="x")
    with pytest.raises(ExportError, match="size"):
        export_path(seven_to_three, tmp_path, model=model, stem="x", options=PathOptions(size=(100, 50)))
    with pytest.raises(ExportError, match="name"):
        export_path(seven_to_three, tmp_path, model=model, stem="../x")
    assert list(tmp_path.iterdir()) == []


def test_cli_path_gif(test_digit_files, tmp_path, capsys):
    from advviewer import load_image, predict

    second = int(np.argsort(predict(load_model("cnn"), load_image(test_digit_files[0])))[-2])
    assert main(["attack", str(test_digit_files[0]), "--target", str(second), "--out", str(tmp_path), "--path-gif"]) == 0
    (gif,) = tmp_path.glob("*_path.gif")
    assert f"path: {gif.name}" in capsys.readouterr().out
    (apng,) = tmp_path.glob("*_path.apng")
    assert gif.name.startswith("digit0_cnn_") and apng.stem == gif.stem
    with Image.open(gif) as image:
        assert image.n_frames >= 2 and image.size == animation.SLIDE_SIZE
