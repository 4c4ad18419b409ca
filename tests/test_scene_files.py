"""Scene files (advviewer.reading.scene_file, advviewer.writing.scene_file): the same values back, every hostile file one line."""

from __future__ import annotations

import dataclasses
import json
import zipfile

import numpy as np
import pytest
from hostile_scenes import HOSTILE_SCENES, good_scene, good_scene_value, members_of, with_json

from advviewer.errors import SceneFileError
from advviewer.reading.scene_file import MAX_MEMBER_BYTES, lecture_paths, read_scene, read_scene_here
from advviewer.writing.scene_file import write_scene


def _assert_same(a, b) -> None:
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), field.name
        elif dataclasses.is_dataclass(x):
            _assert_same(x, y)
        elif isinstance(x, tuple) and x and dataclasses.is_dataclass(x[0]):
            assert len(x) == len(y), field.name
            for one, other in zip(x, y, strict=True):
                _assert_same(one, other)
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
                                                     "original_probs.npy", "adversarial_probs.npy", "history.npy",
                                                     "kept_images.npy", "kept_probs.npy"])


def test_the_sessions_other_results_come_back_with_their_inputs_models_and_numbers(tmp_path):
    scene = good_scene_value()
    back = read_scene(write_scene(tmp_path / "lesson", scene))
    assert len(back.kept) == len(scene.kept) == 2
    for kept, read in zip(scene.kept, back.kept, strict=True):
        _assert_same(kept, read)  # arrays equal in dtype and values, numbers == (floats bit for bit)
        assert read.result.history is None
    assert back.kept[0].model.name == "fc10-1e-4" and back.kept[1].model == scene.model
    record = json.loads(members_of(tmp_path / "lesson.advscene")["scene.json"])
    assert record["version"] == 2 and [r["model"] for r in record["results"]] == [0, 1]


def test_a_version_1_scene_still_opens(tmp_path):
    scene = dataclasses.replace(good_scene_value(), kept=())
    members = members_of(write_scene(tmp_path / "new", scene))
    record = json.loads(members["scene.json"])
    record["version"] = 1
    for name in ("models", "results"):
        del record[name]
    members["scene.json"] = json.dumps(record).encode()
    with zipfile.ZipFile(tmp_path / "old.advscene", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    back = read_scene(tmp_path / "old.advscene")
    assert back.kept == () and back.result.c == scene.result.c


def test_a_scene_that_would_not_fit_keeps_the_newest_results_that_do(tmp_path, monkeypatch):
    from advviewer.writing import scene_file as writer

    scene = dataclasses.replace(good_scene_value(), kept=good_scene_value().kept * 4)  # 8 kept results
    whole = len(writer.scene_bytes(dataclasses.replace(scene, kept=())))
    monkeypatch.setattr(writer, "MAX_SCENE_BYTES", whole + 3000)  # room for a couple of results, not eight
    back = read_scene(writer.write_scene(tmp_path / "tight", scene))
    assert 0 < len(back.kept) < 8
    assert (tmp_path / "tight.advscene").stat().st_size <= whole + 3000
    for kept, read in zip(scene.kept[-len(back.kept):], back.kept, strict=True):  # the newest, in order
        _assert_same(kept, read)


def test_a_scene_without_a_result_holds_no_result_arrays(tmp_path):
    scene = dataclasses.replace(good_scene_value(), result=None, runs=(), kept=())
    back = read_scene(write_scene(tmp_path / "plain.advscene", scene))
    assert back.result is None and back.runs == () and np.array_equal(back.input, scene.input)
    assert set(members_of(tmp_path / "plain.advscene")) == {"scene.json", "input.npy"}


def test_text_from_the_file_is_made_printable(tmp_path):
    good = good_scene(tmp_path)
    path = with_json(good, tmp_path, "escape.advscene", lambda r: r.update(source="\x1b[2Jgone\nsecond line"))
    source = read_scene(path).source
    assert source.isprintable() and "\x1b" not in source and "\n" not in source


@pytest.mark.parametrize("reader", [read_scene, read_scene_here], ids=["through the sandbox", "static checks alone"])
@pytest.mark.parametrize("case", HOSTILE_SCENES, ids=[case.name for case in HOSTILE_SCENES])
def test_every_hostile_scene_is_one_clear_line(tmp_path, case, reader):
    good = good_scene(tmp_path)
    path = case.build(good, tmp_path)
    with pytest.raises(SceneFileError) as refused:
        reader(path)
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
        read_scene_here(bomb)  # the static check, in this process (where zipfile.ZipFile.open is watched)
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


def test_the_largest_scene_fits_the_file_bound_and_reads_within_the_childs_limits(tmp_path):
    """500 kept results and 2,000 iterates of random pixels (deflate cannot shrink them), texts at their longest:
    the file stays under 16 MB with every result kept, and the sandboxed reader gives them all back."""
    from advviewer.reading.scene_file import MAX_HISTORY, MAX_KEPT, MAX_SCENE_BYTES, KeptResult

    rng = np.random.default_rng(0)
    base = good_scene_value()
    model, result = base.kept[1].model, base.kept[1].result
    kept = []
    for _ in range(MAX_KEPT):
        x, adversarial = rng.random((28, 28), dtype=np.float32), rng.random((28, 28), dtype=np.float32)
        kept.append(KeptResult(x, "\U0001F600" * 500, model, dataclasses.replace(
            result, adversarial=adversarial, perturbation=adversarial - x, message="é" * 500)))
    history = rng.random((MAX_HISTORY, 28, 28), dtype=np.float32)
    scene = dataclasses.replace(base, kept=tuple(kept), result=dataclasses.replace(base.result, history=history))
    path = write_scene(tmp_path / "largest", scene)
    assert path.stat().st_size <= MAX_SCENE_BYTES
    back = read_scene(path)
    assert len(back.kept) == MAX_KEPT and back.result.history.shape == (MAX_HISTORY, 28, 28)
    assert np.array_equal(back.kept[-1].result.adversarial, kept[-1].result.adversarial)


@pytest.mark.parametrize("field, value", [("view", "Models"), ("objective", "fastest"), ("c", -1.0)])
def test_a_scene_a_reader_would_refuse_is_never_written(tmp_path, field, value):
    """Saving checks what it writes with the reader's own checks: a bad value is one ExportError line and no file, never
    a scene file that then does not open (a caller passing the tab's title "Models" for its name "models" made one)."""
    from advviewer.errors import ExportError

    scene = dataclasses.replace(good_scene_value(), **{field: value})
    with pytest.raises(ExportError, match="cannot be saved"):
        write_scene(tmp_path / "bad.advscene", scene)
    assert not list(tmp_path.iterdir())
