"""Hostile model files (issue 7, section 2): nothing in one may run code, touch the user's files,
exhaust memory or hang; every refusal is one line.

Each payload is shown to be live first (torch's own loader runs it), so a passing test means
advviewer stopped it, not that the payload was a dud.
"""

import io
import os
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
