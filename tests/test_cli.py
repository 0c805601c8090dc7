"""The bgbias command line runs the stages without Snakemake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

from bgbias.cli import main
from conftest import TINY_CONFIG


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder, so that no ./config.yaml is picked up."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_runs_every_stage(mini_mnist: Path, in_tmp: Path) -> None:
    common = ["--configfile", str(TINY_CONFIG), "--config", "train={epochs: 1}", "paired={train: {epochs: 1}, copies: 2}"]
    assert main(["fetch-mnist", "--raw", "raw", "--mirror", str(mini_mnist), *common]) == 0
    assert main(["generate", "biased", "--raw", "raw", "--out", "biased.h5", *common]) == 0
    assert main(["generate", "test", "--mode", "noise", "--raw", "raw", "--out", "noise.h5", *common]) == 0
    assert main(["generate", "paired", "--biased", "biased.h5", "--raw", "raw", "--out", "paired.h5", *common]) == 0
    assert main(["train", "--data", "biased.h5", "--out", "base.pt", *common]) == 0
    assert main(["paired-train", "--base", "base.pt", "--data", "paired.h5", "--out", "paired.pt", *common]) == 0
    assert (in_tmp / "base.csv").is_file() and (in_tmp / "paired.csv").is_file()
    assert main(["evaluate", "--model", "paired.pt", "--data", "noise.h5", "--out", "metrics.json", *common]) == 0
    metrics = json.loads((in_tmp / "metrics.json").read_text())
    assert metrics["n"] == 300 and metrics["model_name"] == "paired" and metrics["test_set_name"] == "noise"
    assert main(["plot", "confusion", "--input", "metrics.json", "--out", "cm.png"]) == 0
    assert main(["plot", "samples", "--input", "paired.h5", "--out", "samples.png"]) == 0
    for png in ("cm.png", "samples.png"):
        assert (in_tmp / png).read_bytes()[:4] == b"\x89PNG"
    with h5py.File(in_tmp / "paired.h5", "r") as handle:
        assert handle["train/alt_images"].shape[1] == 2


def test_cli_runs_the_adversarial_stages(mini_mnist: Path, in_tmp: Path) -> None:
    common = ["--configfile", str(TINY_CONFIG), "--config", "adversarial={train: {epochs: 1}}"]
    assert main(["fetch-mnist", "--raw", "raw", "--mirror", str(mini_mnist), *common]) == 0
    assert main(["generate", "grey", "--raw", "raw", "--out", "grey.h5", *common]) == 0
    assert main(["train", "--grey", "--data", "grey.h5", "--out", "grey.pt", *common]) == 0
    assert main(["attack", "--model", "grey.pt", "--grey", "grey.h5", "--attack", "fgsm-0.2", "--out", "fgsm.h5", *common]) == 0
    with h5py.File(in_tmp / "fgsm.h5", "r") as handle:
        test = handle["test"]
        assert test["images"].ndim == 3 and len(test["images"]) == len(test["labels"]) > 0


def test_cli_reports_bad_input_in_one_line(in_tmp: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--configfile", "missing.yaml", "--data", "x.h5", "--out", "y.pt"]) == 2
    assert capsys.readouterr().err.endswith("bgbias train: config file missing.yaml does not exist\n")
    assert main(["train", "--config", "train={epochs: 0}", "--data", "x.h5", "--out", "y.pt"]) == 2
    assert "bgbias train: config key train.epochs: 0 is not allowed" in capsys.readouterr().err
    assert main(["train", "--data", "nothing.h5", "--out", "y.pt"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("bgbias train: ") and "nothing.h5" in last


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- 1\n- 2\n", "[1, 2] is not allowed; allowed: a mapping of config keys"),
        ("train:\n\tepochs: 1\n", "is not valid YAML: while scanning for the next token found character '\\t'"),
    ],
)
def test_cli_refuses_a_config_file_that_is_not_a_mapping(
    in_tmp: Path, capsys: pytest.CaptureFixture, text: str, message: str
) -> None:
    (in_tmp / "broken.yaml").write_text(text)
    assert main(["plan", "--configfile", "broken.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bgbias plan: config file broken.yaml") and message in err, err


def test_help_and_generate_import_neither_torch_nor_matplotlib(mini_mnist: Path, in_tmp: Path) -> None:
    """Data jobs and `bgbias generate` start without torch or matplotlib (the throughput issue's whole-process goal)."""
    probe = (
        "import sys\n"
        "from bgbias.cli import main\n"
        f"codes = [main(['fetch-mnist', '--raw', 'raw', '--mirror', {str(mini_mnist)!r}, '--configfile', {str(TINY_CONFIG)!r}]),\n"
        f"         main(['generate', 'biased', '--raw', 'raw', '--out', 'b.h5', '--configfile', {str(TINY_CONFIG)!r}]),\n"
        f"         main(['generate', 'test', '--mode', 'noise', '--raw', 'raw', '--out', 't.h5', '--configfile', {str(TINY_CONFIG)!r}])]\n"
        "print(codes, sorted({name.split('.')[0] for name in sys.modules} & {'torch', 'torchvision', 'matplotlib'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=in_tmp, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[0, 0, 0] []"
    help_text = subprocess.run([sys.executable, "-m", "bgbias.cli", "--help"], capture_output=True, text=True)
    assert help_text.returncode == 0 and "generate" in help_text.stdout
