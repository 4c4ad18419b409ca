"""The shapes each kernel can take, checked on shape-only tensors before the kernel runs.

torch's "meta" kernels (what :mod:`advviewer.models.pt2_cost` runs first) check most operators'
arguments as the real kernels do, but not all: ``_native_batch_norm_legit_no_training`` and
``native_group_norm`` accept per-channel parameters of any length, and the real kernel then
reads past their end (a 0-element one crashes the process); a convolution's bias is checked
only by the real kernel. :func:`check_kernel_shapes` holds those contracts, so every operator's
inputs are known to fit its kernel before it sees data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from advviewer.errors import ModelLoadError

Values = dict[str, Any]


def _per_channel(values: Values, names: tuple[str, ...], channels: int, op: str) -> None:
    """Each of ``names`` is None or a floating-point vector of ``channels`` values."""
    for name in names:
        tensor = values.get(name)
        if tensor is None:
            continue
        if not isinstance(tensor, torch.Tensor) or tensor.dim() != 1 or tensor.shape[0] != channels or not tensor.is_floating_point():
            shape = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            raise ModelLoadError(f"{op}: {name} has shape {shape}; the input has {channels} channels")


def _input(values: Values, name: str, op: str, min_dim: int) -> torch.Tensor:
    tensor = values.get(name)
    if not isinstance(tensor, torch.Tensor) or tensor.dim() < min_dim or not tensor.is_floating_point():
        raise ModelLoadError(f"{op}: {name} must be a floating-point tensor of at least {min_dim} dimensions")
    return tensor


def _batch_norm(values: Values, op: str) -> None:
    channels = _input(values, "input", op, 2).shape[1]
    _per_channel(values, ("weight", "bias", "running_mean", "running_var"), channels, op)


def _group_norm(values: Values, op: str) -> None:
    x = _input(values, "input", op, 2)
    groups = values.get("num_groups", values.get("group"))
    if not isinstance(groups, int) or groups < 1 or x.shape[1] % groups:
        raise ModelLoadError(f"{op}: {x.shape[1]} channels cannot be split into {groups} groups")
    if op.startswith("native_group_norm"):
        spatial = 1
        for n in x.shape[2:]:
            spatial *= n
        if (values.get("N"), values.get("C"), values.get("HxW")) != (x.shape[0], x.shape[1], spatial):
            raise ModelLoadError(f"{op}: its N, C and HxW do not describe its input {tuple(x.shape)}")
    _per_channel(values, ("weight", "bias"), x.shape[1], op)


def _layer_norm(values: Values, op: str) -> None:
    x = _input(values, "input", op, 1)
    shape = tuple(values.get("normalized_shape") or ())
    if not shape or tuple(x.shape[x.dim() - len(shape):]) != shape:
        raise ModelLoadError(f"{op}: normalized shape {shape} is not the end of the input's {tuple(x.shape)}")
    for name in ("weight", "bias"):
        tensor = values.get(name)
        if tensor is not None and (not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != shape):
            raise ModelLoadError(f"{op}: {name} is not of the normalized shape {shape}")


def _convolution(values: Values, op: str) -> None:
    x, weight = values.get("input"), values.get("weight")
    if not isinstance(x, torch.Tensor) or not isinstance(weight, torch.Tensor) or weight.dim() != x.dim() or weight.dim() < 3:
        raise ModelLoadError(f"{op}: the input and the weight must be tensors of the same rank (3 or more)")
    if not x.is_floating_point() or weight.dtype != x.dtype:
        raise ModelLoadError(f"{op}: the input and the weight must be floating-point tensors of one type")
    groups = values.get("groups", 1)
    transposed = is_transposed(op, values)
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    bias = values.get("bias")
    if bias is not None and (not isinstance(bias, torch.Tensor) or tuple(bias.shape) != (out_channels,)):
        raise ModelLoadError(f"{op}: the bias must be a vector of {out_channels} values")
    _window_steps(values, op, transposed)


def is_transposed(op: str, values: Values) -> bool:
    """Whether a convolution runs backwards (output positions spread from each input position)."""
    return op.startswith("conv_transpose") or bool(values.get("transposed"))


def _window_steps(values: Values, op: str, transposed: bool) -> None:
    """Strides and dilations of at least 1, no negative padding, output padding below stride or dilation."""
    stride, dilation = list(values.get("stride") or [1]), list(values.get("dilation") or [1])
    padding = values.get("padding")
    if min(stride + dilation) < 1 or isinstance(padding, list) and padding and min(padding) < 0:
        raise ModelLoadError(f"{op}: strides and dilations must be at least 1 and padding not negative")
    for k, pad in enumerate((values.get("output_padding") or []) if transposed else []):
        if pad < 0 or pad >= max(stride[min(k, len(stride) - 1)], dilation[min(k, len(dilation) - 1)]):
            raise ModelLoadError(f"{op}: output padding must be smaller than the stride or the dilation")


def _softmax(values: Values, op: str) -> None:
    x, dim = values.get("self"), values.get("dim")
    if isinstance(x, torch.Tensor) and isinstance(dim, int) and not -max(x.dim(), 1) <= dim < max(x.dim(), 1):
        raise ModelLoadError(f"{op}: dimension {dim} is out of range for a tensor of {x.dim()} dimensions")


RULES: dict[str, Callable[[Values, str], None]] = {
    "batch_norm.default": _batch_norm, "_native_batch_norm_legit_no_training.default": _batch_norm,
    "group_norm.default": _group_norm, "native_group_norm.default": _group_norm,
    "layer_norm.default": _layer_norm, "native_layer_norm.default": _layer_norm,
    "conv1d.default": _convolution, "conv2d.default": _convolution, "convolution.default": _convolution,
    "conv_transpose1d.default": _convolution, "conv_transpose2d.input": _convolution,
    "softmax.int": _softmax, "log_softmax.int": _softmax, "_softmax.default": _softmax, "_log_softmax.default": _softmax,
}


def check_kernel_shapes(op: str, values: Values) -> None:
    """ModelLoadError if ``op``'s arguments (bound by name; tensors may be "meta") do not fit its kernel."""
    rule = RULES.get(op)
    if rule is not None:
        rule(values, op)
