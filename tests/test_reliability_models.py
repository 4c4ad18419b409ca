"""Hostile model files (issue 7, section 2): nothing in one may run code, touch the user's files,
exhaust memory or hang; every refusal is one line.

Each payload is shown to be live first (torch's own loader runs it), so a passing test means
advviewer stopped it, not that the payload was a dud.
"""

import io
import json
import os
import re
import struct
import warnings
import zipfile

import hostile_models as hm
import pytest
import torch
from torch import nn

from advviewer import load_model
from advviewer.errors import ModelLoadError
from advviewer.models import export_classifier
from advviewer.models.zoo import WEIGHTS_FORMAT, shipped_weights_path


def refused(path, match: str) -> str:
    with pytest.raises(ModelLoadError, match=match) as caught:
        load_model(path)
    assert "\n" not in str(caught.value)
    return str(caught.value)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return hm.tiny_pt2(tmp_path_factory.mktemp("pt2") / "tiny.pt2")


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / "victim.txt"
    path.write_text("precious user data\n")
    return path


# ---- TorchScript: its code runs inside torch.jit.load and on every call; refused outright ----

def _torch_runs(path, x=None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            module = torch.jit.load(str(path))
            module(torch.zeros(1, 1, 28, 28) if x is None else x)
        except Exception:  # noqa: BLE001 -- the payload's effect is what counts, not whether loading then fails
            pass


@pytest.mark.parametrize("payload", ["save_in_forward", "save_in_setstate", "from_file_overwrite"])
def test_torchscript_payloads_are_refused_without_a_trace(tmp_path, victim, payload):
    written = tmp_path / "written"
    module = {"save_in_forward": lambda: hm.SaveInForward(str(written)),
              "save_in_setstate": lambda: hm.SaveInSetstate(str(written)),
              "from_file_overwrite": lambda: hm.FromFileOverwrite(str(victim))}[payload]()
    path = hm.torchscript_file(module, tmp_path / "model.pt")
    # live: torch.jit.load (and a call) writes the file or overwrites the victim
    _torch_runs(path)
    assert written.exists() or victim.read_text() != "precious user data\n"
    written.unlink(missing_ok=True)
    victim.write_text("precious user data\n")
    before = sorted(os.listdir(tmp_path))
    refused(path, "TorchScript.*export_classifier")
    assert sorted(os.listdir(tmp_path)) == before and victim.read_text() == "precious user data\n"


# ---- .pt2 programs: read and run by advviewer, never by torch.export.load ----

def _torch_export_runs(path) -> None:
    try:
        program = torch.export.load(str(path))
        program.module()(torch.zeros(2, 1, 28, 28))
    except Exception:  # noqa: BLE001
        pass


@pytest.mark.parametrize("doctor, refusal", [
    (hm.pt2_calling_from_file, "aten.from_file.*not on advviewer's list"),
    (hm.pt2_with_pickled_weights, "stored as a pickle"),
    (hm.pt2_with_pickled_sample_inputs, None),  # never read: loads, and nothing is created
    (hm.pt2_with_code_in_a_shape, None),  # shape expressions are never evaluated
])
def test_doctored_pt2_programs_leave_no_trace(tiny, tmp_path, victim, doctor, refusal, caplog):
    created = tmp_path / "created"
    target = victim if doctor is hm.pt2_calling_from_file else created
    path = doctor(tiny, tmp_path / "doctored.pt2", str(target))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _torch_export_runs(path)  # live: torch's loader runs it
    assert created.exists() or victim.read_text() != "precious user data\n"
    if created.exists():
        created.rmdir()
    victim.write_text("precious user data\n")
    if refusal:
        refused(path, refusal)
    else:
        model = load_model(path)
        assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert not created.exists() and victim.read_text() == "precious user data\n"


def test_a_python_function_as_operator_is_refused(tiny, tmp_path):
    written = tmp_path / "written"
    refused(hm.pt2_calling_torch_save(tiny, tmp_path / "save.pt2", str(written)), "'torch.save', which is not on")
    assert not written.exists()


def test_users_pt2_classifier_loads_and_answers_as_the_original(tmp_path):
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.3),
                        nn.Flatten(), nn.Linear(4 * 13 * 13, 10)).eval()
    model = load_model(export_classifier(net, tmp_path / "mine.pt2"))
    x = torch.rand(5, 1, 28, 28)
    torch.testing.assert_close(model(x), net(x))


