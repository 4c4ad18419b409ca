"""Scenes through the state, without Qt: saved, opened, the same values and result, no attack run."""

from __future__ import annotations

import helpers
import numpy as np
import pytest

from advviewer.reading import sandbox, scene_file
from advviewer.session import choices, explore, jobs, rules, scenes

RESULT_ARRAYS = ("adversarial", "perturbation", "original_probs", "adversarial_probs", "original")
RESULT_NUMBERS = ("success", "c", "l2", "linf", "distortion", "target", "original_class", "adversarial_class",
                  "evaluations", "iterations", "seconds", "message", "mode", "untargeted", "loss", "tau", "objective")


@pytest.fixture
def no_attacks(monkeypatch):
    """Every attack or c sweep the state starts from now on, recorded."""
    return helpers.record_attack_jobs(monkeypatch)


def _state_values(s):
    return (s.input.source, s.model.name, s.target, s.objective, s.c, s.gradient)


def test_a_scene_opened_shows_the_same_values_and_result_without_running_an_attack(headless, seven_to_three, tmp_path,
                                                                                   no_attacks):
    s = headless.state
    s.set_gradient_class(5)
    saved = scenes.save_scene(tmp_path / "seven", s.scene("compare"))
    before, result = _state_values(s), seven_to_three.result
    pixels, runs = s.input.pixels.copy(), s.results.runs_for(s.key()).points
    assert len(runs) > 1  # the minimal attack and its c sweep
    s.set_picture(np.zeros((280, 280), np.uint8))  # the user moves on: another input, target, objective, c
    s.set_target(None)
    s.set_objective(choices.PAPER_OBJECTIVE)
    s.set_c(50.0)
    assert s.current_result() is None
    scene = scenes.read_scene(saved)
    assert scene.view == "compare"
    attacks_asked = len(headless.named("attack_started"))
    assert s.open_scene(scene) is None  # the model in use: nothing to load
    headless.settle()
    assert no_attacks == [] and len(headless.named("attack_started")) == attacks_asked
    assert _state_values(s) == before and np.array_equal(s.input.pixels, pixels)
    shown = s.current_result()
    assert shown is not None and s.result_view.current is shown.result and s.result_view.stale is None
    for name in RESULT_ARRAYS:
        assert np.array_equal(getattr(shown.result, name), getattr(result, name)), name
    for name in RESULT_NUMBERS:
        assert getattr(shown.result, name) == getattr(result, name), name
    assert len(shown.result.history) == len(result.history)
    assert s.results.runs_for(s.key()).points == runs
    assert headless.named("scene_opened")[-1][0] is scene
    assert no_attacks == []


def test_a_restored_result_goes_stale_like_any_other(headless, seven_to_three, tmp_path, no_attacks):
    s = headless.state
    s.open_scene(scenes.read_scene(scenes.save_scene(tmp_path / "seven", s.scene())))
    headless.settle()
    assert s.current_result() is not None
    s.set_target(5)
    assert s.current_result() is None and s.result_view.stale.startswith("The target changed")


def test_a_stale_result_is_not_saved_as_current(headless, seven_to_three, tmp_path):
    s = headless.state
    s.set_target(5)  # the result on screen is now stale
    scene = s.scene()
    assert scene.result is None and scene.target == 5
    back = scenes.read_scene(scenes.save_scene(tmp_path / "stale", scene))
    assert back.result is None


def test_a_scene_of_another_zoo_model_loads_it_and_still_runs_no_attack(headless, seven_to_three, tmp_path, no_attacks):
    s = headless.state
    scene = scenes.read_scene(scenes.save_scene(tmp_path / "seven", s.scene()))
    s.load_model("fc10-1e-4")
    headless.settle()
    no_attacks.clear()  # the switch re-ran the attack (the model-switch rule); the scene must not
    assert s.open_scene(scene) is not None  # cnn loads first
    headless.settle()
    assert s.model.name == "cnn" and no_attacks == []
    assert np.array_equal(s.current_result().result.adversarial, seven_to_three.result.adversarial)


def _user_model(tmp_path, name: str = "fc10-1e-2"):
    from helpers import save_pt2

    from advviewer import load_model

    path = tmp_path / "mine.pt2"
    save_pt2(load_model(name), path)
    return path


