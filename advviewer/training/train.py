"""Training of the zoo models, deterministic from a seed on one machine, writing weights and a model card.

What is reproducible (docs/models.md): on one machine, the same seed, data and torch
give the same bytes. On another CPU the bytes differ -- float kernels are chosen per processor
(ATen's AVX2/AVX-512 code, MKL's code paths, and MKL's vector math, which torch.sqrt, exp, log,
sin and cos use and which is not correctly rounded: its results differ between processors even
with MKL_CBWR=COMPATIBLE) -- while the errors and the answers on the test split stay the same
(tests/test_training.py). The card records the processor.
"""

from __future__ import annotations

import functools
import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from advviewer.data import bundled_split, load_idx_dataset
from advviewer.errors import ModelLoadError
from advviewer.models.zoo import ZOO, AutoencoderClassifier, build_model, decayed_parameters, save_weights, sha256_file
from advviewer.models.zoo_cards import AdversarialTraining, ModelSpec
from advviewer.runtime.threads import onednn_convolutions
from advviewer.training.adversarial import pgd_l2
from advviewer.training.augment import augment
from advviewer.training.drawn_digits import drawn_digits

# One thread, like the rest of the program: the result does not depend on how many cores the
# machine has, and a second thread on a machine that other work shares waits for a busy core at
# every op (advviewer.runtime.threads).
TRAIN_THREADS = 1

# The convnet also learns from procedural mouse drawings (advviewer.training.drawn_digits): a pool drawn once
# from the seed, DRAWN_PER_BATCH of them added to each batch of 64 MNIST digits, augmented alike.
DRAWN_POOL = 20_000
DRAWN_PER_BATCH = 24

Progress = Callable[[int, int, str], None]  # (step, total, message)


@dataclass
class TrainingData:
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    description: str


