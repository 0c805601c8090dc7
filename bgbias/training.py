"""Training: optimisers and schedules (registries), the loop with early stopping on the dev loss, checkpoints."""

from __future__ import annotations

import copy
import logging
import math
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from bgbias.config import filled
from bgbias.errors import UserError
from bgbias.models import EVAL_BATCH, Classifier, build_model, image_tensor, load_checkpoint, save_checkpoint, to_unit
from bgbias.storage import StoredSplit, atomic_path, read_attributes

log = logging.getLogger("bgbias")


@dataclass(frozen=True)
class TrainSpec:
    """Optimiser, schedule and stopping settings (a validated `train` block of the config).

    `patience` None trains every epoch and keeps the last weights (no early stopping); `lr_step` None keeps
    the learning rate, else it is multiplied by `lr_gamma` every `lr_step` epochs; `reshuffle` False keeps the
    first epoch's batch order for every epoch.
    """

    epochs: int
    patience: int | None
    batch_size: int
    optimizer: str
    lr: float
    momentum: float
    weight_decay: float
    lr_step: int | None
    lr_gamma: float
    dropout: bool
    reshuffle: bool

    @classmethod
    def of(cls, train_config: dict) -> TrainSpec:
        """The settings of a validated `train` block (settings a slice left out at their defaults)."""
        return cls(**filled(train_config, "train"))

    def fixed_budget(self, epochs: int) -> TrainSpec:
        """These settings for exactly `epochs` epochs without early stopping (the last weights kept)."""
        return replace(self, epochs=epochs, patience=None)


OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "sgd": lambda params, spec: torch.optim.SGD(params, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay),
    "adam": lambda params, spec: torch.optim.Adam(params, lr=spec.lr, weight_decay=spec.weight_decay),
}


class DeviceError(UserError):
    """A device the config asks for that this machine does not have."""


@dataclass(frozen=True)
class EpochResult:
    loss: float
    accuracy: float


def gpu_problem() -> str | None:
    """Why `device: cuda` cannot run here (no CUDA GPU visible), or None."""
    if torch.cuda.is_available():
        return None
    return "config key device: 'cuda' is not allowed here: no CUDA GPU is visible; allowed: auto or cpu"


# the GPUs granted to a SLURM job (batch script: SLURM_JOB_GPUS, job step: SLURM_STEP_GPUS) or set by the user
GRANT_VARIABLES = ("SLURM_JOB_GPUS", "SLURM_STEP_GPUS", "CUDA_VISIBLE_DEVICES")


def open_stage(*, threads: int, device: str) -> torch.device:
    """The prologue of a torch stage: its torch CPU threads, and the device it runs on (`resolve_device`)."""
    torch.set_num_threads(threads)
    return resolve_device(device)


def open_model_stage(checkpoint: Path, *, threads: int, device: str, in_channels: int) -> tuple[torch.device, Classifier, dict]:
    """`open_stage` for a stage that starts from a checkpoint: the device, the model (on the CPU) and its metadata."""
    where = open_stage(threads=threads, device=device)
    net, meta = load_checkpoint(Path(checkpoint), in_channels=in_channels)
    return where, net, meta


def resolve_device(device: str = "auto") -> torch.device:
    """`auto` picks CUDA when available (honouring CUDA_VISIBLE_DEVICES), else the CPU. With several GPUs visible,
    the one with the most free memory, so that jobs sharing a machine spread over its GPUs. Logs the GPUs that SLURM
    (or whoever started the job) granted it, when set."""
    granted = [f"{name}={os.environ[name]}" for name in GRANT_VARIABLES if name in os.environ]
    if granted:
        job = f" (SLURM job {os.environ['SLURM_JOB_ID']})" if "SLURM_JOB_ID" in os.environ else ""
        log.info("GPUs granted%s: %s", job, " ".join(granted))
    if device == "cuda" and gpu_problem():
        raise DeviceError(gpu_problem())
    if device == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    count = torch.cuda.device_count()
    if count == 1:
        return torch.device("cuda")
    return torch.device("cuda", max(range(count), key=lambda index: torch.cuda.mem_get_info(index)[0]))


def evaluate_loss(model: Classifier, images: torch.Tensor, labels: torch.Tensor) -> EpochResult:
    """Mean cross-entropy and accuracy of `model` on uint8 `images` (eval mode, no gradients)."""
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(labels), EVAL_BATCH):
            logits = model(to_unit(images[start : start + EVAL_BATCH]))
            target = labels[start : start + EVAL_BATCH]
            total_loss += F.cross_entropy(logits, target, reduction="sum").item()
            correct += (logits.argmax(1) == target).sum().item()
    return EpochResult(total_loss / len(labels), correct / len(labels))


