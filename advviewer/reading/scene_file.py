"""Scene files: one zip holding what the window showed (docs/scenes.md), read as a file from anywhere.

A scene is the input picture, the model (a zoo name, or a model file's path and sha256), the
target, objective, c, the gradient panel's choice, the open Explore tab, the result on screen
(its images, numbers and probabilities), the c plot's points and (version 2) the session's other
results (``kept``). Its encoding is :func:`scene_members`; ``advviewer.writing.scene_file`` zips
those members. It is read here into typed records, never trusting the file:

- at most MAX_SCENE_BYTES on disk, read as a regular file (``files.read_regular_file``);
- a zip whose members are only the names in MEMBERS (no folders, no ``..``), stored or deflated,
  each at most MAX_MEMBER_BYTES once unpacked -- checked before anything is inflated, and the
  inflation itself is cut off at the limit whatever the header says;
- ``.npy`` members are parsed by ``npy_read`` (the header checked against the bytes present before
  anything is allocated, pickled objects never read) and must have the exact dtype, shape and
  range their field needs (finite, pixels in [0, 1], probabilities summing to 1);
- every JSON field has its type and range checked; strings are made printable (one line, no
  control characters) and bounded in length;
- no path in the file is ever opened here: the model's path is only a name, which the session
  loads through the safe model loading and compares with its sha256.

Any problem is one :class:`~advviewer.errors.SceneFileError` line.

Two layers. The checks above are the first (:func:`read_scene_here`). :func:`read_scene` runs
them in the sandbox's child process (``advviewer.reading.sandbox``, SCENE_LIMITS), so that what
they miss -- a bound switched off, a JSON or zip corner nobody foresaw -- meets the child's memory,
processor-time and clock limits, and becomes one line, not a window out of memory or frozen. The
child cannot send a Scene back (nothing that comes back is unpickled: only raw bytes of numeric
arrays), so it sends the checked scene encoded again by :func:`scene_members` -- one uint8 array
per name of MEMBERS, empty for a member the scene lacks -- and this process checks those members
with the same code (:func:`_scene_of`) before it builds the Scene. That second check is cheap
(about 15 MB at most, already canonical: the file's own JSON, with whatever it held beyond the
format, never reaches this process) and keeps this process from trusting the child's bytes
either. Where the platform has no sandbox (Windows, ``ADVVIEWER_SANDBOX=off``) the child's work
runs here, followed by the same second check.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from advviewer.errors import ExportError, ImageLoadError, SceneFileError, printable
from advviewer.reading.files import read_regular_file, shown
from advviewer.reading.npy_read import read_npy
from advviewer.reading.sandbox import MAX_ARRAYS, Cancel, Limits, run_isolated

SCENE_SUFFIX = ".advscene"
FORMAT = "advviewer-scene"
VERSION = 2  # the version written; 2 added the session's other results (``kept``)
VERSIONS = (1, 2)  # the versions read
MAX_SCENE_BYTES = 16 * 2**20  # a scene with 500 kept iterates is about 2 MB
MAX_MEMBER_BYTES = 8 * 2**20
MAX_HISTORY = 2000  # iterates kept for playback (28x28 float32 each: 6 MB at most)
MAX_TEXT = 500  # characters of any string field
MAX_RUNS = 1000  # points of the c plot
# The session's other results: as many as the session keeps (advviewer.session.results.FINISHED_KEPT).
# Unpacked, 500 of them are 4.7 MB of images, 80 kB of probabilities and at most about 6 MB of JSON
# (two texts of 500 escaped characters each); with 2,000 iterates (6.3 MB) that is just within
# MAX_SCENE_BYTES even stored, and the writer drops the oldest if the file would not fit.
MAX_KEPT = 500
MAX_MODELS = 16  # the distinct models of the kept results
SIDE = 28
CLASSES = 10

# the vocabulary of the format (the window's spellings: advviewer.session.choices; tests/session checks they agree)
OBJECTIVES = ("rival", "paper")
LOSSES = {"rival cross-entropy": "rival", "cross-entropy": "paper"}
MODES = ("minimal", "fixed-c")
GRADIENT_CLASSES = ("predicted", "target")
GRADIENT_METHODS = ("autograd", "finite-difference")
VIEWS = ("all_targets", "transfer", "playback", "compare", "noise_check", "models")
CONFIDENCES = (None, 0.9, 0.99)  # the window's (advviewer.session.choices.CONFIDENCES; a test keeps them equal)
MODEL_KINDS = ("zoo", "file")

JSON_MEMBER = "scene.json"
INPUT = "input.npy"
RESULT_ARRAYS = ("adversarial.npy", "perturbation.npy", "original_probs.npy", "adversarial_probs.npy")
HISTORY = "history.npy"
KEPT_IMAGES = "kept_images.npy"  # N x 3 x 28 x 28 float32: each kept result's input, adversarial image and r
KEPT_PROBS = "kept_probs.npy"  # N x 2 x 10 float64: each kept result's original and adversarial probabilities
KEPT_ARRAYS = (KEPT_IMAGES, KEPT_PROBS)
MEMBERS = (JSON_MEMBER, INPUT, *RESULT_ARRAYS, HISTORY, *KEPT_ARRAYS)
MAX_VALUES = max(MAX_HISTORY, 3 * MAX_KEPT) * SIDE * SIDE  # the most values one .npy member may declare
assert len(MEMBERS) <= MAX_ARRAYS  # the child sends each member back as one array

# The child's budget (the second layer), measured: the largest real scene (500 kept results of random
# pixels, 2,000 iterates, 5.4 MB of JSON; 9.5 MB on disk) peaks 46 MB above the child's start in 0.2 s
# of processor time; the worst the static checks let through, a scene.json of 8 MB of "[]," (2.8
# million Python lists), peaks at 218 MB in 1 s. Each budget is at least twice that.
SCENE_LIMITS = Limits(memory_mb=512, cpu_seconds=5, wall_seconds=10.0)


@dataclass(frozen=True)
class SceneModel:
    """The model a scene was made with: a zoo name, or a model file's path and the sha256 of its bytes."""

    name: str  # the zoo name, or the file's path as it was saved
    kind: str  # MODEL_KINDS
    sha256: str | None  # required for a file


