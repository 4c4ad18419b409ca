"""The zoo's networks as numpy forward passes, read from the same sha256-checked weights files, without torch.

``advviewer predict`` on a zoo model answers from here: ``import torch`` alone takes seconds on a
cold start, longer than the whole answer may (issue 12: frozen ``predict`` within 2 s). Only the
forward pass, in float32 like torch; anything needing gradients, training or a user's model goes
through torch (:mod:`advviewer.models.loading`). The test suite checks that every zoo model gives
torch's answer here on the bundled digits (same class, probabilities within a small tolerance).

The weights file is a ``torch.save`` zip. Its pickle is read by an unpickler that knows three
names (an ordered dict, a float storage and the tensor-rebuild function) and refuses every other,
so nothing in the file can run code; every tensor's size, strides and offset are checked against
its storage before any array is made; the tensors' bytes are read from the zip, bounded.
"""

from __future__ import annotations

import io
import math
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeGuard

import numpy as np

from advviewer.errors import ModelLoadError, ModelOutputError, printable
from advviewer.models.zoo_cards import WEIGHTS_FORMAT, ZOO, network_of, shipped_weights_bytes

MAX_WEIGHTS_BYTES = 64_000_000  # the largest zoo file (fc200-200-10) is under 1 MB; also the bound on its tensors' bytes
MAX_PICKLE_BYTES = 1_000_000  # the zoo's data.pkl are about 1 kB
MAX_DIMENSIONS = 4  # a conv kernel's
_STORAGE_DTYPES = {"FloatStorage": np.dtype("<f4")}

Weights = dict[str, np.ndarray]


@dataclass(frozen=True)
class _Storage:
    dtype: np.dtype
    key: str
    numel: int


@dataclass(frozen=True)
class _TensorView:
    """Where a tensor's values lie in its storage, checked against it (:meth:`_WeightsUnpickler.rebuild_tensor`)."""

    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _is_count(value: object) -> TypeGuard[int]:
    return type(value) is int and value >= 0


class _WeightsUnpickler(pickle.Unpickler):
    """Only what ``torch.save`` of a dict of float tensors writes; any other global is refused.

    Every tensor's place in its storage is checked as it is unpickled, before anything is built
    from it: sizes, strides and offset are counts; the furthest element any index reaches lies
    inside the storage (a stride of 2**40 read far outside it and crashed the process); no tensor
    has more elements than its storage (zero strides made 1.6 billion copies of one value); and all
    tensors together have at most ``MAX_WEIGHTS_BYTES``.
    """

    def __init__(self, file) -> None:
        super().__init__(file)
        self.total_elements = 0

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return self.rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        raise ModelLoadError(f"the weights file names {module}.{name}, which a zoo weights file never holds")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and pid[1] in _STORAGE_DTYPES
                and isinstance(pid[2], str) and _is_count(pid[4])):
            raise ModelLoadError("the weights file holds a storage of a kind a zoo weights file never holds")
        return _Storage(_STORAGE_DTYPES[pid[1]], pid[2], pid[4])

    def rebuild_tensor(self, storage: object, offset: object, size: object, stride: object, *_ignored) -> _TensorView:
        if not (isinstance(storage, _Storage) and _is_count(offset) and isinstance(size, tuple) and isinstance(stride, tuple)
                and len(size) == len(stride) <= MAX_DIMENSIONS and all(map(_is_count, size + stride))):
            raise ModelLoadError("the weights file holds a tensor whose size, strides or offset are not counts")
        elements = math.prod(size)
        if elements and (offset + sum((n - 1) * step for n, step in zip(size, stride)) >= storage.numel
                         or elements > storage.numel):
            raise ModelLoadError(f"the weights file holds a tensor of size {size}, strides {stride} and offset {offset} "
                                 f"that reaches outside its storage of {storage.numel:,} values")
        self.total_elements += elements
        if self.total_elements * storage.dtype.itemsize > MAX_WEIGHTS_BYTES:
            raise ModelLoadError(f"the weights file's tensors hold over {MAX_WEIGHTS_BYTES // 1_000_000} MB of values; "
                                 "a zoo model has at most a few")
        return _TensorView(storage, offset, size, stride)


def _members(archive: zipfile.ZipFile) -> tuple[str, list[str]]:
    """(the pickle's name, all names) once the archive's declared sizes are within bounds (zipfile stops at them)."""
    infos = archive.infolist()
    if sum(info.file_size for info in infos) > MAX_WEIGHTS_BYTES:
        raise ModelLoadError(f"the weights file unpacks to over {MAX_WEIGHTS_BYTES // 1_000_000} MB")
    names = [info.filename for info in infos]
    pickles = [info for info in infos if info.filename.endswith("/data.pkl")]
    if len(pickles) != 1 or pickles[0].file_size > MAX_PICKLE_BYTES:
        raise ModelLoadError("not an advviewer weights file (no single data.pkl of a few kilobytes)")
    return pickles[0].filename, names


def _array(archive: zipfile.ZipFile, prefix: str, key: str, view: object) -> np.ndarray:
    """The float32 values of one checked tensor view (a copy, native byte order)."""
    if not isinstance(view, _TensorView):
        raise ModelLoadError(f"the weights file's entry {printable(repr(key))[:80]} is not a tensor")
    storage = view.storage
    raw = archive.read(prefix + "data/" + storage.key)
    if len(raw) != storage.numel * storage.dtype.itemsize:
        raise ModelLoadError(f"the weights file's tensor {printable(repr(key))[:80]} is not the size it says")
    flat = np.frombuffer(raw, storage.dtype)
    strides = [s * storage.dtype.itemsize for s in view.stride]
    strided = np.lib.stride_tricks.as_strided(flat[view.offset:], view.size, strides, writeable=False)
    return np.array(strided, dtype=np.float32)