# ---- models that misbehave on real digits or would exhaust the caller ----

class NanOnInk(nn.Module):
    """Finite on blank images (what the old check used), -inf as soon as a pixel is fully white."""

    def forward(self, x):
        return torch.zeros_like(x.flatten(1)[:, :10]) + torch.log(1 - x.amax(dim=(1, 2, 3))).unsqueeze(1)


class FiveClasses(nn.Module):
    def forward(self, x):
        return x.flatten(1)[:, :5] * 2


class Greedy(nn.Module):
    """A product of two 2048x2048 matrices per image: 17 G operations."""

    def forward(self, x):
        h = x.flatten(1)[:, :1].unsqueeze(2).expand(-1, 2048, 2048)
        return torch.bmm(h, h).sum(2)[:, :10]


def test_models_that_fail_on_real_digits_are_refused_at_load(tmp_path):
    refused(export_classifier(NanOnInk(), tmp_path / "nan.pt2"), "on real digits, the model returned NaN or infinite logits")
    refused(export_classifier(FiveClasses(), tmp_path / "five.pt2"), r"returned shape \(20, 5\) for 20 image\(s\)")


def test_a_program_exported_for_one_batch_size_is_refused(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.export.export(nn.Sequential(nn.Flatten(0), nn.Linear(2 * 784, 20)).eval(), (torch.zeros(2, 1, 28, 28),))
        torch.export.save(program, str(tmp_path / "fixed.pt2"))
    refused(tmp_path / "fixed.pt2", "does not accept .*dynamic batch size")


def test_a_program_that_needs_too_much_work_is_refused_before_it_runs(tmp_path):
    refused(export_classifier(Greedy(), tmp_path / "greedy.pt2"), r"needs 17\.2 G operations.*refused")


class BigConstant(nn.Module):
    """Fills a 20000x20000 tensor (1.6 GB) on every call: measured on shapes only, never allocated."""

    def forward(self, x):
        return x.flatten(1)[:, :10] + torch.ones(20000, 20000)[0, :10]


class Conversions(nn.Module):
    """dtype conversions, a factory and the assertions torch.export adds around them."""

    def forward(self, x):
        return x.double().float().to("cpu").flatten(1)[:, :10] * torch.arange(10)


def test_factories_and_conversions(tmp_path):
    refused(export_classifier(BigConstant(), tmp_path / "big.pt2"), "1600 MB per image")
    model = load_model(export_classifier(Conversions(), tmp_path / "conv.pt2"))
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(model(x), Conversions()(x))


# ---- advviewer weights files that are not what they claim ----

def _weights(tmp_path, payload, name="w.pt"):
    path = tmp_path / name
    torch.save(payload, path)
    return path


@pytest.mark.parametrize("arch", [["cnn"], {"cnn": 1}, None, "resnet"])
def test_an_architecture_that_is_not_a_zoo_name(tmp_path, arch):
    refused(_weights(tmp_path, {"format": WEIGHTS_FORMAT, "arch": arch, "state_dict": {}}), "unknown architecture")


def test_empty_and_non_zip_weights_files(tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    refused(tmp_path / "empty.pt", "the file is empty")
    (tmp_path / "legacy.pt").write_bytes(b"\x80\x02}q\x00.")
    refused(tmp_path / "legacy.pt", "not a zip archive")


def _zip_bomb(tmp_path, declared: int, actual: int):
    """A weights zip whose data.pkl inflates to ``actual`` bytes, its directory saying ``declared``."""
    good = io.BytesIO(shipped_weights_path("fc10-1").read_bytes())
    out = io.BytesIO()
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("data.pkl"):
                data += b"\0" * (actual - len(data))
            zout.writestr(info.filename, data)
    raw = bytearray(out.getvalue())
    for signature, size_at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):  # central and local headers
        at = raw.find(signature)
        while at != -1:
            name_len = struct.unpack("<H", raw[at + (28 if signature == b"PK\x01\x02" else 26): at + (30 if signature == b"PK\x01\x02" else 28)])[0]
            name_at = at + (46 if signature == b"PK\x01\x02" else 30)
            if raw[name_at: name_at + name_len].endswith(b"data.pkl"):
                raw[at + size_at: at + size_at + 4] = struct.pack("<I", declared)
            at = raw.find(signature, at + 4)
    path = tmp_path / "bomb.pt"
    path.write_bytes(bytes(raw))
    return path


def test_a_zip_that_inflates_to_gigabytes_is_refused_before_inflating(tmp_path):
    refused(_zip_bomb(tmp_path, declared=2_300_000_000, actual=1_000_000), "unpacks to more than 256 MB")
    # a directory that understates the size: only the declared bytes are ever inflated
    refused(_zip_bomb(tmp_path, declared=1_000, actual=50_000_000), "not the size its directory says|cannot be read")


def test_fifo_and_device_as_model_files(tmp_path):
    os.mkfifo(tmp_path / "model.pt")
    refused(tmp_path / "model.pt", "named pipe")
    (tmp_path / "zero.pt").symlink_to("/dev/zero")
    refused(tmp_path / "zero.pt", "is a device")


def test_shipped_weights_that_do_not_match_their_card_are_refused(tmp_path, monkeypatch):
    import advviewer.models.zoo_cards as zoo_cards

    tampered = tmp_path / "cnn.pt"
    data = bytearray(shipped_weights_path("cnn").read_bytes())
    data[-100] ^= 1
    tampered.write_bytes(bytes(data))
    monkeypatch.setattr(zoo_cards, "shipped_weights_path", lambda name: tampered)
    with pytest.raises(ModelLoadError, match="do not match the sha256 in its model card"):
        load_model("cnn")


# ---- issue 21: files that would exhaust memory or time, crash a kernel or answer wrongly ----
# Each is opened in a child process limited to 2 GiB of address space and two minutes: a
# regression fails the test instead of taking the machine.

@pytest.fixture(scope="module")
def with_batch_norm(tmp_path_factory):
    return hm.batch_norm_pt2(tmp_path_factory.mktemp("pt2") / "bn.pt2")


def refused_in_child(path, match: str) -> str:
    outcome = hm.open_in_child(path)
    assert outcome.result is not None, f"the child failed (exit {outcome.returncode}): {outcome.stderr}"
    assert outcome.refusal is not None, f"loaded, not refused: {outcome.result}"
    assert re.search(match, outcome.refusal), outcome.refusal
    assert "\n" not in outcome.refusal and "\x1b" not in outcome.refusal
    assert outcome.result["peak_mb"] < 1500
    return outcome.refusal


@pytest.mark.parametrize("doctor, refusal", [
    (hm.zero_stride_weight, "huge.*more values than the archive holds"),
    (hm.repeated_zero_strides, "vast.*more values than the archive holds"),
    (hm.one_member_many_weights, "counting each member as often as it is used"),
    (hm.compressed_with(zipfile.ZIP_BZIP2), "compressed with method 12; only stored or deflated"),
    (hm.compressed_with(zipfile.ZIP_LZMA), "compressed with method 14; only stored or deflated"),
    (hm.unused_factory([{"as_none": True}]), r"3200 MB per image"),
    (hm.unused_factory([]), "node 2 lists 0 outputs; its operator returns 1"),
    (hm.broadcast_matmul, r"\d{4} MB per image"),
    (hm.pool_with_one_kernel_size, r"needs 3\.\d G operations"),
    (hm.product_by_keyword, r"needs 4\.\d G operations"),
    (hm.transposed_convolution, r"needs 8\.\d G operations"),
    (hm.transposed_convolution_by_name, r"needs 8\.\d G operations"),
    (hm.sizes_squared, "arithmetic on sizes leaves the range of sizes"),
], ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_programs_that_would_exhaust_memory_or_time_are_refused(tiny, tmp_path, doctor, refusal):
    refused_in_child(doctor(tiny, tmp_path / "hostile.pt2"), refusal)


@pytest.mark.parametrize("doctor, refusal", [
    (hm.short_norm_parameters(0), r"weight has shape \(0,\); the input has 4 channels"),
    (hm.short_norm_parameters(1), r"weight has shape \(1,\); the input has 4 channels"),
    (hm.short_norm_parameters(1, "native_group_norm.default"), r"N, C and HxW do not describe its input|weight has shape \(1,\)"),
    (hm.batch_norm_training_by_keyword, "batch_norm.default in training mode"),
    (hm.dropout_train_twice, "argument 'train' is given twice"),
], ids=["batch_norm_0_values", "batch_norm_1_value", "group_norm_1_value", "training_by_keyword", "train_twice"])
def test_programs_that_would_crash_or_answer_wrongly_are_refused(with_batch_norm, tmp_path, doctor, refusal):
    refused_in_child(doctor(with_batch_norm, tmp_path / "hostile.pt2"), refusal)


@pytest.mark.parametrize("zip64", [False, True], ids=["plain", "zip64"])
def test_a_zip_directory_of_millions_of_entries_is_refused_before_it_is_read(tmp_path, zip64):
    outcome = hm.open_in_child(hm.central_directory_bomb(tmp_path / "entries.pt2", zip64=zip64))
    assert outcome.result is not None, f"the child failed (exit {outcome.returncode}): {outcome.stderr}"
    assert re.search("directory is over 4 MB", outcome.refusal or ""), outcome.result
    assert outcome.result["peak_mb"] < 1000


class WideActivations(nn.Module):
    """50 MB of activations per image: within the per-image bound, 4.9 GB for 98 images at once."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        wide = x.flatten(1).unsqueeze(2) * (torch.arange(16000) / 16000)
        return self.fc(wide.mean(2))


def test_a_batch_that_would_exceed_memory_at_once_runs_in_parts(tmp_path):
    torch.manual_seed(2)
    outcome = hm.open_in_child(export_classifier(WideActivations().eval(), tmp_path / "wide.pt2"), batch=98)
    assert outcome.result is not None, f"the child failed (exit {outcome.returncode}): {outcome.stderr}"
    assert outcome.result.get("shape") == [98, 10], outcome.result
    assert outcome.result["alone_agrees"] and outcome.result["peak_mb"] < 1500


class BatchArithmetic(nn.Module):
    """A genuine model that computes with its batch size (torch.export writes _operator.mul nodes)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.fc = nn.Linear(2 * 26 * 26, 10)

    def forward(self, x):
        n = x.shape[0]
        h = self.conv(x).reshape(n * 2, -1).reshape(n, -1)
        return self.fc(h)


def test_a_genuine_program_with_batch_size_arithmetic_loads_and_answers_as_the_module(tmp_path):
    torch.manual_seed(3)
    net = BatchArithmetic().eval()
    path = export_classifier(net, tmp_path / "arith.pt2")
    assert "_operator.mul" in zipfile.ZipFile(path).read(next(n for n in zipfile.ZipFile(path).namelist() if n.endswith("model.json"))).decode()
    model = load_model(path)
    x = torch.rand(7, 1, 28, 28)
    torch.testing.assert_close(model(x), net(x))


class ManyOperators(nn.Module):
    """A genuine network using much of the allow-list: reflect padding, grouped and transposed convolutions, group,
    batch and layer norm, tanh GELU, ceil-mode pooling, std/var, stack, cat, where, clamp, conv1d, full of the batch size."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.grouped = nn.Conv2d(4, 4, 3, groups=2, stride=2)
        self.up = nn.ConvTranspose2d(4, 2, 2, stride=2)
        self.bn = nn.BatchNorm2d(2)
        self.gn = nn.GroupNorm(2, 4)
        self.ln = nn.LayerNorm(16)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.conv1d = nn.Conv1d(1, 1, 3, padding=1)
        self.fc = nn.Linear(4 * 16 + 2, 10)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-1, 1)
            self.bn.running_var.uniform_(0.5, 2)

    def forward(self, x):
        h = nn.functional.gelu(self.gn(self.conv(nn.functional.pad(x, (1, 1, 1, 1), mode="reflect"))), approximate="tanh")
        h = nn.functional.avg_pool2d(h, 2, ceil_mode=True, count_include_pad=False)
        u = self.bn(self.up(self.grouped(h)))
        p = self.ln(self.pool(h).flatten(2)).flatten(1)
        spread = torch.stack([u.std(dim=(1, 2, 3)), u.var(dim=(1, 2, 3))], 1)
        z = torch.cat([p, torch.where(spread > 0, spread, torch.zeros_like(spread)).clamp(-5, 5)], 1)
        z = self.conv1d(z.unsqueeze(1)).squeeze(1)
        out = self.fc(nn.functional.dropout(z, 0.1, False))
        return torch.log_softmax(out, 1) + nn.functional.max_pool2d(x, 4).mean(dim=(1, 2, 3)).unsqueeze(1) * torch.full((x.shape[0], 1), 0.5)


def test_a_genuine_program_of_many_operators_loads_and_answers_as_the_module(tmp_path):
    torch.manual_seed(5)
    net = ManyOperators().eval()
    model = load_model(export_classifier(net, tmp_path / "many.pt2"))
    x = torch.rand(9, 1, 28, 28)
    torch.testing.assert_close(model(x), net(x))


# ---- issue 21: malformed files get one clean line ----

def test_the_archives_folder_name_is_escaped_in_messages(tiny, tmp_path):
    message = refused(hm.forged_folder_name(tiny, tmp_path / "forged.pt2"), "the archive has no")
    assert "\x1b" not in message and "\\x1b[31mERROR" in message


@pytest.mark.parametrize("text", ["x\n\x1b[31mERROR: forged", ["reflect"]], ids=["escapes", "list"])
def test_text_arguments_are_the_operators_words_only(tiny, tmp_path, text):
    message = refused(hm.text_argument(text)(tiny, tmp_path / "text.pt2"), "argument 'mode': unsupported string")
    assert "\x1b" not in message


def _set(path: tuple, value):
    def change(program):
        target = program
        for key in path[:-1]:
            target = target[key] if not isinstance(target, list) else target[int(key)]
        target[path[-1]] = value
    return change


def _first_user_input(program):
    return next(s for s in program["graph_module"]["signature"]["input_specs"] if "user_input" in s)["user_input"]


def _first_parameter(program):
    return next(s for s in program["graph_module"]["signature"]["input_specs"] if "parameter" in s)["parameter"]


@pytest.mark.parametrize("change", [
    _set(("graph_module",), []),
    lambda p: _first_user_input(p).update(arg=[]),
    lambda p: _first_user_input(p).update(arg={"as_tensor": []}),
    lambda p: _first_parameter(p).update(arg="p"),
    lambda p: _first_parameter(p).update(parameter_name=["0.weight"]),
    lambda p: p["graph_module"]["signature"]["output_specs"][0].update(user_output=[1]),
    lambda p: p["graph_module"]["signature"]["output_specs"][0]["user_output"]["arg"].update(as_tensor="linear"),
    lambda p: p["graph_module"]["graph"]["nodes"][0]["inputs"][0].update(name=["self"]),
    lambda p: p["graph_module"]["graph"]["nodes"][0]["inputs"][0].update(name="weight"),
    lambda p: p["graph_module"]["graph"]["nodes"][0]["inputs"].append(hm.argument("bogus", {"as_int": 1}, keyword=True)),
    lambda p: p["graph_module"]["graph"]["nodes"][0].update(outputs=[{"as_tensor": "x"}]),
    lambda p: p["graph_module"]["graph"]["nodes"][-1]["inputs"][1].update(arg={"as_int": 3}),
], ids=["graph_module_list", "input_arg_list", "input_tensor_list", "parameter_arg_text", "parameter_name_list",
        "output_list", "output_tensor_text", "argument_name_list", "argument_misnamed", "unknown_keyword",
        "output_text", "tensor_given_a_list_place"])
def test_program_fields_of_the_wrong_type_are_one_line(tiny, tmp_path, change):
    refused(hm.pt2_with_program_edit(tiny, tmp_path / "odd.pt2", change), ".")


@pytest.mark.parametrize("change", [
    lambda c: next(iter(c.values())).update(tensor_meta=[]),
    lambda c: next(iter(c.values()))["tensor_meta"].update(dtype=[7]),
    lambda c: next(iter(c.values()))["tensor_meta"].update(sizes=[{"as_int": "10"}]),
    lambda c: next(iter(c.values()))["tensor_meta"].update(storage_offset=[]),
    lambda c: next(iter(c.values())).update(path_name=5),
    lambda c: next(iter(c.values())).update(use_pickle="no"),
], ids=["meta_list", "dtype_list", "size_text", "offset_list", "path_number", "pickle_text"])
def test_weight_descriptions_of_the_wrong_type_are_one_line(tiny, tmp_path, change):
    refused(hm.pt2_with_weights_edit(tiny, tmp_path / "odd.pt2", change), ".")


def test_weights_files_with_bzip2_members_are_refused_before_inflating(tmp_path):
    source = zipfile.ZipFile(io.BytesIO(shipped_weights_path("fc10-1").read_bytes()))
    with zipfile.ZipFile(tmp_path / "w.pt", "w") as out:
        for info in source.infolist():
            out.writestr(info.filename, source.read(info), compress_type=zipfile.ZIP_BZIP2)
    refused(tmp_path / "w.pt", "compressed with method 12; only stored or deflated")


PT2_FUZZ_CASES = int(os.environ.get("ADVVIEWER_PT2_FUZZ_CASES", "1000"))  # about 30 s


def test_mutated_programs_load_or_are_refused_in_one_line(with_batch_norm, tmp_path):
    """A seeded fuzz: fields of other types, arguments dropped, doubled or made keywords, nodes swapped, operators
    replaced by other allow-listed ones. All mutants are opened in one child limited to 2 GiB."""
    import random

    from advviewer.models.pt2_graph import ALLOWED

    rng = random.Random(7)
    with zipfile.ZipFile(with_batch_norm) as archive:
        program_name = next(n for n in archive.namelist() if n.endswith("models/model.json"))
        program = json.loads(archive.read(program_name))
    operators = sorted(ALLOWED)
    paths = []
    for case in range(PT2_FUZZ_CASES):
        mutant = hm.mutate_program(program, rng, operators)
        paths.append(hm.pt2_with_program_edit(with_batch_norm, tmp_path / f"m{case}.pt2", lambda p, m=mutant: p.update(m)))
    outcome = hm.open_all_in_child(paths)
    assert outcome.result is not None, f"the child failed (exit {outcome.returncode}): {outcome.stderr}"
    outcomes = outcome.result["outcomes"]
    failures = [o for o in outcomes if o not in ("loaded", "refused")]
    assert not failures, failures[:5]
    assert outcomes.count("refused") > PT2_FUZZ_CASES // 2  # the mutations do reach the checks


def test_every_allowed_operator_is_pure_and_its_arguments_bindable():
    """The allow-list and the binder agree: no operator changes an argument in place, every argument's type has
    serialised kinds it accepts, every result is a tensor or a size (so a new entry of another kind fails here)."""
    from advviewer.models.pt2_graph import ALLOWED
    from advviewer.models.pt2_schema import _accepted_kinds

    for name in sorted(ALLOWED):
        op, overload = name.rsplit(".", 1)
        schema = getattr(getattr(torch.ops.aten, op), overload)._schema
        assert not [a.name for a in schema.arguments if a.alias_info is not None and a.alias_info.is_write], name
        assert all(_accepted_kinds(a) - {"as_none"} for a in schema.arguments), name
        assert all(str(r.type) in ("Tensor", "int") for r in schema.returns), name
