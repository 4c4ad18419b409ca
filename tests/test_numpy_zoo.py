"""`predict` on a zoo model answers without torch (numpy forward pass) and gives torch's answer."""

import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

from advviewer.calculus.gradients import predict
from advviewer.errors import ModelLoadError
from advviewer.models import available_models, load_model
from advviewer.models.numpy_zoo import load_numpy_zoo_model, read_weights
from advviewer.models.zoo import save_weights, shipped_weights_path

# float32 sums in another order (OpenBLAS against oneDNN/MKL): probabilities differ by ~1e-6
PROBABILITY_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def every_bundled_digit():
    from advviewer.data import bundled_split

    images = np.concatenate([bundled_split(split)[0] for split in ("train", "test")])
    return images.astype(np.float32) / 255.0


@pytest.mark.parametrize("name", available_models())
def test_numpy_forward_gives_torchs_answers_on_every_bundled_digit(name, every_bundled_digit):
    numpy_probs = load_numpy_zoo_model(name).predict(every_bundled_digit)
    torch_probs = predict(load_model(name), every_bundled_digit)
    assert numpy_probs.shape == torch_probs.shape == (len(every_bundled_digit), 10)
    np.testing.assert_array_equal(numpy_probs.argmax(axis=1), torch_probs.argmax(axis=1))
    np.testing.assert_allclose(numpy_probs, torch_probs, rtol=0, atol=PROBABILITY_TOLERANCE)


def test_numpy_forward_of_noise_and_extremes_matches_torch():
    """Off the digits' manifold too: noise, all black, all white (sigmoid saturation)."""
    rng = np.random.default_rng(0)
    images = np.concatenate([rng.random((30, 28, 28), dtype=np.float32), np.zeros((1, 28, 28), np.float32),
                             np.ones((1, 28, 28), np.float32)])
    for name in available_models():
        np.testing.assert_allclose(load_numpy_zoo_model(name).predict(images), predict(load_model(name), images),
                                   rtol=0, atol=PROBABILITY_TOLERANCE, err_msg=name)


def test_one_image_gives_ten_probabilities():
    probs = load_numpy_zoo_model("cnn").predict(np.zeros((28, 28), np.float32))
    assert probs.shape == (10,) and probs.dtype == np.float64 and abs(probs.sum() - 1) < 1e-12


@pytest.mark.parametrize("name", available_models())
def test_reader_gives_the_tensors_torch_load_gives(name):
    arch, weights = read_weights(shipped_weights_path(name).read_bytes())
    state = torch.load(shipped_weights_path(name), weights_only=True)["state_dict"]
    assert arch == name and set(weights) == set(state)
    for key, tensor in state.items():  # the same stored float32 values, read two ways
        np.testing.assert_array_equal(weights[key], tensor.numpy(), err_msg=key)


def test_reader_reads_views_with_offsets_and_strides(tmp_path):
    """A tensor saved as a transposed slice of a larger storage comes back as torch reads it."""
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    big = torch.arange(20 * 784, dtype=torch.float32).reshape(784, 20)
    model[1].weight.data = big[:, 5:15].t()  # offset 5, strides (1, 20)
    path = tmp_path / "view.pt"
    payload = {"format": "advviewer-weights/1", "arch": "fc10-1", "state_dict": {"1.weight": big[:, 5:15].t(), "1.bias": torch.zeros(10)}}
    torch.save(payload, path)
    _, weights = read_weights(path.read_bytes())
    np.testing.assert_array_equal(weights["1.weight"], big[:, 5:15].t().numpy())
    save_weights(model, "fc10-1", path)  # and the file advviewer train writes
    np.testing.assert_array_equal(read_weights(path.read_bytes())[1]["1.weight"], model[1].weight.detach().numpy())


class _Boom:
    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.parametrize("payload", [
    {"format": "advviewer-weights/1", "arch": "cnn", "state_dict": {"x": _Boom()}},
    _Boom(),
    {"format": "advviewer-weights/1", "arch": "cnn", "state_dict": {"x": torch.zeros(3, dtype=torch.int64)}},
])
def test_reader_refuses_anything_but_float_tensors_and_runs_nothing(payload, capsys):
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with pytest.raises(ModelLoadError):
        read_weights(buffer.getvalue())
    assert "must never run" not in capsys.readouterr().out


