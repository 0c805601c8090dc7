"""The bgbias command line runs the stages without Snakemake."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import pytest
import yaml

from bgbias.cli import main


def test_cli_runs_fetch_generate_train_evaluate_plot(mini_mnist: Path, tiny_config: dict, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    tiny_config["train"] = {"epochs": 1, "patience": 1}
    config.write_text(yaml.safe_dump(tiny_config))
    raw = tmp_path / "raw"
    common = ["--config", str(config)]
    assert main(["fetch-mnist", "--raw", str(raw), "--mirror", str(mini_mnist), *common]) == 0
    assert main(["generate", "biased", "--raw", str(raw), "--out", str(tmp_path / "biased.h5"), *common]) == 0
    assert main(["generate", "test", "--mode", "pool", "--raw", str(raw), "--out", str(tmp_path / "pool.h5"), *common]) == 0
    assert main(["train", "--data", str(tmp_path / "biased.h5"), "--out", str(tmp_path / "base.pt"), *common]) == 0
    assert (tmp_path / "base.csv").is_file()
    metrics = tmp_path / "metrics.json"
    assert main(["evaluate", "--model", str(tmp_path / "base.pt"), "--data", str(tmp_path / "pool.h5"), "--out", str(metrics), *common]) == 0
    assert json.loads(metrics.read_text())["n"] == 300
    assert main(["plot", "confusion", "--input", str(metrics), "--out", str(tmp_path / "cm.png")]) == 0
    assert (tmp_path / "cm.png").read_bytes()[:4] == b"\x89PNG"
    with h5py.File(tmp_path / "pool.h5", "r") as handle:
        assert handle["test/images"].shape == (300, 28, 28, 3)


def test_cli_reports_bad_input_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit, match=r"bgbias: config file .*missing.yaml does not exist"):
        main(["train", "--config", str(tmp_path / "missing.yaml"), "--data", "x.h5", "--out", "y.pt"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: {epochs: 0}\n")
    with pytest.raises(SystemExit, match=r"config key train.epochs: 0 is not allowed; allowed: integer >= 1"):
        main(["train", "--config", str(bad), "--data", "x.h5", "--out", "y.pt"])
    with pytest.raises(SystemExit, match=r"cannot read dataset file .*nothing.h5"):
        main(["train", "--data", str(tmp_path / "nothing.h5"), "--out", str(tmp_path / "y.pt")])