def read_weights(data: bytes) -> tuple[str, Weights]:
    """The architecture name and the state dict (name -> float32 array) of an ``advviewer train`` weights file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        pickled, names = _members(archive)
        prefix = pickled[: -len("data.pkl")]
        if prefix + "byteorder" in names and archive.read(prefix + "byteorder").strip() != b"little":
            raise ModelLoadError("the weights file is not little-endian")
        payload = _WeightsUnpickler(io.BytesIO(archive.read(pickled))).load()
        if not isinstance(payload, dict) or payload.get("format") != WEIGHTS_FORMAT or payload.get("arch") not in ZOO:
            raise ModelLoadError(f"not an advviewer weights file (no '{WEIGHTS_FORMAT}' header or an unknown architecture)")
        if not isinstance(payload.get("state_dict"), dict):
            raise ModelLoadError("the weights file's state_dict is not a mapping of names to tensors")
        state = {str(key): _array(archive, prefix, key, view) for key, view in payload["state_dict"].items()}
    except ModelLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 -- a zip or pickle damaged in any of many ways
        raise ModelLoadError(f"not a readable advviewer weights file ({type(exc).__name__})") from None
    return str(payload["arch"]), state


# --- the architectures (as in advviewer.models.zoo; the tests hold the two to the same answers) --------


def _linear(x: np.ndarray, w: Weights, name: str) -> np.ndarray:
    return x @ w[name + ".weight"].T + w[name + ".bias"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(-x) overflows to inf for very negative x: sigmoid is then 0, as in torch
        return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


def _silu(x: np.ndarray) -> np.ndarray:
    return x * _sigmoid(x)


def _conv5x5_same(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """(N, C, H, W) * (K, C, 5, 5), padding 2, stride 1 -> (N, K, H, W) (cross-correlation, as torch)."""
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    patches = np.lib.stride_tricks.sliding_window_view(padded, (5, 5), axis=(2, 3))  # (N, C, H, W, 5, 5)
    n, c, h, wd = patches.shape[:4]
    columns = patches.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * wd, c * 25)
    out = columns @ weight.reshape(len(weight), c * 25).T + bias
    return out.reshape(n, h, wd, len(weight)).transpose(0, 3, 1, 2)


def _avg_pool2(x: np.ndarray) -> np.ndarray:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5), dtype=np.float32)


def _mlp_forward(w: Weights, x: np.ndarray) -> np.ndarray:
    h = x.reshape(len(x), -1)
    layers = sorted({int(k.split(".")[0]) for k in w})
    for index in layers:
        h = _linear(h, w, str(index))
        if index != layers[-1]:
            h = _sigmoid(h)
    return h


def _ae_forward(w: Weights, x: np.ndarray) -> np.ndarray:
    return _linear(_sigmoid(_linear(x.reshape(len(x), -1), w, "encoder.1")), w, "classifier")


def _cnn_forward(w: Weights, x: np.ndarray) -> np.ndarray:
    h = _avg_pool2(_silu(_conv5x5_same(x, w["0.weight"], w["0.bias"])))
    h = _avg_pool2(_silu(_conv5x5_same(h, w["3.weight"], w["3.bias"])))
    return _linear(_silu(_linear(h.reshape(len(h), -1), w, "7")), w, "9")


def _forward_of(arch: str) -> Callable[[Weights, np.ndarray], np.ndarray]:
    arch = network_of(arch)  # cnn-robust: the cnn's network
    if arch == "cnn":
        return _cnn_forward
    if arch == "ae400-10":
        return _ae_forward
    return _mlp_forward  # fc10-*, fc100-100-10, fc200-200-10: Flatten, Linear (+ Sigmoid between)


@dataclass(frozen=True)
class NumpyClassifier:
    """A zoo network's forward pass: (N, 1, 28, 28) float32 images in [0, 1] -> logits (N, 10)."""

    name: str
    weights: Weights

    def logits(self, images: np.ndarray) -> np.ndarray:
        x = np.asarray(images, dtype=np.float32)
        if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
            raise ValueError(f"expected (N, 1, 28, 28) images, got {x.shape}")
        return _forward_of(self.name)(self.weights, x)

    def predict(self, image: np.ndarray) -> np.ndarray:
        """Softmax probabilities in float64 (as :func:`advviewer.calculus.gradients.predict`): (10,) for one 28x28 image, (N, 10) for a batch."""
        x = np.asarray(image, dtype=np.float32)
        batch = x[None, None] if x.ndim == 2 else x[:, None] if x.ndim == 3 else x
        if batch.ndim != 4 or batch.shape[1:] != (1, 28, 28):
            raise ValueError(f"expected a 28x28 image (or a batch of them), got shape {x.shape}")
        logits = self.logits(batch).astype(np.float64)
        if not np.isfinite(logits).all():
            raise ModelOutputError("the model returned NaN or infinite logits for this input")
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = shifted / shifted.sum(axis=1, keepdims=True)
        return probs[0] if x.ndim == 2 else probs


def load_numpy_zoo_model(name: str) -> NumpyClassifier:
    """A zoo model's forward pass from its shipped weights, checked against the sha256 in its card (as load_model)."""
    data = shipped_weights_bytes(name, MAX_WEIGHTS_BYTES)
    arch, weights = read_weights(data)
    if arch != name:
        raise ModelLoadError(f"the shipped weights of {name!r} are of the {arch} architecture")
    return NumpyClassifier(name, weights)
