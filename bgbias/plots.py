"""Figures: confusion matrices, training curves, sample grids of datasets."""

from __future__ import annotations

from dataclasses import dataclass
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


def fraction_figure(fractions: pd.DataFrame, test_sets: list[str]) -> plt.Figure:
    """Accuracy versus the fraction of augmented biased images, one line per augment mode, a panel per test set."""
    figure, panels = plt.subplots(1, len(test_sets), figsize=(4.2 * len(test_sets), 3.8), squeeze=False)
    for axes, test_set in zip(panels[0], test_sets):
        for augment, rows in fractions.groupby("augment", sort=False):
            axes.plot(rows["fraction"], rows[test_set], marker="o", label=augment)
        axes.set(xscale="log", xlabel="fraction of biased images augmented", ylabel="accuracy",
                 title=f"test set: {test_set}", ylim=(0, 1.02))
        axes.grid(alpha=0.3)
    panels[0][0].legend(title="augment mode")
    return figure


TILE, GAP, CAPTION_SPACE = 28, 3, 9  # sample grid: image size, gap between tiles, room for a caption (pixels)


@dataclass(frozen=True)
class SamplePanel:
    """One panel of a sample grid: rows of images, each row labelled, each image captioned."""

    title: str
    labels: list[str]
    images: list[np.ndarray]  # per row (n, 28, 28, 3) uint8
    captions: list[list[str]]  # per row, one caption per image


def mosaic(rows: list[np.ndarray]) -> np.ndarray:
    """Rows of images as one RGB picture on a light grey ground, with room under each image for a caption."""
    columns = max([len(row) for row in rows] + [1])
    canvas = np.full((len(rows) * (TILE + CAPTION_SPACE), columns * (TILE + GAP), 3), 240, np.uint8)
    for index, row in enumerate(rows):
        if len(row):
            top = index * (TILE + CAPTION_SPACE)
            strip = np.pad(row, ((0, 0), (0, 0), (0, GAP), (0, 0)), constant_values=240)
            canvas[top : top + TILE, : len(row) * (TILE + GAP)] = np.concatenate(list(strip), axis=1)
    return canvas


def sample_grid_figure(panels: list[SamplePanel], title: str) -> plt.Figure:
    """Panels of sample images side by side, each image captioned (e.g. with its background mode)."""
    widths = [max([len(row) for row in panel.images] + [1]) for panel in panels]
    height = max(len(panel.labels) for panel in panels) * 0.5 + 1
    figure, axes = plt.subplots(
        1, len(panels), figsize=(0.5 * sum(widths) + 1.2 * len(panels), height), width_ratios=widths, squeeze=False
    )
    for ax, panel in zip(axes[0], panels):
        ax.imshow(mosaic(panel.images), interpolation="nearest")
        ax.set_title(panel.title, fontsize=9)
        ax.set_xticks([])
        ticks = [i * (TILE + CAPTION_SPACE) + TILE / 2 for i in range(len(panel.labels))]
        ax.set_yticks(ticks, panel.labels, fontsize=7)
        for row, captions in enumerate(panel.captions):
            for column, caption in enumerate(captions):
                ax.text(
                    column * (TILE + GAP) + TILE / 2, row * (TILE + CAPTION_SPACE) + TILE + 1, caption,
                    ha="center", va="top", fontsize=3.5,
                )
    figure.suptitle(title, fontsize=10)
    return figure
