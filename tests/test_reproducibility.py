"""Same config and seed => byte-identical datasets and identical metrics; every output records its seed and config."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from bgbias.colour.datasets import make_test_dataset
from bgbias.config import dataset_slice, deep_merge, recorded, validate_config
from bgbias.storage import read_attributes, read_split
from conftest import colour_spec
from conftest import TINY_CONFIG, copy_workflow, run_snakemake
from workflow_helpers import METRICS, TRAINING, assert_same_results, prepare, reference_run


@pytest.mark.workflow
def test_two_runs_give_identical_outputs(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    first = reference_run(tmp_path_factory)
    second = prepare(copy_workflow(tmp_path / "second"), TRAINING)
    run_snakemake(second, "--cores", "2", METRICS)
    compared = assert_same_results(
        first, second, OUTPUTS
    )
    assert {
        "results/initial/s0/datasets/biased.h5", "results/initial/s0/datasets/test/pool.h5", "results/initial/s0/models/base.pt", METRICS
    } <= set(compared)
    for dataset in ("results/initial/s0/datasets/biased.h5", "results/initial/s0/datasets/test/pool.h5"):
        assert (first / dataset).read_bytes() == (second / dataset).read_bytes(), dataset


@pytest.mark.workflow
def test_every_output_records_seed_and_config_slice(tmp_path_factory: pytest.TempPathFactory) -> None:
    run = reference_run(tmp_path_factory)
    config = validate_config(deep_merge(yaml.safe_load(TINY_CONFIG.read_text()), TRAINING))
    data = dataset_slice(config)
    biased = read_attributes(run / "results/initial/s0/datasets/biased.h5")
    assert biased["config"] == {**data, "bias": config["bias"]} and biased["seed"] == 0
    test = read_attributes(run / "results/initial/s0/datasets/test/pool.h5")
    assert test["config"] == {**data, "mode": "pool"} and test["seed"] == 0

    checkpoint = torch.load(run / "results/initial/s0/models/base.pt", weights_only=True)
    assert checkpoint["seed"] == 0 and checkpoint["device"] == "cpu"
    assert checkpoint["config"] == {"train": recorded(config["train"], "train"), "data": biased["config"]}
    assert checkpoint["config"]["train"]["epochs"] == 3

    metrics = json.loads((run / METRICS).read_text())
    assert metrics["seed"] == 0
    assert metrics["config"] == {
        "model": checkpoint["config"], "test_set": test["config"], "color_pool": config["color_pool"]
    }
    assert metrics["n"] == 300 and 0 <= metrics["accuracy"] <= 1

OUTPUTS = ("initial/s0/datasets/**/*.h5", "initial/s0/models/*.pt", "initial/s0/models/*.csv", "initial/s0/eval/**/*.json")


def test_same_seed_same_arrays_other_seed_other_backgrounds(tmp_path: Path, mnist_spec) -> None:
    paths = {name: tmp_path / f"{name}.h5" for name in ("a", "b", "c")}
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        make_test_dataset(
            paths[name], mnist=mnist_spec, mode="pool", colors=colour_spec(), seed=seed, config_slice={"mode": "pool"},
            threads=1,
        )
    a, b, c = (read_split(paths[name], "test") for name in ("a", "b", "c"))
    for field in ("images", "labels", "source_index", "bg_color", "bg_mode"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert paths["a"].read_bytes() == paths["b"].read_bytes()
    assert np.array_equal(a.labels, c.labels) and np.array_equal(a.source_index, c.source_index)
    assert (a.bg_color != c.bg_color).any(axis=1).mean() > 0.5
    assert read_attributes(paths["c"])["seed"] == 1
