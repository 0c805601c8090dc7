"""Learning from Failure (Nam et al. 2020) as its official code trains: alinlab/LfF at commit
e66796ec117ea52d2e44176055b7ef7959680a1b, `module/loss.py` (GeneralizedCELoss), `util.py` (EMA) and `train.py`
(the joint step).

Two models see every batch: the biased model b learns with the generalised cross-entropy, the debiased model d with
the cross-entropy weighted by how much harder the sample is for b than for d:

- GCE: the official `GeneralizedCELoss`, CE(p, y) * q * p_y^q with p_y^q detached, q = 0.7. Its gradient is q times
  that of the paper's GCE (1 - p_y^q) / q (its value is not that of the paper's formula).
- EMA of each model's per-sample CE over the training set, alpha = 0.7: a sample's first loss is stored as it is,
  later ones as alpha * old + (1 - alpha) * new (`EMA.update`).
- Class-wise normalisation: each sample's EMA divided by the largest EMA of its class over the whole training set
  (`EMA.max_loss`; samples not seen yet hold 0).
- w = ema_b / (ema_b + ema_d + 1e-8) after normalisation (detached); the step's loss is mean(GCE_b) + mean(CE_d * w).
- Optimiser: Adam, lr 1e-3, no weight decay, a constant learning rate, for both models (`config.py`:
  `main_optimizer_tag`, `main_learning_rate`, `main_weight_decay`), unless `lff.optimizer` is `recipe`; the model,
  batch size and dropout stay the recipe's.
- Model selection: none. `train.py` runs a fixed budget (`main_num_steps`, 100 epochs for Colored MNIST in
  `config.py`) and saves the debiased model's last weights; so does `train` here unless `lff.early_stopping` is set.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
import torch
import torch.nn.functional as F

from bgbias.methods import MethodInfo
from bgbias.methods.stage import MethodData, dev_loss
from bgbias.models import Classifier, to_unit
from bgbias.training import OPTIMIZERS, TrainSpec, fit, fresh_model

INFO = MethodInfo(
    name="lff", description="a GCE-trained biased model reweights the debiased model's CE towards the samples it fails on",
    supervision="none", implementation="bgbias.methods.lff:LfF",
)

GCE_Q = 0.7
EMA_ALPHA = 0.7


def generalized_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, q: float = GCE_Q) -> torch.Tensor:
    """The official GCE per sample (N,): CE * q * p_y^q, p_y (the softmax probability of the label) detached."""
    p_label = logits.softmax(1).gather(1, labels[:, None]).squeeze(1).detach()
    return F.cross_entropy(logits, labels, reduction="none") * p_label.pow(q) * q


@dataclass(frozen=True)
class LfFLosses:
    """One step's losses: `biased` (mean GCE of b), `debiased` (mean weighted CE of d) and the weights w (N,)."""

    biased: torch.Tensor
    debiased: torch.Tensor
    weights: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        """The loss both models step on (the official `loss_b_update.mean() + loss_d_update.mean()`)."""
        return self.biased + self.debiased


class LfF:
    """The LfF objective with the per-sample loss averages of both models over a training set of `labels`."""

    def __init__(self, labels: torch.Tensor, *, classes: int = 10, q: float = GCE_Q, alpha: float = EMA_ALPHA) -> None:
        self.labels = labels
        self.classes = classes
        self.q = q
        self.alpha = alpha
        self.ema_b = torch.zeros(len(labels), device=labels.device)
        self.ema_d = torch.zeros(len(labels), device=labels.device)
        self.seen = torch.zeros(len(labels), dtype=torch.bool, device=labels.device)

    def average(self, ema: torch.Tensor, losses: torch.Tensor, index: torch.Tensor) -> None:
        """Fold a batch's per-sample `losses` of the samples `index` into `ema` (in place)."""
        ema[index] = torch.where(self.seen[index], self.alpha * ema[index] + (1 - self.alpha) * losses, losses)

    def normalised(self, ema: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """The EMA of the samples `index`, each divided by the largest EMA of its class over the training set."""
        class_max = ema.new_zeros(self.classes).scatter_reduce(0, self.labels, ema, "amax")
        return ema[index] / class_max[self.labels[index]]

    def __call__(self, logits_b: torch.Tensor, logits_d: torch.Tensor, index: torch.Tensor) -> LfFLosses:
        """The step's losses for the training samples `index` (distinct), given both models' logits on them."""
        labels = self.labels[index]
        ce_d = F.cross_entropy(logits_d, labels, reduction="none")
        self.average(self.ema_b, F.cross_entropy(logits_b, labels, reduction="none").detach().float(), index)
        self.average(self.ema_d, ce_d.detach().float(), index)
        self.seen[index] = True
        ema_b, ema_d = self.normalised(self.ema_b, index), self.normalised(self.ema_d, index)
        weights = (ema_b / (ema_b + ema_d + 1e-8)).to(ce_d.dtype)
        return LfFLosses(
            generalized_cross_entropy(logits_b, labels, self.q).mean(), (ce_d * weights).mean(), weights
        )


# config.py's main_optimizer_tag, main_learning_rate, main_weight_decay; train.py has no learning-rate schedule
CODE_OPTIMISER = {"optimizer": "adam", "lr": 1e-3, "weight_decay": 0.0, "lr_step": None}


def lff_recipe(spec: TrainSpec, settings: dict) -> TrainSpec:
    """The recipe as LfF trains with it: its code's optimiser unless `optimizer` is `recipe`; without `early_stopping`,
    its code's fixed budget (`epochs`, the recipe's when null) and the last weights, else the recipe's early stopping."""
    if settings["optimizer"] == "adam":
        spec = replace(spec, **CODE_OPTIMISER)
    if settings["early_stopping"]:
        return spec
    return spec.fixed_budget(settings["epochs"] or spec.epochs)


def train(train: MethodData, dev: MethodData, *, spec: TrainSpec, settings: dict, model_name: str, seed: int,
          device: torch.device) -> tuple[Classifier, pd.DataFrame, dict]:
    """The debiased model, trained beside a biased model of the same architecture (its own optimiser, the same
    settings) on the same batches with the `lff_recipe`; the dev split's loss is recorded every epoch and decides only
    with `early_stopping`. The checkpoint holds the debiased model."""
    spec = lff_recipe(spec, settings)
    model = fresh_model(model_name, spec, in_channels=3, seed=seed, device=device)
    biased = fresh_model(model_name, spec, in_channels=3, seed=seed + 1, device=device)
    biased_optimiser = OPTIMIZERS[spec.optimizer](biased.parameters(), spec)
    objective = LfF(train.labels, q=settings["q"], alpha=settings["ema"])

    def step(index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        biased.train()
        x = to_unit(train.images[index])
        logits = model(x)
        losses = objective(biased(x), logits, index)
        biased_optimiser.zero_grad(set_to_none=True)
        losses.biased.backward()
        biased_optimiser.step()
        return losses.debiased, (logits.argmax(1) == train.labels[index]).sum()

    history = fit(model, step, len(train), dev_loss(model, dev), spec=spec, seed=seed, device=device)
    return model, history, {}
