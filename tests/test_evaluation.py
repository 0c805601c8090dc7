"""Every metric on a hand-built 10 x 10 digit x colour case, where each value can be counted by hand."""

from __future__ import annotations

import numpy as np
import pytest

from bgbias.colour.evaluation import metrics

POOL = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [225, 225, 0], [225, 0, 225], [0, 255, 255],
                 [255, 0, 195], [195, 0, 255], [195, 195, 195], [255, 195, 0]], np.int16)
BIASED = (5, 6, 7, 8, 9)


@pytest.fixture(scope="module")
def case() -> dict:
    """One image per (digit, pool colour) cell, 3 more in cell (2, 2), 2 digit-5 images on noise (not one colour).

    Wrong: the biased digits 5-9 on colours 0 and 1 (10 bias-conflicting images), digit 0 on colour 3, one of the
    two noise images. Everything else right.
    """
    labels, colours = np.repeat(np.arange(10), 10), np.tile(np.arange(10), 10)
    labels, colours = np.concatenate([labels, [2, 2, 2]]), np.concatenate([colours, [2, 2, 2]])
    bg_color = np.concatenate([POOL[colours], [[-1, -1, -1], [-1, -1, -1]]]).astype(np.int16)
    labels = np.concatenate([labels, [5, 5]])
    wrong = np.zeros(len(labels), bool)
    wrong[:103] = (np.isin(labels[:103], BIASED) & np.isin(colours, [0, 1])) | ((labels[:103] == 0) & (colours == 3))
    wrong[-1] = True
    predictions = np.where(wrong, (labels + 1) % 10, labels)
    return metrics(labels, predictions, bg_color, pool=POOL, biased_digits=BIASED)


def test_accuracy_counts_every_image(case: dict) -> None:
    assert case["n"] == 105 and case["accuracy"] == pytest.approx(93 / 105)
    confusion = np.array(case["confusion"])
    assert confusion.sum() == 105 and np.trace(confusion) == 93 and confusion[5, 6] == 3


def test_per_digit_and_per_colour(case: dict) -> None:
    assert case["per_digit"] == pytest.approx([0.9, 1, 1, 1, 1, 9 / 12, 0.8, 0.8, 0.8, 0.8])
    assert case["per_colour"] == pytest.approx([0.5, 0.5, 1, 0.9, 1, 1, 1, 1, 1, 1])  # noise images: no colour


def test_bias_aligned_and_conflicting(case: dict) -> None:
    assert case["bias_aligned_accuracy"] == 1.0  # cells (d, d) of digits 5-9: 5 images, all right
    assert case["bias_conflicting_accuracy"] == pytest.approx(35 / 45)  # 5 digits x 9 other colours, 10 wrong


def test_unbiased_and_worst_cell_weigh_every_cell_the_same(case: dict) -> None:
    cells = np.array(case["digit_colour"])
    assert cells.shape == (10, 10) and cells[2, 2] == 1.0 and cells[0, 3] == 0.0
    assert case["unbiased_accuracy"] == pytest.approx(89 / 100)  # 11 wrong cells; the extra (2, 2) images weigh nothing
    assert case["worst_cell_accuracy"] == 0.0


def test_a_metric_without_images_is_null() -> None:
    labels = np.array([0, 1])
    result = metrics(labels, labels, np.full((2, 3), -1, np.int16), pool=POOL, biased_digits=())
    assert result["accuracy"] == 1.0 and result["bias_aligned_accuracy"] is None
    assert result["bias_conflicting_accuracy"] is None and result["unbiased_accuracy"] is None
    assert result["worst_cell_accuracy"] is None