@dataclass(frozen=True)
class SceneRun:
    """One point of the c plot: an attack at c that gave ||r|| and fooled the model or not."""

    c: float
    l2: float
    fooled: bool


@dataclass(frozen=True, eq=False)  # arrays: compared field by field in tests
class SceneResult:
    """The attack result on screen, every number the panels show (advviewer.attack.AttackResult's fields)."""

    adversarial: np.ndarray  # (28, 28) float32 in [0, 1]
    perturbation: np.ndarray  # (28, 28) float32: adversarial - input
    original_probs: np.ndarray  # (10,) float64
    adversarial_probs: np.ndarray  # (10,) float64
    history: np.ndarray | None  # (N, 28, 28) float32 iterates for playback, or None
    success: bool
    c: float
    l2: float
    linf: float
    distortion: float
    target: int
    original_class: int
    adversarial_class: int
    evaluations: int
    iterations: int
    seconds: float
    message: str
    mode: str
    untargeted: bool
    loss: str
    tau: float | None
    already_fooled: bool
    confidence: float | None


@dataclass(frozen=True, eq=False)
class KeptResult:
    """Another result of the session the scene was saved in, kept for "Export all results": never the current one.

    ``result.history`` is None (only the current result keeps its iterates); its key (target,
    objective, confidence) follows from the result: untargeted means the target "any other class".
    """

    input: np.ndarray  # (28, 28) float32 in [0, 1]: the image it attacked
    source: str  # where that image came from
    model: SceneModel
    result: SceneResult


@dataclass(frozen=True, eq=False)
class Scene:
    """Everything a scene file holds (see the module docstring)."""

    input: np.ndarray  # (28, 28) float32 in [0, 1]
    source: str  # where the input came from, as the window said
    model: SceneModel
    target: int | None
    objective: str
    c: float
    gradient_class: int | str  # 0..9 or GRADIENT_CLASSES
    gradient_method: str
    view: str | None  # the open Explore tab (VIEWS), None: the dock was closed
    result: SceneResult | None
    runs: tuple[SceneRun, ...] = ()
    confidence: float | None = None  # how sure of the target the attacks make the model (choices.CONFIDENCES; None: the boundary)
    kept: tuple[KeptResult, ...] = ()  # the session's other results, oldest first (version 2)


