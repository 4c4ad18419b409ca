"""The model zoo: shipped weights load safely, cards tell the truth, foreign files are refused."""

import pickle

import numpy as np
import pytest
import torch
from torch import nn

from advviewer import available_models, load_model, predict
from advviewer.errors import ModelLoadError
from advviewer.models.checked import validate_on_digits
from advviewer.models.zoo import model_card, sha256_file, shipped_weights_path

PAPER_MODELS = ["fc10-1e-4", "fc10-1e-2", "fc10-1", "fc100-100-10", "fc200-200-10", "ae400-10"]


def test_zoo_lists_the_papers_models_and_the_cnn_first():
    names = available_models()
    assert names[0] == "cnn"
    assert set(PAPER_MODELS) <= set(names)


def _test_error(model, test_digits) -> float:
    images, labels = test_digits
    return float((predict(model, images).argmax(1) != labels).mean())


@pytest.mark.parametrize("name", ["cnn", "cnn-robust"] + PAPER_MODELS)
def test_shipped_model_loads_and_its_card_is_true(name, test_digits):
    model = load_model(name)
    assert not model.training
    out = model(torch.zeros(3, 1, 28, 28))
    assert out.shape == (3, 10) and out.dtype == torch.float32
    card = model_card(name)
    assert card["weights_sha256"] == sha256_file(shipped_weights_path(name))
    # the card's test error is what the shipped weights really do on the bundled test split
    assert _test_error(model, test_digits) == pytest.approx(card["test_error"], abs=1e-6)
    assert card["seed"] == 0 and "bundled" in card["data"]
    # what load_model checks on a user's model at every load, the suite checks on the zoo (trusted by sha256 at run time)
    validate_on_digits(model, name)


def test_cnn_reaches_97_percent_on_the_bundled_test_split(cnn, test_digits):
    assert _test_error(cnn, test_digits) <= 0.03


def test_regularisation_orders_the_softmax_models_as_in_the_paper():
    """Stronger weight decay, higher training error: FC10(1) much worse than FC10(1e-4) (paper, Table 1).

    Measured: each shipped fc10 model classifies the bundled training split (the 4,000 digits
    it was trained on); the cards must give the same numbers, not the other way round.
    """
    from advviewer.data import bundled_split

    images, labels = bundled_split("train")
    images = images.astype(np.float32) / np.float32(255.0)
    names = ("fc10-1e-4", "fc10-1e-2", "fc10-1")
    errors = [float((predict(load_model(n), images).argmax(1) != labels).mean()) for n in names]
    assert errors[0] < errors[1] < errors[2], dict(zip(names, errors))
    assert errors[2] > 2 * errors[0], dict(zip(names, errors))  # much worse, not a tie broken by a few digits
    assert errors == pytest.approx([model_card(n)["train_error"] for n in names], abs=1e-6)


def test_unknown_name_directory_and_missing_file(tmp_path):
    with pytest.raises(ModelLoadError, match="unknown model 'resnet'"):
        load_model("resnet")
    with pytest.raises(ModelLoadError, match="is a directory"):
        load_model(tmp_path)


def test_corrupt_weights_file(tmp_path):
    path = tmp_path / "cnn.pt"
    path.write_bytes(shipped_weights_path("cnn").read_bytes()[:5000])
    with pytest.raises(ModelLoadError, match="cnn.pt: not an advviewer weights file .*the zip archive is corrupt"):
        load_model(path)


class Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickle_with_code_is_refused_not_run(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format": "advviewer-weights/1", "arch": "cnn", "state_dict": Evil()}, path)
    with pytest.raises(ModelLoadError):
        load_model(path)
    assert "must never run" not in capsys.readouterr().out
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ModelLoadError):
        load_model(path)


def test_weights_for_another_shape_are_refused(tmp_path):
    path = tmp_path / "wrong.pt"
    torch.save({"format": "advviewer-weights/1", "arch": "cnn", "state_dict": nn.Linear(784, 10).state_dict()}, path)
    with pytest.raises(ModelLoadError, match="do not fit the cnn architecture"):
        load_model(path)


