"""The catastrophic-forgetting experiment's models: fine-tune the grey LeNet on an adversarial
training set, and measure a model's accuracy on the clean test split and on adversarial test sets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from bgbias.adversarial import CLEAN
from bgbias.evaluation import predict
from bgbias.grey import read_grey_split
from bgbias.models import LeNet
from bgbias.storage import ColoredSplit
from bgbias.training import TrainSpec, fine_tune


def fine_tune_on_set(model: LeNet, data: Path, spec: TrainSpec, seed: int, device: torch.device) -> pd.DataFrame:
    """Fine-tune `model` on the `train` split of an adversarial set (true labels), early stopping on its `dev` split."""
    train, dev = read_grey_split(Path(data), "train"), read_grey_split(Path(data), "dev")
    return fine_tune(model.to(device), train.images, train.labels, dev.images, dev.labels, spec, seed, device)


def accuracy(model: LeNet, split: ColoredSplit, device: torch.device) -> float:
    """Share of `split` that `model` classifies correctly."""
    return float((predict(model, split.images, device) == split.labels).mean())


def evaluate_on_sets(model: LeNet, clean: Path, sets: dict[str, Path], device: torch.device) -> dict[str, float]:
    """Accuracy on the `test` split of the grey dataset `clean` and on that of every adversarial set in `sets`."""
    return {
        CLEAN: accuracy(model, read_grey_split(Path(clean), "test"), device),
        **{name: accuracy(model, read_grey_split(Path(path), "test"), device) for name, path in sets.items()},
    }
