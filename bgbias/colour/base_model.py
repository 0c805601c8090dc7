"""The base model: a classifier trained on the biased dataset, early stopping on its dev split. Stage: `train_base`."""

from __future__ import annotations

from pathlib import Path

from bgbias.storage import read_split
from bgbias.training import train_and_save


def train_base(
    dataset: Path,
    *,
    model: Path,
    history: Path,
    model_name: str,
    train_config: dict,
    device: str,
    seed: int,
    threads: int = 1,
) -> None:
    """Stage: train a fresh `model_name` on the train split of the colour dataset `dataset`, early stopping on its
    dev split; the checkpoint keeps the snapshots of its training (the influence selection sums over them)."""
    train_and_save(
        read_split, dataset, model=model, history=history, model_name=model_name, train_config=train_config,
        device=device, seed=seed, threads=threads, keep_trajectory=True,
    )