def test_reader_refuses_a_tensor_shorter_than_it_says():
    buffer = io.BytesIO()
    torch.save({"format": "advviewer-weights/1", "arch": "fc10-1", "state_dict": {"1.bias": torch.zeros(10)}}, buffer)
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(damaged, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name)[:8] if name.endswith("/data/0") else src.read(name))
    with pytest.raises(ModelLoadError, match="not the size"):
        read_weights(damaged.getvalue())


def test_weights_not_matching_the_card_are_refused(monkeypatch):
    import advviewer.models.zoo_cards as zoo_cards

    monkeypatch.setattr(zoo_cards, "model_card", lambda name: {"weights_sha256": "0" * 64})
    with pytest.raises(ModelLoadError, match="sha256"):
        load_numpy_zoo_model("cnn")


def test_predict_on_a_zoo_model_never_imports_torch(drawn_digit_files):
    """The point of it all: `import torch` takes longer than the cold-start budget."""
    code = ("import sys; from advviewer.cli import main; status = main(['predict', sys.argv[1], '--model', 'fc100-100-10']); "
            "print('torch imported' if 'torch' in sys.modules else 'no torch'); sys.exit(status)")
    out = subprocess.run([sys.executable, "-c", code, str(drawn_digit_files[0])], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "no torch"
    assert out.stdout.startswith(f"{drawn_digit_files[0]}: 3 ")


def test_predict_with_a_model_file_still_goes_through_torch(tmp_path, drawn_digit_files):
    path = tmp_path / "mine.pt"
    save_weights(load_model("fc10-1e-2"), "fc10-1e-2", path)
    code = ("import sys; from advviewer.cli import main; status = main(['predict', sys.argv[1], '--model', sys.argv[2], '--json']); "
            "print('torch imported' if 'torch' in sys.modules else 'no torch'); sys.exit(status)")
    out = subprocess.run([sys.executable, "-c", code, str(drawn_digit_files[0]), str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "torch imported"



# --- the restricted unpickler checks every view before building it (issue 21, defence in depth) ---

READ = "__import__('advviewer.models.numpy_zoo', fromlist=['x']).read_weights(open(sys.argv[1], 'rb').read())[1]['1.bias'].shape"


@pytest.mark.parametrize("numel, offset, size, stride, match", [
    (10, 0, (10,), (2**40,), "reaches outside its storage"),  # main: a segmentation fault
    (10, 0, (2, 2), (2**40, 1), "reaches outside its storage"),
    (10, 1000, (10,), (1,), "reaches outside its storage"),  # main: read memory past the storage
    (10, 5, (10,), (1,), "reaches outside its storage"),  # one element too far
    (1, 0, (40000, 40000), (0, 0), "reaches outside its storage"),  # main: 6.4 GB of copies of one value
    (10, -1, (10,), (1,), "not counts"),
    (10, 0, (10,), (-1,), "not counts"),
    (10, 0, (True, 10), (1, 1), "not counts"),
    (10, 0, (10,), (1, 1), "not counts"),
    (10, 0, (1,) * 5 + (10,), (1,) * 6, "not counts"),
])
def test_views_outside_their_storage_are_refused_before_any_array_is_made(tmp_path, numel, offset, size, stride, match):
    import hostile

    path = hostile.weights_with_view(tmp_path, numel, offset, size, stride)
    outcome = hostile.outcome_in_child(READ, path, memory_mb=700, seconds=20)
    assert outcome.startswith("REFUSED ") and match in outcome, outcome


def test_views_sharing_one_storage_are_bounded_in_all(tmp_path):
    """40 tensors each the whole of one 8 MB storage: 320 MB of values from an 8 MB file."""
    import hostile

    path = hostile.weights_with_view(tmp_path, 2_000_000, 0, (2_000_000,), (1,), copies=40)
    match = "tensors hold over 64 MB of values"
    outcome = hostile.outcome_in_child(READ, path, memory_mb=700, seconds=20)
    assert outcome.startswith("REFUSED ") and match in outcome, outcome


def test_a_genuine_view_reaching_the_last_element_is_read(tmp_path):
    import hostile

    path = hostile.weights_with_view(tmp_path, 21, 1, (10,), (2,))  # elements 1, 3, ..., 19 of 21
    assert hostile.outcome_in_child(READ, path) == "READ (10,)"


def test_a_pickle_that_unpacks_to_gigabytes_is_refused_unread():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("w/data.pkl", bytes(100_000_000))
    assert len(buffer.getvalue()) < 1_000_000
    with pytest.raises(ModelLoadError, match="unpacks to over 64 MB"):
        read_weights(buffer.getvalue())
