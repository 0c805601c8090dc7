"""Figures of the colour experiment: confusion matrices, the augment-fraction curves, sample grids of datasets.

Stages: `plot_confusion` and `plot_samples`.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bgbias.colour.pairs import RANKING_COLUMNS, read_alt_index, read_versions
from bgbias.figures import save_figure
from bgbias.storage import SPLITS, atomic_path, open_dataset, read_attributes, read_json, read_split, read_table

import matplotlib.pyplot as plt  # after bgbias.figures chose the Agg backend


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


FRACTION_PANELS = {"pool": "accuracy on the pool test set", "pool_bias_conflicting": "bias-conflicting (pool test)",
                   "pool_unbiased": "unbiased accuracy (pool test)"}


def fraction_figure(fractions: pd.DataFrame) -> plt.Figure:
    """Accuracy against the number of marked images: a row of panels per augment mode (pool-test accuracy,
    bias-conflicting, unbiased), one curve per selection with its 95 % band over the seeds."""
    panels = [column for column in FRACTION_PANELS if column in fractions]
    augments = list(dict.fromkeys(fractions["augment"])) or ["(no paired model)"]
    figure, axes = plt.subplots(
        len(augments), max(len(panels), 1), figsize=(4.4 * max(len(panels), 1), 3.6 * len(augments)), squeeze=False
    )
    for row, augment in enumerate(augments):
        for axis, column in zip(axes[row], panels):
            marked = fractions.loc[fractions["augment"] == augment, "marked"]
            for selection, rows in fractions[fractions["augment"] == augment].groupby("selection", sort=False):
                axis.plot(rows["marked"], rows[column], marker="o", label=selection)
                axis.fill_between(rows["marked"], rows[f"{column}_low"], rows[f"{column}_high"], alpha=0.2)
            if (marked <= 0).any():  # a log axis cannot show 0 marked images: linear below 1
                axis.set_xscale("symlog", linthresh=1)
                axis.text(0.02, 0.02, "some cells mark no image (no biased digit, or a fraction that rounds to 0)",
                          transform=axis.transAxes, fontsize=7)
            else:
                axis.set_xscale("log")
            axis.set(xlabel="marked images (augmented biased images)", ylabel="accuracy",
                     title=f"{augment}: {FRACTION_PANELS[column]}", ylim=(0, 1.02))
            axis.grid(alpha=0.3)
        if panels:
            axes[row][0].legend(title="selection", fontsize=8)
    figure.tight_layout()
    return figure


TILE, GAP, CAPTION_SPACE = 28, 3, 9  # sample grid: image size, gap between tiles, room for a caption (pixels)


@dataclass(frozen=True)
class SamplePanel:
    """One panel of a sample grid: rows of images, each row labelled, each image captioned."""

    title: str
    labels: list[str]
    images: list[np.ndarray]  # per row (n, 28, 28, 3) uint8
    captions: list[list[str]]  # per row, one caption per image
    empty: str = "no images"  # what the panel says when it has no image, and why


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
    widths = [max([len(row) for row in panel.images] + [4]) for panel in panels]
    height = max([len(panel.labels) for panel in panels] + [2]) * 0.5 + 1
    figure, axes = plt.subplots(
        1, len(panels), figsize=(0.5 * sum(widths) + 1.2 * len(panels), height), width_ratios=widths, squeeze=False
    )
    for ax, panel in zip(axes[0], panels):
        ax.set_title(panel.title, fontsize=9)
        ax.set_xticks([])
        if not any(len(row) for row in panel.images):
            ax.set_yticks([])
            ax.text(0.5, 0.5, textwrap.fill(panel.empty, 24), ha="center", va="center", fontsize=8, transform=ax.transAxes)
            continue
        ax.imshow(mosaic(panel.images), interpolation="nearest")
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


def describe_dataset(config: dict) -> str:
    """A one-line caption of a dataset file's recorded config slice."""
    if "paired" in config:
        paired = config["paired"]
        return (
            f"paired: {paired['copies']} versions on {paired['augment_mode']} for "
            f"{100 * paired['augment_fraction']:g}% of the biased digits' images"
        )
    if "bias" in config:
        bias = config["bias"]
        digits = {"none": "none", "all": "all", "partial": ",".join(map(str, bias["biased_digits"]))}[bias["mode"]]
        return (
            f"biased digits {digits} on their pool colour (rho {bias['correlation']:g}), "
            f"others {bias['unbiased_mode']}"
        )
    return f"test set on {config['mode']}"


