"""Tensors on a device that is not the CPU, with their values, on a machine without a GPU.

A test cannot put a model on a GPU here, yet the code that breaks on one is ordinary code: it
hands a CPU tensor to a model whose weights are elsewhere, or calls ``.numpy()`` on a result
that is not on the CPU. :class:`OnDevice` wraps a CPU tensor and reports another device;
every operation runs on the wrapped CPU tensors, and it keeps the two rules of a real GPU that
such code trips over:

- an operation mixing a device tensor with a CPU tensor (other than a 0-d scalar) raises
  ``RuntimeError: Expected all tensors to be on the same device``, as CUDA does;
- ``.numpy()`` refuses (PyTorch refuses it for a tensor subclass, as for a GPU tensor), while
  ``.cpu()`` / ``.to("cpu")`` give the plain CPU tensor back and, inside :class:`SimulatedDevice`,
  ``.to(DEVICE)`` of a CPU tensor wraps a copy.

The device it reports is ``meta``, not ``cuda``: autograd asks the device's C++ guard about every
tensor that needs a gradient, and a CPU-only PyTorch has no CUDA guard (it aborts the process);
``meta`` has one. Only the label is borrowed: the values are real, so results can be compared
with the CPU's. Autograd works through it (a ``__torch_dispatch__`` wrapper, as PyTorch's own
fake tensors are).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map

DEVICE = torch.device("meta")


class OnDevice(torch.Tensor):
    """A CPU tensor that says it is on :data:`DEVICE` (see the module docstring)."""

    inner: torch.Tensor

    @staticmethod
    def __new__(cls, inner: torch.Tensor, requires_grad: bool = False):
        out = torch.Tensor._make_wrapper_subclass(cls, inner.shape, strides=inner.stride(), dtype=inner.dtype,
                                                  device=DEVICE, requires_grad=requires_grad)
        out.inner = inner
        return out

    def __repr__(self) -> str:
        return f"OnDevice({self.inner!r})"

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        flat, _ = tree_flatten((args, kwargs))
        on_device = [t for t in flat if isinstance(t, OnDevice)]
        # (CUDA takes the indices of an indexing operation from the CPU too: only the other operands must agree)
        checked = flat if func not in _INDEXING else tree_flatten((args[:1], args[2:], kwargs))[0]
        on_cpu = [t for t in checked if isinstance(t, torch.Tensor) and not isinstance(t, OnDevice) and t.dim() > 0]
        if func in (torch.ops.aten._to_copy.default, torch.ops.aten.to.dtype_layout) and "device" in kwargs:
            target = torch.device(kwargs["device"])
            plain = tree_map(_unwrap, args)[0]
            copied = plain.to(dtype=kwargs.get("dtype") or plain.dtype, copy=True)
            return copied if target.type == "cpu" else OnDevice(copied)
        if on_device and on_cpu:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, {DEVICE} and cpu! "
                               f"(when calling {func})")
        out = func(*tree_map(_unwrap, args), **tree_map(_unwrap, kwargs))
        return tree_map(_wrap, out) if on_device else out


_INDEXING = (torch.ops.aten.index.Tensor, torch.ops.aten.index_put_.default, torch.ops.aten.index_put.default,
             torch.ops.aten._index_put_impl_.default)


class SimulatedDevice(TorchDispatchMode):
    """While active, ``tensor.to(DEVICE)`` of a CPU tensor gives an :class:`OnDevice` copy (a real
    meta tensor would have no values), and a tensor made on DEVICE (``torch.zeros(..., device=DEVICE)``,
    ``torch.arange``, ``torch.tensor``...) is made on the CPU and wrapped; every other operation runs as usual."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if kwargs.get("device") is None or torch.device(kwargs["device"]) != DEVICE:
            return func(*args, **kwargs)
        if func is torch.ops.aten._to_copy.default:
            if isinstance(args[0], OnDevice):
                return func(*args, **kwargs)
            return OnDevice(args[0].to(dtype=kwargs.get("dtype") or args[0].dtype, copy=True))
        return tree_map(_wrap, func(*args, **{**kwargs, "device": torch.device("cpu")}))  # a factory: made, then moved


def _unwrap(value):
    return value.inner if isinstance(value, OnDevice) else value


def _wrap(value):
    return OnDevice(value) if isinstance(value, torch.Tensor) and not isinstance(value, OnDevice) else value


def to_simulated_device(model: nn.Module) -> nn.Module:
    """``model`` with every parameter and buffer moved to :data:`DEVICE` (in place), as ``model.to("cuda")`` would."""
    for module in model.modules():
        for name, parameter in list(module._parameters.items()):
            if parameter is not None:
                module._parameters[name] = nn.Parameter(OnDevice(parameter.detach().clone()), requires_grad=parameter.requires_grad)
        for name, buffer in list(module._buffers.items()):
            if buffer is not None:
                module._buffers[name] = OnDevice(buffer.clone())
    return model
