"""Checks of an attack's arguments: every problem becomes a one-line AttackInputError."""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from advviewer.attack.result import AttackResult
from advviewer.errors import AttackInputError


@dataclass(frozen=True)
class CheckedImages:
    """An attack's images, checked: as float32 (N, *image_shape), and what the model and the results need to know."""

    pixels: np.ndarray  # (N, *image_shape) float32 in [0, 1]
    single: bool  # one image was given (lbfgs_attack with an (H, W) image): one AttackResult comes back
    input_shape: tuple[int, ...]  # what the model takes per image: (C, H, W), (1, H, W) for (H, W) images, or (D,)
    tensor_device: torch.device | None  # the images came as a tensor there: the result's images go back there

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.pixels.shape[1:])


def check_images(image, batch: bool = False) -> CheckedImages:
    """Float values in [0, 1]: one image (H, W) (not for ``batch``), a batch (N, H, W) or (N, C, H, W), or for
    ``batch`` also (N, D) flat rows."""
    device = image.device if isinstance(image, torch.Tensor) else None
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
    try:
        arr = np.asarray(image, dtype=np.float64)
    except (TypeError, ValueError):
        raise AttackInputError(f"image must be a numeric array, not {type(image).__name__}") from None
    single = arr.ndim == 2 and not batch
    if single:
        arr = arr[None]
    if arr.ndim not in (2, 3, 4) or arr.shape[0] == 0 or arr[0].size == 0:
        what = "(N, D), (N, H, W) or (N, C, H, W)" if batch else "(H, W), or a batch (N, H, W) or (N, C, H, W)"
        raise AttackInputError(f"image must be {what}, got shape {np.shape(image)}")
    _check_values(arr)
    input_shape = (1, *arr.shape[1:]) if arr.ndim == 3 else tuple(arr.shape[1:])
    return CheckedImages(arr.astype(np.float32), single, input_shape, device)


def _check_values(arr: np.ndarray) -> None:
    if not np.isfinite(arr).all():
        raise AttackInputError("image contains NaN or infinite values")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        hint = " (divide 8-bit images by 255)" if hi > 1.0 and hi <= 255.0 and lo >= 0.0 else ""
        raise AttackInputError(f"image values must lie in [0, 1], got {lo:g}..{hi:g}{hint}")


def check_target(target, original_class: int, untargeted: bool, n_classes: int, single: bool,
                 confident: bool = False) -> int | None:
    """A class 0..K-1, or None for an untargeted attack. One image (``single``) whose model already answers the
    target is refused (the window and the command line say so); in a batch such a pair is flagged instead
    (api: ``already_fooled``)."""
    if untargeted:
        if target is not None:
            raise AttackInputError("give either a target class or untargeted=True, not both")
        return None
    last = n_classes - 1
    if target is None:
        raise AttackInputError(f"give a target class 0..{last}, or untargeted=True for the nearest other class")
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        raise AttackInputError(f"target must be a class 0..{last}, not {target!r}")
    if not 0 <= int(target) <= last:
        raise AttackInputError(f"target must be a class 0..{last}, got {int(target)}")
    if single and int(target) == original_class and not confident:
        raise AttackInputError(f"the model already answers {original_class} for this image; choose another "
                               "target, or attack untargeted (the smallest change to any other class)")
    return int(target)


def check_labels(labels, n: int, untargeted: bool, n_classes: int) -> list[int] | None:
    """The images' true labels (untargeted attacks only): one class 0..K-1 per image, or None."""
    if labels is None:
        return None
    if not untargeted:
        raise AttackInputError("labels are for untargeted attacks (a targeted attack has its targets)")
    values = _plain(labels)
    if not isinstance(values, Sequence) or isinstance(values, str) or len(values) != n:
        raise AttackInputError(f"labels must be one class per image ({n})")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 0 <= int(v) < n_classes:
            raise AttackInputError(f"a label must be a class 0..{n_classes - 1}, not {v!r}")
        out.append(int(v))
    return out


def check_confidence(confidence) -> float | None:
    """None, or the required probability of the target: a number strictly between 0 and 1."""
    if confidence is None:
        return None
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real) or not 0.0 < float(confidence) < 1.0:
        raise AttackInputError(f"confidence must be a probability between 0 and 1 (exclusive), not {confidence!r}")
    return float(confidence)


def check_budget(max_evaluations, threads) -> None:
    """``max_evaluations``: None or a positive integer; ``threads``: None or a positive integer."""
    for name, value in (("max_evaluations", max_evaluations), ("threads", threads)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1):
            raise AttackInputError(f"{name} must be a positive integer or None, got {value!r}")