def plot_sample_grids(datasets: list[Path], pngs: list[Path]) -> None:
    """Stage: the sample grid of each dataset file (`pngs[i]` of `datasets[i]`)."""
    for dataset, png in zip(datasets, pngs, strict=True):
        plot_samples(dataset, png)


def plot_samples(dataset: Path, png: Path, *, per_digit: int = 4, versions: int = 6) -> None:
    """Sample grid of a dataset file: the first `per_digit` images of each digit per split, captioned with
    their background mode; for a paired file also one augmented training image per digit with its first
    `versions` versions."""
    dataset = Path(dataset)
    attributes = read_attributes(dataset)
    with open_dataset(dataset) as handle:
        splits = [name for name in SPLITS if name in handle]
        paired = "alt_index" in handle.get("train", {})
    panels = []
    for name in splits:
        split = read_split(dataset, name)
        rows = [np.flatnonzero(split.labels == digit)[:per_digit] for digit in range(10)]
        captions = [[mode.decode() for mode in split.bg_mode[r]] for r in rows]
        panels.append(SamplePanel(name, [f"digit {d}" for d in range(10)], [split.images[r] for r in rows], captions))
    if paired:
        panels.append(pairs_panel(dataset, versions))
    title = f"{dataset.parent.name}/{dataset.stem} (seed {attributes['seed']}): {describe_dataset(attributes['config'])}"
    save_figure(sample_grid_figure(panels, title), Path(png), [dataset])


def pairs_panel(dataset: Path, versions: int) -> SamplePanel:
    """One augmented training image per digit (where there is one) followed by its first `versions` versions."""
    base = read_split(dataset, "train")
    alt_index = read_alt_index(dataset, "train")
    chosen = [np.flatnonzero((base.labels == digit) & (alt_index >= 0))[:1] for digit in range(10)]
    shown = np.concatenate(chosen)
    images, modes = read_versions(dataset, "train", alt_index[shown], versions)
    return SamplePanel(
        "train pairs: x, then versions x'",
        [f"digit {base.labels[row]}" for row in shown],
        [np.concatenate([base.images[[row]], images[i]]) for i, row in enumerate(shown)],
        [[m.decode() for m in (base.bg_mode[row], *modes[i])] for i, row in enumerate(shown)],
        empty="no image has versions: no biased digit, or an augment fraction that marks none",
    )


def plot_confusions(metrics: list[Path], *, pngs: list[Path], csvs: list[Path], titles: list[str]) -> None:
    """Stage: the confusion matrix of each metrics JSON, as PNG and CSV."""
    for source, png, csv, title in zip(metrics, pngs, csvs, titles, strict=True):
        plot_confusion(source, png=png, csv=csv, title=title)


def plot_confusion(metrics: Path, *, png: Path, csv: Path, title: str) -> None:
    """The confusion matrix of a metrics JSON as PNG and CSV."""
    confusion = np.asarray(read_json(metrics, ["confusion"])["confusion"])
    table = pd.DataFrame(confusion, index=pd.Index(range(10), name="true"), columns=[f"pred_{d}" for d in range(10)])
    with atomic_path(Path(csv), [metrics]) as partial:
        table.to_csv(partial)
    save_figure(confusion_figure(confusion, title), Path(png), [metrics])


def plot_ranking(ranking: Path, biased: Path, png: Path, *, count: int = 20) -> None:
    """Stage: the `count` top-ranked and `count` bottom-ranked training images of a selection's ranking, each captioned
    with its digit and score: what the strategy finds most and least biased."""
    table = read_table(ranking, RANKING_COLUMNS)
    rows = table[table["split"] == "train"].sort_values("rank")
    split = read_split(biased, "train")
    panels = []
    for title, chosen in (("first to mark", rows.head(count)), ("last to mark", rows.tail(count))):
        images = split.images[chosen["row"].to_numpy(np.int64)]
        captions = [f"{label} {score:.3g}" for label, score in zip(chosen["label"], chosen["score"])]
        per_row = 10
        panels.append(SamplePanel(
            title,
            [f"ranks {chosen['rank'].iloc[i]}-" for i in range(0, len(chosen), per_row)],
            [images[i : i + per_row] for i in range(0, len(images), per_row)],
            [captions[i : i + per_row] for i in range(0, len(captions), per_row)],
            empty="no biased training image to rank (bias.mode none)",
        ))
    strategy = Path(ranking).stem
    title = f"selection {strategy}: the biased training images it ranks first and last (caption: digit, score)"
    save_figure(sample_grid_figure(panels, title), Path(png), [ranking, biased])