# --- reading --------------------------------------------------------------------------------------


def read_scene(path: str | Path, cancel: Cancel | None = None) -> Scene:
    """The scene in ``path``, every field checked (module docstring); else one SceneFileError line.

    The file is read and checked in the sandbox's child process (SCENE_LIMITS); what comes back is
    the checked scene's members, encoded again there (:func:`scene_members`), and checked again
    here with the same code before a Scene is built from them (module docstring, "Two layers").
    Once ``cancel`` is set (a newer scene was asked for) the child is killed and
    :class:`~advviewer.errors.Cancelled` raised.
    """
    name = shown(Path(path).name)
    arrays = run_isolated(_checked_members, (os.path.abspath(path),), limits=SCENE_LIMITS, error=SceneFileError, name=name,
                          cancel=cancel)
    members = {member: array.tobytes() for member, array in zip(MEMBERS, arrays, strict=True) if array.size}
    try:
        return _scene_of(members)
    except SceneFileError as exc:
        raise SceneFileError(f"{name}: {exc}") from None


def read_scene_here(path: str | Path) -> Scene:
    """The scene in ``path`` read and checked in this process (the static checks alone)."""
    name = shown(Path(path).name)
    data = read_regular_file(path, MAX_SCENE_BYTES, SceneFileError, "a scene file")
    try:
        return _scene_of(_unpacked_members(data))
    except SceneFileError as exc:
        raise SceneFileError(f"{name}: {exc}") from None


def _checked_members(path: str) -> tuple[np.ndarray, ...]:
    """In the child: the scene read and checked (read_scene_here), its members encoded again from the checked values,
    one uint8 array per name of MEMBERS (empty: not in this scene); raw bytes, never pickled, go back."""
    members = scene_members(read_scene_here(path))
    return tuple(np.frombuffer(members.get(name, b""), np.uint8) for name in MEMBERS)


def _unpacked_members(data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise SceneFileError("not a scene file (not a readable zip archive)") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > len(MEMBERS):
            raise SceneFileError(f"it holds {len(infos)} members; a scene holds at most {len(MEMBERS)}")
        members: dict[str, bytes] = {}
        for info in infos:
            name = _checked_name(info, members)  # before a byte is inflated
            members[name] = _member_bytes(archive, info)
    return members


def _checked_name(info: zipfile.ZipInfo, seen: dict[str, bytes]) -> str:
    name = info.filename
    if name not in MEMBERS:
        raise SceneFileError(f"unexpected member {printable(name[:80])!r}; a scene holds only {', '.join(MEMBERS)}")
    if name in seen:
        raise SceneFileError(f"the member {name} appears twice")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise SceneFileError(f"{name} is compressed with method {info.compress_type}; only stored or deflated is read")
    if info.file_size > MAX_MEMBER_BYTES:
        raise SceneFileError(f"{name} unpacks to {info.file_size:,} bytes; at most {MAX_MEMBER_BYTES:,} are read")
    return name


def _member_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(info) as member:
            data = member.read(MAX_MEMBER_BYTES + 1)  # a header that lies about the size is cut off here
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise SceneFileError(f"{info.filename} cannot be unpacked ({printable(str(exc))[:120]})") from None
    if len(data) > MAX_MEMBER_BYTES:
        raise SceneFileError(f"{info.filename} unpacks to more than {MAX_MEMBER_BYTES:,} bytes")
    return data


def scene_from_members(members: dict[str, bytes]) -> Scene:
    """The scene that ``members`` (a scene file's unpacked members) encode, every field checked; else one SceneFileError
    line (what a reader does with a file; the writer runs it on what it is about to write)."""
    return _scene_of(members)


def _scene_of(members: dict[str, bytes]) -> Scene:
    for required in (JSON_MEMBER, INPUT):
        if required not in members:
            raise SceneFileError(f"the member {required} is missing")
    record = _json(members[JSON_MEMBER])
    fields = _Fields(record, "scene.json")
    if fields.text("format") != FORMAT:
        raise SceneFileError(f"scene.json does not say format {FORMAT!r}")
    version = fields.integer("version", 1, 10**6)
    if version not in VERSIONS:
        raise SceneFileError(f"version {version} of the scene format; this advviewer reads versions "
                             f"{', '.join(map(str, VERSIONS))}")
    pixels = _image(members, INPUT, low=0.0)
    objective = fields.choice("objective", OBJECTIVES)
    target = fields.optional_integer("target", 0, CLASSES - 1)
    result = _result(fields.object("result"), members, pixels) if record.get("result") is not None else None
    if result is not None and LOSSES[result.loss] != objective:
        raise SceneFileError("its result minimised another objective than the scene's")
    if result is not None and (result.untargeted != (target is None) or target not in (None, result.target)):
        raise SceneFileError("its result was made for another target than the scene's")
    if result is None and any(name in members for name in (*RESULT_ARRAYS, HISTORY)):
        raise SceneFileError("it holds result images but no result")
    confidence = _confidence(fields, result)
    return Scene(pixels, fields.text("source"), _model(fields.object("model")), target, objective,
                 fields.positive("c"), _gradient_class(record.get("gradient_class")),
                 fields.choice("gradient_method", GRADIENT_METHODS), fields.optional_choice("view", VIEWS),
                 result, _runs(record.get("runs", [])), confidence, _kept(record, members, version))


def _confidence(fields: _Fields, result: SceneResult | None) -> float | None:
    """The scene's confidence: one of the window's choices, and its result's (an older scene has none: null)."""
    confidence = fields.optional_number("confidence", 0.0, 1.0)
    if confidence not in CONFIDENCES:
        raise SceneFileError(f"its confidence must be one of the window's: {', '.join(map(str, CONFIDENCES))}")
    if result is not None and result.confidence != confidence:
        raise SceneFileError("its result was made for another confidence than the scene's")
    return confidence


def _json(data: bytes) -> dict:
    try:
        record = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError):
        raise SceneFileError("scene.json is not valid JSON (UTF-8, no NaN or Infinity)") from None
    if not isinstance(record, dict):
        raise SceneFileError("scene.json does not hold an object")
    return record


