"""The generic training stage of the methods that the workflow's `train_method` rule trains (every method but `erm`,
the base model, and `paired`, which fine-tunes it): read the biased dataset, call the method module's `train`, write
the history and the checkpoint. Stage: `train_method`.

A method module's `train(train, dev, *, spec, settings, model_name, seed, device)` gets the biased train and dev
splits on `device` (`MethodData`), the recipe's `train` settings as a `TrainSpec` and its own settings block, and
returns the trained model, the per-epoch history (`bgbias.training.fit`'s) and any metadata worth recording. Every
method selects its model on the biased dev split (its own dev criterion) or, as lff's code does, takes the last
epoch of a fixed budget; none selects on a test set.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bgbias.colour.datasets import ColorSpec
from bgbias.colour.evaluation import pool_index
from bgbias.models import EVAL_BATCH, Classifier, image_tensor, save_checkpoint, to_unit
from bgbias.storage import StoredSplit, read_attributes, read_split
from bgbias.training import BatchStep, EpochResult, TrainSpec, evaluate_loss, open_stage, write_history

log = logging.getLogger("bgbias")


@dataclass(frozen=True)
class MethodData:
    """A biased split on the device: uint8 images (N, 3, 28, 28), labels and background pool-colour indices (-1 where
    the background is not a pool colour: the bias labels)."""

    images: torch.Tensor
    labels: torch.Tensor
    colours: torch.Tensor

    @classmethod
    def of(cls, split: StoredSplit, pool: np.ndarray, device: torch.device) -> MethodData:
        return cls(
            image_tensor(split.images, device), torch.as_tensor(split.labels, device=device),
            torch.as_tensor(pool_index(split.bg_color, pool), device=device),
        )

    def __len__(self) -> int:
        return len(self.labels)


def cross_entropy_step(model: Classifier, data: MethodData, rows: torch.Tensor | None = None) -> BatchStep:
    """A `fit` step of plain cross-entropy on `data`; the batch indices go through `rows` (an upsampled order) when
    given."""
    import torch.nn.functional as F

    def step(index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        chosen = index if rows is None else rows[index]
        logits = model(to_unit(data.images[chosen]))
        return F.cross_entropy(logits, data.labels[chosen]), (logits.argmax(1) == data.labels[chosen]).sum()

    return step


def dev_loss(model: Classifier, dev: MethodData) -> Callable[[], EpochResult]:
    """The dev criterion of every method here: the model's mean cross-entropy on the biased dev split, eval mode."""
    return lambda: evaluate_loss(model, dev.images, dev.labels)


def predictions(model: Classifier, data: MethodData) -> torch.Tensor:
    """The model's predicted digits for every image of `data` (eval mode)."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(to_unit(data.images[start : start + EVAL_BATCH])).argmax(1)
                          for start in range(0, len(data), EVAL_BATCH)])


def train_method(
    dataset: Path,
    *,
    model: Path,
    history: Path,
    method: str,
    settings: dict,
    train_config: dict,
    model_name: str,
    device: str,
    seed: int,
    threads: int = 1,
) -> None:
    """Stage: train a fresh `model_name` with `method` (its module's `train`, its `settings` block and the recipe's
    `train_config`) on the biased dataset `dataset`; write the history and the checkpoint (metadata: the method, its
    settings, the train config, the dataset's config, seed, device)."""
    where = open_stage(threads=threads, device=device)
    recorded = read_attributes(dataset)["config"]
    pool = ColorSpec.of(recorded).pool
    train, dev = (MethodData.of(read_split(dataset, name), pool, where) for name in ("train", "dev"))
    log.info("training a %s with %s on %d images (%d dev) on %s: %s", model_name, method, len(train), len(dev), where,
             settings)
    trainer = importlib.import_module(f"bgbias.methods.{method}").train
    spec = TrainSpec.of(train_config)
    net, epochs, extra = trainer(train, dev, spec=spec, settings=settings, model_name=model_name, seed=seed,
                                 device=where)
    write_history(Path(history), epochs, [dataset])
    metadata = {"config": {"method": method, method: settings, "train": train_config, "data": recorded}, "seed": seed,
                "device": str(where),
                "data": str(dataset), **extra}
    save_checkpoint(Path(model), net.cpu(), metadata, [dataset])
