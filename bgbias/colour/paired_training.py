"""Paired fine-tuning: CE(f(x), y) + CE(f(x'), y) + reg * D(z(x), z(x')). Stage: `paired_train`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from bgbias.colour.pairs import PairedSplit, marked_images, read_paired_split
from bgbias.config import filled
from bgbias.models import EVAL_BATCH, Classifier, save_checkpoint, to_unit
from bgbias.seeding import rng_for
from bgbias.storage import read_attributes
from bgbias.training import EpochResult, TrainSpec, fit, open_model_stage, write_history

log = logging.getLogger("bgbias")

Distance = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # per-image distances (N,) of two (N, D) batches


def squared_l2(z: torch.Tensor, z_pair: torch.Tensor) -> torch.Tensor:
    """Squared L2 norm of the difference, per image."""
    return (z - z_pair).pow(2).sum(1)


def l1(z: torch.Tensor, z_pair: torch.Tensor) -> torch.Tensor:
    """L1 norm of the difference, per image."""
    return (z - z_pair).abs().sum(1)


def softmax_kl(z: torch.Tensor, z_pair: torch.Tensor) -> torch.Tensor:
    """KL(softmax(z) || softmax(z_pair)), per image."""
    return F.kl_div(F.log_softmax(z_pair, 1), F.log_softmax(z, 1), reduction="none", log_target=True).sum(1)


def no_distance(z: torch.Tensor, z_pair: torch.Tensor) -> torch.Tensor:
    return z.new_zeros(len(z))


DISTANCES: dict[str, Distance] = {"none": no_distance, "l2": squared_l2, "l1": l1, "kl": softmax_kl}
# reg * D over a batch: the per-image mean (the notes'), or the sum (the original code's l2: the squared norm of the
# whole batch's difference, `torch.mean(torch.square(torch.norm(z1 - z2)))` in its train_paired.py)
REDUCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"mean": torch.mean, "sum": torch.sum}
Target = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (logits, penultimate activations) -> z
TARGETS: dict[str, Target] = {"logits": lambda logits, features: logits, "penultimate": lambda logits, features: features}


@dataclass(frozen=True)
class PairedSpec:
    """Paired fine-tuning settings: the optimiser, the distance D, its target z, and which version pairs with x
    (a validated `paired` config block; the schema holds the allowed values)."""

    train: TrainSpec
    method: str
    target: str
    reg: float
    pick: str | int
    reg_reduction: str
    dev_loss: str

    @classmethod
    def of(cls, paired_config: dict) -> PairedSpec:
        block = filled(paired_config, "paired")
        return cls(
            TrainSpec.of(block["train"]), block["method"], block["target"], block["reg"], block["pick"],
            block["reg_reduction"], block["dev_loss"],
        )


def paired_loss(
    model: Classifier, x: torch.Tensor, x_pair: torch.Tensor, y: torch.Tensor, spec: PairedSpec
) -> tuple[torch.Tensor, torch.Tensor]:
    """The paired loss of one batch (images in [0, 1]) and the logits of x."""
    logits, features = model.forward_with_features(torch.cat([x, x_pair]))
    z = TARGETS[spec.target](logits, features)
    count = len(x)
    loss = (
        F.cross_entropy(logits[:count], y)
        + F.cross_entropy(logits[count:], y)
        + spec.reg * REDUCTIONS[spec.reg_reduction](DISTANCES[spec.method](z[:count], z[count:]))
    )
    return loss, logits[:count]


def draw_picks(split: PairedSplit, pick: str | int, rng: np.random.Generator) -> np.ndarray:
    """Which version (0..K-1) pairs with each image."""
    if isinstance(pick, int) and pick >= split.copies:
        raise ValueError(f"paired.pick={pick} is not allowed: the dataset has {split.copies} versions (0..{split.copies - 1})")
    if pick == "random":
        return rng.integers(0, split.copies, size=len(split))
    return np.full(len(split), 0 if pick == "first" else pick)


def nhwc_input(batch: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28, 3) images as float (N, 3, 28, 28) in [0, 1]."""
    return to_unit(batch.permute(0, 3, 1, 2).contiguous())


class PairTensors:
    """A paired split on the device: originals, versions, and the version currently picked per image."""

    def __init__(self, split: PairedSplit, device: torch.device) -> None:
        self.images = torch.from_numpy(split.base.images).to(device)
        self.labels = torch.as_tensor(split.base.labels, device=device)
        self.alt_index = torch.as_tensor(split.alt_index, device=device)
        self.alt_images = torch.from_numpy(split.alt_images).to(device)
        self.picks = torch.zeros(len(split), dtype=torch.long, device=device)

    def set_picks(self, picks: np.ndarray) -> None:
        self.picks = torch.as_tensor(picks, dtype=torch.long, device=self.images.device)

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x, x', y) of the images at `index`, as float NCHW in [0, 1]."""
        x = self.images[index]
        alt = self.alt_index[index]
        augmented = alt >= 0
        x_pair = x.clone()
        if augmented.any():
            x_pair[augmented] = self.alt_images[alt[augmented], self.picks[index][augmented]]
        return nhwc_input(x), nhwc_input(x_pair), self.labels[index]


