"""Issue 9 on the command line and in the core: model names in --help, plain messages, the robust 8-bit PNG."""

import json
import os

import numpy as np
import pytest
import torch

from advviewer.cli import main


@pytest.mark.parametrize("command", ["predict", "attack"])
def test_help_lists_the_model_names(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "cnn, fc10-1e-4, fc10-1e-2, fc10-1, fc100-100-10, fc200-200-10, ae400-10" in text


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message for a machine without CUDA")
def test_device_cuda_without_a_gpu_is_said_in_the_commands_words(test_digit_files, tmp_path, capsys):
    assert main(["attack", str(test_digit_files[0]), "--untargeted", "--device", "cuda", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--device cpu" in err and "device='cpu'" not in err


def test_a_pickle_with_code_is_refused_in_one_plain_line_without_the_unsafe_advice(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    torch.save({"format": "advviewer-weights", "f": os.getcwd}, bad)
    assert main(["predict", str(tmp_path / "x.png"), "--model", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "weights_only" not in err and "could run code" in err


def test_robust_png_still_fools_the_model_with_the_smallest_margin(cnn, test_digits):
    from advviewer.attack import lbfgs_attack
    from advviewer.calculus.gradients import predict
    from advviewer.writing.eight_bit import robust_8bit, to_8bit

    undone = 0
    for i in range(12):
        x = test_digits[0][i]
        target = int(np.argsort(predict(cnn, x))[-2])
        r = lbfgs_attack(cnn, x, target)
        robust = robust_8bit(cnn, x, r.adversarial, target)
        assert robust.fools and robust.pixels.dtype == np.uint8
        assert int(predict(cnn, robust.pixels / np.float32(255)).argmax()) == target
        plain_fools = int(predict(cnn, to_8bit(r.adversarial) / np.float32(255)).argmax()) == target
        if plain_fools:
            assert robust.scale == 1.0  # nothing added when rounding already keeps the target
        else:
            undone += 1
            assert 1.0 < robust.scale < 1.5 and robust.l2 >= r.l2 - 1e-3
    assert undone >= 1  # the case this exists for happens (most minimal attacks)


def test_attack_robust_png_records_the_factor(test_digit_files, tmp_path, capsys):
    status = main(["attack", str(test_digit_files[0]), "--untargeted", "--robust-png", "--out", str(tmp_path), "--json"])
    assert status == 0
    record = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert record["png_fools_model"] and record["png_robust"] and record["png_robust_scale"] >= 1.0
    assert "the model now answers class" in record["message"] and "tau_means" in record
