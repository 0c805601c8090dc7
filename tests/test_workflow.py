"""The Snakemake workflow: dry-run, lint, command-line overrides and a tiny end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from conftest import run_snakemake
from bgbias.models import load_checkpoint

pytestmark = pytest.mark.workflow


def test_dry_run_lists_the_initial_setup(workflow_dir: Path) -> None:
    result = run_snakemake(workflow_dir, "results/all", "-n", "--quiet", "rules")
    for rule in (
        "mnist", "biased_dataset", "test_dataset", "paired_dataset", "sample_grid", "train_base", "paired_train",
        "evaluate", "confusion_figure", "accuracy_table", "per_colour_table", "fraction_table", "reproduction", "all",
    ):
        assert rule in result.stdout


def test_lint_is_clean(workflow_dir: Path) -> None:
    result = run_snakemake(workflow_dir, "--lint")
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_nested_override_from_the_command_line(workflow_dir: Path) -> None:
    result = run_snakemake(
        workflow_dir, "results/s0/models/base.pt", "-n", "--printshellcmds", "--config", "train={epochs: 3, lr: 0.01}"
    )
    assert "train_base" in result.stdout
    bad = run_snakemake(workflow_dir, "-n", "--config", "train={epochs: 0}", check=False)
    assert bad.returncode != 0
    assert "config key train.epochs: 0 is not allowed; allowed: integer >= 1" in bad.stdout + bad.stderr


def test_tiny_end_to_end_run(workflow_dir: Path) -> None:
    run_snakemake(workflow_dir, "results/all", "--cores", "2")
    results = workflow_dir / "results"
    listed = [line.split("\t")[1] for line in (results / "all").read_text().splitlines()]
    assert listed and all((workflow_dir / path).is_file() for path in listed)

    with h5py.File(results / "s0/datasets/biased.h5", "r") as handle:
        assert set(handle) == {"train", "dev"}
        assert handle["train/images"].shape == (500, 28, 28, 3)
        assert handle["dev/images"].shape == (100, 28, 28, 3)
        assert json.loads(handle.attrs["config"])["bias"]["biased_digits"] == [5, 6, 7, 8, 9]
        assert handle.attrs["seed"] == 0

    history = pd.read_csv(results / "s0/models/base.csv")
    assert list(history.columns[:5]) == ["epoch", "train_loss", "train_accuracy", "dev_loss", "dev_accuracy"]
    assert 1 <= len(history) <= 2 and history["best"].sum() == 1
    model, meta = load_checkpoint(results / "s0/models/base.pt", in_channels=3)
    assert meta["seed"] == 0 and meta["config"]["train"]["epochs"] == 2

    metrics = json.loads((results / "s0/eval/base/pool.json").read_text())
    confusion = np.array(metrics["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == metrics["n"] == 300
    assert metrics["accuracy"] == pytest.approx(np.trace(confusion) / 300)
    assert len(metrics["per_digit"]) == 10

    table = pd.read_csv(results / "s0/figures/confusion/base/pool.csv", index_col=0)
    assert np.array_equal(table.to_numpy(), confusion)
    for png in ("s0/figures/confusion/base/pool.png", "s0/figures/training/base.png"):
        with Image.open(results / png) as image:
            assert image.format == "PNG" and image.width > 300
    assert (results / "logs/s0/models/base.log").read_text().count("epoch ") >= 1

    models = ["base", "paired-pool-f1"]
    paired_history = pd.read_csv(results / "s0/models/paired-pool-f1.csv")
    assert 1 <= len(paired_history) <= 2
    _, paired_meta = load_checkpoint(results / "s0/models/paired-pool-f1.pt", in_channels=3)
    assert paired_meta["config"]["paired"]["method"] == "l2"

    accuracy = pd.read_csv(results / "tables/accuracy.csv", index_col="model")
    assert list(accuracy.index) == models and list(accuracy.columns) == ["pool", "noise", "solid-black"]
    for model in models:
        for test_set in accuracy.columns:
            saved = json.loads((results / f"s0/eval/{model}/{test_set}.json").read_text())["accuracy"]
            assert accuracy.loc[model, test_set] == pytest.approx(saved, abs=1e-4)
    per_colour = pd.read_csv(results / "tables/per_colour.csv", index_col="model")
    assert list(per_colour.index) == models and len(per_colour.columns) == 11
    assert per_colour.columns[0] == "pool 0 (255,0,0)" and per_colour.columns[-1] == "solid-black"
    fractions = pd.read_csv(results / "tables/fractions.csv")
    assert fractions[["augment", "fraction"]].values.tolist() == [["pool", 1.0]]
    assert (results / "tables/accuracy.md").read_text().count("\n") == 2 + len(models)
    report = (workflow_dir / "docs/reproduction.md").read_text()
    assert "### paired-pool-f1" in report and "## Accuracy: models x test sets" in report
    for png in ("figures/accuracy.png", "figures/per_colour.png", "figures/fractions.png", "s0/figures/samples/biased.png"):
        assert (results / png).read_bytes()[:4] == b"\x89PNG"
