"""Read a ``torch.export`` archive (``.pt2``) without letting torch deserialise any of it.

What is read: ``archive_format``/``byteorder`` (text), ``models/model.json`` (the program),
``data/weights/model_weights_config.json`` and ``data/constants/model_constants_config.json``
(JSON) and the raw bytes of each weight. What is never read: ``data/sample_inputs/*.pt`` and any
payload marked ``use_pickle`` (pickles; such files are refused), custom or opaque objects,
AOTInductor libraries (machine code), extra files, guard code, shape expressions. Every size is
checked against what the zip really holds before anything is allocated.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import torch

from advviewer.errors import ModelLoadError
from advviewer.models.pt2_graph import DTYPES, MAX_NODES, GraphClassifier, check_node, output_names

MAX_ENTRIES = 4096
MAX_JSON_BYTES = 32_000_000
_PATH_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class Archive:
    """Members of a zip read on demand, each within a total budget of unpacked bytes."""

    def __init__(self, data: bytes, budget: int) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise ModelLoadError(f"the zip archive is corrupt ({exc})") from None
        if len(infos) > MAX_ENTRIES:
            raise ModelLoadError(f"the archive has {len(infos):,} entries; more than {MAX_ENTRIES:,} are refused")
        if sum(i.file_size for i in infos) > budget:
            raise ModelLoadError(f"the archive unpacks to more than {budget // 1_000_000} MB; refused")
        self.infos = {i.filename: i for i in infos}

    def names(self) -> list[str]:
        return list(self.infos)

    def read(self, name: str, limit: int | None = None) -> bytes:
        info = self.infos.get(name)
        if info is None:
            raise ModelLoadError(f"the archive has no {name}")
        if limit is not None and info.file_size > limit:
            raise ModelLoadError(f"{name} in the archive is over {limit // 1_000_000} MB; refused")
        try:
            with self.zip.open(info) as member:
                data = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise ModelLoadError(f"{name} in the archive cannot be read ({exc})") from None
        if len(data) != info.file_size:
            raise ModelLoadError(f"{name} in the archive is not the size its directory says")
        return data

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name, MAX_JSON_BYTES))
        except (ValueError, RecursionError) as exc:
            raise ModelLoadError(f"{name} in the archive is not valid JSON ({type(exc).__name__})") from None


def pt2_prefix(names: list[str]) -> str | None:
    """The archive's top folder (``archive/``, or the saved file's stem) if it is a torch.export archive."""
    for name in names:
        if name.endswith("/archive_format") and name.count("/") == 1:
            return name[: -len("archive_format")]
    return None


def load_pt2_program(data: bytes, budget: int) -> GraphClassifier:
    archive = Archive(data, budget)
    prefix = pt2_prefix(archive.names())
    if prefix is None or archive.read(prefix + "archive_format", 64).strip() != b"pt2":
        raise ModelLoadError("not a torch.export archive (no archive_format 'pt2')")
    if prefix + "byteorder" in archive.infos and archive.read(prefix + "byteorder", 64).strip() != b"little":
        raise ModelLoadError("the archive's tensors are big-endian; export it on a little-endian machine")
    program = archive.json(prefix + "models/model.json")
    try:
        graph_module = program["graph_module"]
        graph, signature = graph_module["graph"], graph_module["signature"]
        nodes = graph["nodes"]
    except (KeyError, TypeError):
        raise ModelLoadError("the archive's program has no graph") from None
    if not isinstance(nodes, list) or len(nodes) > MAX_NODES:
        raise ModelLoadError(f"the program has no node list or more than {MAX_NODES:,} nodes")
    weights = _payloads(archive, prefix, "weights")
    constants = _payloads(archive, prefix, "constants")
    tensors, literals, input_name = _inputs(signature, weights, constants)
    defined = set(tensors) | set(literals) | {input_name}
    for index, node in enumerate(nodes):
        check_node(node, defined, index)
        names = [name for name in output_names(node, index) if name is not None]
        if defined.intersection(names) or len(set(names)) != len(names):
            raise ModelLoadError(f"node {index} redefines a value")
        defined.update(names)
    output_name = _output(signature, defined)
    return GraphClassifier(nodes, input_name, output_name, tensors, literals)


def _payloads(archive: Archive, prefix: str, kind: str) -> dict[str, torch.Tensor]:
    """Every tensor a payload config describes, built from raw bytes; pickled payloads are refused."""
    config_name = f"{prefix}data/{kind}/model_{kind}_config.json"
    if config_name not in archive.infos:
        if kind == "constants":
            return {}
        raise ModelLoadError(f"the archive has no {kind} description (saved by an older torch?); export it again with torch 2.13")
    config = archive.json(config_name)
    entries = config.get("config") if isinstance(config, dict) else None
    if not isinstance(entries, dict):
        raise ModelLoadError(f"the archive's {kind} description is malformed")
    tensors = {}
    for fqn, meta in entries.items():
        if not isinstance(meta, dict) or meta.get("use_pickle") is not False:
            raise ModelLoadError(f"{kind} {str(fqn)[:60]!r} is stored as a pickle, which could run code; refused")
        path_name = meta.get("path_name")
        if not isinstance(path_name, str) or not _PATH_NAME.match(path_name):
            raise ModelLoadError(f"{kind} {str(fqn)[:60]!r} has a malformed file name")
        tensors[str(fqn)] = _tensor(archive.read(f"{prefix}data/{kind}/{path_name}"), meta.get("tensor_meta"), str(fqn)[:60])
    return tensors


def _ints(values: Any, what: str) -> list[int]:
    if not isinstance(values, list) or len(values) > 8:
        raise ModelLoadError(f"{what}: malformed sizes")
    out = []
    for v in values:
        if not isinstance(v, dict) or not isinstance(v.get("as_int"), int) or not 0 <= v["as_int"] < 1 << 40:
            raise ModelLoadError(f"{what}: weights must have fixed, non-negative sizes")
        out.append(v["as_int"])
    return out


def _tensor(raw: bytes, meta: Any, what: str) -> torch.Tensor:
    if not isinstance(meta, dict) or meta.get("dtype") not in DTYPES or meta.get("layout", 7) != 7:
        raise ModelLoadError(f"{what}: unsupported tensor type")
    dtype = DTYPES[meta["dtype"]]
    sizes, strides = _ints(meta.get("sizes"), what), _ints(meta.get("strides"), what)
    offset = _ints([meta.get("storage_offset")], what)[0]
    if len(strides) != len(sizes):
        raise ModelLoadError(f"{what}: sizes and strides disagree")
    itemsize = torch.empty((), dtype=dtype).element_size()
    if len(raw) % itemsize:
        raise ModelLoadError(f"{what}: {len(raw)} bytes is not a whole number of {dtype} values")
    if 0 in sizes:
        return torch.zeros(sizes, dtype=dtype)
    last = offset + sum((n - 1) * s for n, s in zip(sizes, strides))
    if (last + 1) * itemsize > len(raw):
        raise ModelLoadError(f"{what}: its sizes need more bytes than the archive holds")
    flat = torch.frombuffer(bytearray(raw), dtype=dtype) if raw else torch.empty(0, dtype=dtype)
    return flat.as_strided(sizes, strides, offset).clone()


def _inputs(signature: Any, weights: dict[str, torch.Tensor], constants: dict[str, torch.Tensor]
            ) -> tuple[dict[str, torch.Tensor], dict[str, Any], str]:
    """Graph names of the weights, of literal constants, and of the one image input."""
    specs = signature.get("input_specs") if isinstance(signature, dict) else None
    if not isinstance(specs, list):
        raise ModelLoadError("the program has no input description")
    tensors: dict[str, torch.Tensor] = {}
    literals: dict[str, Any] = {}
    images: list[str] = []
    for spec in specs:
        (kind, body), = spec.items() if isinstance(spec, dict) and len(spec) == 1 else (("?", None),)
        if not isinstance(body, dict):
            raise ModelLoadError("the program's input description is malformed")
        if kind == "user_input":
            name = (body.get("arg") or {}).get("as_tensor", {}).get("name")
            if not isinstance(name, str):
                raise ModelLoadError("the program's input is not one tensor")
            images.append(name)
        elif kind in ("parameter", "buffer", "tensor_constant"):
            key = body.get({"parameter": "parameter_name", "buffer": "buffer_name"}.get(kind, "tensor_constant_name"))
            source = weights if kind == "parameter" or kind == "buffer" and body.get("persistent", True) else constants
            name = (body.get("arg") or {}).get("name")
            if key not in source or not isinstance(name, str):
                raise ModelLoadError(f"the program uses {kind} {str(key)[:60]!r}, which the archive does not hold")
            tensors[name] = source[key]
        elif kind == "constant_input":
            value = body.get("value")
            if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ("as_none", "as_int", "as_float", "as_bool"):
                raise ModelLoadError("the program has a constant input of a kind that is not accepted")
            literals[str(body.get("name"))] = next(iter(value.values())) if "as_none" not in value else None
        else:
            raise ModelLoadError(f"the program has an input of kind {kind!r}, which is not accepted")
    if len(images) != 1:
        raise ModelLoadError(f"the program takes {len(images)} inputs; a classifier takes one batch of images")
    return tensors, literals, images[0]


def _output(signature: dict, defined: set[str]) -> str:
    specs = signature.get("output_specs")
    if not isinstance(specs, list) or len(specs) != 1 or not isinstance(specs[0], dict) or set(specs[0]) != {"user_output"}:
        raise ModelLoadError("the program must return exactly one tensor (the logits) and change nothing else")
    name = ((specs[0]["user_output"] or {}).get("arg") or {}).get("as_tensor", {}).get("name")
    if name not in defined:
        raise ModelLoadError("the program's output is not computed by it")
    return name
