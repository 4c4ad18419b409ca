"""A user's model is checked on real digits when it is loaded, and its output on every call.

A network can accept two blank images and still return NaN, raise, or change its output's
shape on a real digit; and a model that is fine at load time can overflow on some drawing
later. :func:`validate_on_digits` runs it on bundled test digits (one alone, twenty in a batch,
and the gradient the attack needs); :class:`CheckedClassifier` wraps it so that any later call
whose output is not finite (N, 10) logits raises :class:`ModelOutputError` with one line
instead of a NaN probability or a traceback.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from advviewer.data import bundled_split
from advviewer.errors import ModelLoadError, ModelOutputError
from advviewer.reading.files import shown

VALIDATION_DIGITS = 20  # two per class from the bundled test split


def _reason(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {shown(lines[0][:160])}" if lines else type(exc).__name__


def check_logits(out: object, batch: int) -> torch.Tensor:
    """``out`` if it is finite float logits of shape (batch, 10); else ModelOutputError saying what it is."""
    if not isinstance(out, torch.Tensor):
        raise ModelOutputError(f"the model returned {type(out).__name__}, not a tensor of logits")
    if tuple(out.shape) != (batch, 10):
        raise ModelOutputError(f"the model returned shape {tuple(out.shape)} for {batch} image(s), expected logits of shape ({batch}, 10)")
    if not out.is_floating_point():
        raise ModelOutputError(f"the model returned {out.dtype} values, not floating-point logits")
    # one reduction, cheaper than isfinite().all() on the live path of every stroke: NaN
    # and inf propagate into the sum; a sum beyond float's range means unusable logits as well
    if not math.isfinite(out.detach().sum().item()):
        raise ModelOutputError("the model returned NaN or infinite logits for this input")
    return out


class CheckedClassifier(nn.Module):
    """``model`` whose every answer is checked: a failure is one :class:`ModelOutputError` line."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            out = self.model(x)
        except ModelOutputError:
            raise
        except Exception as exc:  # noqa: BLE001 -- a foreign network can fail in any way
            raise ModelOutputError(f"the model failed on this input ({_reason(exc)})") from None
        return check_logits(out, x.shape[0])


def _digits() -> torch.Tensor:
    images, labels = bundled_split("test")
    picks = np.concatenate([np.flatnonzero(labels == c)[:2] for c in range(10)])
    return torch.from_numpy(images[picks].astype(np.float32) / 255.0).unsqueeze(1)


def validate_on_digits(model: nn.Module, source: str) -> nn.Module:
    """``model`` in eval mode if it maps real digits to finite logits and has an input gradient; else ModelLoadError."""
    model.eval()
    digits = _digits()
    try:
        with torch.no_grad():
            batch = check_logits(model(digits), len(digits))
            alone = check_logits(model(digits[:1]), 1)
        x = digits[:1].clone().requires_grad_(True)
        out = model(x)
        if not out.requires_grad:
            raise ModelLoadError(f"{source}: the model's output has no gradient with respect to the image "
                                 "(the gradient view and the attack need one)")
        (grad,) = torch.autograd.grad(torch.log_softmax(out, 1)[0, 0], x)
    except ModelLoadError:
        raise
    except ModelOutputError as exc:
        raise ModelLoadError(f"{source}: on real digits, {exc}") from None
    except Exception as exc:  # noqa: BLE001 -- a foreign network can fail in any way on our input
        raise ModelLoadError(f"{source}: the model fails on (N, 1, 28, 28) digits in [0, 1] ({_reason(exc)}); "
                             "it must accept any batch size") from None
    if not torch.allclose(alone[0], batch[0], rtol=1e-3, atol=1e-3 * (1.0 + float(batch.abs().max()))):
        raise ModelLoadError(f"{source}: the model answers a digit differently alone and in a batch "
                             "(batch norm or dropout in training mode?); export it in eval mode")
    if not bool(torch.isfinite(grad).all()):
        raise ModelLoadError(f"{source}: the model's gradient with respect to the image is not finite")
    return model