def test_a_user_models_scene_opens_only_while_its_file_is_unchanged(headless, seven, tmp_path, no_attacks):
    s = headless.state
    path = _user_model(tmp_path)
    s.load_model(str(path))
    headless.settle()
    s.set_picture(None, seven, "a seven")
    s.set_target(3)
    s.find_minimal_c()
    headless.settle()
    scene = scenes.read_scene(scenes.save_scene(tmp_path / "mine", s.scene()))
    assert scene.model.kind == "file" and scene.model.name == str(path.resolve()) and len(scene.model.sha256) == 64
    s.load_model("cnn")
    headless.settle()
    no_attacks.clear()

    _user_model(tmp_path, "fc10-1e-4")  # the file now holds another model
    kept = (s.model, s.input, s.target, s.results.latest)
    s.open_scene(scene)
    headless.settle()
    message, kind = headless.named("message")[-1]
    assert kind == "error" and "changed since the scene was saved" in message and "\n" not in message
    assert (s.model, s.input, s.target, s.results.latest) == kept

    path.unlink()
    s.open_scene(scene)
    headless.settle()
    assert "mine.pt2 is missing" in headless.named("message")[-1][0]
    assert (s.model, s.input, s.target, s.results.latest) == kept and no_attacks == []


def test_the_formats_words_are_the_windows(headless):
    assert set(scene_file.OBJECTIVES) == set(choices.OBJECTIVES)
    assert scene_file.CONFIDENCES == choices.CONFIDENCES
    assert set(scene_file.GRADIENT_METHODS) == set(choices.GRADIENT_METHODS)
    assert set(scene_file.GRADIENT_CLASSES) == {c for c in choices.GRADIENT_CLASSES if isinstance(c, str)}
    assert set(scene_file.VIEWS) == set(explore.VIEWS)


def test_a_scene_of_the_model_in_use_stops_another_model_on_its_way(headless, seven_to_three, tmp_path, no_attacks):
    s = headless.state
    scene = scenes.read_scene(scenes.save_scene(tmp_path / "seven", s.scene()))
    s.load_model("fc10-1e-4")  # asked for, still loading
    assert s.open_scene(scene) is None
    headless.settle()
    assert s.model.name == "cnn" and s.loading is None and no_attacks == []
    assert np.array_equal(s.current_result().result.adversarial, seven_to_three.result.adversarial)


@pytest.mark.parametrize("elsewhere", ["another file", "a fifo", "a folder"])
def test_a_model_path_pointing_elsewhere_is_never_loaded(headless, seven_to_three, tmp_path, monkeypatch, elsewhere):
    import dataclasses
    import os

    s = headless.state
    target = tmp_path / "elsewhere"
    if elsewhere == "another file":
        target.write_bytes(b"#!/bin/sh\nrm -rf ~\n")
    elif elsewhere == "a fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
    scene = dataclasses.replace(s.scene(), model=scene_file.SceneModel(str(target), "file", "0" * 64))
    scene = scenes.read_scene(scenes.save_scene(tmp_path / "pointing", scene))
    loads = []
    monkeypatch.setattr(jobs, "load_model_job", lambda *a, **k: loads.append(a))
    kept = (s.model, s.input, s.results.latest)
    s.open_scene(scene)
    headless.settle(timeout=20)  # a FIFO is never opened for reading: no hang
    message = headless.named("message")[-1][0]
    assert message.startswith("Scene not opened: ") and "\n" not in message and loads == []
    assert (s.model, s.input, s.results.latest) == kept


def test_a_scene_keeps_the_confidence_asked_for(headless, seven_to_three, tmp_path, no_attacks):
    """A scene saved with 'at least 90% sure' opens with that confidence, and its 90% result is the current one."""
    s = headless.state
    s.set_confidence(0.9)
    s.find_minimal_c()
    headless.settle()
    sure = s.current_result()
    assert sure is not None and sure.result.confidence == 0.9 and sure.result.adversarial_probs[3] >= 0.9
    saved = scenes.save_scene(tmp_path / "sure", s.scene())
    s.set_confidence(None)
    assert s.current_result() is None
    started = len(no_attacks)
    s.open_scene(scenes.read_scene(saved))
    headless.settle()
    assert s.confidence == 0.9 and len(no_attacks) == started
    shown = s.current_result()
    assert shown is not None and shown.result.l2 == sure.result.l2 and shown.result.confidence == 0.9


def _fresh_state():
    """A second session, as in a new process: no model in use, no results."""
    from advviewer.session.state import SessionState
    from advviewer.session.tasks import DeliveryQueue

    queue = DeliveryQueue()
    state = SessionState(queue.post)

    def settle() -> None:
        assert state.wait_until_idle(120, queue.run_pending), "the state did not settle"

    return state, settle