def test_a_zoo_model_exported_to_pt2_loads_and_answers_the_same(tmp_path, cnn, test_digits):
    """The how-to in the README: export_classifier, then load_model on the .pt2."""
    from advviewer.models import export_classifier

    exported = load_model(export_classifier(cnn, tmp_path / "cnn.pt2"))
    images = test_digits[0]
    np.testing.assert_allclose(predict(exported, images), predict(cnn, images), atol=1e-6)


def test_saved_weights_have_no_negligible_floats(tmp_path):
    """Subnormals, and tiny normal weights whose products with pixels are subnormal, are 10-100x slower on x86 without
    flush-to-zero; save_weights writes zeros for both, other values as they are."""
    from advviewer.models.zoo import NEGLIGIBLE_WEIGHT, build_model, save_weights

    model = build_model("fc10-1e-4")
    tiny = torch.finfo(torch.float32).tiny
    with torch.no_grad():
        model[1].weight[0, :4] = torch.tensor([tiny / 4, -tiny / 1000, tiny, 2 * NEGLIGIBLE_WEIGHT])
    save_weights(model, "fc10-1e-4", tmp_path / "w.pt")
    saved = torch.load(tmp_path / "w.pt", weights_only=True)["state_dict"]
    assert saved["1.weight"][0, :4].tolist() == [0.0, 0.0, 0.0, model[1].weight[0, 3].item()]
    assert torch.equal(saved["1.weight"][1:], model[1].weight[1:]) and torch.equal(saved["1.bias"], model[1].bias)


def _negligible(tensors) -> int:
    """How many float values are non-zero yet below zoo.NEGLIGIBLE_WEIGHT (subnormals included): their products with a
    pixel or a gradient are subnormal, 10-100x slower on many x86 CPUs."""
    from advviewer.models.zoo import NEGLIGIBLE_WEIGHT

    tensors = [t for t in tensors if t.is_floating_point()]
    return sum(int(((t != 0) & (t.abs() < NEGLIGIBLE_WEIGHT)).sum()) for t in tensors)


@pytest.mark.parametrize("name", available_models())
def test_shipped_weights_files_hold_no_negligible_value(name):
    """Issue 23: weight decay left thousands of subnormals on always-0 pixels, and thousands of weights just above the
    subnormal range (fc100-100-10: 8,350 below 1e-30), whose products with a perturbed pixel or a gradient are subnormal:
    an attack's backward pass on fc100-100-10 was many times slower on an AVX-512 Xeon
    (benchmarks/results/denormal-attack-20261205.md)."""
    state = torch.load(shipped_weights_path(name), map_location="cpu", weights_only=True)["state_dict"]
    assert _negligible(state.values()) == 0
    assert _negligible(load_model(name).parameters()) == 0
    assert "flushed" in model_card(name)["subnormals"]


def _with_negligible_weights(model: nn.Module) -> tuple[nn.Module, torch.Tensor]:
    """``model`` with subnormal and negligible weights in its first layer (and a small one that stays), and that layer's
    intended values."""
    tiny = torch.finfo(torch.float32).tiny
    with torch.no_grad():
        model[1].weight[0, :5] = torch.tensor([tiny / 4, -tiny / 1000, 1e-33, -tiny * 0.999, 1e-20])
    expected = model[1].weight.detach().clone()
    expected[0, :4] = 0.0
    return model, expected


def test_a_users_weights_file_and_program_lose_their_negligible_weights_at_load(tmp_path):
    """A user's model runs at full speed too: its negligible weights are zero once loaded, every other value as in the file."""
    from advviewer.models import export_classifier
    from advviewer.models.zoo import WEIGHTS_FORMAT, build_model

    model = build_model("fc10-1e-4")
    model.load_state_dict(load_model("fc10-1e-4").state_dict())
    model, expected = _with_negligible_weights(model.eval())
    torch.save({"format": WEIGHTS_FORMAT, "arch": "fc10-1e-4", "state_dict": model.state_dict()}, tmp_path / "mine.pt")
    assert _negligible(model.parameters()) == 4  # what the files hold
    from_weights = load_model(tmp_path / "mine.pt")
    from_program = load_model(export_classifier(model, tmp_path / "mine.pt2"))
    for loaded in (from_weights, from_program):
        assert _negligible(loaded.parameters()) == 0
        assert any(torch.equal(p, expected) for p in loaded.parameters())
    assert torch.equal(from_weights(torch.ones(1, 1, 28, 28)), model(torch.ones(1, 1, 28, 28)))
