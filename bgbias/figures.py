"""Figures shared by both experiments: saving, training curves, table heatmaps. Stage: `plot_trainings`."""

from __future__ import annotations

from pathlib import Path
from collections.abc import Iterable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bgbias.storage import atomic_path, read_table


def save_figure(figure: plt.Figure, path: Path, inputs: Iterable[Path] = ()) -> None:
    """Save `figure` as PNG atomically, with its checksum record (made from `inputs`), and close it."""
    with atomic_path(path, inputs) as partial:
        figure.savefig(partial, format="png", dpi=120, bbox_inches="tight")
    plt.close(figure)


def training_figure(history: pd.DataFrame, title: str) -> plt.Figure:
    """Train/dev loss and accuracy per epoch, the kept (best) epoch marked."""
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 3.8))
    for split in ("train", "dev"):
        loss_axes.plot(history["epoch"], history[f"{split}_loss"], marker=".", label=split)
        accuracy_axes.plot(history["epoch"], history[f"{split}_accuracy"], marker=".", label=split)
    best = history.loc[history["best"].astype(bool), "epoch"]
    for axes in (loss_axes, accuracy_axes):
        for epoch in best:
            axes.axvline(epoch, color="grey", linestyle=":", label="kept epoch")
        axes.set_xlabel("epoch")
        axes.legend()
    loss_axes.set_ylabel("cross-entropy")
    accuracy_axes.set_ylabel("accuracy")
    figure.suptitle(title)
    return figure


def table_heatmap(mean: pd.DataFrame, title: str, colorbar_label: str = "accuracy") -> plt.Figure:
    """Heatmap of a models x columns table of accuracies, values written in the cells."""
    values = mean.to_numpy(dtype=float)
    figure, axes = plt.subplots(figsize=(1.0 + 0.9 * values.shape[1], 1.2 + 0.45 * values.shape[0]))
    image = axes.imshow(values, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    for (row, column), value in np.ndenumerate(values):
        if np.isfinite(value):
            axes.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=8)
    axes.set_xticks(range(values.shape[1]), mean.columns, rotation=45, ha="right")
    axes.set_yticks(range(values.shape[0]), mean.index)
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label=colorbar_label)
    return figure


def plot_training(history: Path, png: Path, title: str) -> None:
    """The training curve of a per-epoch CSV log."""
    save_figure(training_figure(read_table(history, ["epoch", "train_loss", "dev_loss", "best"]), title), Path(png), [history])


def plot_trainings(histories: list[Path], *, pngs: list[Path], titles: list[str]) -> None:
    """Stage: the training curve of each per-epoch CSV log."""
    for history, png, title in zip(histories, pngs, titles, strict=True):
        plot_training(history, png, title)
