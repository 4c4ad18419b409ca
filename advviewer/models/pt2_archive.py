"""Read a ``torch.export`` archive (``.pt2``) without letting torch deserialise any of it.

What is read: ``archive_format``/``byteorder`` (text), ``models/model.json`` (the program),
``data/weights/model_weights_config.json`` and ``data/constants/model_constants_config.json``
(JSON) and the raw bytes of each weight. What is never read: ``data/sample_inputs/*.pt`` and any
payload marked ``use_pickle`` (pickles; such files are refused), custom or opaque objects,
AOTInductor libraries (machine code), extra files, guard code, shape expressions. Every size is
checked against what the zip really holds before anything is allocated: members must be stored
or deflated (the only methods whose output zipfile can cap), every read of a member counts its
inflated bytes against one budget (a member named twice counts twice), and a weight may not
hold more values than its bytes in the archive. JSON is walked with typed look-ups, so a field
of the wrong type is a one-line refusal, and every name from the file is printed escaped.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import torch

from advviewer.errors import ModelLoadError
from advviewer.models.pt2_graph import MAX_NODES, GraphClassifier, bind_node
from advviewer.models.pt2_schema import DTYPES, MAX_LITERAL, Step
from advviewer.reading.files import shown

MAX_ENTRIES = 4096
MAX_DIRECTORY_BYTES = 4_000_000  # 4096 entries of names up to ~900 characters
MAX_JSON_BYTES = 32_000_000
_PATH_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # zipfile caps what these inflate to; bzip2 and lzma it does not


def said(text: Any, limit: int = 60) -> str:
    """Text from the file, for a one-line message: control characters escaped, at most ``limit`` characters."""
    return shown(str(text)[:limit])


def field(value: Any, *keys: str) -> Any:
    """``value[k1][k2]...`` where each level is a JSON object; None where one is not."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


class Archive:
    """Members of a zip read on demand; every read counts its bytes against one budget of unpacked bytes."""

    def __init__(self, data: bytes, budget: int) -> None:
        if central_directory_size(data) > MAX_DIRECTORY_BYTES:
            raise ModelLoadError(f"the archive's directory is over {MAX_DIRECTORY_BYTES // 1_000_000} MB "
                                 f"(more than {MAX_ENTRIES:,} entries?); refused")
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise ModelLoadError(f"the zip archive is corrupt ({said(exc, 120)})") from None
        if len(infos) > MAX_ENTRIES:
            raise ModelLoadError(f"the archive has {len(infos):,} entries; more than {MAX_ENTRIES:,} are refused")
        if sum(i.file_size for i in infos) > budget:
            raise ModelLoadError(f"the archive unpacks to more than {budget // 1_000_000} MB; refused")
        odd = [i for i in infos if i.compress_type not in _METHODS]
        if odd:
            raise ModelLoadError(f"{said(odd[0].filename)} in the archive is compressed with method {odd[0].compress_type}; "
                                 "only stored or deflated members are read")
        self.infos = {i.filename: i for i in infos}
        self.budget = budget
        self.unpacked = 0  # bytes inflated, counting a member each time it is read
        self.kept = 0  # bytes of the tensors made from them

    def names(self) -> list[str]:
        return list(self.infos)

    def read(self, name: str, limit: int | None = None) -> bytes:
        info = self.infos.get(name)
        if info is None:
            raise ModelLoadError(f"the archive has no {said(name, 120)}")
        if limit is not None and info.file_size > limit:
            raise ModelLoadError(f"{said(name, 120)} in the archive is over {limit // 1_000_000} MB; refused")
        self.charge(info.file_size)
        try:
            with self.zip.open(info) as member:
                data = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise ModelLoadError(f"{said(name, 120)} in the archive cannot be read ({said(exc, 120)})") from None
        if len(data) != info.file_size:
            raise ModelLoadError(f"{said(name, 120)} in the archive is not the size its directory says")
        return data

    def charge(self, size: int) -> None:
        """Count ``size`` more bytes inflated from the archive; refused past the budget."""
        self.unpacked += size
        if self.unpacked > self.budget:
            raise ModelLoadError(f"the archive unpacks to more than {self.budget // 1_000_000} MB "
                                 "(counting each member as often as it is used); refused")

    def keep(self, size: int) -> None:
        """Count ``size`` more bytes of tensors made from the archive; refused past the budget."""
        self.kept += size
        if self.kept > self.budget:
            raise ModelLoadError(f"the archive's tensors come to more than {self.budget // 1_000_000} MB; refused")

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name, MAX_JSON_BYTES))
        except (ValueError, RecursionError) as exc:
            raise ModelLoadError(f"{said(name, 120)} in the archive is not valid JSON ({type(exc).__name__})") from None


