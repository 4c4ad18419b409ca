"""How much memory and arithmetic one forward pass of an exported program needs, measured on shapes alone.

The program is run on "meta" tensors (shapes and dtypes, no data, nothing allocated): the sizes
of every value it computes and an estimate of its work follow, before a real digit is given to
it. A program of allow-listed operators has no loops or data-dependent shapes, so these figures
hold for every input of the same batch size.
"""

from __future__ import annotations

from typing import Any

import torch

from advviewer.models.pt2_graph import GraphClassifier, call_arguments, store_outputs

FACTORIES = {"zeros", "ones", "full", "scalar_tensor", "arange"}
_POOLS = ("max_pool2d.default", "max_pool2d_with_indices.default", "avg_pool2d.default")


def graph_cost(model: GraphClassifier, batch: int) -> tuple[int, int]:
    """(bytes of every value computed, arithmetic operations) of one forward pass on ``batch`` images.

    Runs on "meta" tensors (shapes only, nothing allocated or computed). Work is counted as
    multiply-adds for convolutions and matrix products, window size times output for pooling,
    and inputs plus outputs for everything else.
    """
    meta = {name: torch.empty(p.shape, dtype=p.dtype, device="meta") for name, p in zip(model._names, model.parameters())}
    env: dict[str, Any] = dict(model._constants)
    env.update(meta)
    env[model._input] = torch.empty((batch, 1, 28, 28), device="meta")
    total_bytes = work = 0
    for fn, inputs, outputs in model._steps:
        args, kwargs = call_arguments(inputs, env)
        if not any(outputs):  # an assertion on dtype/device (aten._assert_tensor_metadata): nothing to measure
            continue
        if "device" in kwargs or str(fn).split(".")[1] in FACTORIES:
            kwargs["device"] = "meta"  # a factory or a copy must not allocate (or move) real memory here
        result = fn(*args, **kwargs)
        results = [result] if len(outputs) == 1 else list(result)
        store_outputs(env, outputs, result)
        out = [r for r in results if isinstance(r, torch.Tensor)]
        total_bytes += sum(r.numel() * r.element_size() for r in out)
        work += _work(str(fn), args, kwargs, out)
    return total_bytes, work


def _work(op: str, args: list[Any], kwargs: dict[str, Any], out: list[torch.Tensor]) -> int:
    produced = sum(r.numel() for r in out)
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if any(k in op for k in ("conv1d", "conv2d", "convolution")) and len(tensors) >= 2:
        weight = tensors[1]
        return 2 * produced * int(torch.Size(weight.shape[1:]).numel())
    if any(k in op for k in ("linear", "matmul", "bmm", "aten.mm")) and len(tensors) >= 2:
        return 2 * produced * int(tensors[0].shape[-1]) if tensors[0].dim() else produced
    if "addmm" in op and len(tensors) >= 3:
        return 2 * produced * int(tensors[1].shape[-1])
    kernel = args[1] if len(args) >= 2 else kwargs.get("kernel_size")
    if any(k in op for k in _POOLS) and isinstance(kernel, list):
        window = 1
        for k in kernel:
            window *= max(int(k), 1)
        return produced * window
    return produced + sum(t.numel() for t in tensors)
