"""Figures: confusion matrices, training curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bgbias.storage import atomic_path  # noqa: E402


def save_figure(figure: plt.Figure, path: Path) -> None:
    """Save `figure` as PNG atomically and close it."""
    with atomic_path(path) as partial:
        figure.savefig(partial, format="png", dpi=120, bbox_inches="tight")
    plt.close(figure)


def confusion_figure(confusion: np.ndarray, title: str) -> plt.Figure:
    """Heatmap of a (10, 10) confusion matrix, rows normalised, counts written in the cells."""
    confusion = np.asarray(confusion)
    share = confusion / np.maximum(confusion.sum(1, keepdims=True), 1)
    figure, axes = plt.subplots(figsize=(6.4, 5.6))
    image = axes.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for (row, column), count in np.ndenumerate(confusion):
        if count:
            axes.text(column, row, str(count), ha="center", va="center", fontsize=7,
                      color="white" if share[row, column] > 0.5 else "black")
    axes.set(xticks=range(10), yticks=range(10), xlabel="predicted digit", ylabel="true digit", title=title)
    figure.colorbar(image, ax=axes, label="share of the true digit's images")
    return figure


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
