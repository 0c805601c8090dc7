"""Result tables from metrics JSONs: one row per model, mean ± std over seeds, per-colour and fraction tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bgbias.colour.tables import accuracy_tables, fraction_tables, per_colour_tables, selection_differences
from bgbias.storage import write_json
from conftest import POOL

MODELS = ["base", "paired-pool-f0.1", "paired-pool-f1", "paired-noise-f1"]
PAIRING = {  # model -> (augment mode, fraction, marked images)
    "paired-pool-f0.1": ("pool", 0.1, 2940), "paired-pool-f1": ("pool", 1.0, 29404), "paired-noise-f1": ("noise", 1.0, 29404),
}


def write_metrics(folder: Path) -> list[str]:
    """Metrics of 4 models x 2 test sets x 2 seeds; accuracy = 0.5 + 0.1 * model index + 0.02 * seed."""
    paths = []
    for seed in (0, 1):
        for index, model in enumerate(MODELS):
            for test_set in ("pool", "solid-black"):
                accuracy = 0.5 + 0.1 * index + 0.02 * seed
                per_colour = [accuracy - 0.01 * colour for colour in range(10)]
                path = folder / f"s{seed}" / model / f"{test_set}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                augment, fraction, marked = PAIRING.get(model, (None, None, None))
                pairing = {"augment_mode": augment, "augment_fraction": fraction, "copies": 10, "selection": "random",
                           "marked": marked} if augment else None
                write_json(path, {
                    "seed": seed, "model_name": model, "test_set_name": test_set, "accuracy": accuracy,
                    "unbiased_accuracy": accuracy, "per_colour": per_colour, "per_digit": [accuracy] * 10,
                    "bias_conflicting_accuracy": accuracy - 0.1, "pairing": pairing,
                })
                paths.append(str(path))
    return paths


def test_accuracy_table_has_one_row_per_model_with_mean_and_std(tmp_path: Path) -> None:
    paths = write_metrics(tmp_path)
    csv, md, png = tmp_path / "a.csv", tmp_path / "a.md", tmp_path / "a.png"
    accuracy_tables(paths, ["pool", "solid-black"], csv=csv, md=md, png=png)
    table = pd.read_csv(csv, index_col="model")
    assert list(table.index) == MODELS
    assert list(table.columns) == ["pool", "solid-black", "pool_std", "solid-black_std"]
    assert table.loc["paired-pool-f1", "pool"] == pytest.approx(0.71)
    assert table.loc["base", "pool_std"] == pytest.approx(0.01414, abs=1e-4)
    lines = md.read_text().splitlines()
    assert len(lines) == 2 + len(MODELS) and "0.710 ± 0.014" in lines[4]
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_per_colour_table_has_pool_colours_then_solid_sets(tmp_path: Path) -> None:
    paths = write_metrics(tmp_path)
    csv, md, png = tmp_path / "c.csv", tmp_path / "c.md", tmp_path / "c.png"
    per_colour_tables(
        paths, color_pool=POOL.tolist(), pool_test_set="pool", colour_tests=["solid-black"], csv=csv, md=md, png=png
    )
    table = pd.read_csv(csv, index_col="model")
    assert list(table.index) == MODELS
    assert list(table.columns[:11]) == [
        *(f"pool {i} ({','.join(map(str, rgb))})" for i, rgb in enumerate(POOL.tolist())), "solid-black"
    ]
    assert table.loc["base", "pool 3 (225,225,0)"] == pytest.approx(0.51 - 0.03)


def test_fraction_table_lists_paired_models_by_mode_and_fraction(tmp_path: Path) -> None:
    paths = write_metrics(tmp_path)
    csv, md, png = tmp_path / "f.csv", tmp_path / "f.md", tmp_path / "f.png"
    fraction_tables(paths, ["pool", "solid-black"], csv=csv, md=md, png=png)
    table = pd.read_csv(csv)
    assert table[["augment", "selection", "fraction", "marked", "n"]].values.tolist() == [
        ["noise", "random", 1.0, 29404, 2], ["pool", "random", 0.1, 2940, 2], ["pool", "random", 1.0, 29404, 2]
    ]
    pool = table.loc[1]
    assert pool["pool"] == pytest.approx(0.61)  # mean of 0.60 and 0.62; t interval with 1 degree of freedom
    assert pool["pool_high"] - pool["pool"] == pytest.approx(12.7062 * 0.01414 / 2 ** 0.5, rel=1e-3)
    assert pool["pool_bias_conflicting"] == pytest.approx(0.51)
    assert "| pool      | random      | not reached" in md.read_text() and png.read_bytes()[:4] == b"\x89PNG"


def test_selection_differences_pair_each_strategy_with_random_of_the_same_seed_and_fraction() -> None:
    """bias_score beats random by 0.10 (seed 0) and 0.12 (seed 1) at 0.01; at 0.02 it lacks random's seed 1."""
    rows = []
    for seed, fraction, selection, accuracy in [
        (0, 0.01, "random", 0.60), (1, 0.01, "random", 0.62), (0, 0.01, "bias_score", 0.70),
        (1, 0.01, "bias_score", 0.74), (0, 0.02, "random", 0.80), (0, 0.02, "bias_score", 0.85),
        (1, 0.02, "bias_score", 0.99),
    ]:
        pairing = {"augment_mode": "pool", "augment_fraction": fraction, "selection": selection, "marked": 100}
        for test_set, shift in (("pool", 0.0), ("noise", -0.5)):
            rows.append({"seed": seed, "model": f"m-{selection}-{fraction}", "test_set": test_set,
                         "accuracy": accuracy + shift, "pairing": pairing})
    rows.append({"seed": 0, "model": "base", "test_set": "pool", "accuracy": 0.3, "pairing": None})
    table = selection_differences(pd.DataFrame(rows))
    assert table[["augment", "fraction", "selection", "n"]].values.tolist() == [
        ["pool", 0.01, "bias_score", 2], ["pool", 0.02, "bias_score", 1]
    ]
    first, second = table.iloc[0], table.iloc[1]
    assert first["mean"] == pytest.approx(0.11)
    assert first["ci95_high"] - first["mean"] == pytest.approx(12.7062 * 0.01414 / 2 ** 0.5, rel=1e-3)
    assert second["mean"] == pytest.approx(0.05) and second["ci95_low"] == pytest.approx(0.05)