@dataclass
class DrawnPool:
    """Procedural drawings framed as the window frames a canvas, mixed into each training batch."""

    images: torch.Tensor  # (N, 1, 28, 28)
    labels: torch.Tensor  # (N,)

    @classmethod
    def from_seed(cls, seed: int) -> DrawnPool:
        return _drawn_pool(seed, DRAWN_POOL)

    def add_to(self, xb: torch.Tensor, yb: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        pick = torch.randint(len(self.labels), (DRAWN_PER_BATCH,), generator=gen)
        return torch.cat([xb, self.images[pick]]), torch.cat([yb, self.labels[pick]])


@functools.lru_cache(maxsize=2)
def _drawn_pool(seed: int, count: int) -> DrawnPool:
    """Drawn once per process and seed (20,000 drawings take over a minute): a second training run reuses them, unchanged."""
    drawn = drawn_digits(count, seed)
    return DrawnPool(torch.from_numpy(drawn.images).unsqueeze(1), torch.from_numpy(drawn.labels))


def _drawn_pool_reported(seed: int, progress: Progress | None) -> DrawnPool:
    message = f"drawing {DRAWN_POOL:,} digits to train on"
    if progress:
        progress(0, 1, message)
    pool = DrawnPool.from_seed(seed)
    if progress:
        progress(1, 1, message)
    return pool


def load_training_data(data_dir: str | Path | None) -> TrainingData:
    if data_dir is None:
        tx, ty = bundled_split("train")
        vx, vy = bundled_split("test")
        desc = "bundled MNIST subset (resources/mnist5k): 4,000 train / 1,000 test, fixed stratified split"
    else:
        tx, ty = load_idx_dataset(data_dir, "train")
        vx, vy = load_idx_dataset(data_dir, "test")
        desc = f"MNIST IDX files from {data_dir}: {len(tx):,} train / {len(vx):,} test"

    def to_t(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(x, dtype=np.float32) / 255.0).unsqueeze(1)

    return TrainingData(to_t(tx), torch.from_numpy(np.asarray(ty, np.int64)), to_t(vx), torch.from_numpy(np.asarray(vy, np.int64)), desc)


def cpu_description() -> dict:
    """The processor the weights were computed on: its name and the features that select float kernels."""
    name, vendor, flags = platform.processor() or platform.machine(), "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name":
                name = value.strip()
            elif key == "vendor_id":
                vendor = value.strip()
            elif key == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    kernel_flags = [f for f in ("sse4_2", "avx", "fma", "avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile") if f in flags]
    return {"model": name, "vendor": vendor, "flags": kernel_flags, "torch_kernels": torch.backends.cpu.get_cpu_capability(),
            "threads": TRAIN_THREADS}


def error_rate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> float:
    model.eval()
    wrong = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            wrong += int((model(x[i : i + batch]).argmax(1) != y[i : i + batch]).sum())
    return wrong / max(len(x), 1)


def _penalty(model: nn.Module, lambdas: tuple[float, ...]) -> torch.Tensor:
    weights = decayed_parameters(model)
    assert len(weights) == len(lambdas), (len(weights), lambdas)
    return sum((lam * w.pow(2).sum() for lam, w in zip(lambdas, weights) if lam), torch.zeros(()))


def _pretrain_autoencoder(model: AutoencoderClassifier, data: TrainingData, epochs: int, gen: torch.Generator, progress: Progress | None) -> None:
    params = list(model.encoder.parameters()) + list(model.decoder.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    n = len(data.train_x)
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, 64):
            xb = data.train_x[perm[i : i + 64]]
            loss = F.binary_cross_entropy(model.reconstruct(xb), xb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if progress:
            progress(epoch + 1, epochs, f"autoencoder pre-training, reconstruction BCE {float(loss.detach()):.4f}")


def train_model(name: str, data_dir: str | Path | None = None, epochs: int | None = None, seed: int = 0,
                out: str | Path | None = None, progress: Progress | None = None) -> dict:
    """Train zoo model ``name`` and write its weights (``out``) and card (``out`` with .json).

    Deterministic for a given seed, data and torch version: a fixed generator drives
    initialisation, shuffling and augmentation, and torch runs in deterministic mode.
    """
    if name not in ZOO:
        raise ModelLoadError(f"unknown model {name!r}; available: {', '.join(ZOO)}")
    spec = ZOO[name]
    epochs = spec.default_epochs if epochs is None else epochs
    torch.manual_seed(seed)
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    # float reductions depend on how work is split between threads: a fixed count keeps the bytes
    # independent of the machine's number of cores
    torch.set_num_threads(TRAIN_THREADS)
    try:
        with onednn_convolutions():  # batches of 128: oneDNN is faster there (advviewer.runtime.threads)
            return _train(name, spec, data_dir, epochs, seed, out, progress)
    finally:
        torch.use_deterministic_algorithms(was_deterministic)
        torch.set_num_threads(threads)


@dataclass
class _Batches:
    """How one epoch's batches are made: size, the random generator, drawn digits to mix in, augmentation, attack."""

    size: int
    gen: torch.Generator
    drawn: DrawnPool | None
    augmented: bool
    adversarial: AdversarialTraining | None = None  # each batch replaced by its PGD-L2 attack ...
    radius: float = 0.0  # ... in the ball of this radius (this epoch's)


def _train_epoch(model: nn.Module, opt: torch.optim.Optimizer, data: TrainingData, batches: _Batches, lambdas: tuple[float, ...]) -> float:
    """One pass over the training digits in a random order; returns the mean loss."""
    model.train()
    n = len(data.train_x)
    perm = torch.randperm(n, generator=batches.gen)
    total, seen = 0.0, 0
    for i in range(0, n, batches.size):
        idx = perm[i : i + batches.size]
        xb, yb = data.train_x[idx], data.train_y[idx]
        if batches.drawn is not None:
            xb, yb = batches.drawn.add_to(xb, yb, batches.gen)
        if batches.augmented:
            xb = augment(xb, batches.gen)
        if batches.adversarial is not None:
            xb = pgd_l2(model, xb, yb, batches.adversarial, batches.radius, batches.gen)
        loss = F.cross_entropy(model(xb), yb) + _penalty(model, lambdas)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += float(loss.detach()) * len(yb)
        seen += len(yb)
    return total / seen


AUGMENTATION = ("random shift +-3 px, rotation +-15 deg, scale 0.8-1.15, 3x3 dilation (25%) / erosion (15%), "
                "Gaussian noise on 50% (stddev uniform 0-0.3, clipped to [0, 1]), on MNIST and drawn digits alike; "
                "the drawings: several styles per digit (flagged and plain 1, crossed and plain 7, open and closed 4, "
                "looped 2, flat-topped 3, straight and hooked 9 ...), random proportions, hand wobble, slant, rotation, "
                "size and place on the 280x280 canvas, brush width 4-60 px, framed by advviewer.reading.preprocess")


@dataclass
class _Run:
    """What one training run did, for its card."""

    name: str
    spec: ModelSpec
    model: nn.Module
    params: list[nn.Parameter]
    data: TrainingData
    drawn: DrawnPool | None
    lr: float
    batch: int
    epochs: int
    seed: int
    seconds: float


def _train(name: str, spec: ModelSpec, data_dir, epochs: int, seed: int, out, progress: Progress | None) -> dict:
    gen = torch.Generator().manual_seed(seed)
    data = load_training_data(data_dir)
    model = build_model(name)
    start = time.perf_counter()
    if name == "ae400-10":
        assert isinstance(model, AutoencoderClassifier)
        _pretrain_autoencoder(model, data, max(epochs // 2, 1), gen, progress)
    use_augment = spec.network == "cnn"
    drawn = _drawn_pool_reported(seed, progress) if use_augment else None
    lr = 3e-3 if name.startswith("fc10-") else 1e-3
    plan = spec.adversarial
    params = [p for n, p in model.named_parameters() if not n.startswith("decoder")]
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    batch = 64
    for epoch in range(epochs):
        radius = plan.radius(epoch) if plan is not None else 0.0
        loss = _train_epoch(model, opt, data, _Batches(batch, gen, drawn, use_augment, plan, radius), spec.lambdas)
        sched.step()
        if progress:
            progress(epoch + 1, epochs, f"epoch {epoch + 1}/{epochs} loss {loss:.4f}")
    model.eval()
    run = _Run(name, spec, model, params, data, drawn, lr, batch, epochs, seed, time.perf_counter() - start)
    out = Path(out) if out is not None else Path(f"{name}.pt")
    save_weights(model, name, out)
    card = _card(run, out)
    if plan is not None:
        card["robustness"] = _robustness(model, progress)
    out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def _robustness(model: nn.Module, progress: Progress | None) -> dict:
    """The robust model's median minimal L2 beside the shipped cnn's (advviewer.training.robustness)."""
    from advviewer.models import load_model
    from advviewer.training.robustness import robustness_record

    message = "attacking the robust model and the cnn on held-out digits"
    if progress:
        progress(0, 1, message)
    record = robustness_record(model, load_model("cnn"), "cnn")
    if progress:
        progress(1, 1, message)
    return record


def _card(run: _Run, out: Path) -> dict:
    data, drawn, spec = run.data, run.drawn, run.spec
    card = {
        "name": run.name,
        "description": spec.description,
        "architecture": repr(run.model),
        "parameters": int(sum(p.numel() for p in run.params)),
        "weight_decay": {"lambdas": list(spec.lambdas), "penalty": "mean cross-entropy + sum_l lambda_l * ||W_l||^2 (weights only, no biases)"},
        "data": data.description + (f"; plus {DRAWN_POOL:,} procedural mouse drawings of digits (advviewer.training.drawn_digits, "
                                    f"from the seed), {DRAWN_PER_BATCH} added to each batch" if drawn else ""),
        "augmentation": AUGMENTATION if drawn else None,
        "optimizer": f"Adam lr {run.lr}, cosine schedule, batch {run.batch}" + (f" (+ {DRAWN_PER_BATCH} drawn)" if drawn else ""),
        "epochs": run.epochs,
        "seed": run.seed,
        "train_error": round(error_rate(run.model, data.train_x, data.train_y), 5),
        "test_error": round(error_rate(run.model, data.test_x, data.test_y), 5),
        "train_seconds": round(run.seconds, 1),
        "torch": torch.__version__,
        "platform": platform.machine(),
        "cpu": cpu_description(),
        "weights_file": out.name,
        "weights_sha256": sha256_file(out),
        "subnormals": "flushed to zero when saved (advviewer.models.zoo.save_weights)",
    }
    if spec.adversarial is not None:
        card["adversarial_training"] = spec.adversarial.describe()
    return card