BatchStep = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]  # batch indices -> (loss, number correct)
SampleOrder = Callable[[torch.Generator], torch.Tensor]  # an epoch's training indices, drawn from the seeded generator


@contextmanager
def seeded_torch(seed: int, device: torch.device) -> Iterator[None]:
    """Run the block with torch's RNG seeded, restoring the caller's RNG state afterwards."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


def fit(
    model: Classifier,
    train_step: BatchStep,
    train_size: int,
    dev_eval: Callable[[], EpochResult],
    *,
    spec: TrainSpec,
    seed: int,
    device: torch.device,
    start_epoch: Callable[[int], None] | None = None,
    end_epoch: Callable[[int, Classifier, torch.optim.Optimizer], None] | None = None,
    extra_parameters: Iterable[torch.nn.Parameter] = (),
    sample_order: SampleOrder | None = None,
) -> pd.DataFrame:
    """The optimiser over shuffled batches (one seeded order per epoch, or the first for every epoch without
    `spec.reshuffle`), early stopping on `dev_eval`'s loss; `model` ends with the best weights
    (the last ones without early stopping). `start_epoch(epoch)`, when given, runs before each epoch (e.g. to
    re-draw the paired versions), `end_epoch(epoch, model, optimiser)` after each epoch's training steps;
    `extra_parameters` (a loss's own head, e.g. RUBi's) are optimised with the model's; `sample_order` replaces the
    shuffle (e.g. Group DRO's group-balanced draw with replacement)."""
    with seeded_torch(seed, device):
        optimiser = OPTIMIZERS[spec.optimizer]([*model.parameters(), *extra_parameters], spec)
        schedule = torch.optim.lr_scheduler.StepLR(optimiser, spec.lr_step, spec.lr_gamma) if spec.lr_step else None
        order = torch.Generator().manual_seed(seed)
        best_loss, best_state, waited, rows = math.inf, copy.deepcopy(model.state_dict()), 0, []
        for epoch in range(1, spec.epochs + 1):
            started = time.perf_counter()
            if start_epoch is not None:
                start_epoch(epoch)
            if spec.reshuffle or epoch == 1:
                drawn = torch.randperm(train_size, generator=order) if sample_order is None else sample_order(order)
                batches = drawn.to(device).split(spec.batch_size)
            total_loss, correct = train_epoch(model, optimiser, train_step, batches, epoch)
            if end_epoch is not None:
                end_epoch(epoch, model, optimiser)
            if schedule is not None:
                schedule.step()
            train_seconds = time.perf_counter() - started
            dev = dev_eval()
            rows.append(
                {
                    "epoch": epoch,
                    "train_loss": total_loss / train_size,
                    "train_accuracy": correct / train_size,
                    "dev_loss": dev.loss,
                    "dev_accuracy": dev.accuracy,
                    "train_seconds": train_seconds,
                    "seconds": time.perf_counter() - started,
                }
            )
            improved = dev.loss < best_loss
            if improved:
                best_loss, waited = dev.loss, 0
                if spec.patience is not None:
                    best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
            log.info(
                "epoch %d/%d  train loss %.4f acc %.4f  dev loss %.4f acc %.4f  %.1fs%s",
                epoch, spec.epochs, rows[-1]["train_loss"], rows[-1]["train_accuracy"],
                dev.loss, dev.accuracy, rows[-1]["seconds"], "  *best" if improved else "",
            )
            if spec.patience is not None and waited >= spec.patience:
                log.info("early stop: dev loss has not improved for %d epochs", spec.patience)
                break
        history = pd.DataFrame(rows)
        if spec.patience is None:  # no early stopping: the last epoch's weights are kept
            history["best"] = history["epoch"] == history["epoch"].max()
        else:
            model.load_state_dict(best_state)
            history["best"] = history["dev_loss"] == best_loss
        return history


def train_epoch(
    model: Classifier, optimiser: torch.optim.Optimizer, train_step: BatchStep, batches: tuple[torch.Tensor, ...], epoch: int
) -> tuple[float, int]:
    """One pass over `batches` of indices; returns the summed loss and the number of correct predictions."""
    model.train()
    total_loss, correct = 0, 0  # become tensors on the model's device: no synchronisation per batch
    for number, index in enumerate(batches, 1):
        loss, batch_correct = train_step(index)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        total_loss = total_loss + loss.detach() * len(index)
        correct = correct + batch_correct
        show_progress(epoch, number, len(batches))
    return float(total_loss), int(correct)


def show_progress(epoch: int, number: int, total: int) -> None:
    """A progress bar on stderr when it is a terminal."""
    if sys.stderr.isatty() and (number % 20 == 0 or number == total):
        filled = int(30 * number / total)
        sys.stderr.write(f"\repoch {epoch} [{'#' * filled}{'.' * (30 - filled)}] {number}/{total}")
        if number == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


class Trajectory:
    """Copies of the weights after epochs 1, 2, 4, 8, ... with the learning rate of each: the training trajectory
    that TracIn-style selection sums over (a few hundred KB per LeNet snapshot)."""

    def __init__(self) -> None:
        self.snapshots: list[dict] = []

    def __call__(self, epoch: int, model: Classifier, optimiser: torch.optim.Optimizer) -> None:
        if epoch & (epoch - 1) == 0:
            state = {key: value.detach().cpu().clone() for key, value in model.state_dict().items()}
            self.snapshots.append({"epoch": epoch, "lr": optimiser.param_groups[0]["lr"], "state_dict": state})


class Labelled(Protocol):
    """Images with their labels: a stored split, or a split of MNIST."""

    images: np.ndarray
    labels: np.ndarray


def fresh_model(model_name: str, spec: TrainSpec, *, in_channels: int, seed: int, device: torch.device) -> Classifier:
    """A new model of `model_name`, its weights initialised from `seed` (every method's model starts as the base's)."""
    with seeded_torch(seed, device):
        return build_model(model_name, in_channels=in_channels, dropout=spec.dropout).to(device)


def train_classifier(
    train: Labelled,
    dev: Labelled,
    *,
    spec: TrainSpec,
    seed: int,
    device: torch.device,
    model_name: str = "lenet",
    trajectory: Trajectory | None = None,
) -> tuple[Classifier, pd.DataFrame]:
    """Train a fresh model of `model_name` (3 channels for colour images, 1 for grey) with early stopping on dev loss,
    recording its `trajectory` when given."""
    channels = 1 if train.images.ndim == 3 else train.images.shape[-1]
    model = fresh_model(model_name, spec, in_channels=channels, seed=seed, device=device)
    return model, fine_tune(model, train, dev, spec=spec, seed=seed, device=device, trajectory=trajectory)


def fine_tune(
    model: Classifier,
    train: Labelled,
    dev: Labelled,
    *,
    spec: TrainSpec,
    seed: int,
    device: torch.device,
    trajectory: Trajectory | None = None,
) -> pd.DataFrame:
    """Continue training `model` with cross-entropy on `train`; early stopping on the dev loss."""
    model.set_dropout(spec.dropout)
    x_train, y_train = image_tensor(train.images, device), torch.as_tensor(train.labels, device=device)
    x_dev, y_dev = image_tensor(dev.images, device), torch.as_tensor(dev.labels, device=device)

    def step(index: torch.Tensor) -> tuple[torch.Tensor, int]:
        logits = model(to_unit(x_train[index]))
        target = y_train[index]
        return F.cross_entropy(logits, target), (logits.argmax(1) == target).sum()

    return fit(
        model, step, len(y_train), lambda: evaluate_loss(model, x_dev, y_dev), spec=spec, seed=seed, device=device,
        end_epoch=trajectory,
    )


TIMINGS = ("train_seconds", "seconds")  # history columns that measure time: the job log has them, the CSV does not


def write_history(path: Path, history: pd.DataFrame, inputs: Iterable[Path] = ()) -> None:
    """The per-epoch CSV log without its timings (so that it is a function of its inputs alone, and a rebuild is
    byte-identical), written atomically with its checksum record (made from `inputs`)."""
    with atomic_path(path, inputs) as partial:
        history.drop(columns=list(TIMINGS)).to_csv(partial, index=False)


def train_and_save(
    read_split: Callable[[Path, str], StoredSplit],
    dataset: Path,
    *,
    model: Path,
    history: Path,
    model_name: str,
    train_config: dict,
    device: str,
    seed: int,
    threads: int,
    keep_trajectory: bool = False,
) -> None:
    """Train a fresh `model_name` on the splits `read_split` gets from `dataset`; write the history and the
    checkpoint with its metadata (train config, the dataset's config, seed, device, and with `keep_trajectory`
    the weight snapshots of its training, see `Trajectory`)."""
    where = open_stage(threads=threads, device=device)
    train_split, dev_split = read_split(dataset, "train"), read_split(dataset, "dev")
    log.info("training a %s on %d images (%d dev) on %s", model_name, len(train_split), len(dev_split), where)
    trajectory = Trajectory() if keep_trajectory else None
    net, epochs = train_classifier(
        train_split, dev_split, spec=TrainSpec.of(train_config), seed=seed, device=where, model_name=model_name,
        trajectory=trajectory,
    )
    write_history(Path(history), epochs, [dataset])
    config = {"train": train_config, "data": read_attributes(dataset)["config"]}
    metadata = {"config": config, "seed": seed, "data": str(dataset), "device": str(where)}
    if trajectory is not None:
        metadata["snapshots"] = trajectory.snapshots
    save_checkpoint(Path(model), net.cpu(), metadata, [dataset])
