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

from bgbias.colour.pairs import PairedSplit, read_paired_split
from bgbias.models import EVAL_BATCH, Classifier, load_checkpoint, save_checkpoint, to_unit
from bgbias.seeding import rng_for
from bgbias.storage import read_attributes
from bgbias.training import EpochResult, TrainSpec, fit, resolve_device, write_history

log = logging.getLogger("bgbias")

Distance = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def squared_l2(z: torch.Tensor, z_pair: torch.Tensor) -> torch.Tensor:
    """Batch mean of the squared L2 norm of the difference."""
    return (z - z_pair).pow(2).sum(1).mean()


def l1(z: torch.Tensor, z_pair: torch.Tensor) -> torch.Tensor:
    """Batch mean of the L1 norm of the difference."""
    return (z - z_pair).abs().sum(1).mean()


def softmax_kl(z: torch.Tensor, z_pair: torch.Tensor) -> torch.Tensor:
    """Batch mean of KL(softmax(z) || softmax(z_pair))."""
    return F.kl_div(F.log_softmax(z_pair, 1), F.log_softmax(z, 1), reduction="batchmean", log_target=True)


def no_distance(z: torch.Tensor, z_pair: torch.Tensor) -> torch.Tensor:
    return z.new_zeros(())


DISTANCES: dict[str, Distance] = {"none": no_distance, "l2": squared_l2, "l1": l1, "kl": softmax_kl}
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

    @classmethod
    def of(cls, paired_config: dict) -> PairedSpec:
        return cls(
            TrainSpec(**paired_config["train"]), paired_config["method"], paired_config["target"],
            paired_config["reg"], paired_config["pick"],
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
        + spec.reg * DISTANCES[spec.method](z[:count], z[count:])
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
        for start in range(0, len(dev.labels), EVAL_BATCH):
            index = torch.arange(start, min(start + EVAL_BATCH, len(dev.labels)), device=dev.labels.device)
            x, x_pair, y = dev.batch(index)
            loss, logits = paired_loss(model, x, x_pair, y, spec)
            total += loss.item() * len(index)
            correct += int((logits.argmax(1) == y).sum())
    return EpochResult(total / len(dev.labels), correct / len(dev.labels))


def paired_fine_tune(
    model: Classifier, train: PairedSplit, dev: PairedSplit, *, spec: PairedSpec, seed: int, device: torch.device
) -> pd.DataFrame:
    """Fine-tune `model` on (x, x') pairs; early stopping on the paired dev loss; per-epoch history."""
    model.set_dropout(spec.train.dropout)
    model.to(device)
    train_pairs, dev_pairs = PairTensors(train, device), PairTensors(dev, device)
    dev_pairs.set_picks(draw_picks(dev, spec.pick, rng_for(seed, "paired_pick", "dev")))
    pick_rng = rng_for(seed, "paired_pick", "train")
    train_pairs.set_picks(draw_picks(train, spec.pick, pick_rng))

    def start_epoch(epoch: int) -> None:
        if spec.pick == "random" and epoch > 1:
            train_pairs.set_picks(draw_picks(train, spec.pick, pick_rng))

    def step(index: torch.Tensor) -> tuple[torch.Tensor, int]:
        x, x_pair, y = train_pairs.batch(index)
        loss, logits = paired_loss(model, x, x_pair, y, spec)
        return loss, (logits.argmax(1) == y).sum()

    return fit(
        model, step, len(train), lambda: paired_dev_loss(model, dev_pairs, spec),
        spec=spec.train, seed=seed, device=device, start_epoch=start_epoch,
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
    torch.set_num_threads(threads)
    spec = PairedSpec.of(paired_config)
    net, meta = load_checkpoint(Path(base), in_channels=3)
    train_split, dev_split = read_paired_split(paired_dataset, "train"), read_paired_split(paired_dataset, "dev")
    where = resolve_device(device)
    log.info(
        "paired fine-tuning of %s on %s: %d pairs (%d augmented, K=%d), %s on %s",
        base, paired_dataset, len(train_split), int((train_split.alt_index >= 0).sum()), train_split.copies, spec, where,
    )
    epochs = paired_fine_tune(net, train_split, dev_split, spec=spec, seed=seed, device=where)
    write_history(Path(history), epochs, [base, paired_dataset])
    pairing = {**read_attributes(paired_dataset)["config"]["paired"], "marked": int((train_split.alt_index >= 0).sum())}
    save_checkpoint(
        Path(model), net.cpu(),
        {
            "config": {"paired": paired_config, "base": meta.get("config")}, "pairing": pairing, "seed": seed,
            "data": str(paired_dataset),
        },
        [base, paired_dataset],
    )
