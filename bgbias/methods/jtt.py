"""Just Train Twice (Liu et al. 2021), after its official code: anniesch/jtt at commit
b17b13e0f8ac1947ed9c4d7b263ff9d5e7c8c113, `process_training.py` (the error set: `wrong_1_times` = the identification
model's prediction differs from the label, on the training split after its final epoch T) and `run_expt.py` (the
upsampled training set: `ConcatDataset([train_data, Subset(train_data, error_indices * up_weight)])`).

Stage 1 trains an ERM model for T epochs; its errors on the training set are the error set. Stage 2 trains a fresh
model with plain cross-entropy on the training set in which every error-set sample counts lambda_up times and every
other sample once. The official `--up_weight u` adds u copies to the one already in the training set, so it is
lambda_up = u + 1 here (the paper's lambda_up counts every occurrence). The official code takes the training
predictions logged during epoch T's training pass; the paper defines them as those of the model after T epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch

from bgbias.methods import MethodInfo
from bgbias.methods.stage import MethodData, cross_entropy_step, dev_loss, predictions
from bgbias.models import Classifier
from bgbias.training import TrainSpec, fit, fresh_model

INFO = MethodInfo(
    name="jtt", description="ERM again, an ERM model's training errors after T epochs counted lambda_up times",
    supervision="none", implementation="bgbias.methods.jtt:JTT",
)


def error_set(predictions: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The rows (ascending) where the identification model's `predictions` differ from `labels`."""
    return torch.nonzero(predictions != labels).flatten()


@dataclass(frozen=True)
class JTT:
    """JTT's settings: the identification model's epochs T and the upweight lambda_up (>= 1)."""

    identification_epochs: int
    lambda_up: int

    def __post_init__(self) -> None:
        if self.identification_epochs < 1 or self.lambda_up < 1:
            raise ValueError(f"JTT needs identification_epochs >= 1 and lambda_up >= 1, got {self}")

    def upsampled_indices(self, size: int, errors: torch.Tensor) -> torch.Tensor:
        """The upsampled training set as indices into the `size` training samples: all of them once, then the
        `errors` lambda_up - 1 more times (the official concatenation, in its order)."""
        return torch.cat([torch.arange(size, device=errors.device), errors.repeat(self.lambda_up - 1)])

    def weights(self, size: int, errors: torch.Tensor) -> torch.Tensor:
        """How often each of the `size` training samples counts: lambda_up for an error, 1 otherwise."""
        counts = torch.ones(size, device=errors.device)
        counts[errors] = float(self.lambda_up)
        return counts


def train(train: MethodData, dev: MethodData, *, spec: TrainSpec, settings: dict, model_name: str, seed: int,
          device: torch.device) -> tuple[Classifier, pd.DataFrame, dict]:
    """Stage 1: an identification model trained with cross-entropy for `identification_epochs` epochs (no early
    stopping); its training errors are the error set. Stage 2: a fresh model on the training split with the error set
    counted `upweight` times, early stopping on the biased dev split's mean cross-entropy."""
    jtt = JTT(settings["identification_epochs"], settings["upweight"])
    identification = fresh_model(model_name, spec, in_channels=3, seed=seed, device=device)
    first = spec.fixed_budget(jtt.identification_epochs)
    fit(identification, cross_entropy_step(identification, train), len(train), dev_loss(identification, dev),
        spec=first, seed=seed, device=device)
    errors = error_set(predictions(identification, train), train.labels)
    rows = jtt.upsampled_indices(len(train), errors)
    model = fresh_model(model_name, spec, in_channels=3, seed=seed, device=device)
    history = fit(model, cross_entropy_step(model, train, rows), len(rows), dev_loss(model, dev), spec=spec, seed=seed,
                  device=device)
    return model, history, {"error_set": int(len(errors)), "upsampled": int(len(rows))}