def _no_constant(name: str) -> Any:
    raise ValueError(name)


class _Fields:
    """Typed, range-checked access to one JSON object's fields; each failure names the field."""

    def __init__(self, record: dict, where: str) -> None:
        self.record, self.where = record, where

    def _get(self, key: str) -> Any:
        if key not in self.record:
            raise SceneFileError(f"{self.where} lacks the field {key!r}")
        return self.record[key]

    def _wrong(self, key: str, wanted: str) -> SceneFileError:
        return SceneFileError(f"{self.where}: {key} must be {wanted}")

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise self._wrong(key, f"a text of at most {MAX_TEXT} characters")
        return printable(value)[:MAX_TEXT]  # escaping lengthens it: cut, so that it reads back the same

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false")
        return value

    def integer(self, key: str, low: int, high: int) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self._wrong(key, f"a whole number from {low} to {high}")
        return value

    def optional_integer(self, key: str, low: int, high: int) -> int | None:
        return None if self._get(key) is None else self.integer(key, low, high)

    def number(self, key: str, low: float = 0.0, high: float = math.inf) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not low <= value <= high:
            raise self._wrong(key, f"a finite number from {low:g} to {high:g}")
        return float(value)

    def optional_number(self, key: str, low: float = 0.0, high: float = math.inf) -> float | None:
        return None if self.record.get(key) is None else self.number(key, low, high)

    def positive(self, key: str) -> float:
        value = self.number(key, 0.0, 1e30)
        if value <= 0:
            raise self._wrong(key, "a positive number")
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self._get(key)
        if value not in allowed or not isinstance(value, str):
            raise self._wrong(key, f"one of {', '.join(allowed)}")
        return value

    def optional_choice(self, key: str, allowed: tuple[str, ...]) -> str | None:
        return None if self.record.get(key) is None else self.choice(key, allowed)

    def object(self, key: str) -> dict:
        value = self._get(key)
        if not isinstance(value, dict):
            raise self._wrong(key, "an object")
        return value


