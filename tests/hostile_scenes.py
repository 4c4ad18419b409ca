"""Broken and hostile scene files, built in a folder from a good one (advviewer.reading.scene_file).

``good_scene(folder)`` writes a valid scene (a real digit, a consistent result, no model needed);
each entry of HOSTILE_SCENES takes that file and a folder and returns a file that must be refused
with one SceneFileError line (``expected``: words the line must hold). Nothing in them may run
code, escape the folder, exhaust memory or hang.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def good_scene_value(model_name: str = "cnn", kind: str = "zoo", sha256: str | None = None):
    """A scene with a real bundled 7 and a result consistent with it (adversarial = input + r, probabilities summing to 1),
    and two other results of the session (on a 2, one of them on another model)."""
    import dataclasses

    from advviewer.data.bundled import bundled_split
    from advviewer.reading.scene_file import KeptResult, Scene, SceneModel, SceneResult, SceneRun

    images, labels = bundled_split("test")
    pixels = images[list(labels).index(7)].astype(np.float32) / 255
    adversarial = np.clip(pixels + np.float32(0.05) * (np.arange(784, dtype=np.float32).reshape(28, 28) % 3 - 1), 0, 1)
    perturbation = adversarial - pixels
    probs = np.full(10, 0.01, np.float64)
    probs[7] = 0.91
    adversarial_probs = np.full(10, 0.01, np.float64)
    adversarial_probs[3] = 0.91
    history = np.stack([pixels, (pixels + adversarial) / 2, adversarial]).astype(np.float32)
    l2 = float(np.linalg.norm(perturbation))
    result = SceneResult(adversarial, perturbation, probs, adversarial_probs, history, success=True, c=0.73, l2=l2,
                         linf=float(np.abs(perturbation).max()), distortion=l2 / 28, target=3, original_class=7,
                         adversarial_class=3, evaluations=120, iterations=95, seconds=0.25, message="", mode="minimal",
                         untargeted=False, loss="rival cross-entropy", tau=0.01, already_fooled=False, confidence=None)
    model = SceneModel(model_name, kind, sha256)
    two = images[list(labels).index(2)].astype(np.float32) / 255
    two_adversarial = np.clip(two + np.float32(0.03), 0, 1)
    untargeted = dataclasses.replace(result, adversarial=two_adversarial, perturbation=two_adversarial - two, history=None,
                                     target=8, untargeted=True, original_class=2, adversarial_class=8, c=2.5,
                                     loss="cross-entropy", tau=None, message="fooled: 8", seconds=1.0000000000000002)
    kept = (KeptResult(two, "a two, from two.png", SceneModel("fc10-1e-4", "zoo", None), untargeted),
            KeptResult(pixels, "bundled MNIST digit", model, dataclasses.replace(result, history=None, c=0.1, success=False)))
    return Scene(pixels, "bundled MNIST digit", model, 3, "rival", 0.73, "predicted",
                 "autograd", None, result, (SceneRun(0.73, l2, True), SceneRun(0.3, 0.5, False)), kept=kept)


def good_scene(folder: Path, name: str = "good.advscene") -> Path:
    from advviewer.writing.scene_file import write_scene

    return write_scene(folder / name, good_scene_value())


def members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zipped(folder: Path, name: str, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def edited(good: Path, folder: Path, name: str, **changes: bytes | None) -> Path:
    """The good scene with members replaced (bytes), removed (None) or added; a ``__`` in a keyword is a ``.``."""
    members = members_of(good)
    for member, data in changes.items():
        member = member.replace("__", ".")
        if data is None:
            members.pop(member, None)
        else:
            members[member] = data
    return zipped(folder, name, members)


def with_json(good: Path, folder: Path, name: str, change: Callable[[dict], object]) -> Path:
    record = json.loads(members_of(good)["scene.json"])
    change(record)
    return edited(good, folder, name, scene__json=json.dumps(record).encode())


def npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=allow_pickle)
    return out.getvalue()


class Exploit:
    """Pickled, it would create a file when unpickled: a scene must never unpickle anything."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (os.mkdir, (self.target,))


