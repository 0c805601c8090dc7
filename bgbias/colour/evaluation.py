"""Metrics of a model on a coloured test set: accuracy per digit, per colour, confusion. Stage: `evaluate`."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from bgbias import __version__
from bgbias.models import Classifier, predict
from bgbias.storage import StoredSplit, read_attributes, read_split, write_json
from bgbias.training import open_model_stage

log = logging.getLogger("bgbias")
DIGITS = 10


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """(10, 10) counts: row = true digit, column = predicted digit."""
    return np.bincount(labels * DIGITS + predictions, minlength=DIGITS * DIGITS).reshape(DIGITS, DIGITS)


def pool_index(bg_color: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Index of each image's background colour in `pool`, -1 when it is not a pool colour."""
    matches = (bg_color[:, None, :] == np.asarray(pool, np.int16)[None]).all(-1)
    return np.where(matches.any(1), matches.argmax(1), -1)


def grouped_accuracy(correct: np.ndarray, groups: np.ndarray, count: int) -> np.ndarray:
    """Accuracy per group 0..count-1 (NaN for an empty group)."""
    valid = groups >= 0
    totals = np.bincount(groups[valid], minlength=count)
    hits = np.bincount(groups[valid], weights=correct[valid], minlength=count)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, hits / np.maximum(totals, 1), np.nan)


def metrics(
    labels: np.ndarray, predictions: np.ndarray, bg_color: np.ndarray, *, pool: np.ndarray, biased_digits: tuple[int, ...]
) -> dict:
    """Overall, per-digit, per-pool-colour and digit x colour accuracy, the confusion matrix, and the ReBias / LfF
    metrics (the README defines each):

    - `unbiased_accuracy`: the mean over the non-empty cells of the 10 x 10 digit x pool-colour accuracy matrix
      (every combination weighs the same, whatever its count); `worst_cell_accuracy`: their minimum;
    - `bias_aligned_accuracy`: images of a biased digit (of the model's training setup) on that digit's own pool
      colour; `bias_conflicting_accuracy`: images of a biased digit on another pool colour.

    Images whose background is not a pool colour count only in the overall and per-digit figures; a metric with no
    image is null.
    """
    correct = (labels == predictions).astype(float)
    colour = pool_index(bg_color, pool)
    cell = np.where(colour >= 0, labels * len(pool) + colour, -1)
    digit_colour = grouped_accuracy(correct, cell, DIGITS * len(pool)).reshape(DIGITS, len(pool))
    biased = np.isin(labels, biased_digits) & (colour >= 0)
    filled = np.isfinite(digit_colour)
    return {
        "n": int(len(labels)),
        "accuracy": float(correct.mean()),
        "per_digit": grouped_accuracy(correct, labels, DIGITS).tolist(),
        "per_colour": grouped_accuracy(correct, colour, len(pool)).tolist(),
        "digit_colour": digit_colour.tolist(),
        "unbiased_accuracy": float(digit_colour[filled].mean()) if filled.any() else None,
        "worst_cell_accuracy": float(digit_colour[filled].min()) if filled.any() else None,
        "bias_aligned_accuracy": share(correct, biased & (colour == labels)),
        "bias_conflicting_accuracy": share(correct, biased & (colour != labels)),
        "biased_digits": list(biased_digits),
        "confusion": confusion_matrix(labels, predictions).tolist(),
    }


def share(correct: np.ndarray, where: np.ndarray) -> float | None:
    """The accuracy over the images `where`, None when there are none."""
    return float(correct[where].mean()) if where.any() else None


def evaluate_model(
    model: Classifier, split: StoredSplit, *, pool: np.ndarray, biased_digits: tuple[int, ...], device: torch.device
) -> dict:
    """All metrics of `model` on `split`."""
    predictions = predict(model, split.images, device)
    return metrics(split.labels, predictions, split.bg_color, pool=pool, biased_digits=biased_digits)


def evaluate(
    model: Path,
    test_sets: list[Path],
    *,
    outputs: list[Path],
    color_pool: list,
    biased_digits: list[int],
    device: str,
    threads: int = 1,
) -> None:
    """Stage: all metrics of a model on the test split of each of `test_sets`, as one JSON each (`outputs[i]` for
    `test_sets[i]`); the model is loaded once. `biased_digits`: those of the model's training setup, for the
    bias-aligned and bias-conflicting accuracy."""
    where, net, meta = open_model_stage(model, threads=threads, device=device, in_channels=3)
    for test_set, output in zip(test_sets, outputs, strict=True):
        split = read_split(test_set, "test")
        result = evaluate_model(net, split, pool=np.asarray(color_pool), biased_digits=tuple(biased_digits), device=where)
        log.info("%s on %s: accuracy %.4f", model, test_set, result["accuracy"])
        config = {"model": meta.get("config"), "test_set": read_attributes(test_set)["config"], "color_pool": color_pool}
        write_json(
            Path(output),
            {
                **result,
                "model": str(model),
                "model_name": Path(model).stem,
                "test_set": str(test_set),
                "test_set_name": Path(test_set).stem,
                "seed": meta.get("seed"),
                "pairing": meta.get("pairing"),
                "config": config,
                "bgbias_version": __version__,
            },
            [model, test_set],
        )
