"""The model zoo: shipped weights load safely, cards tell the truth, foreign files are refused."""

import json
import pickle

import pytest
import torch
from helpers import save_torchscript
from torch import nn

from advviewer import available_models, load_model, predict
from advviewer.errors import ModelLoadError
from advviewer.models.zoo import model_card, sha256_file, shipped_weights_path

PAPER_MODELS = ["fc10-1e-4", "fc10-1e-2", "fc10-1", "fc100-100-10", "fc200-200-10", "ae400-10"]


def test_zoo_lists_the_papers_models_and_the_cnn_first():
    names = available_models()
    assert names[0] == "cnn"
    assert set(PAPER_MODELS) <= set(names)


def _test_error(model, test_digits) -> float:
    images, labels = test_digits
    return float((predict(model, images).argmax(1) != labels).mean())


@pytest.mark.parametrize("name", ["cnn"] + PAPER_MODELS)
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


def test_cnn_reaches_97_percent_on_the_bundled_test_split(cnn, test_digits):
    assert _test_error(cnn, test_digits) <= 0.03


def test_regularisation_orders_the_softmax_models_as_in_the_paper(test_digits):
    # stronger weight decay, higher training error: FC10(1) is much worse than FC10(1e-4)
    errors = [model_card(n)["train_error"] for n in ("fc10-1e-4", "fc10-1e-2", "fc10-1")]
    assert errors[0] < errors[1] < errors[2]


def test_unknown_name_directory_and_missing_file(tmp_path):
    with pytest.raises(ModelLoadError, match="unknown model 'resnet'"):
        load_model("resnet")
    with pytest.raises(ModelLoadError, match="is a directory"):
        load_model(tmp_path)


def test_corrupt_weights_file(tmp_path):
    path = tmp_path / "cnn.pt"
    path.write_bytes(shipped_weights_path("cnn").read_bytes()[:5000])
    with pytest.raises(ModelLoadError, match="not an advviewer weights file"):
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


def test_users_torchscript_classifier_loads(tmp_path):
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    model = load_model(save_torchscript(net, tmp_path / "mine.pt"))
    x = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(model(x), net(x))


def test_torchscript_of_the_wrong_shape_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match=r"returns \(2, 5\).*expected logits of shape \(2, 10\)"):
        load_model(save_torchscript(nn.Sequential(nn.Flatten(), nn.Linear(784, 5)), tmp_path / "five.pt"))


def test_training_reproduces_the_shipped_weights_exactly(tmp_path):
    from advviewer.training import train_model

    card = train_model("fc10-1e-4", out=tmp_path / "again.pt")
    assert card["weights_sha256"] == model_card("fc10-1e-4")["weights_sha256"]
    written = json.loads((tmp_path / "again.json").read_text())
    assert written["test_error"] == model_card("fc10-1e-4")["test_error"]


@pytest.mark.slow
def test_training_the_cnn_reproduces_its_shipped_weights(tmp_path):
    """The app's default model, with augmentation, is reproducible byte for byte too (~1-2 min)."""
    from advviewer.training import train_model

    card = train_model("cnn", out=tmp_path / "cnn.pt")
    assert card["weights_sha256"] == model_card("cnn")["weights_sha256"]
    assert card["test_error"] <= 0.03
