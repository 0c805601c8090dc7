"""The catastrophic-forgetting experiment's models: the grey Classifier, its copies fine-tuned on each adversarial
training set, and their accuracy on the clean test split and on every adversarial test set.

Stages: `train_grey`, `fine_tune_adversarial` and `evaluate_adversarial`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import torch

from bgbias import __version__
from bgbias.adversarial.grey import read_grey_split, set_attack
from bgbias.grid import CLEAN
from bgbias.models import Classifier, predict, save_checkpoint
from bgbias.storage import StoredSplit, write_json
from bgbias.training import TrainSpec, fine_tune, open_model_stage, train_and_save, write_history

log = logging.getLogger("bgbias")


def fine_tune_on_set(model: Classifier, data: Path, *, spec: TrainSpec, seed: int, device: torch.device) -> pd.DataFrame:
    """Fine-tune `model` on the `train` split of an adversarial set (true labels), early stopping on its `dev` split."""
    train, dev = read_grey_split(Path(data), "train"), read_grey_split(Path(data), "dev")
    return fine_tune(model.to(device), train, dev, spec=spec, seed=seed, device=device)


def accuracy(model: Classifier, split: StoredSplit, device: torch.device) -> float:
    """Share of `split` that `model` classifies correctly."""
    return float((predict(model, split.images, device) == split.labels).mean())


def evaluate_on_sets(model: Classifier, clean: Path, sets: dict[str, Path], device: torch.device) -> dict[str, float]:
    """Accuracy on the `test` split of the grey dataset `clean` and on that of every adversarial set in `sets`."""
    return {
        CLEAN: accuracy(model, read_grey_split(Path(clean), "test"), device),
        **{name: accuracy(model, read_grey_split(Path(path), "test"), device) for name, path in sets.items()},
    }


def train_grey(
    dataset: Path, *, model: Path, history: Path, train_config: dict, device: str, seed: int, threads: int = 1
) -> None:
    """Stage: train the grey Classifier (1 channel) on the train split of the grey dataset, early stopping on its dev split."""
    train_and_save(
        read_grey_split, dataset, model=model, history=history, model_name="lenet", train_config=train_config,
        device=device, seed=seed, threads=threads,
    )


def fine_tune_adversarial(
    base: Path,
    adversarial_set: Path,
    *,
    model: Path,
    history: Path,
    fine_tune_config: dict,
    device: str,
    seed: int,
    threads: int = 1,
) -> None:
    """Stage: fine-tune the grey model `base` on the training split of an adversarial set."""
    where, net, _ = open_model_stage(base, threads=threads, device=device, in_channels=1)
    log.info("fine-tuning %s on %s on %s", base, adversarial_set, where)
    epochs = fine_tune_on_set(net, Path(adversarial_set), spec=TrainSpec.of(fine_tune_config), seed=seed, device=where)
    write_history(Path(history), epochs, [base, adversarial_set])
    save_checkpoint(
        Path(model), net.cpu(),
        {"config": {"fine_tune": fine_tune_config}, "seed": seed, "data": str(adversarial_set), "base": str(base)},
        [base, adversarial_set],
    )


def evaluate_adversarial(
    model: Path, clean: Path, sets: list[Path], *, output: Path, name: str, device: str, seed: int, threads: int = 1
) -> None:
    """Stage: accuracy of a grey model on the clean test split and on every adversarial test set, as JSON."""
    where, net, _ = open_model_stage(model, threads=threads, device=device, in_channels=1)
    accuracy_by_set = evaluate_on_sets(net, Path(clean), {set_attack(path).name: Path(path) for path in sets}, where)
    log.info("%s: %s", name, ", ".join(f"{k} {v:.4f}" for k, v in accuracy_by_set.items()))
    write_json(
        Path(output), {"model": name, "seed": seed, "accuracy": accuracy_by_set, "bgbias_version": __version__},
        [model, clean, *sets],
    )