def paired_dev_loss(model: Classifier, dev: PairTensors, spec: PairedSpec) -> EpochResult:
    """Mean paired loss and accuracy on x over the dev pairs (eval mode)."""
    model.eval()
    total, correct = 0.0, 0
    with torch.no_grad():
        for index in dev_batches(dev):
            x, x_pair, y = dev.batch(index)
            loss, logits = paired_loss(model, x, x_pair, y, spec)
            total += loss.item() * len(index)
            correct += int((logits.argmax(1) == y).sum())
    return EpochResult(total / len(dev.labels), correct / len(dev.labels))


def version_cross_entropy(model: Classifier, dev: PairTensors, spec: PairedSpec) -> EpochResult:
    """Mean cross-entropy and accuracy on the versions x' only, in training mode (dropout on): the original code's dev
    criterion (train_paired.py evaluates its paired dev set without calling eval()). Only the dropout layer is put in
    training mode, so that batch-norm statistics (rebias_cnn) are not updated by dev images."""
    model.eval()
    model.hidden[-1].train()
    total, correct = 0.0, 0
    with torch.no_grad():
        for index in dev_batches(dev):
            _, x_pair, y = dev.batch(index)
            logits = model(x_pair)
            total += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(1) == y).sum())
    return EpochResult(total / len(dev.labels), correct / len(dev.labels))


def dev_batches(dev: PairTensors) -> list[torch.Tensor]:
    count = len(dev.labels)
    return list(torch.arange(count, device=dev.labels.device).split(EVAL_BATCH))


@dataclass(frozen=True)
class DevLoss:
    """A dev criterion of the fine-tune (early stopping and the kept weights), and whether the dev versions are
    re-drawn before every evaluation (with `pick: random`) or drawn once."""

    measure: Callable[[Classifier, PairTensors, PairedSpec], EpochResult]
    redraw: bool


DEV_LOSSES: dict[str, DevLoss] = {
    "paired": DevLoss(paired_dev_loss, redraw=False),
    "version_ce": DevLoss(version_cross_entropy, redraw=True),  # the code's dev loader picks at random per item
}


def paired_fine_tune(
    model: Classifier, train: PairedSplit, dev: PairedSplit, *, spec: PairedSpec, seed: int, device: torch.device
) -> pd.DataFrame:
    """Fine-tune `model` on (x, x') pairs; early stopping on the dev criterion `spec.dev_loss`; per-epoch history."""
    model.set_dropout(spec.train.dropout)
    model.to(device)
    train_pairs, dev_pairs = PairTensors(train, device), PairTensors(dev, device)
    dev_rng = rng_for(seed, "paired_pick", "dev")
    dev_pairs.set_picks(draw_picks(dev, spec.pick, dev_rng))
    pick_rng = rng_for(seed, "paired_pick", "train")
    train_pairs.set_picks(draw_picks(train, spec.pick, pick_rng))
    criterion = DEV_LOSSES[spec.dev_loss]
    evaluations = 0

    def start_epoch(epoch: int) -> None:
        if spec.pick == "random" and epoch > 1:
            train_pairs.set_picks(draw_picks(train, spec.pick, pick_rng))

    def step(index: torch.Tensor) -> tuple[torch.Tensor, int]:
        x, x_pair, y = train_pairs.batch(index)
        loss, logits = paired_loss(model, x, x_pair, y, spec)
        return loss, (logits.argmax(1) == y).sum()

    def dev_eval() -> EpochResult:
        nonlocal evaluations
        if criterion.redraw and spec.pick == "random" and evaluations > 0:
            dev_pairs.set_picks(draw_picks(dev, spec.pick, dev_rng))
        evaluations += 1
        return criterion.measure(model, dev_pairs, spec)

    return fit(
        model, step, len(train), dev_eval, spec=spec.train, seed=seed, device=device, start_epoch=start_epoch,
    )


def paired_train(
    base: Path,
    paired_dataset: Path,
    *,
    model: Path,
    history: Path,
    paired_config: dict,
    device: str,
    seed: int,
    threads: int = 1,
) -> None:
    """Stage: fine-tune the base model on the (x, x') pairs of a paired dataset."""
    where, net, meta = open_model_stage(base, threads=threads, device=device, in_channels=3)
    spec = PairedSpec.of(paired_config)
    train_split, dev_split = read_paired_split(paired_dataset, "train"), read_paired_split(paired_dataset, "dev")
    recorded_config = read_attributes(paired_dataset)["config"]
    marked = marked_images(train_split, recorded_config["bias"])
    log.info(
        "paired fine-tuning of %s on %s: %d pairs (%d augmented biased images, %d unbiased paired with other "
        "backgrounds, K=%d), %s on %s", base, paired_dataset, len(train_split), marked,
        int((train_split.alt_index >= 0).sum()) - marked, train_split.copies, spec, where,
    )
    epochs = paired_fine_tune(net, train_split, dev_split, spec=spec, seed=seed, device=where)
    write_history(Path(history), epochs, [base, paired_dataset])
    pairing = {**recorded_config["paired"], "marked": marked}
    save_checkpoint(
        Path(model), net.cpu(),
        {
            "config": {"paired": paired_config, "base": meta.get("config")}, "pairing": pairing, "seed": seed,
            "data": str(paired_dataset),
        },
        [base, paired_dataset],
    )
