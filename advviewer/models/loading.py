"""``load_model``: a zoo name, an advviewer weights file, or a ``torch.export`` program (``.pt2``).

What a model file may do is decided before any of it is deserialised:

- The file is read like any user file (:mod:`advviewer.reading.files`): regular files only, at most
  ``MAX_MODEL_BYTES``; it must be a zip whose directory unpacks to at most ``MAX_UNPACKED``.
- An advviewer weights file is re-packed member by member (each read within its declared size)
  into a fresh zip and read with ``torch.load(..., weights_only=True)``: tensors and plain
  containers only, no code. Its architecture is one of ours.
- A ``.pt2`` program is checked and run by :mod:`advviewer.models.pt2_archive` and
  :mod:`~advviewer.models.pt2_graph`, never by ``torch.export.load``: every node's arguments are
  bound to its operator's schema by name (:mod:`~advviewer.models.pt2_schema`), its memory
  (values and kernel temporaries) and work per image are measured on shapes alone before it sees
  a digit, and every batch it is later given is measured the same way and run in parts that fit
  (:mod:`~advviewer.models.pt2_cost`), each operator's inputs checked against the shapes its
  kernel takes (:mod:`~advviewer.models.pt2_shapes`).
- TorchScript is refused: its code runs inside ``torch.jit.load`` (``__setstate__``) and on
  every call, and can write or overwrite files (``torch.save``, ``torch.from_file``).

A user's model is then validated on real digits and wrapped so every answer is checked
(:mod:`advviewer.models.checked`). Its negligible weights (below ``zoo.NEGLIGIBLE_WEIGHT``: weight decay
leaves them on pixels that are always 0, and their products are subnormal floats, 10-100x slower on
many x86 CPUs) are set to zero in its own tensors as it is loaded. The shipped zoo weights are
trusted by the sha256 in their card; they are loaded the same way.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from advviewer.errors import ModelLoadError
from advviewer.models.checked import VALIDATION_DIGITS, CheckedClassifier, validate_on_digits
from advviewer.models.pt2_archive import Archive, load_pt2_program, pt2_prefix
from advviewer.models.pt2_cost import MAX_BYTES_PER_IMAGE, MAX_WORK_PER_IMAGE, BoundedProgram
from advviewer.models.pt2_graph import GraphClassifier
from advviewer.models.zoo import DEFAULT_MODEL, WEIGHTS_FORMAT, ZOO, available_models, build_model, flush_negligible
from advviewer.models.zoo_cards import model_card, shipped_weights_bytes
from advviewer.reading.files import read_regular_file, shown
from advviewer.reading.sandbox import MODEL_LIMITS, Cancel, run_isolated

MAX_MODEL_BYTES = 256_000_000
MAX_UNPACKED = 256_000_000
EXPORT_HOWTO = "export it with advviewer.models.export_classifier(model, 'model.pt2') (torch.export); see README"


class IdentifiedModel(NamedTuple):
    """A loaded model and the sha256 of the weights it was built from (what an export's record names)."""

    module: nn.Module
    sha256: str | None  # a zoo model's from its card; a file's of the very bytes that were loaded


def load_model(name_or_path: str | Path = DEFAULT_MODEL) -> nn.Module:
    """Return an eval-mode classifier: (N, 1, 28, 28) images in [0, 1] -> logits (N, 10).

    ``name_or_path`` is a zoo name (:func:`available_models`), a weights file written by
    ``advviewer train``, or a ``.pt2`` program saved by ``torch.export``. Raises ModelLoadError
    with a one-line reason for anything else. A user's model is returned wrapped: a later call
    whose output is not finite (N, 10) logits raises ModelOutputError.
    """
    return load_identified_model(name_or_path).module


def load_identified_model(name_or_path: str | Path = DEFAULT_MODEL, cancel: Cancel | None = None) -> IdentifiedModel:
    """:func:`load_model`, with the sha256 of the weights it was built from.

    A record that names a model file's hash must describe the model that made the result, not
    whatever the file holds when the result is exported (retrained, replaced, a FIFO by then):
    the file is read once, and the hash is of those bytes. A zoo model's is the one in its card
    (its shipped weights are refused if they do not match it). Once ``cancel`` is set (another model
    was asked for) the check in the child is killed and :class:`~advviewer.errors.Cancelled` raised.
    """
    name = str(name_or_path)
    if name in ZOO:
        sha256 = model_card(name).get("weights_sha256")
        return IdentifiedModel(_load_zoo_model(name), sha256 if isinstance(sha256, str) else None)
    path = Path(name_or_path)
    if "\0" not in name and not os.path.lexists(name):
        raise ModelLoadError(f"unknown model {name!r}: not one of {', '.join(available_models())} and no such file")
    data = read_regular_file(path, MAX_MODEL_BYTES, ModelLoadError, "a model file")
    source = shown(path)
    # the first load and validation in a child process with memory and time limits (advviewer.reading.sandbox); these same
    # bytes are then loaded here, so what runs here has already run within the limits
    run_isolated(_check_model_bytes, (data, source), limits=MODEL_LIMITS, error=ModelLoadError, name=source,
                 action="loading and checking it", needs_models=True, cancel=cancel)
    return IdentifiedModel(CheckedClassifier(_validated_model(data, source)).eval(), hashlib.sha256(data).hexdigest())


def _validated_model(data: bytes, source: str) -> nn.Module:
    try:
        model = _model_from_bytes(data)
    except ModelLoadError as exc:
        raise ModelLoadError(f"{source}: {shown(str(exc))}") from None
    return validate_on_digits(model, source)


def _check_model_bytes(data: bytes, source: str) -> None:
    """:func:`_validated_model` for the sandbox's child: the model itself does not come back."""
    _validated_model(data, source)


def _load_zoo_model(name: str) -> nn.Module:
    data = shipped_weights_bytes(name, MAX_MODEL_BYTES)
    try:
        return _weights_model(Archive(data, MAX_UNPACKED)).eval()
    except ModelLoadError as exc:
        raise ModelLoadError(f"{name}: {exc}") from None


def _model_from_bytes(data: bytes) -> nn.Module:
    if not data:
        raise ModelLoadError("the file is empty")
    if not data.startswith(b"PK\x03\x04"):
        raise ModelLoadError("not an advviewer weights file or a torch.export .pt2 program (not a zip archive)")
    try:
        archive = Archive(data, MAX_UNPACKED)
    except ModelLoadError as exc:
        raise ModelLoadError(f"not an advviewer weights file or a torch.export .pt2 program: {exc}") from None
    names = archive.names()
    if pt2_prefix(names) is not None:
        return _bounded(_without_negligible_weights(load_pt2_program(data, MAX_UNPACKED)))
    if any("/code/" in n or n.endswith("/constants.pkl") for n in names):
        raise ModelLoadError("a TorchScript file: TorchScript runs code from the file when it is loaded and used, "
                             f"so advviewer does not open it; {EXPORT_HOWTO}")
    if not any(n.endswith("/data.pkl") for n in names):
        raise ModelLoadError("not an advviewer weights file or a torch.export .pt2 program")
    return _weights_model(archive)


def _unpickling_reason(exc: Exception) -> str:
    """torch's refusal in one plain line, without its advice to load the file unsafely (weights_only=False)."""
    text = str(exc)
    if "weights only" not in text.lower() and "weights_only" not in text:
        lines = text.strip().splitlines()
        return f"{type(exc).__name__}: {lines[0][:160] if lines else ''}"
    found = re.search(r"(?:Unsupported global|GLOBAL)[: ]+\s*(?:GLOBAL\s+)?([\w.]+)", text)
    what = f" ({found.group(1)[:80]})" if found else ""
    return f"it holds Python objects{what}, not just tensors; refused, because loading those could run code"


def _weights_model(archive: Archive) -> nn.Module:
    """A zoo architecture with the weights of a file written by ``advviewer train``."""
    repacked = io.BytesIO()
    with zipfile.ZipFile(repacked, "w", zipfile.ZIP_STORED) as out:
        for name in archive.names():
            out.writestr(name, archive.read(name))
    try:
        payload = torch.load(io.BytesIO(repacked.getvalue()), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 -- torch's unpickler refuses code and corrupt data in many ways
        raise ModelLoadError(f"not an advviewer weights file ({_unpickling_reason(exc)})") from None
    if not isinstance(payload, dict) or payload.get("format") != WEIGHTS_FORMAT:
        raise ModelLoadError(f"not an advviewer weights file (no '{WEIGHTS_FORMAT}' header)")
    arch = payload.get("arch")
    if not isinstance(arch, str) or arch not in ZOO:
        raise ModelLoadError(f"unknown architecture {shown(repr(arch))[:80]}; expected one of {', '.join(available_models())}")
    state = payload.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise ModelLoadError("the file's state_dict is not a mapping of names to tensors")
    model = build_model(arch)
    try:
        model.load_state_dict({key: flush_negligible(value) for key, value in state.items()}, strict=True)
    except Exception as exc:  # noqa: BLE001 -- wrong shapes, dtypes that do not convert, ...
        lines = str(exc).strip().splitlines()
        raise ModelLoadError(f"weights do not fit the {arch} architecture ({lines[0][:160] if lines else type(exc).__name__})") from None
    return model


def _without_negligible_weights(program: GraphClassifier) -> GraphClassifier:
    """``program`` with its negligible weights (below zoo.NEGLIGIBLE_WEIGHT, subnormals included) set to zero, in its
    own tensors.

    Their products with pixels and gradients are subnormal floats, which cost 10-100x per operation on
    many x86 CPUs (weight decay leaves such weights on pixels that are always 0); they change no
    prediction. torch.set_flush_denormal would do it for every tensor of the process, other code's
    included, so the values themselves are flushed.
    """
    with torch.no_grad():
        for tensor in program.weights().values():
            tensor.copy_(flush_negligible(tensor))
    return program


def _bounded(program: GraphClassifier) -> nn.Module:
    """``program`` measured per call (:class:`BoundedProgram`); refused if one image, or a batch, needs too much memory or work per image."""
    model = BoundedProgram(program)
    try:  # one image (live drawing) and the validation batch, which runs next: each is measured once
        one = model.cost((1, 1, 28, 28))
        many = model.cost((VALIDATION_DIGITS, 1, 28, 28))
    except ModelLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 -- shapes that do not fit our images
        lines = str(exc).strip().splitlines()
        raise ModelLoadError(f"the program does not accept (N, 1, 28, 28) images ({type(exc).__name__}: "
                             f"{shown(lines[0][:160]) if lines else ''}); {EXPORT_HOWTO} with a dynamic batch size") from None
    per_image_bytes = max(one.bytes, many.bytes / VALIDATION_DIGITS)
    per_image_work = max(one.work, many.work / VALIDATION_DIGITS)
    if per_image_bytes > MAX_BYTES_PER_IMAGE or per_image_work > MAX_WORK_PER_IMAGE:
        raise ModelLoadError(f"the program needs {per_image_work / 1e9:.1f} G operations and {per_image_bytes / 1e6:.0f} MB per image; "
                             f"more than {MAX_WORK_PER_IMAGE / 1e9:.0f} G and {MAX_BYTES_PER_IMAGE / 1e6:.0f} MB is refused")
    return model