def _plain(value):
    """A tensor or array as Python values: 0-d -> a scalar, 1-d -> a list (other shapes stay arrays, refused later)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return value.item()
        if value.ndim == 1:
            return value.tolist()
    return value


def _per_image(value, n: int, single: bool, what: str, plural: str) -> list:
    """One value for every image, or one per image (a sequence, a 1-d array or tensor of length n)."""
    value = _plain(value)
    if isinstance(value, np.ndarray):
        raise AttackInputError(f"{what} must be one value or one per image, got an array of shape {value.shape}")
    if isinstance(value, Sequence) and not isinstance(value, str):
        if single:
            raise AttackInputError(f"one image takes one {what}, got {len(value)}")
        if len(value) != n:
            raise AttackInputError(f"{n} images but {len(value)} {plural}")
        return list(value)
    return [value] * n


def check_targets(target, n: int, single: bool) -> list:
    """The target of every image (int, None, numpy or torch scalars and vectors), each checked later."""
    return [_plain(t) for t in _per_image(target, n, single, "target", "targets")]


def check_c(c, n: int = 1, single: bool = True) -> np.ndarray | None:
    """None (minimal mode) or one positive finite c per image."""
    if c is None:
        return None
    values = _per_image(c, n, single, "c", "c values")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise AttackInputError(f"c must be a positive number, not {v!r}")
        if not math.isfinite(float(v)) or float(v) <= 0:
            raise AttackInputError(f"c must be a positive finite number, got {float(v):g}")
    return np.asarray(values, dtype=np.float64)


def check_max_iter(max_iter) -> int:
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise AttackInputError(f"max_iter must be a positive integer, got {max_iter!r}")
    return int(max_iter)


def check_warm_starts(warm_start, n: int, single: bool, image_ndim: int = 2) -> list:
    """One warm start per image: None, a result or a perturbation for all, or one each (a batch's results, (N, ...))."""
    if single or warm_start is None or isinstance(warm_start, AttackResult):
        return [warm_start] * n
    if isinstance(warm_start, torch.Tensor):
        warm_start = warm_start.detach().cpu().numpy()
    if isinstance(warm_start, np.ndarray) and warm_start.ndim == image_ndim:
        return [warm_start] * n
    if isinstance(warm_start, np.ndarray | Sequence):
        if len(warm_start) != n:
            raise AttackInputError(f"{n} images but {len(warm_start)} warm starts")
        return list(warm_start)
    return [warm_start] * n  # refused by check_warm_start with its message


def check_warm_start(warm_start, original: np.ndarray) -> tuple[np.ndarray | None, AttackResult | None]:
    """The start image (original + previous perturbation, inside the box) and the previous result."""
    if warm_start is None:
        return None, None
    previous = warm_start if isinstance(warm_start, AttackResult) else None
    r = previous.perturbation if previous is not None else warm_start
    if isinstance(r, torch.Tensor):
        r = r.detach().cpu().numpy()
    try:
        r = np.asarray(r, dtype=np.float64)
    except (TypeError, ValueError):
        raise AttackInputError("warm_start must be an AttackResult or a perturbation of the image's shape") from None
    if r.shape != original.shape or not np.isfinite(r).all():
        raise AttackInputError(f"warm_start must be a finite perturbation of shape {original.shape}, got shape {r.shape}")
    # a start point only: the solver projects it into the box and every iterate stays there
    return np.clip(original + r, 0.0, 1.0).astype(np.float32), previous


def prepare_model(model: nn.Module, device: str | torch.device | None) -> tuple[nn.Module, torch.device]:
    """The model on ``device`` (a copy if it lives elsewhere; None: where its parameters are), in eval mode."""
    if not isinstance(model, nn.Module) and not callable(model):
        raise AttackInputError(f"model must be a torch module, not {type(model).__name__}")
    if device is None:
        params = list(model.parameters()) if isinstance(model, nn.Module) else []
        return prepare_model(model, params[0].device if params else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise AttackInputError(f"unknown device {device!r}; use 'cpu' or 'cuda'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise AttackInputError("device 'cuda' was asked for but no CUDA GPU is available; use the CPU (--device cpu, the default)")
    params = list(model.parameters()) if isinstance(model, nn.Module) else []
    if params and params[0].device != dev:
        try:
            model = copy.deepcopy(model).to(dev)
        except (RuntimeError, AssertionError) as e:  # torch built without that device
            raise AttackInputError(f"cannot move the model to device {device!r}: {str(e).splitlines()[0]}") from None
    if isinstance(model, nn.Module) and model.training:
        raise AttackInputError("model is in training mode; call model.eval() first (dropout/batch-norm would change its answers)")
    return model, dev