def _model(record: dict) -> SceneModel:
    fields = _Fields(record, "the model")
    kind = fields.choice("kind", MODEL_KINDS)
    name = fields.text("name")
    if not name:
        raise SceneFileError("the model has no name")
    sha = record.get("sha256")
    if kind == "file" or sha is not None:
        sha = fields.text("sha256")
        if len(sha) != 64 or any(ch not in "0123456789abcdef" for ch in sha):
            raise SceneFileError("the model's sha256 must be 64 lowercase hexadecimal digits")
    return SceneModel(name, kind, sha)


def _gradient_class(value: Any) -> int | str:
    if isinstance(value, str) and value in GRADIENT_CLASSES:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < CLASSES:
        return value
    raise SceneFileError(f"scene.json: gradient_class must be {', '.join(GRADIENT_CLASSES)} or a class 0..9")


def _runs(value: Any) -> tuple[SceneRun, ...]:
    if not isinstance(value, list) or len(value) > MAX_RUNS:
        raise SceneFileError(f"scene.json: runs must be a list of at most {MAX_RUNS} points")
    runs = []
    for point in value:
        if not isinstance(point, dict):
            raise SceneFileError("scene.json: each run must be an object with c, l2 and fooled")
        fields = _Fields(point, "a run")
        runs.append(SceneRun(fields.positive("c"), fields.number("l2"), fields.flag("fooled")))
    return tuple(runs)


def _array(members: dict[str, bytes], name: str, dtype: type, shape: tuple[int | None, ...]) -> np.ndarray:
    if name not in members:
        raise SceneFileError(f"the member {name} is missing")
    try:  # the header is checked against the bytes present before anything is allocated; objects are never unpickled
        array = np.array(read_npy(members[name], MAX_VALUES))
    except ImageLoadError as exc:
        raise SceneFileError(f"{name}: {exc}") from None
    if array.dtype != np.dtype(dtype) or array.ndim != len(shape) or any(
            want is not None and got != want for got, want in zip(array.shape, shape, strict=True)):
        wanted = "x".join("N" if s is None else str(s) for s in shape)
        raise SceneFileError(f"{name} must be a {wanted} {np.dtype(dtype).name} array, not {array.dtype.name} "
                             f"of shape {'x'.join(map(str, array.shape))}")
    if not np.all(np.isfinite(array)):
        raise SceneFileError(f"{name} holds NaN or infinite values")
    return array


def _image(members: dict[str, bytes], name: str, low: float, shape: tuple[int | None, ...] = (SIDE, SIDE)) -> np.ndarray:
    array = _array(members, name, np.float32, shape)
    if array.size and (float(array.min()) < low or float(array.max()) > 1.0):
        raise SceneFileError(f"{name} holds values outside [{low:g}, 1]")
    return np.ascontiguousarray(array)


def _probabilities(members: dict[str, bytes], name: str, shape: tuple[int | None, ...] = (CLASSES,)) -> np.ndarray:
    probs = _array(members, name, np.float64, shape)
    if probs.size and (float(probs.min()) < 0 or float(np.max(np.abs(probs.sum(axis=-1) - 1.0))) > 1e-4):
        raise SceneFileError(f"{name} are not probabilities (non-negative, summing to 1)")
    return probs


def _result(record: dict, members: dict[str, bytes], pixels: np.ndarray) -> SceneResult:
    adversarial, perturbation = _image(members, "adversarial.npy", 0.0), _image(members, "perturbation.npy", -1.0)
    if float(np.max(np.abs(adversarial - pixels - perturbation))) > 1e-5:
        raise SceneFileError("the result's perturbation is not its adversarial image minus the input")
    history = _image(members, HISTORY, 0.0, (None, SIDE, SIDE)) if HISTORY in members else None
    if history is not None and len(history) > MAX_HISTORY:
        raise SceneFileError(f"{HISTORY} holds over {MAX_HISTORY} iterates")
    return _result_of(_Fields(record, "the result"), (adversarial, perturbation), (
        _probabilities(members, "original_probs.npy"), _probabilities(members, "adversarial_probs.npy")), history)


