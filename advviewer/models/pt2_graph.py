"""Run a ``torch.export`` graph ourselves, calling only allow-listed pure tensor operators.

A ``.pt2`` file's program is a JSON list of ATen operator calls. ``torch.export.load`` is not
safe on a stranger's file (it unpickles weights and constants with ``weights_only=False``,
``pickle.loads`` opaque objects, evaluates shape expressions with ``sympy.sympify`` -- Python's
``eval`` -- and resolves any ``torch.*`` name as a call target, ``torch.save`` included), so we
never give it the file. :class:`GraphClassifier` executes the node list itself: each target must
be one of :data:`ALLOWED` (arithmetic, convolutions, pooling, activations, normalisation, shape
changes), every argument must be a literal or a value computed earlier, and nothing else in the
file is evaluated. No operator on the list reads or writes files, maps memory, draws random
numbers, branches or loops, so a forward pass is a fixed sequence of tensor operations whose
sizes and work :func:`advviewer.models.pt2_cost.graph_cost` measures on shape-only ("meta")
tensors before any real data runs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from advviewer.errors import ModelLoadError

# "aten.<op>.<overload>": pure functions of their arguments (no I/O, no randomness, no in-place
# change of an argument, no data-dependent output shape, no uninitialised memory). Factories
# (zeros, arange, ...) are sized by literals, so graph_cost sees their size before they run.
ALLOWED = frozenset("""
conv1d.default conv2d.default convolution.default linear.default addmm.default mm.default bmm.default
matmul.default t.default view.default reshape.default _unsafe_view.default flatten.using_ints unsqueeze.default
squeeze.dim squeeze.dims squeeze.default permute.default transpose.int expand.default clone.default alias.default
cat.default stack.default slice.Tensor select.int narrow.default relu.default silu.default sigmoid.default
tanh.default gelu.default elu.default leaky_relu.default hardtanh.default softplus.default hardswish.default
hardsigmoid.default mish.default softmax.int log_softmax.int _softmax.default _log_softmax.default
max_pool2d.default max_pool2d_with_indices.default avg_pool2d.default adaptive_avg_pool2d.default
_adaptive_avg_pool2d.default mean.dim mean.default sum.dim_IntList sum.default amax.default add.Tensor add.Scalar
sub.Tensor sub.Scalar rsub.Scalar mul.Tensor mul.Scalar div.Tensor div.Scalar neg.default exp.default log.default
sqrt.default rsqrt.default pow.Tensor_Scalar abs.default clamp.default clamp_min.default clamp_max.default
maximum.default minimum.default reciprocal.default batch_norm.default _native_batch_norm_legit_no_training.default
layer_norm.default native_layer_norm.default group_norm.default native_group_norm.default dropout.default
sym_size.int constant_pad_nd.default pad.default _to_copy.default where.self eq.Tensor eq.Scalar ne.Tensor ne.Scalar
gt.Tensor gt.Scalar ge.Tensor ge.Scalar lt.Tensor lt.Scalar le.Tensor le.Scalar logical_not.default masked_fill.Scalar
sign.default square.default erf.default log1p.default expm1.default log2.default var.correction std.correction
max.dim min.dim amin.default argmax.default lift_fresh_copy.default
zeros.default ones.default full.default zeros_like.default ones_like.default full_like.default scalar_tensor.default
arange.default arange.start arange.start_step to.dtype to.dtype_layout _assert_tensor_metadata.default
""".split())
# operators allowed only when a boolean argument (by position) is literally false: dropout and
# batch norm in training mode draw random numbers or update running statistics
MUST_BE_FALSE = {"dropout.default": 2, "batch_norm.default": 5}
SYM_OPS: dict[str, Callable[[int, int], int]] = {"_operator.mul": operator.mul, "_operator.add": operator.add,
                                                "_operator.sub": operator.sub, "_operator.floordiv": operator.floordiv}
LITERALS = ("as_none", "as_int", "as_ints", "as_float", "as_floats", "as_bool", "as_bools", "as_string")
MAX_NODES = 10_000
MAX_LITERAL = 1 << 20  # ints in arguments (sizes, kernels, dims): anything bigger is not a classifier's
DTYPES = {1: torch.uint8, 2: torch.int8, 3: torch.int16, 4: torch.int32, 5: torch.int64, 6: torch.float16,
          7: torch.float32, 8: torch.float64, 12: torch.bool, 13: torch.bfloat16}
MEMORY_FORMATS = {1: torch.contiguous_format, 2: torch.channels_last, 4: torch.preserve_format}


def _operator(target: str) -> Callable[..., Any]:
    if target in SYM_OPS:
        return SYM_OPS[target]
    name = target.removeprefix("torch.ops.aten.")
    op, overload = name.rsplit(".", 1)
    return getattr(getattr(torch.ops.aten, op), overload)


def _short(target: str) -> str:
    return target.removeprefix("torch.ops.aten.")


def check_node(node: Any, defined: set[str], index: int) -> None:
    """Refuse a node whose target is not allow-listed or whose arguments are not literals or earlier values."""
    if not isinstance(node, dict) or not isinstance(node.get("target"), str):
        raise ModelLoadError(f"node {index} of the program is malformed")
    target = node["target"]
    short = _short(target)
    if target not in SYM_OPS and (not target.startswith("torch.ops.aten.") or short not in ALLOWED):
        raise ModelLoadError(f"the program calls {target[:80]!r}, which is not on advviewer's list of pure tensor operators")
    inputs = node.get("inputs")
    if not isinstance(inputs, list) or not isinstance(node.get("outputs"), list):
        raise ModelLoadError(f"node {index} ({short}) is malformed")
    for position, named in enumerate(inputs):
        arg = named.get("arg") if isinstance(named, dict) else None
        if not isinstance(arg, dict) or len(arg) != 1 or named.get("kind", 1) not in (1, 2) or not isinstance(named.get("name", ""), str):
            raise ModelLoadError(f"node {index} ({short}) has a malformed argument")
        _check_arg(arg, defined, f"node {index} ({short})")
        if MUST_BE_FALSE.get(short) == position and arg != {"as_bool": False}:
            raise ModelLoadError(f"the program uses {short} in training mode (random or stateful); export the model in eval mode")


def _check_arg(arg: dict, defined: set[str], where: str) -> None:
    (kind, value), = arg.items()
    if kind in LITERALS:
        items = value if isinstance(value, list) else [value]
        if len(items) > 64 or any(isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_LITERAL for v in items):
            raise ModelLoadError(f"{where}: an argument is out of range for a classifier")
        if kind == "as_string" and (not isinstance(value, str) or len(value) > 64):
            raise ModelLoadError(f"{where}: a text argument is malformed")
        return
    if kind in ("as_scalar_type", "as_memory_format", "as_layout", "as_device"):
        ok = (kind == "as_scalar_type" and value in DTYPES or kind == "as_memory_format" and value in MEMORY_FORMATS
              or kind == "as_layout" and value == 7 or kind == "as_device" and isinstance(value, dict) and value.get("type") == "cpu")
        if not ok:
            raise ModelLoadError(f"{where}: unsupported {kind[3:].replace('_', ' ')} {value!r}")
        return
    if kind == "as_tensor":
        refs = [value]
    elif kind == "as_tensors" and isinstance(value, list) and len(value) <= 64:
        refs = value
    elif kind == "as_sym_int":
        refs = [value]
    elif kind == "as_sym_ints" and isinstance(value, list) and len(value) <= 16:
        refs = value
    else:
        raise ModelLoadError(f"{where}: arguments of kind {kind!r} are not accepted")
    for ref in refs:
        if not isinstance(ref, dict) or len(ref) != 1:
            raise ModelLoadError(f"{where}: a malformed reference")
        (ref_kind, name), = ref.items()
        if ref_kind == "as_int" and isinstance(name, int) and abs(name) <= MAX_LITERAL:
            continue
        if ref_kind not in ("name", "as_name") or name not in defined:
            raise ModelLoadError(f"{where}: uses a value that is not computed before it")


def output_names(node: dict, index: int) -> list[str | None]:
    """Names of the values a node defines, by position (None where it returns nothing, as an assertion does)."""
    names: list[str | None] = []
    for out in node["outputs"]:
        if isinstance(out, dict) and len(out) == 1:
            (kind, value), = out.items()
            if kind == "as_tensor" and isinstance(value, dict) and isinstance(value.get("name"), str):
                names.append(value["name"])
                continue
            if kind == "as_sym_int" and isinstance(value, dict) and isinstance(value.get("as_name"), str):
                names.append(value["as_name"])
                continue
            if kind == "as_none":
                names.append(None)
                continue
        raise ModelLoadError(f"node {index} has an output of a kind that is not accepted")
    return names


class GraphClassifier(nn.Module):
    """An exported program's node list, run one allow-listed operator at a time."""

    def __init__(self, nodes: list[dict], input_name: str, output_name: str, tensors: dict[str, torch.Tensor],
                 constants: dict[str, Any]) -> None:
        super().__init__()
        self._steps = [(_operator(n["target"]), n["inputs"], output_names(n, i)) for i, n in enumerate(nodes)]
        self._input, self._output = input_name, output_name
        self._names = list(tensors)
        self._constants = dict(constants)
        for i, tensor in enumerate(tensors.values()):
            self.register_parameter(f"t{i}", nn.Parameter(tensor, requires_grad=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        env: dict[str, Any] = dict(self._constants)
        env.update((name, getattr(self, f"t{i}")) for i, name in enumerate(self._names))
        env[self._input] = x
        for fn, inputs, outputs in self._steps:
            args, kwargs = call_arguments(inputs, env)
            result = fn(*args, **kwargs)
            store_outputs(env, outputs, result)
        return env[self._output]


def store_outputs(env: dict[str, Any], outputs: list[str | None], result: Any) -> None:
    if not outputs:
        return
    if len(outputs) == 1:
        if outputs[0] is not None:
            env[outputs[0]] = result
        return
    for name, value in zip(outputs, result):
        if name is not None:
            env[name] = value


def call_arguments(inputs: list[dict], env: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    args, kwargs = [], {}
    for named in inputs:
        value = _value(named["arg"], env)
        if named.get("kind", 1) == 2:
            kwargs[named["name"]] = value
        else:
            args.append(value)
    return args, kwargs


def _value(arg: dict, env: dict[str, Any]) -> Any:
    (kind, value), = arg.items()
    if kind in LITERALS:
        return None if kind == "as_none" else value
    if kind == "as_tensor":
        return env[value["name"]]
    if kind == "as_tensors":
        return [env[v["name"]] for v in value]
    if kind == "as_sym_int":
        return _sym(value, env)
    if kind == "as_sym_ints":
        return [_sym(v, env) for v in value]
    if kind == "as_scalar_type":
        return DTYPES[value]
    if kind == "as_memory_format":
        return MEMORY_FORMATS[value]
    if kind == "as_layout":
        return torch.strided
    return torch.device("cpu")


def _sym(ref: dict, env: dict[str, Any]) -> Any:
    (kind, value), = ref.items()
    return value if kind == "as_int" else env[value]