def _set(path: tuple, value: object) -> Callable[[dict], None]:
    def change(record: dict) -> None:
        node = record
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


def _nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def _huge_header() -> bytes:
    """A .npy header declaring 10^10 float32 values over 16 bytes of data: np.load would allocate 40 GB first."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": "<f4", "fortran_order": False, "shape": (100_000, 100_000)})
    return out.getvalue() + bytes(16)


def _bomb(good: Path, folder: Path) -> Path:
    """scene.json that inflates to 200 MB from about 200 kB."""
    members = members_of(good)
    members["scene.json"] = b" " * (200 * 2**20)
    return zipped(folder, "bomb.advscene", members)


def _huge(good: Path, folder: Path) -> Path:
    path = folder / "huge.advscene"
    with open(path, "wb") as f:
        f.write(good.read_bytes())
        f.truncate(64 * 2**20)  # sparse: 64 MB on disk as far as stat says
    return path


@dataclass(frozen=True)
class HostileScene:
    name: str
    build: Callable[[Path, Path], Path]  # (good scene, folder) -> the hostile file
    expected: str  # words its one-line refusal holds


HOSTILE_SCENES = [
    HostileScene("truncated zip", lambda g, f: _write(f / "truncated.advscene", g.read_bytes()[: len(g.read_bytes()) // 2]),
                 "not a readable zip"),
    HostileScene("not a zip", lambda g, f: _write(f / "text.advscene", b"scene.json says hello\n"), "not a readable zip"),
    HostileScene("empty file", lambda g, f: _write(f / "empty.advscene", b""), "not a readable zip"),
    HostileScene("huge file", _huge, "files over"),
    HostileScene("zip bomb", _bomb, "unpacks to"),
    HostileScene("path traversal name", lambda g, f: edited(g, f, "traversal.advscene", history__npy=None, **{"../../evil.npy": b"x"}),
                 "unexpected member"),
    HostileScene("absolute name", lambda g, f: edited(g, f, "absolute.advscene", history__npy=None, **{"/etc/cron.d/x": b"x"}),
                 "unexpected member"),
    HostileScene("folder name", lambda g, f: edited(g, f, "folder.advscene", history__npy=None, **{"sub/input.npy": b"x"}),
                 "unexpected member"),
    HostileScene("bzip2 member", lambda g, f: zipped(f, "bzip2.advscene", members_of(g), zipfile.ZIP_BZIP2),
                 "only stored or deflated"),
    HostileScene("no scene.json", lambda g, f: edited(g, f, "nojson.advscene", scene__json=None), "scene.json is missing"),
    HostileScene("no input", lambda g, f: edited(g, f, "noinput.advscene", input__npy=None), "input.npy is missing"),
    HostileScene("json not utf-8", lambda g, f: edited(g, f, "latin.advscene", scene__json=b"\xff\xfe{"), "not valid JSON"),
    HostileScene("json a list", lambda g, f: edited(g, f, "list.advscene", scene__json=b"[1, 2]"), "does not hold an object"),
    HostileScene("json nested deep", lambda g, f: edited(g, f, "deep.advscene", scene__json=_nested(100_000)), "JSON"),
    HostileScene("NaN in json", lambda g, f: edited(g, f, "nanjson.advscene", scene__json=members_of(g)["scene.json"].replace(
        b'"c": 0.73', b'"c": NaN', 1)), "not valid JSON"),
    HostileScene("wrong format", lambda g, f: with_json(g, f, "format.advscene", _set(("format",), "zip")), "format"),
    HostileScene("future version", lambda g, f: with_json(g, f, "version.advscene", _set(("version",), 99)), "version 99"),
    HostileScene("c a string", lambda g, f: with_json(g, f, "cstring.advscene", _set(("c",), "1")), "c must be"),
    HostileScene("c negative", lambda g, f: with_json(g, f, "cneg.advscene", _set(("c",), -1.0)), "c must be"),
    HostileScene("c huge", lambda g, f: with_json(g, f, "chuge.advscene", _set(("c",), 1e308)), "c must be"),
    HostileScene("target 12", lambda g, f: with_json(g, f, "target12.advscene", _set(("target",), 12)), "target must be"),
    HostileScene("target true", lambda g, f: with_json(g, f, "targettrue.advscene", _set(("target",), True)), "target must be"),
    HostileScene("unknown objective", lambda g, f: with_json(g, f, "objective.advscene", _set(("objective",), "os.system")),
                 "objective must be"),
    HostileScene("unknown view", lambda g, f: with_json(g, f, "view.advscene", _set(("view",), "__class__")), "view must be"),
    HostileScene("long source", lambda g, f: with_json(g, f, "source.advscene", _set(("source",), "x" * 100_000)),
                 "source must be"),
    HostileScene("model a list", lambda g, f: with_json(g, f, "modellist.advscene", _set(("model",), ["cnn"])),
                 "model must be"),
    HostileScene("model file without sha", lambda g, f: with_json(g, f, "nosha.advscene", _set(("model",), {
        "name": "/tmp/mine.pt2", "kind": "file", "sha256": None})), "sha256 must be"),
    HostileScene("result for another target", lambda g, f: with_json(g, f, "othertarget.advscene", _set(("target",), 5)),
                 "another target"),
    HostileScene("result of another objective", lambda g, f: with_json(g, f, "otherobjective.advscene",
                                                                        _set(("objective",), "paper")), "another objective"),
    HostileScene("iterations a float", lambda g, f: with_json(g, f, "iterations.advscene", _set(("result", "iterations"), 1.5)),
                 "iterations must be"),
    HostileScene("too many runs", lambda g, f: with_json(g, f, "runs.advscene", _set(("runs",), [{"c": 1, "l2": 1,
                                                                                                "fooled": True}] * 5000)),
                 "runs must be"),
    HostileScene("NaN input", lambda g, f: edited(g, f, "naninput.advscene", input__npy=npy(np.full((28, 28), np.nan, np.float32))),
                 "NaN"),
    HostileScene("inf probabilities", lambda g, f: edited(g, f, "infprobs.advscene", adversarial_probs__npy=npy(
        np.full(10, np.inf))), "NaN or infinite"),
    HostileScene("input out of range", lambda g, f: edited(g, f, "bright.advscene", input__npy=npy(np.full((28, 28), 9, np.float32))),
                 "outside"),
    HostileScene("wrong shape", lambda g, f: edited(g, f, "shape.advscene", input__npy=npy(np.zeros((28, 27), np.float32))),
                 "28x28 float32"),
    HostileScene("wrong dtype", lambda g, f: edited(g, f, "dtype.advscene", input__npy=npy(np.zeros((28, 28), np.float16))),
                 "28x28 float32"),
    HostileScene("huge shape header", lambda g, f: edited(g, f, "bigshape.advscene", input__npy=_huge_header()), "refused"),
    HostileScene("probabilities of 9 classes", lambda g, f: edited(g, f, "nine.advscene", original_probs__npy=npy(
        np.full(9, 1 / 9))), "10 float64"),
    HostileScene("not probabilities", lambda g, f: edited(g, f, "notprobs.advscene", original_probs__npy=npy(np.ones(10))),
                 "not probabilities"),
    HostileScene("perturbation that lies", lambda g, f: edited(g, f, "lie.advscene", perturbation__npy=npy(
        np.zeros((28, 28), np.float32))), "not its adversarial image minus the input"),
    HostileScene("pickle inside npy", lambda g, f: edited(g, f, "pickle.advscene", input__npy=npy(
        np.array([Exploit(str(f / "PWNED"))], dtype=object), allow_pickle=True)), "never unpickled"),
    HostileScene("history of wrong shape", lambda g, f: edited(g, f, "history.advscene", history__npy=npy(
        np.zeros((3, 28), np.float32))), "history.npy"),
    HostileScene("kept results in a version 1 scene", lambda g, f: with_json(g, f, "v1kept.advscene", _set(("version",), 1)),
                 "version 1 of the format holds no other results"),
    HostileScene("too many kept results", lambda g, f: with_json(g, f, "manykept.advscene", lambda r: r.update(
        results=r["results"] * 300)), "results must be a list of at most 500"),
    HostileScene("kept results not a list", lambda g, f: with_json(g, f, "keptdict.advscene", _set(("results",), {"0": 1})),
                 "results must be a list"),
    HostileScene("kept result a number", lambda g, f: with_json(g, f, "keptnumber.advscene", _set(("results", 0), 7)),
                 "result 1 must be an object"),
    HostileScene("kept result of no listed model", lambda g, f: with_json(g, f, "keptmodel.advscene",
                                                                          _set(("results", 1, "model"), 5)),
                 "result 2: model must be"),
    HostileScene("kept results without models", lambda g, f: with_json(g, f, "nomodels.advscene", _set(("models",), [])),
                 "lists none"),
    HostileScene("too many models", lambda g, f: with_json(g, f, "manymodels.advscene", lambda r: r.update(
        models=r["models"] * 9)), "models must be a list of at most 16"),
    HostileScene("kept model file without sha", lambda g, f: with_json(g, f, "keptnosha.advscene", _set(("models", 0), {
        "name": "/tmp/mine.pt2", "kind": "file", "sha256": None})), "sha256 must be"),
    HostileScene("kept result with a long message", lambda g, f: with_json(g, f, "keptmessage.advscene",
                                                                           _set(("results", 0, "message"), "x" * 10_000)),
                 "result 1: message must be"),
    HostileScene("kept result c negative", lambda g, f: with_json(g, f, "keptc.advscene", _set(("results", 1, "c"), -3)),
                 "result 2: c must be"),
    HostileScene("kept result of another confidence", lambda g, f: with_json(g, f, "keptconfidence.advscene",
                                                                             _set(("results", 0, "confidence"), 0.5)),
                 "result 1: confidence must be"),
    HostileScene("kept results without their images", lambda g, f: edited(g, f, "keptnoimages.advscene", kept_images__npy=None),
                 "kept_images.npy is missing"),
    HostileScene("kept images for fewer results", lambda g, f: edited(g, f, "keptfewer.advscene", kept_images__npy=npy(
        np.zeros((1, 3, 28, 28), np.float32))), "2x3x28x28 float32"),
    HostileScene("kept images without results", lambda g, f: with_json(g, f, "keptnoresults.advscene", _set(("results",), [])),
                 "no results"),
    HostileScene("kept probabilities that are not", lambda g, f: edited(g, f, "keptprobs.advscene", kept_probs__npy=npy(
        np.ones((2, 2, 10)))), "not probabilities"),
    HostileScene("kept image out of range", lambda g, f: edited(g, f, "keptbright.advscene", kept_images__npy=npy(
        np.full((2, 3, 28, 28), -0.5, np.float32))), "outside [0, 1]"),
    HostileScene("kept perturbation that lies", lambda g, f: edited(g, f, "keptlie.advscene", kept_images__npy=npy(
        np.zeros((2, 3, 28, 28), np.float32) + np.array([0, 0.5, 0.1], np.float32)[:, None, None])),
                 "not its adversarial image minus its input"),
    HostileScene("kept images with NaN", lambda g, f: edited(g, f, "keptnan.advscene", kept_images__npy=npy(
        np.full((2, 3, 28, 28), np.nan, np.float32))), "NaN"),
    HostileScene("kept images a huge header", lambda g, f: edited(g, f, "keptbig.advscene", kept_images__npy=_huge_header()),
                 "refused"),
    HostileScene("result arrays without a result", lambda g, f: with_json(g, f, "noresult.advscene", _set(("result",), None)),
                 "no result"),
]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
