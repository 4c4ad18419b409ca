"""Run a ``torch.export`` graph ourselves, calling only allow-listed pure tensor operators.

A ``.pt2`` file's program is a JSON list of ATen operator calls. ``torch.export.load`` is not
safe on a stranger's file (it unpickles weights and constants with ``weights_only=False``,
``pickle.loads`` opaque objects, evaluates shape expressions with ``sympy.sympify`` -- Python's
``eval`` -- and resolves any ``torch.*`` name as a call target, ``torch.save`` included), so we
never give it the file. :class:`GraphClassifier` executes the node list itself: each target must
be one of :data:`ALLOWED` (arithmetic, convolutions, pooling, activations, normalisation, shape
changes), every argument is bound to the operator's schema by name and must be a literal or a
value computed earlier (:mod:`advviewer.models.pt2_schema`), and nothing else in the file is
evaluated. No operator on the list reads or writes files, maps memory, draws random
numbers, branches or loops, so a forward pass is a fixed sequence of tensor operations whose
sizes and work :func:`advviewer.models.pt2_cost.graph_cost` measures on shape-only ("meta")
tensors before any real data runs. Arithmetic on sizes (``_operator.mul`` and kin, written by
torch.export for a model that computes with its batch size) stays within :data:`MAX_SIZE_ARITHMETIC`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from advviewer.errors import ModelLoadError
from advviewer.models.pt2_schema import Literal, Step, bind_arguments

# "aten.<op>.<overload>": pure functions of their arguments (no I/O, no randomness, no in-place
# change of an argument, no data-dependent output shape, no uninitialised memory). Factories
# (zeros, arange, ...) are sized by literals, so graph_cost sees their size before they run.
ALLOWED = frozenset("""
conv1d.default conv2d.default convolution.default conv_transpose1d.default conv_transpose2d.input linear.default addmm.default mm.default bmm.default
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
var.dim std.dim
max.dim min.dim amin.default argmax.default lift_fresh_copy.default
zeros.default ones.default full.default zeros_like.default ones_like.default full_like.default scalar_tensor.default
arange.default arange.start arange.start_step to.dtype to.dtype_layout _assert_tensor_metadata.default
""".split())
# arguments that must be literally false: dropout and batch norm in training mode draw random
# numbers or update running statistics (read by name, after binding to the operator's schema)
MUST_BE_FALSE = {"dropout.default": "train", "batch_norm.default": "training"}
MAX_SIZE_ARITHMETIC = 1 << 40  # results of arithmetic on sizes: a chain of products must not grow without end


def _bounded_size_arithmetic(op: Callable[[int, int], int]) -> Callable[[int, int], int]:
    def sized(a: int, b: int) -> int:
        if not (isinstance(a, int) and isinstance(b, int)) or max(abs(a), abs(b)) > MAX_SIZE_ARITHMETIC:
            raise ModelLoadError("the program's arithmetic on sizes leaves the range of sizes")
        return op(a, b)
    return sized


SYM_OPS: dict[str, Callable[[int, int], int]] = {
    f"_operator.{op.__name__}": _bounded_size_arithmetic(op) for op in (operator.mul, operator.add, operator.sub, operator.floordiv)}
MAX_NODES = 10_000


def _short(target: str) -> str:
    return target.removeprefix("torch.ops.aten.")


def bind_node(node: Any, defined: set[str], index: int) -> Step:
    """The node as a :class:`Step` whose arguments are bound by name, or ModelLoadError.

    Refused: a target that is not allow-listed, arguments that are not literals or earlier values
    or do not fit the operator's schema, and training mode.
    """
    if not isinstance(node, dict) or not isinstance(node.get("target"), str):
        raise ModelLoadError(f"node {index} of the program is malformed")
    target = node["target"]
    short = _short(target)
    if target not in SYM_OPS and (not target.startswith("torch.ops.aten.") or short not in ALLOWED):
        raise ModelLoadError(f"the program calls {target[:80]!r}, which is not on advviewer's list of pure tensor operators")
    inputs = node.get("inputs")
    if not isinstance(inputs, list) or not isinstance(node.get("outputs"), list):
        raise ModelLoadError(f"node {index} ({short}) is malformed")
    where = f"node {index} ({short})"
    if target in SYM_OPS:
        return Step(target, SYM_OPS[target], bind_arguments(_SYM_SCHEMA, inputs, where, defined), frozenset(),
                    tuple(output_names(node, index, ["int"])))
    op_name, overload = short.rsplit(".", 1)
    fn = getattr(getattr(torch.ops.aten, op_name), overload)
    arguments = bind_arguments(fn._schema, inputs, where, defined)
    flag = MUST_BE_FALSE.get(short)
    if flag is not None and arguments[flag] != Literal(False):
        raise ModelLoadError(f"the program uses {short} in training mode (random or stateful); export the model in eval mode")
    keyword_only = frozenset(a.name for a in fn._schema.arguments if a.kwarg_only)
    returns = [str(r.type) for r in fn._schema.returns]
    return Step(short, fn, arguments, keyword_only, tuple(output_names(node, index, returns)))


def output_names(node: dict, index: int, returns: list[str]) -> list[str | None]:
    """Names of the values a node defines, one per value the operator returns (None: not kept)."""
    outputs = node["outputs"]
    if not returns and len(outputs) <= 1 and all(out == {"as_none": True} or out == {"as_none": None} for out in outputs):
        return []
    if len(outputs) != len(returns):
        raise ModelLoadError(f"node {index} lists {len(outputs)} outputs; its operator returns {len(returns)}")
    return [_output_name(out, kind, index) for out, kind in zip(outputs, returns)]


def _output_name(out: Any, returned: str, index: int) -> str | None:
    wanted = "as_tensor" if returned == "Tensor" else "as_sym_int"
    if isinstance(out, dict) and len(out) == 1:
        (kind, value), = out.items()
        key = "name" if wanted == "as_tensor" else "as_name"
        if kind == wanted and isinstance(value, dict) and isinstance(value.get(key), str):
            return str(value[key])
        if kind == "as_none":
            return None
    raise ModelLoadError(f"node {index} has an output of a kind that is not accepted")


class _SymArgument:
    """A schema argument of ``_operator.mul`` and its kin: an int or a symbolic size."""

    def __init__(self, name: str) -> None:
        self.name, self.type, self.kwarg_only, self.alias_info = name, "int", False, None

    def has_default_value(self) -> bool:
        return False


class _SymSchema:
    arguments = (_SymArgument("a"), _SymArgument("b"))


_SYM_SCHEMA = _SymSchema()


class GraphClassifier(nn.Module):
    """An exported program's node list, run one allow-listed operator at a time."""

    def __init__(self, steps: list[Step], input_name: str, output_name: str, tensors: dict[str, torch.Tensor],
                 constants: dict[str, Any]) -> None:
        super().__init__()
        self.steps = steps
        self.input_name, self.output_name = input_name, output_name
        self.tensor_names = list(tensors)
        self.constants = dict(constants)
        for i, tensor in enumerate(tensors.values()):
            self.register_parameter(f"t{i}", nn.Parameter(tensor, requires_grad=False))

    def weights(self) -> dict[str, torch.Tensor]:
        """The program's weights and constants by their names in the graph."""
        return {name: getattr(self, f"t{i}") for i, name in enumerate(self.tensor_names)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        env: dict[str, Any] = dict(self.constants)
        env.update(self.weights())
        env[self.input_name] = x
        for step in self.steps:
            store_outputs(env, step.outputs, step.run(env))
        return env[self.output_name]


def store_outputs(env: dict[str, Any], outputs: tuple[str | None, ...], result: Any) -> None:
    if len(outputs) == 1:
        if outputs[0] is not None:
            env[outputs[0]] = result
        return
    for name, value in zip(outputs, result if outputs else ()):
        if name is not None:
            env[name] = value
