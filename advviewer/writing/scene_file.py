"""Write a scene (advviewer.reading.scene_file.Scene) as the zip docs/scenes.md describes, all or nothing.

scene.json holds the choices and the result's numbers (JSON floats are written with Python's
``repr``, so every float64 comes back bit for bit); the arrays are ``.npy`` members in their own
dtypes (float32 pixels, float64 probabilities), so reading gives the same values the window showed.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from advviewer.errors import ExportError
from advviewer.reading.scene_file import (
    FORMAT,
    HISTORY,
    INPUT,
    JSON_MEMBER,
    MAX_HISTORY,
    SCENE_SUFFIX,
    VERSION,
    Scene,
    SceneResult,
)
from advviewer.writing.atomic_files import write_all_or_nothing


def scene_bytes(scene: Scene) -> bytes:
    """The scene file's bytes."""
    members: dict[str, bytes] = {JSON_MEMBER: json.dumps(_record(scene), indent=1, allow_nan=False).encode("utf-8"),
                                 INPUT: _npy(scene.input, np.float32)}
    if scene.result is not None:
        members.update(_result_arrays(scene.result))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def write_scene(path: str | Path, scene: Scene) -> Path:
    """Write ``scene`` to ``path`` (SCENE_SUFFIX added if missing), replacing it whole or not at all."""
    path = Path(path)
    if not path.name.endswith(SCENE_SUFFIX):
        path = path.with_name(path.name + SCENE_SUFFIX)
    return write_all_or_nothing(path.parent, {"scene": (path.name, scene_bytes(scene))})["scene"]


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
    return {
        "format": FORMAT,
        "version": VERSION,
        "source": scene.source,
        "model": {"name": scene.model.name, "kind": scene.model.kind, "sha256": scene.model.sha256},
        "target": scene.target,
        "objective": scene.objective,
        "c": scene.c,
        "gradient_class": scene.gradient_class,
        "gradient_method": scene.gradient_method,
        "view": scene.view,
        "confidence": scene.confidence,
        "result": None if scene.result is None else _result_record(scene.result),
        "runs": [{"c": run.c, "l2": run.l2, "fooled": run.fooled} for run in scene.runs],
    }


def _result_record(r: SceneResult) -> dict:
    return {"success": r.success, "c": r.c, "l2": r.l2, "linf": r.linf, "distortion": r.distortion, "target": r.target,
            "original_class": r.original_class, "adversarial_class": r.adversarial_class,
            "evaluations": r.evaluations, "iterations": r.iterations, "seconds": r.seconds, "message": r.message[:500],
            "mode": r.mode, "untargeted": r.untargeted, "loss": r.loss, "tau": r.tau,
            "already_fooled": r.already_fooled, "confidence": r.confidence}