def _exported_all(items, folder):
    """What "File > Export all results" writes for ``items``: every file's name, each JSON record, each array, each PNG."""
    import json

    from advviewer.session.export import ExportRequest, export_job
    from advviewer.session.tasks import TaskState

    outcome = export_job(ExportRequest(tuple(items), folder, numbered=True))(TaskState())
    assert outcome.complete, outcome.error
    files = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".json":
            files[path.name] = json.loads(path.read_text())
        elif path.suffix == ".npy":
            files[path.name] = np.load(path, allow_pickle=False)
        else:
            files[path.name] = path.read_bytes()
    return files


def _a_session_of_three_results(s, headless, seven, test_digits):
    """After seven_to_three (cnn, 7 -> 3, minimal): an untargeted attack on a 2 with fc10-1e-4, then cnn on the 7 again
    towards 5 with the paper's objective at a fixed c (the current result)."""
    images, labels = test_digits
    s.set_picture(None, images[list(labels).index(2)], "a two")
    s.set_target(None)
    s.load_model("fc10-1e-4")
    headless.settle()
    s.run_attack()
    headless.settle()
    s.load_model("cnn")
    headless.settle()
    s.set_picture(None, seven, "a seven")
    s.set_target(5)
    s.set_objective(choices.PAPER_OBJECTIVE)
    s.set_c(2.0)
    s.run_attack()
    headless.settle()
    assert s.current_result() is s.results.latest and len({item.model.name for item in s.results.items}) == 2


def test_export_all_after_opening_a_scene_writes_the_same_results_with_the_same_numbers(
        headless, seven_to_three, seven, test_digits, tmp_path, no_attacks):
    s = headless.state
    _a_session_of_three_results(s, headless, seven, test_digits)
    saved = scenes.save_scene(tmp_path / "session", s.scene())
    before = _exported_all(s.results.items, tmp_path / "before")
    assert len(s.results.items) >= 3 and sum(name.endswith(".json") for name in before) == len(s.results.items)

    fresh, settle = _fresh_state()
    try:
        no_attacks.clear()
        assert fresh.open_scene(scenes.read_scene(saved)) is not None  # cnn and fc10-1e-4 load; no attack runs
        settle()
        assert no_attacks == []
        assert [(i.model.name, i.source) for i in fresh.results.items] == [(i.model.name, i.source) for i in s.results.items]
        after = _exported_all(fresh.results.items, tmp_path / "after")
        assert sorted(after) == sorted(before)
        for name, value in before.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == after[name].dtype and np.array_equal(value, after[name]), name
            else:
                assert after[name] == value, name
        # the view never lies: the scene's result is the current one, every other result is not
        current = fresh.current_result()
        assert current is fresh.results.latest and fresh.result_view.current is current.result
        assert np.array_equal(current.result.adversarial, s.current_result().result.adversarial)
        assert not any(rules.is_current(item, fresh.key()) for item in fresh.results.items[:-1])
        assert [bool(item.result.history) for item in fresh.results.items] == [False] * (len(fresh.results.items) - 1) + [True]
        # opened again (a lecture stepped back to it): nothing loads (fc10-1e-4 is the session's already), and the
        # same results, not twice
        assert fresh.open_scene(scenes.read_scene(saved)) is None
        settle()
        assert len(fresh.results.items) == len(s.results.items) and no_attacks == []
    finally:
        fresh.shutdown()


def test_a_kept_result_whose_model_is_missing_is_left_out_and_the_scene_still_opens(headless, seven_to_three, seven,
                                                                                     test_digits, tmp_path, no_attacks):
    import dataclasses

    s = headless.state
    _a_session_of_three_results(s, headless, seven, test_digits)
    scene = s.scene()
    gone = scene_file.SceneModel(str(tmp_path / "gone.pt2"), "file", "0" * 64)
    scene = dataclasses.replace(scene, kept=tuple(dataclasses.replace(k, model=gone) if k.model.name == "fc10-1e-4" else k
                                                  for k in scene.kept))
    scene = scenes.read_scene(scenes.save_scene(tmp_path / "partial", scene))
    left_out = sum(k.model == gone for k in scene.kept)
    assert left_out >= 1
    fresh, settle = _fresh_state()
    messages = []
    fresh.events.message.connect(lambda text, kind: messages.append((text, kind)))
    try:
        no_attacks.clear()
        fresh.open_scene(scene)
        settle()
        assert fresh.current_result() is not None and no_attacks == []
        text, kind = messages[-1]
        assert kind == "error" and text.startswith(f"Not restored: {left_out} other result") and "gone.pt2" in text
        assert "\n" not in text
        assert len(fresh.results.items) == len(scene.kept) - left_out + 1
        assert all(item.model.name == "cnn" for item in fresh.results.items)
    finally:
        fresh.shutdown()