def _result_of(f: _Fields, images: tuple[np.ndarray, np.ndarray], probs: tuple[np.ndarray, np.ndarray],
               history: np.ndarray | None) -> SceneResult:
    """A result from its checked arrays ((adversarial, perturbation), (original, adversarial) probabilities) and its numbers."""
    confidence = f.optional_number("confidence", 0.0, 1.0)
    if confidence not in CONFIDENCES:
        raise SceneFileError(f"{f.where}: confidence must be one of the window's: {', '.join(map(str, CONFIDENCES))}")
    return SceneResult(
        images[0], images[1], probs[0], probs[1], history, success=f.flag("success"), c=f.positive("c"),
        l2=f.number("l2", 0.0, float(SIDE)), linf=f.number("linf", 0.0, 1.0), distortion=f.number("distortion", 0.0, 1.0),
        target=f.integer("target", 0, CLASSES - 1), original_class=f.integer("original_class", 0, CLASSES - 1),
        adversarial_class=f.integer("adversarial_class", 0, CLASSES - 1),
        evaluations=f.integer("evaluations", 0, 10**9), iterations=f.integer("iterations", 0, 10**9),
        seconds=f.number("seconds", 0.0, 1e7), message=f.text("message"), mode=f.choice("mode", MODES),
        untargeted=f.flag("untargeted"), loss=f.choice("loss", tuple(LOSSES)), tau=f.optional_number("tau", 0.0, 1e6),
        already_fooled=f.flag("already_fooled"), confidence=confidence)


def _kept(record: dict, members: dict[str, bytes], version: int) -> tuple[KeptResult, ...]:
    """The session's other results (version 2): ``results`` in scene.json, their arrays stacked in KEPT_ARRAYS."""
    items = record.get("results", [])
    if version < 2 and (items or "models" in record or any(name in members for name in KEPT_ARRAYS)):
        raise SceneFileError("version 1 of the format holds no other results")
    if not isinstance(items, list) or len(items) > MAX_KEPT:
        raise SceneFileError(f"scene.json: results must be a list of at most {MAX_KEPT} results")
    models = _kept_models(record.get("models", []))
    if not items:
        if any(name in members for name in KEPT_ARRAYS):
            raise SceneFileError("it holds images of other results but no results")
        return ()
    images, probs = _kept_arrays(members, len(items))
    kept = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise SceneFileError(f"scene.json: result {i + 1} must be an object")
        fields = _Fields(item, f"result {i + 1}")
        model = models[fields.integer("model", 0, len(models) - 1)] if models else _no_models()
        result = _result_of(fields, (images[i, 1].copy(), images[i, 2].copy()), (probs[i, 0].copy(), probs[i, 1].copy()), None)
        kept.append(KeptResult(images[i, 0].copy(), fields.text("source"), model, result))
    return tuple(kept)


def _kept_arrays(members: dict[str, bytes], count: int) -> tuple[np.ndarray, np.ndarray]:
    """The kept results' images (count x (input, adversarial, r) x 28 x 28) and probabilities (count x 2 x 10), checked."""
    images = _image(members, KEPT_IMAGES, -1.0, (count, 3, SIDE, SIDE))
    probs = _probabilities(members, KEPT_PROBS, (count, 2, CLASSES))
    if float(images[:, :2].min()) < 0:
        raise SceneFileError(f"{KEPT_IMAGES} holds images with values outside [0, 1]")
    if float(np.max(np.abs(images[:, 1] - images[:, 0] - images[:, 2]))) > 1e-5:
        raise SceneFileError("a kept result's perturbation is not its adversarial image minus its input")
    return images, probs


def _kept_models(value: Any) -> tuple[SceneModel, ...]:
    if not isinstance(value, list) or len(value) > MAX_MODELS:
        raise SceneFileError(f"scene.json: models must be a list of at most {MAX_MODELS} models")
    if not all(isinstance(model, dict) for model in value):
        raise SceneFileError("scene.json: each of the models must be an object")
    return tuple(_model(model) for model in value)


def _no_models() -> SceneModel:
    raise SceneFileError("scene.json: its results name models but it lists none")


# --- the format's encoding (advviewer.writing.scene_file zips these members; the sandbox sends them back) ---------