def central_directory_size(data: bytes) -> int:
    """The size of the zip's central directory, as zipfile will read it (the zip64 record's, if there is one).

    zipfile builds an object per directory entry before anyone can count them: a 256 MB file of
    entries that all name one member would take gigabytes and minutes, so the size is read first.
    """
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - (1 << 16) - 22))
    if end < 0 or end + 22 > len(data):
        return 0  # not a zip: zipfile says so
    size = int.from_bytes(data[end + 12:end + 16], "little")
    locator = end - 20
    if locator >= 0 and data[locator:locator + 4] == b"PK\x06\x07":
        # the zip64 record where the locator says, and where zipfile looks (just before the locator)
        for record in (int.from_bytes(data[locator + 8:locator + 16], "little"), locator - 56):
            if 0 <= record <= len(data) - 56 and data[record:record + 4] == b"PK\x06\x06":
                size = max(size, int.from_bytes(data[record + 40:record + 48], "little"))
    return size


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
    signature = field(program, "graph_module", "signature")
    nodes = field(program, "graph_module", "graph", "nodes")
    if not isinstance(signature, dict) or not isinstance(nodes, list):
        raise ModelLoadError("the archive's program has no graph")
    if len(nodes) > MAX_NODES:
        raise ModelLoadError(f"the program has more than {MAX_NODES:,} nodes")
    weights = _payloads(archive, prefix, "weights")
    constants = _payloads(archive, prefix, "constants")
    tensors, literals, input_name = _inputs(signature, weights, constants)
    defined = set(tensors) | set(literals) | {input_name}
    steps = _steps(nodes, defined)  # adds what each node defines
    output_name = _output(signature, defined)
    return GraphClassifier(steps, input_name, output_name, tensors, literals)


def _steps(nodes: list[Any], defined: set[str]) -> list[Step]:
    """Every node bound to its operator's schema, in order; each value is defined once, before its use."""
    steps = []
    for index, node in enumerate(nodes):
        step = bind_node(node, defined, index)
        names = [name for name in step.outputs if name is not None]
        if defined.intersection(names) or len(set(names)) != len(names):
            raise ModelLoadError(f"node {index} redefines a value")
        defined.update(names)
        steps.append(step)
    return steps


def _payloads(archive: Archive, prefix: str, kind: str) -> dict[str, torch.Tensor]:
    """Every tensor a payload config describes, built from raw bytes; pickled payloads are refused."""
    config_name = f"{prefix}data/{kind}/model_{kind}_config.json"
    if config_name not in archive.infos:
        if kind == "constants":
            return {}
        raise ModelLoadError(f"the archive has no {kind} description (saved by an older torch?); export it again with torch 2.13")
    entries = field(archive.json(config_name), "config")
    if not isinstance(entries, dict):
        raise ModelLoadError(f"the archive's {kind} description is malformed")
    tensors = {}
    for fqn, meta in entries.items():
        what = f"{kind} {said(fqn)!r}"
        if field(meta, "use_pickle") is not False:
            raise ModelLoadError(f"{what} is stored as a pickle, which could run code; refused")
        path_name = field(meta, "path_name")
        if not isinstance(path_name, str) or not _PATH_NAME.match(path_name):
            raise ModelLoadError(f"{what} has a malformed file name")
        tensor = _tensor(archive.read(f"{prefix}data/{kind}/{path_name}"), field(meta, "tensor_meta"), what)
        archive.keep(tensor.numel() * tensor.element_size())
        tensors[fqn] = tensor
    return tensors


def _ints(values: Any, what: str) -> list[int]:
    if not isinstance(values, list) or len(values) > 8:
        raise ModelLoadError(f"{what}: malformed sizes")
    out = []
    for v in values:
        number = field(v, "as_int")
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number < 1 << 40:
            raise ModelLoadError(f"{what}: weights must have fixed, non-negative sizes")
        out.append(number)
    return out


