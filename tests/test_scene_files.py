"""Scene files (advviewer.reading.scene_file, advviewer.writing.scene_file): the same values back, every hostile file one line."""

from __future__ import annotations

import dataclasses
import zipfile

import numpy as np
import pytest
from hostile_scenes import HOSTILE_SCENES, good_scene, good_scene_value, members_of, with_json

from advviewer.errors import SceneFileError
from advviewer.reading.scene_file import MAX_MEMBER_BYTES, lecture_paths, read_scene
from advviewer.writing.scene_file import write_scene


def _assert_same(a, b) -> None:
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), field.name
        elif dataclasses.is_dataclass(x):
            _assert_same(x, y)
        else:
            assert x == y, field.name


def test_a_scene_comes_back_with_the_same_values_and_arrays(tmp_path):
    scene = good_scene_value()
    path = write_scene(tmp_path / "lesson", scene)
    assert path.name == "lesson.advscene"
    back = read_scene(path)
    _assert_same(scene, back)
    assert back.result.history.shape == (3, 28, 28)
    # readable without advviewer: a zip of JSON and .npy arrays
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(["scene.json", "input.npy", "adversarial.npy", "perturbation.npy",
                                                     "original_probs.npy", "adversarial_probs.npy", "history.npy"])


def test_a_scene_without_a_result_holds_no_result_arrays(tmp_path):
    scene = dataclasses.replace(good_scene_value(), result=None, runs=())
    back = read_scene(write_scene(tmp_path / "plain.advscene", scene))
    assert back.result is None and back.runs == () and np.array_equal(back.input, scene.input)
    assert set(members_of(tmp_path / "plain.advscene")) == {"scene.json", "input.npy"}


def test_text_from_the_file_is_made_printable(tmp_path):
    good = good_scene(tmp_path)
    path = with_json(good, tmp_path, "escape.advscene", lambda r: r.update(source="\x1b[2Jgone\nsecond line"))
    source = read_scene(path).source
    assert source.isprintable() and "\x1b" not in source and "\n" not in source


@pytest.mark.parametrize("case", HOSTILE_SCENES, ids=[case.name for case in HOSTILE_SCENES])
def test_every_hostile_scene_is_one_clear_line(tmp_path, case):
    good = good_scene(tmp_path)
    path = case.build(good, tmp_path)
    with pytest.raises(SceneFileError) as refused:
        read_scene(path)
    message = str(refused.value)
    assert message.isprintable() and len(message) < 400, message
    assert path.name in message and case.expected in message, message
    assert not (tmp_path / "PWNED").exists()  # nothing was unpickled


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path, monkeypatch):
    good = good_scene(tmp_path)
    bomb = next(case for case in HOSTILE_SCENES if case.name == "zip bomb").build(good, tmp_path)
    assert bomb.stat().st_size < MAX_MEMBER_BYTES  # small on disk
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: opened.append(getattr(name, "filename", name))
                        or real_open(self, name, *a, **k))
    with pytest.raises(SceneFileError, match="unpacks to"):
        read_scene(bomb)
    assert "scene.json" not in opened


def test_a_lecture_is_the_folders_scene_files_in_name_order(tmp_path):
    scene = good_scene_value()
    for name in ("02-second", "01-first", "10-last"):
        write_scene(tmp_path / name, scene)
    (tmp_path / "notes.txt").write_text("not a scene")
    names = [p.name for p in lecture_paths(tmp_path / "02-second.advscene")]
    assert names == ["01-first.advscene", "02-second.advscene", "10-last.advscene"]
    assert [p.name for p in lecture_paths(tmp_path)] == names
    with pytest.raises(SceneFileError, match="no .advscene files"):
        lecture_paths(tmp_path / "empty" if (tmp_path / "empty").mkdir() is None else tmp_path)