@pytest.mark.parametrize("change", ["target", "the same digit drawn again"])
def test_a_result_out_of_date_when_saved_opens_out_of_date_saying_the_same(headless, seven_to_three, seven, tmp_path,
                                                                            no_attacks, change):
    """The scene keeps it among the other results; opened, the panel shows it out of date as the saving window did,
    with the same words, and never as current (even when it was made on this digit for this target)."""
    s = headless.state
    if change == "target":
        s.set_target(5)
    else:
        s.set_picture(np.zeros((280, 280), np.uint8))
        s.set_picture(None, seven, "a seven")
    saved_view = s.result_view
    assert saved_view.stale is not None and s.current_result() is None
    scene = scenes.read_scene(scenes.save_scene(tmp_path / "stale", s.scene()))
    assert scene.result is None and len(scene.kept) == 1
    fresh, settle = _fresh_state()
    try:
        no_attacks.clear()
        fresh.open_scene(scene)
        settle()
        assert fresh.current_result() is None and no_attacks == []
        view = fresh.result_view
        assert view.shown is fresh.results.latest and view.current is None
        assert view.stale == saved_view.stale
        assert np.array_equal(view.shown.result.adversarial, saved_view.shown.result.adversarial)
    finally:
        fresh.shutdown()


def test_a_scene_whose_models_still_load_is_never_shown_once_another_is_asked_for(headless, tmp_path):
    """Open scene A (its model must load), then scene B before A's model came: only B is ever shown, and the lecture is
    B's (scene_files reads the files off the owner's thread; A's load is dropped when B is asked for)."""
    import dataclasses
    import time

    from hostile_scenes import good_scene_value

    s = headless.state
    a = scenes.save_scene(tmp_path / "a", dataclasses.replace(good_scene_value("fc10-1e-4"), kept=()))
    b = scenes.save_scene(tmp_path / "b", dataclasses.replace(good_scene_value("cnn"), target=3, kept=()))
    s.hold_model_loading()
    s.scene_files.open_path(a)
    end = time.perf_counter() + 30
    while s.loading != "fc10-1e-4":  # A is read; its model waits to load
        assert time.perf_counter() < end, "scene A was not read"
        headless.queue.run_pending()
        time.sleep(0.005)
    s.scene_files.open_path(b)
    s.release_model_loading()
    headless.settle()
    assert [args[0].model.name for args in headless.named("scene_opened")] == ["cnn"]
    assert s.model.name == "cnn" and s.loading is None and s.target == 3
    assert s.scene_files.lecture.current == b and s.scene_files.lecture.position() == "scene 2 of 2"
    assert ("another scene was asked for", s.model) in headless.named("model_refused")  # the picker shows the model kept


@pytest.mark.skipif(not sandbox.mechanism().isolated, reason="needs the sandbox's child process (fork: Linux, macOS)")
def test_a_scene_asked_for_while_a_hostile_one_keeps_its_reader_busy_is_shown_at_once(headless, tmp_path, monkeypatch):
    """A hostile scene keeps the sandbox's reader busy until SCENE_LIMITS' 10 s; Open another scene meanwhile (as a
    teacher pressing Next at once would): the new scene is shown within a moment, not after the hostile read's limit,
    and the hostile one never is."""
    import dataclasses
    import time

    import sandbox_cases
    from hostile_scenes import good_scene_value

    s = headless.state
    slow = scenes.save_scene(tmp_path / "slow", dataclasses.replace(good_scene_value("cnn"), c=0.25, kept=()))
    good = scenes.save_scene(tmp_path / "good", dataclasses.replace(good_scene_value("cnn"), c=4.0, kept=()))
    monkeypatch.setattr(scene_file, "_checked_members", sandbox_cases.scene_members_slowly_for_slow_names)
    assert scene_file.read_scene(good).c == 4.0  # the sandbox's server runs: the reader's clock starts at once
    assert scene_file.SCENE_LIMITS.wall_seconds >= 10
    s.scene_files.open_path(slow)
    time.sleep(0.5)  # the reader of the hostile scene is asleep
    asked = time.perf_counter()
    s.scene_files.open_path(good)
    while s.c != 4.0:
        assert time.perf_counter() - asked < 3.0, "the scene asked for waited for the superseded read"
        headless.queue.run_pending()
        time.sleep(0.005)
    headless.settle()
    assert [args[0].c for args in headless.named("scene_opened")] == [4.0]
    assert s.scene_files.lecture.current == good and s.scene_files.is_idle()