def scene_members(scene: Scene) -> dict[str, bytes]:
    """The members of ``scene``'s file, name -> bytes: scene.json and the ``.npy`` arrays in their own dtypes.

    JSON floats are written with Python's ``repr``, so every float64 comes back bit for bit; texts
    are cut to MAX_TEXT characters, as the reader reads them.
    """
    members = {JSON_MEMBER: json.dumps(_record(scene), indent=1, allow_nan=False).encode("utf-8"),
               INPUT: _npy(scene.input, np.float32)}
    if scene.result is not None:
        members.update(_result_arrays(scene.result))
    if scene.kept:
        members[KEPT_IMAGES] = _npy(np.stack([np.stack([k.input, k.result.adversarial, k.result.perturbation])
                                              for k in scene.kept]), np.float32)
        members[KEPT_PROBS] = _npy(np.stack([np.stack([k.result.original_probs, k.result.adversarial_probs])
                                             for k in scene.kept]), np.float64)
    return members


def _npy(array: np.ndarray, dtype: type) -> bytes:
    out = io.BytesIO()
    np.save(out, np.ascontiguousarray(np.asarray(array, dtype=dtype)), allow_pickle=False)
    return out.getvalue()


def _result_arrays(r: SceneResult) -> dict[str, bytes]:
    arrays = {"adversarial.npy": _npy(r.adversarial, np.float32), "perturbation.npy": _npy(r.perturbation, np.float32),
              "original_probs.npy": _npy(r.original_probs, np.float64),
              "adversarial_probs.npy": _npy(r.adversarial_probs, np.float64)}
    if r.history is not None and len(r.history):
        arrays[HISTORY] = _npy(np.asarray(r.history)[-MAX_HISTORY:], np.float32)
    return arrays


def _record(scene: Scene) -> dict:
    if not np.isfinite(scene.c):
        raise ExportError("the scene's c is not a finite number")
    models = list(dict.fromkeys(k.model for k in scene.kept))
    if len(models) > MAX_MODELS or len(scene.kept) > MAX_KEPT:
        raise ExportError(f"a scene keeps at most {MAX_KEPT} other results of at most {MAX_MODELS} models")
    return {
        "format": FORMAT,
        "version": VERSION,
        "source": scene.source[:MAX_TEXT],
        "model": _model_record(scene.model),
        "target": scene.target,
        "objective": scene.objective,
        "c": scene.c,
        "gradient_class": scene.gradient_class,
        "gradient_method": scene.gradient_method,
        "view": scene.view,
        "confidence": scene.confidence,
        "result": None if scene.result is None else _result_record(scene.result),
        "runs": [{"c": run.c, "l2": run.l2, "fooled": run.fooled} for run in scene.runs],
        "models": [_model_record(model) for model in models],
        "results": [{"model": models.index(k.model), "source": k.source[:MAX_TEXT], **_result_record(k.result)}
                    for k in scene.kept],
    }


def _model_record(model: SceneModel) -> dict:
    return {"name": model.name, "kind": model.kind, "sha256": model.sha256}


def _result_record(r: SceneResult) -> dict:
    return {"success": r.success, "c": r.c, "l2": r.l2, "linf": r.linf, "distortion": r.distortion, "target": r.target,
            "original_class": r.original_class, "adversarial_class": r.adversarial_class,
            "evaluations": r.evaluations, "iterations": r.iterations, "seconds": r.seconds, "message": r.message[:MAX_TEXT],
            "mode": r.mode, "untargeted": r.untargeted, "loss": r.loss, "tau": r.tau,
            "already_fooled": r.already_fooled, "confidence": r.confidence}


# --- lectures -------------------------------------------------------------------------------------


def lecture_paths(path: str | Path) -> list[Path]:
    """A lecture: the scene files of ``path``'s folder (or of ``path`` itself, a folder) in name order.

    Only names ending in SCENE_SUFFIX count; nothing is opened here.
    """
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    try:
        names = sorted(p for p in folder.iterdir() if p.name.endswith(SCENE_SUFFIX) and p.is_file())
    except OSError as exc:
        raise SceneFileError(f"{shown(folder)}: cannot list the folder ({printable(exc.strerror or str(exc))})") from None
    if path.is_dir() and not names:
        raise SceneFileError(f"{shown(folder)}: no {SCENE_SUFFIX} files in this folder")
    return names
