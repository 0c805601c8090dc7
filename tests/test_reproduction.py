"""The claims document's tables on hand-built metrics: claims by role in every column, three-way verdicts, the
original code's single run beside ours, and the ablation's per-seed differences."""

from __future__ import annotations

import pandas as pd
import pytest

from bgbias.studies.reproduction import ablation_table, claims_table, original_run_table

SEEDS = (0, 1, 2)


def metrics(accuracies: dict[tuple[str, str], tuple[float, float, float]]) -> pd.DataFrame:
    """One row per (seed, model, test set): the accuracy, and every per-digit accuracy equal to it."""
    return pd.DataFrame([
        {"seed": seed, "model": model, "test_set": test_set, "accuracy": values[i], "unbiased_accuracy": values[i],
         "per_digit": {digit: values[i] for digit in range(10)}}
        for (model, test_set), values in accuracies.items() for i, seed in enumerate(SEEDS)
    ])


NOTES = metrics({
    ("base", "pool"): (0.60, 0.61, 0.62),
    ("paired-pool-f1", "pool"): (0.979, 0.980, 0.981),
    ("paired-pool-f1", "noise"): (0.975, 0.976, 0.977),
    ("paired-noise-f1", "pool"): (0.84, 0.85, 0.86),
    ("paired-strips-f1", "pool"): (0.897, 0.919, 0.941),
})
CODE = metrics({  # the code's strips model is paired-strips_black-f1
    ("base", "pool"): (0.48, 0.49, 0.50),
    ("paired-pool-f1", "pool"): (0.984, 0.985, 0.986),
    ("paired-pool-f1", "noise"): (0.90, 0.91, 0.92),
    ("paired-noise-f1", "pool"): (0.955, 0.957, 0.959),
    ("paired-strips_black-f1", "pool"): (0.94, 0.95, 0.96),
})


def test_claims_are_judged_per_column_with_three_verdicts() -> None:
    table = claims_table({"later": NOTES, "later-code": CODE}).set_index("claim")
    pool = table.loc["pool-paired reaches about 0.98 on a pool test set"]
    assert pool["later"] == "0.980 [0.978, 0.982]: reproduced"
    assert pool["later-code"] == "0.985 [0.983, 0.987]: reproduced"
    strips = table.loc["strips-paired plateaus at about 0.85 on a pool test set"]
    assert strips["later"].endswith("undecided (about 4 seeds would decide)")  # 0.919 [0.864, 0.974]
    assert strips["later-code"].startswith("0.950") and strips["later-code"].endswith(": not reproduced")
    beats = table.loc["pool-paired beats noise-paired on a pool test set (per-seed difference)"]
    assert beats["later"].endswith(": holds") and beats["later-code"].endswith(": holds")
    stays = table.loc["pool-paired stays at its best on a noise test set (per-seed pool minus noise test accuracy)"]
    assert stays["later"] == "0.004 [0.004, 0.004]: reproduced" and stays["later-code"].endswith(": not reproduced")
    digits = table.loc["base model: digits 5-9 are misclassified on a pool test set (mean per-digit accuracy)"]
    assert digits["later-code"].endswith(": reproduced")


def test_the_original_single_run_sits_beside_the_later_columns() -> None:
    table = original_run_table({"initial": NOTES, "later": NOTES, "later-code": CODE}, ["later", "later-code"]).set_index(
        "model (pool test set accuracy)")
    assert list(table.columns) == ["original code, one run", "later", "later-code"]
    assert table.loc["base", "original code, one run"] == "0.487"
    assert table.loc["base", "later-code"] == "0.490 [0.465, 0.515]: undecided (about 4 seeds would decide)"  # s 0.01, distance 0.017
    assert table.loc["pool-paired", "later-code"].endswith(": reproduced")
    assert table.loc["noise-paired", "later"].endswith(": not reproduced")


def test_ablation_rows_are_per_seed_differences_to_the_baseline() -> None:
    switched = metrics({("paired-pool-f1", "pool"): (0.989, 0.990, 0.991)})
    table = ablation_table({"switched": switched}, NOTES, models=["paired-pool-f1"], test_set="pool",
                           baseline_name="notes")
    row = table.set_index("row").loc["switched"]
    assert row["difference"] == pytest.approx(0.010)
    assert row["difference to notes"] == "0.010 [0.010, 0.010]: raises"
    assert table.set_index("row").loc["notes", "difference to notes"] == "–"