def _tensor(raw: bytes, meta: Any, what: str) -> torch.Tensor:
    """The tensor ``meta`` describes, copied out of ``raw``; it may not hold more values than ``raw`` holds."""
    dtype_code = field(meta, "dtype")
    if not isinstance(dtype_code, int) or dtype_code not in DTYPES or field(meta, "layout") not in (None, 7):
        raise ModelLoadError(f"{what}: unsupported tensor type")
    dtype = DTYPES[dtype_code]
    sizes, strides = _ints(field(meta, "sizes"), what), _ints(field(meta, "strides"), what)
    offset = _ints([field(meta, "storage_offset")], what)[0]
    if len(strides) != len(sizes):
        raise ModelLoadError(f"{what}: sizes and strides disagree")
    itemsize = torch.empty((), dtype=dtype).element_size()
    if len(raw) % itemsize:
        raise ModelLoadError(f"{what}: {len(raw)} bytes is not a whole number of {dtype} values")
    count = 1
    for n in sizes:
        count *= n
    if count * itemsize > len(raw):  # also refuses repeated (zero-stride) values: a copy would multiply them
        raise ModelLoadError(f"{what}: its sizes need more values than the archive holds for it")
    if count == 0:
        return torch.zeros(sizes, dtype=dtype)
    last = offset + sum((n - 1) * s for n, s in zip(sizes, strides))
    if (last + 1) * itemsize > len(raw):
        raise ModelLoadError(f"{what}: its sizes need more bytes than the archive holds")
    flat = torch.frombuffer(bytearray(raw), dtype=dtype)
    return flat.as_strided(sizes, strides, offset).clone()


def _inputs(signature: dict, weights: dict[str, torch.Tensor], constants: dict[str, torch.Tensor]
            ) -> tuple[dict[str, torch.Tensor], dict[str, Any], str]:
    """Graph names of the weights, of literal constants, and of the one image input."""
    specs = signature.get("input_specs")
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
            images.append(_user_input(body))
        elif kind in ("parameter", "buffer", "tensor_constant"):
            name, tensor = _stored_input(kind, body, weights, constants)
            tensors[name] = tensor
        elif kind == "constant_input":
            name, value = _constant_input(body)
            literals[name] = value
        else:
            raise ModelLoadError(f"the program has an input of kind {said(kind)!r}, which is not accepted")
    if len(images) != 1:
        raise ModelLoadError(f"the program takes {len(images)} inputs; a classifier takes one batch of images")
    return tensors, literals, images[0]


def _user_input(body: dict) -> str:
    name = field(body, "arg", "as_tensor", "name")
    if not isinstance(name, str):
        raise ModelLoadError("the program's input is not one tensor")
    return name


def _stored_input(kind: str, body: dict, weights: dict[str, torch.Tensor], constants: dict[str, torch.Tensor]
                  ) -> tuple[str, torch.Tensor]:
    key = body.get({"parameter": "parameter_name", "buffer": "buffer_name"}.get(kind, "tensor_constant_name"))
    source = weights if kind == "parameter" or kind == "buffer" and body.get("persistent", True) is not False else constants
    name = field(body, "arg", "name")
    if not isinstance(key, str) or key not in source:
        raise ModelLoadError(f"the program uses {kind} {said(key)!r}, which the archive does not hold")
    if not isinstance(name, str):
        raise ModelLoadError(f"the program's {kind} {said(key)!r} has no name in its graph")
    return name, source[key]


def _constant_input(body: dict) -> tuple[str, Any]:
    value, name = body.get("value"), body.get("name")
    if not isinstance(name, str) or not isinstance(value, dict) or len(value) != 1:
        raise ModelLoadError("the program has a malformed constant input")
    (kind, literal), = value.items()
    if kind == "as_none":
        return name, None
    if kind == "as_bool" and isinstance(literal, bool) or kind == "as_float" and type(literal) in (int, float):
        return name, literal
    if kind == "as_int" and type(literal) is int and abs(literal) <= MAX_LITERAL:
        return name, literal
    raise ModelLoadError("the program has a constant input of a kind that is not accepted")


def _output(signature: dict, defined: set[str]) -> str:
    specs = signature.get("output_specs")
    if not isinstance(specs, list) or len(specs) != 1 or not isinstance(specs[0], dict) or set(specs[0]) != {"user_output"}:
        raise ModelLoadError("the program must return exactly one tensor (the logits) and change nothing else")
    name = field(specs[0], "user_output", "arg", "as_tensor", "name")
    if not isinstance(name, str) or name not in defined:
        raise ModelLoadError("the program's output is not computed by it")
    return name
