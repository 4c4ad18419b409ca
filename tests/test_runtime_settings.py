"""torch as the program runs it (advviewer.runtime.threads): one thread, oneDNN's convolutions off but in large batches.

The speed these settings buy is measured by benchmarks/bench_conv_backend.py, not here (timings
are no test on a shared machine); here: that the window, the CLI, training and the finite differences set what it
measured.
"""

import numpy as np
import torch

from advviewer.cli.main import main
from advviewer.runtime import threads
from advviewer.runtime.torch_import import import_torch
from advviewer.training import train


def _onednn(on: bool) -> None:
    torch.backends.mkldnn.enabled = on


def test_the_windows_model_lane_sets_one_thread_and_torchs_own_convolutions():
    _onednn(True)
    torch.set_num_threads(2)
    try:
        import_torch()  # what the window's first model load runs
        assert torch.get_num_threads() == 1
        assert not torch.backends.mkldnn.enabled
    finally:
        threads.configure(1)


def test_a_cli_command_sets_the_same(tmp_path, test_digits):
    np.save(tmp_path / "digit.npy", test_digits[0][0])
    _onednn(True)
    try:
        assert main(["attack", str(tmp_path / "digit.npy"), "--target", "3", "--c", "1", "--out", str(tmp_path)]) == 0
        assert not torch.backends.mkldnn.enabled
    finally:
        threads.configure(1)


def test_training_runs_with_onednn_and_leaves_the_programs_setting_as_it_was(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(train, "_train", lambda *args: seen.append(bool(torch.backends.mkldnn.enabled)) or {})
    threads.configure(1)
    train.train_model("fc10-1e-4", out=tmp_path / "w.pt")
    assert seen == [True]  # batches of 128: oneDNN is faster there
    assert not torch.backends.mkldnn.enabled


class _RecordsOneDnn(torch.nn.Module):
    """A model that notes torch's oneDNN setting at every forward pass."""

    def __init__(self, model):
        super().__init__()
        self.model, self.seen = model, []

    def forward(self, x):
        self.seen.append(bool(torch.backends.mkldnn.enabled))
        return self.model(x)


def test_the_finite_difference_gradient_runs_with_onednn_and_leaves_it_off(cnn, test_digits):
    from advviewer.calculus.gradients import input_gradient

    threads.configure(1)
    model = _RecordsOneDnn(cnn).eval()
    input_gradient(model, test_digits[0][0], 3, method="finite-difference")
    assert model.seen and all(model.seen)  # 1,568 passes in batches of 98: oneDNN is faster there
    assert not torch.backends.mkldnn.enabled


def test_onednn_blocks_on_two_threads_leave_the_setting_as_they_found_it():
    import threading

    threads.configure(1)
    first_in, first_may_end = threading.Event(), threading.Event()
    seen = []

    def first():
        with threads.onednn_convolutions():
            first_in.set()
            first_may_end.wait(5)
        seen.append(bool(torch.backends.mkldnn.enabled))  # the second block still runs: on

    worker = threading.Thread(target=first)
    worker.start()
    first_in.wait(5)
    with threads.onednn_convolutions():
        first_may_end.set()
        worker.join(5)
    assert seen == [True]
    assert not torch.backends.mkldnn.enabled  # both ended: off, as before the first began
