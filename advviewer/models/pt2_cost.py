"""How much memory and arithmetic a forward pass of an exported program needs, measured on shapes alone.

The program is run on "meta" tensors (shapes and dtypes, no data, nothing allocated): the sizes
of every value it computes, the temporaries its kernels make and an estimate of its work follow,
before a real digit is given to it. Every node counts, whether or not its result is used, and
every argument is read by name (:mod:`advviewer.models.pt2_schema`), keyword or positional. Each
operator's inputs are checked against the shapes its kernel takes
(:mod:`advviewer.models.pt2_shapes`) on the way.

A program of allow-listed operators has no loops or data-dependent shapes, so these figures hold
for every input of the same shape. :class:`BoundedProgram` measures each new batch shape before
running it and splits a batch into chunks whose totals fit, so no call of the program -- one
image live, a chunk of finite differences, an attack's batch -- needs more than
:data:`MAX_BYTES_PER_CALL`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from advviewer.errors import AdvViewerError, ModelOutputError
from advviewer.models.pt2_graph import GraphClassifier, store_outputs
from advviewer.models.pt2_schema import Step, call, call_values
from advviewer.models.pt2_shapes import check_kernel_shapes, is_transposed

# A classifier of 28x28 digits: a forward pass may compute at most this much per image. The
# zoo's cnn needs 2 MFLOP and 0.2 MB; a ResNet-18 at this size about 0.6 GFLOP.
MAX_WORK_PER_IMAGE = 2_000_000_000
MAX_BYTES_PER_IMAGE = 64_000_000
# ... and one call, whatever its batch size, at most this much memory (values and temporaries;
# a backward pass needs about as much again)
MAX_BYTES_PER_CALL = 512_000_000
_POOLS = {"max_pool2d.default": 2, "max_pool2d_with_indices.default": 2, "avg_pool2d.default": 2}
_ADAPTIVE_POOLS = {"adaptive_avg_pool2d.default", "_adaptive_avg_pool2d.default"}
_CONVOLUTIONS = {"conv1d.default", "conv2d.default", "convolution.default", "conv_transpose1d.default", "conv_transpose2d.input"}
_PRODUCTS = {"mm.default": "self", "bmm.default": "self", "matmul.default": "self", "addmm.default": "mat1",
             "linear.default": "input"}


@dataclass(frozen=True)
class Cost:
    """What one forward pass needs: bytes of every value and temporary it makes, arithmetic operations."""

    bytes: int
    work: int


def graph_cost(model: GraphClassifier, shape: tuple[int, ...], dtype: torch.dtype = torch.float32) -> Cost:
    """The :class:`Cost` of one forward pass on a batch of ``shape`` (nothing allocated or computed).

    Raises ModelLoadError where an operator's inputs do not fit its kernel; any other exception
    means the program does not accept such a batch.
    """
    env: dict[str, Any] = dict(model.constants)
    env.update((name, torch.empty(t.shape, dtype=t.dtype, device="meta")) for name, t in model.weights().items())
    env[model.input_name] = torch.empty(shape, dtype=dtype, device="meta")
    total_bytes = work = 0
    for step in model.steps:
        values = call_values(step, env)
        check_kernel_shapes(step.op, values)
        if "device" in values:
            values["device"] = torch.device("meta")  # a factory or a copy must not allocate (or move) real memory here
        result = call(step, values)
        store_outputs(env, step.outputs, result)
        out = _tensors(result)
        total_bytes += sum(_nbytes(r) for r in out) + _temporary_bytes(step, values, out)
        work += _work(step, values, out)
    return Cost(total_bytes, work)


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, torch.Tensor)]
    return []


def _nbytes(tensor: torch.Tensor) -> int:
    return tensor.numel() * tensor.element_size()


def _product(sizes: Any) -> int:
    return math.prod(int(n) for n in sizes)


def _temporary_bytes(step: Step, values: dict[str, Any], out: list[torch.Tensor]) -> int:
    """Memory a kernel needs beyond its result: im2col buffers of convolutions, broadcast operands of matmul."""
    if step.op in _CONVOLUTIONS and out:
        x, weight = values["input"], values["weight"]
        groups = int(values.get("groups", 1))
        if is_transposed(step.op, values):  # a column buffer per input position: C_out * window values
            return _product(x.shape) // max(int(x.shape[1]), 1) * _product(weight.shape[1:]) * groups * x.element_size()
        return _product(out[0].shape) // max(int(out[0].shape[1]), 1) * _product(weight.shape[1:]) * groups * x.element_size()
    if step.op == "matmul.default":
        a, b = values["self"], values["other"]
        if a.dim() >= 2 and b.dim() >= 2:  # both operands are expanded to the broadcast batch and copied
            batch = _product(torch.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
            return batch * (_product(a.shape[-2:]) + _product(b.shape[-2:])) * a.element_size()
    return 0


def _work(step: Step, values: dict[str, Any], out: list[torch.Tensor]) -> int:
    """Multiply-adds for convolutions and products, window times output for pooling, else inputs plus outputs."""
    produced = sum(r.numel() for r in out)
    if step.op in _CONVOLUTIONS and out:
        x, weight = values["input"], values["weight"]
        per_position = 2 * _product(weight.shape[1:])
        return (x.numel() if is_transposed(step.op, values) else produced) * per_position
    if step.op in _PRODUCTS:
        left = values[_PRODUCTS[step.op]]
        return 2 * produced * int(left.shape[-1]) if left.dim() else produced
    if step.op in _POOLS:
        return produced * _pool_window(values["kernel_size"], _POOLS[step.op])
    inputs = [t for v in values.values() for t in _tensors(v)]
    consumed = sum(t.numel() for t in inputs)
    if step.op in _ADAPTIVE_POOLS and out:
        window = _product(-(-int(n) // max(int(m), 1)) + 1 for n, m in zip(inputs[0].shape[2:], out[0].shape[2:]))
        return consumed + produced * window
    return produced + consumed


def _pool_window(kernel_size: list[int], dims: int) -> int:
    """Values read per output: one size stands for a square (cube) window, as the kernel reads it."""
    kernel = [max(int(k), 1) for k in kernel_size]
    return kernel[0] ** dims if len(kernel) == 1 else _product(kernel)


class BoundedProgram(nn.Module):
    """A program whose every call is measured first (once per batch shape) and split into batches that fit.

    Each chunk's cost must stay within :data:`MAX_BYTES_PER_CALL`, and per image within
    :data:`MAX_BYTES_PER_IMAGE` and :data:`MAX_WORK_PER_IMAGE` (a program whose cost grows faster
    than its batch is run in smaller batches).
    """

    def __init__(self, program: GraphClassifier) -> None:
        super().__init__()
        self.program = program
        self._costs: dict[tuple[tuple[int, ...], torch.dtype], Cost] = {}
        self._chunks: dict[tuple[tuple[int, ...], torch.dtype], int] = {}

    def cost(self, shape: tuple[int, ...], dtype: torch.dtype = torch.float32) -> Cost:
        key = (shape, dtype)
        if key not in self._costs:
            if len(self._costs) > 256:
                self._costs.clear()
            self._costs[key] = graph_cost(self.program, shape, dtype)
        return self._costs[key]

    def fits(self, shape: tuple[int, ...], dtype: torch.dtype) -> bool:
        cost, images = self.cost(shape, dtype), max(shape[0], 1)
        return (cost.bytes <= min(MAX_BYTES_PER_CALL, MAX_BYTES_PER_IMAGE * images)
                and cost.work <= MAX_WORK_PER_IMAGE * images)

    def chunk(self, shape: tuple[int, ...], dtype: torch.dtype) -> int:
        """The largest batch (at most ``shape[0]``) the program may run at once on images of ``shape[1:]``."""
        key = (shape, dtype)
        if key not in self._chunks:
            size = max(shape[0], 1)
            if not self.fits(shape, dtype):
                cost = self.cost(shape, dtype)
                size = max(1, min(size - 1, size * MAX_BYTES_PER_CALL // max(cost.bytes, 1)))
                while size > 1 and not self.fits((size, *shape[1:]), dtype):
                    size //= 2
                if not self.fits((size, *shape[1:]), dtype):
                    raise ModelOutputError("the model needs more memory or work per image than advviewer allows")
            if len(self._chunks) > 256:
                self._chunks.clear()
            self._chunks[key] = size
        return self._chunks[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() == 0:
            raise ModelOutputError("the model takes a batch of images as one tensor")
        shape = tuple(x.shape)
        size = self._chunks.get((shape, x.dtype))
        if size is None:
            size = self._measured_chunk(shape, x.dtype)
        if size >= shape[0]:
            return self.program(x)
        # each part is measured too (the last one is smaller, and a program's cost need not shrink with its batch)
        return torch.cat([self(x[i:i + size]) for i in range(0, shape[0], size)])

    def _measured_chunk(self, shape: tuple[int, ...], dtype: torch.dtype) -> int:
        try:
            return self.chunk(shape, dtype)
        except AdvViewerError as exc:
            raise ModelOutputError(f"the model cannot run on a batch of shape {shape}: {exc}") from None
