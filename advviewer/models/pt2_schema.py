"""Bind a ``.pt2`` node's arguments to its operator's schema, by name, before anything runs.

A node in a ``torch.export`` program lists its arguments as ``{"name", "arg", "kind"}`` records
(kind 1 positional, kind 2 keyword). torch's own schema (``torch.ops.aten.X.overload._schema``)
says which arguments the operator takes, in which order, of which type, with which defaults.
:func:`bind_node` matches the two: positional arguments take the schema's places in order (a
name, when given, must be that place's name), keyword arguments take the place of their name,
a place given twice or a name the schema does not know is refused, a missing argument takes
the schema's default or is refused, and every value must be of a kind the argument's type
accepts. The result, a :class:`Step`, names every argument, so later checks (training mode,
cost, shapes) read arguments by name and can never be fooled by where a file put them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from advviewer.errors import ModelLoadError

MAX_LITERAL = 1 << 20  # ints in arguments (sizes, kernels, dims): anything bigger is not a classifier's
MAX_LIST = 64
# every text argument of an allow-listed operator (gelu's approximation, pad's mode, div's rounding)
WORDS = frozenset({"none", "tanh", "constant", "reflect", "replicate", "circular", "trunc", "floor"})
DTYPES = {1: torch.uint8, 2: torch.int8, 3: torch.int16, 4: torch.int32, 5: torch.int64, 6: torch.float16,
          7: torch.float32, 8: torch.float64, 12: torch.bool, 13: torch.bfloat16}
MEMORY_FORMATS = {1: torch.contiguous_format, 2: torch.channels_last, 4: torch.preserve_format}

# the serialised kinds each schema type accepts (Optional[...] adds as_none)
_KINDS_OF_TYPE = {
    "Tensor": {"as_tensor"}, "List[Tensor]": {"as_tensors"},
    "int": {"as_int", "as_sym_int"}, "List[int]": {"as_ints", "as_sym_ints"},
    "float": {"as_float", "as_int"}, "List[float]": {"as_floats"},
    "number": {"as_int", "as_float", "as_bool", "as_sym_int"}, "bool": {"as_bool"}, "List[bool]": {"as_bools"},
    "str": {"as_string"}, "Device": {"as_device"},
}
# Optional[int] arguments that are really enums, by name
_ENUM_KINDS = {"dtype": {"as_scalar_type"}, "layout": {"as_layout"}, "memory_format": {"as_memory_format"}}
# the operands of arithmetic (x * 2, where(c, x, 0.0)): a number stands for a 0-d tensor
_NUMBER_OPERANDS = ("self", "other")


@dataclass(frozen=True)
class Literal:
    """A value written in the file (or the schema's default)."""

    value: Any


@dataclass(frozen=True)
class Ref:
    """A value computed earlier in the graph (a tensor or a symbolic size), by its name."""

    name: str


@dataclass(frozen=True)
class Many:
    """A list argument whose items are literals or references (tensors of cat, sizes of view)."""

    items: tuple[Literal | Ref, ...]


Value = Literal | Ref | Many


@dataclass(frozen=True)
class Step:
    """One node, bound: the operator, every argument by name (schema order), what it defines."""

    op: str  # "conv2d.default", or "_operator.mul" for arithmetic on sizes
    fn: Callable[..., Any]
    arguments: dict[str, Value]
    keyword_only: frozenset[str]
    outputs: tuple[str | None, ...]

    def __post_init__(self) -> None:
        positional = tuple(v for name, v in self.arguments.items() if name not in self.keyword_only)
        object.__setattr__(self, "_positional", positional)
        object.__setattr__(self, "_keywords", tuple((name, self.arguments[name]) for name in self.keyword_only))

    def run(self, env: dict[str, Any]) -> Any:
        """The operator's result on the values computed so far (the interpreter's fast path)."""
        args = [resolve(v, env) for v in self._positional]  # type: ignore[attr-defined]
        kwargs = {name: resolve(v, env) for name, v in self._keywords}  # type: ignore[attr-defined]
        return self.fn(*args, **kwargs)


def resolve(value: Value, env: dict[str, Any]) -> Any:
    if type(value) is Literal:
        return value.value
    if type(value) is Ref:
        return env[value.name]
    return [resolve(item, env) for item in value.items]  # type: ignore[union-attr]


def call_values(step: Step, env: dict[str, Any]) -> dict[str, Any]:
    """Every argument of ``step`` by name, resolved against the values computed so far."""
    return {name: resolve(value, env) for name, value in step.arguments.items()}


def call(step: Step, values: dict[str, Any]) -> Any:
    """``step``'s operator on ``values`` (by name, as :func:`call_values` gives them, perhaps changed)."""
    args = [v for name, v in values.items() if name not in step.keyword_only]
    kwargs = {name: v for name, v in values.items() if name in step.keyword_only}
    return step.fn(*args, **kwargs)


# ---- binding ----

def bind_arguments(schema: Any, inputs: list[Any], where: str, defined: set[str]) -> dict[str, Value]:
    """The node's ``inputs`` matched to ``schema``'s arguments by name; defaults filled in."""
    params = list(schema.arguments)
    if any(p.alias_info is not None and p.alias_info.is_write for p in params):
        raise ModelLoadError(f"{where}: the operator changes one of its arguments in place; refused")
    given = _given_arguments(params, inputs, where)
    bound: dict[str, Value] = {}
    for param in params:
        if param.name in given:
            bound[param.name] = _value(given[param.name], _accepted_kinds(param), defined, f"{where}, argument {param.name!r}")
        elif param.has_default_value():
            bound[param.name] = Literal(param.default_value)
        else:
            raise ModelLoadError(f"{where}: argument {param.name!r} is missing")
    return bound


def _given_arguments(params: list[Any], inputs: list[Any], where: str) -> dict[str, dict]:
    """The file's argument records by the schema's names: positional ones in order, then keyword ones; none twice."""
    by_name = {p.name: p for p in params}
    positional = [p for p in params if not p.kwarg_only]
    given: dict[str, dict] = {}
    keyword_seen = False
    for named in inputs:
        name, arg, keyword = _named_input(named, where)
        keyword_seen = keyword_seen or keyword
        if not keyword:
            name = _positional_name(name, len(given), positional, keyword_seen, where)
        if name not in by_name:
            raise ModelLoadError(f"{where}: the operator has no argument {_said(name)}")
        if name in given:
            raise ModelLoadError(f"{where}: argument {name!r} is given twice")
        given[name] = arg
    return given


def _positional_name(name: str, place: int, positional: list[Any], keyword_seen: bool, where: str) -> str:
    """The schema's name for the argument at ``place``; the file's name for it, if any, must agree."""
    if keyword_seen or place >= len(positional):
        raise ModelLoadError(f"{where}: a positional argument after keyword ones, or more of them than the operator takes")
    expected = positional[place].name
    if name not in ("", expected):
        raise ModelLoadError(f"{where}: argument {place} is named {_said(name)}, the operator calls it {expected!r}")
    return str(expected)


def _said(text: Any) -> str:
    return ascii(str(text)[:40])


def _named_input(named: Any, where: str) -> tuple[str, dict, bool]:
    arg = named.get("arg") if isinstance(named, dict) else None
    name = named.get("name", "") if isinstance(named, dict) else None
    kind = named.get("kind", 1) if isinstance(named, dict) else None
    if not isinstance(arg, dict) or len(arg) != 1 or kind not in (1, 2) or not isinstance(name, str):
        raise ModelLoadError(f"{where} has a malformed argument")
    if kind == 2 and not name:
        raise ModelLoadError(f"{where} has a keyword argument without a name")
    return name, arg, kind == 2


def _accepted_kinds(param: Any) -> set[str]:
    type_name = str(param.type)
    optional = type_name.startswith("Optional[")
    base = type_name[len("Optional["):-1] if optional else type_name
    kinds = set(_ENUM_KINDS[param.name]) if base == "int" and param.name in _ENUM_KINDS else set(_KINDS_OF_TYPE.get(base, ()))
    if type_name == "Tensor" and param.name in _NUMBER_OPERANDS:
        kinds |= _KINDS_OF_TYPE["number"]
    if optional:
        kinds.add("as_none")
    return kinds


def _value(arg: dict, accepted: set[str], defined: set[str], where: str) -> Value:
    (kind, body), = arg.items()
    if kind not in accepted:
        raise ModelLoadError(f"{where}: a value of kind {_said(kind)} is not accepted here")
    if kind in ("as_tensor", "as_sym_int"):
        return _ref(body, defined, where)
    if kind in ("as_tensors", "as_sym_ints"):
        if not isinstance(body, list) or len(body) > MAX_LIST:
            raise ModelLoadError(f"{where}: a malformed or over-long list")
        return Many(tuple(_ref(item, defined, where) for item in body))
    return Literal(_literal(kind, body, where))


def _ref(body: Any, defined: set[str], where: str) -> Literal | Ref:
    """``{"name": n}`` (a tensor), ``{"as_name": n}`` (a size) or ``{"as_int": k}`` (a size known in advance)."""
    if not isinstance(body, dict) or len(body) != 1:
        raise ModelLoadError(f"{where}: a malformed reference")
    (kind, name), = body.items()
    if kind == "as_int":
        return Literal(_checked_int(name, where))
    if kind not in ("name", "as_name") or not isinstance(name, str) or name not in defined:
        raise ModelLoadError(f"{where}: uses a value that is not computed before it")
    return Ref(name)


def _literal(kind: str, body: Any, where: str) -> Any:
    if kind == "as_none":
        return None
    if kind in ("as_int", "as_ints"):
        return [_checked_int(v, where) for v in _items(body, where)] if kind == "as_ints" else _checked_int(body, where)
    if kind in ("as_float", "as_floats"):
        items = [_checked_float(v, where) for v in _items(body, where)] if kind == "as_floats" else _checked_float(body, where)
        return items
    if kind in ("as_bool", "as_bools"):
        values = _items(body, where) if kind == "as_bools" else [body]
        if not all(isinstance(v, bool) for v in values):
            raise ModelLoadError(f"{where}: a malformed true/false value")
        return values if kind == "as_bools" else body
    return _enum(kind, body, where)


_ENUM_READERS: dict[str, Callable[[Any], Any]] = {
    "as_string": lambda body: body if isinstance(body, str) and body in WORDS else None,
    "as_scalar_type": lambda body: DTYPES.get(body) if type(body) is int else None,
    "as_memory_format": lambda body: MEMORY_FORMATS.get(body) if type(body) is int else None,
    "as_layout": lambda body: torch.strided if type(body) is int and body == 7 else None,
    "as_device": lambda body: torch.device("cpu") if isinstance(body, dict) and body.get("type") == "cpu" else None,
}


def _enum(kind: str, body: Any, where: str) -> Any:
    """A word, dtype, memory format, layout or device: only those advviewer knows (the CPU's, strided)."""
    reader = _ENUM_READERS.get(kind)
    value = reader(body) if reader else None
    if value is None:
        raise ModelLoadError(f"{where}: unsupported {kind[3:].replace('_', ' ')} {_said(body)}")
    return value


def _items(body: Any, where: str) -> list[Any]:
    if not isinstance(body, list) or len(body) > MAX_LIST:
        raise ModelLoadError(f"{where}: a malformed or over-long list")
    return body


def _checked_int(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) > MAX_LITERAL:
        raise ModelLoadError(f"{where}: an integer argument is malformed or out of range for a classifier")
    return value


def _checked_float(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelLoadError(f"{where}: a number argument is malformed")
    return float(value)
