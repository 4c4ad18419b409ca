"""`advviewer reproduce`: the paper's tables measured on a few digits, written as report, CSV, JSON and figures."""

import csv
import json
import subprocess
import sys
import threading

import numpy as np
import pytest
from PIL import Image

from advviewer.errors import Cancelled
from advviewer.reproduce.config import ReproduceConfig
from advviewer.reproduce.outputs import results_json
from advviewer.reproduce.run import run_reproduction

FAST = ("fc10-1e-4", "fc10-1")  # linear models: a few digits attack in about a second


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "advviewer", *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def small_run():
    steps = []
    rep = run_reproduction(ReproduceConfig(n=4, models=FAST, seed=3), progress=lambda d, t, m: steps.append((d, t)))
    return rep, steps


def test_every_model_and_reading_is_measured_and_progress_reaches_the_end(small_run):
    rep, steps = small_run
    t1 = rep.results["table1"]
    assert list(t1) == list(FAST)
    for model in FAST:
        assert 0.0 < t1[model]["train_error"] < 0.3 and 0.0 < t1[model]["test_error"] < 0.3
        for split in ("train", "test"):
            for reading in ("nearest", "random"):
                s = t1[model][split][reading]
                assert s["attacked"] >= 1 and s["success_rate"] == 1.0  # every correct digit can be made adversarial
                assert 0.0 < s["median_distortion"] < 0.3
    done = [d for d, _ in steps]
    assert done == sorted(done) and done[-1] == steps[-1][1] > 0


def test_the_nearest_class_is_never_further_than_a_random_target(small_run):
    """The untargeted minimum is the smallest over all targets: per digit it cannot exceed the random target's
    (exact for these linear models, up to the solver's tolerance)."""
    rep, _ = small_run
    for model in FAST:
        for split in ("train", "test"):
            near, rand = rep.attacks[model, split, "nearest"], rep.attacks[model, split, "random"]
            np.testing.assert_array_equal(near.attacked, rand.attacked)
            assert (near.distortion <= rand.distortion * 1.01 + 1e-6).all()
            assert (near.distortion < rand.distortion * 0.999).any() or (near.targets == -1).all()


def test_table_figures_agree_with_the_per_example_records(small_run):
    rep, _ = small_run
    res = rep.results
    for e in res["examples"]:
        ok = np.array(e["success"])
        s = res["table1"][e["model"]][e["split"]][e["reading"]]
        assert s["mean_distortion"] == pytest.approx(np.mean(np.array(e["distortion"])[ok]), rel=1e-5)
        # the adversarial class is the target (random) or any class but the label (nearest)
        labels = np.array(res["digits"][e["split"]]["labels"])[e["digit"]]
        cls = np.array(e["adversarial_class"])
        if e["reading"] == "random":
            assert (cls == np.array(e["target"])).all()
        assert (cls != labels).all()


def test_transfer_diagonal_is_every_successful_example_and_noise_meets_the_box(small_run):
    rep, _ = small_run
    t2 = rep.results["table2"]
    for reading in ("nearest", "random"):
        for model, row in t2[reading]["transfer"].items():
            # made for this model and successful: the model answers a wrong class on every one
            assert row["errors"][model] == 1.0
            assert row["examples"] == rep.results["table1"][model]["train"][reading]["succeeded"]
        # the paper's control: random changes of the examples' own size (in the box) leave the model right
        for model, control in t2[reading]["same_size_noise"].items():
            assert control["mean_distortion"] == pytest.approx(t2[reading]["transfer"][model]["mean_distortion"], rel=1e-3)
            assert control["error_on_own_model"] <= 0.25
        # enlarging the perturbations moves the examples further from the original
        d = t2[reading]["scaled_mean_distortion"]
        assert d["1"]["fc10-1"] < d["2"]["fc10-1"] < d["3"]["fc10-1"]
    noise = t2["noise"]
    assert noise["0.1 unclipped"]["mean_distortion"] == pytest.approx(0.1, rel=0.1)
    # clipping throws away the negative half of the noise on the black background
    assert noise["0.1 clipped"]["mean_distortion"] < 0.85 * noise["0.1 unclipped"]["mean_distortion"]


def test_same_seed_same_json_and_cancel_stops_it():
    config = ReproduceConfig(n=2, models=FAST, seed=7)
    first = results_json(run_reproduction(config))
    assert results_json(run_reproduction(config)) == first
    assert results_json(run_reproduction(ReproduceConfig(n=2, models=FAST, seed=8))) != first
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        run_reproduction(config, cancel=stop)


def test_command_writes_report_tables_json_and_figures(tmp_path):
    out = run("reproduce", "--n", "3", "--models", *FAST, "--out", tmp_path / "rep", "--json", "--seed", "1")
    assert out.returncode == 0, out.stderr
    folder = tmp_path / "rep"
    record = json.loads((folder / "results.json").read_text())
    assert json.loads(out.stdout) == record
    report = (folder / "report.md").read_text()
    assert "## Table 1 on training digits" in report and "## Table 2: transfer" in report
    assert "(0.062)" in report and "(22.7%)" in report  # the paper's figures beside ours
    with open(folder / "table2_nearest.csv") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:3] == ["made for", *FAST] and len(rows) == 3
    for name in ("transfer.png", "distortions_train.png", "distortions_test.png", "examples_fc10-1e-4.png"):
        with Image.open(folder / name) as image:
            assert image.format == "PNG" and min(image.size) > 100
    assert "reproduce" in out.stderr  # the progress bar


@pytest.mark.parametrize("args, message", [
    (["--data-dir", "NOWHERE"], "not a directory of MNIST IDX files"),
    (["--models", "resnet"], "unknown model 'resnet'"),
    (["--n", "0"], "--n must be at least 1"),
])
def test_bad_input_gets_one_line_and_exit_2(tmp_path, args, message):
    args = [tmp_path / a if a == "NOWHERE" else a for a in args]
    out = run("reproduce", *args, "--out", tmp_path / "rep", timeout=60)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in out.stderr
    assert not (tmp_path / "rep").exists()


def test_a_folder_with_broken_idx_files_is_refused(tmp_path):
    data = tmp_path / "mnist"
    data.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (data / name).write_bytes(b"\x00\x00\x08\x03garbage")
    out = run("reproduce", "--data-dir", data, "--out", tmp_path / "rep", timeout=60)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "truncated" in out.stderr
