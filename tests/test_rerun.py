"""One `results/all` after a deleted output, with or without a changed parameter, leaves nothing stale: what was
missing is rebuilt first, then every output is judged again (parameters, code, inputs by checksum)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from conftest import clone_run, run_snakemake
from test_workflow import planned_jobs

ROOT = "results/initial/s0"


def verify(workdir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bgbias.cli", "verify", "results/initial"], cwd=workdir,
                          capture_output=True, text=True)


def test_a_deleted_figure_and_a_changed_parameter_rebuild_both_in_one_run(finished_run: Path, tmp_path: Path) -> None:
    workdir = clone_run(finished_run, tmp_path / "run")
    (workdir / ROOT / "figures/samples/biased.png").unlink()
    run_snakemake(workdir, "results/all", "--cores", "2", "--config", "paired={train: {lr: 0.01}}")
    assert (workdir / ROOT / "figures/samples/biased.png").is_file()
    checkpoint = torch.load(workdir / ROOT / "models/paired-pool-f1.pt", weights_only=True)
    assert checkpoint["config"]["paired"]["train"]["lr"] == 0.01  # not left at 0.001 behind the rebuilt figure
    assert planned_jobs(workdir, "results/all", "--config", "paired={train: {lr: 0.01}}") == {}
    assert verify(workdir).returncode == 0


def test_a_deleted_history_is_rebuilt_byte_for_byte_and_its_consumers_stay(finished_run: Path, tmp_path: Path) -> None:
    workdir = clone_run(finished_run, tmp_path / "run")
    history = workdir / ROOT / "models/base.csv"
    before = history.read_bytes()
    curve = (workdir / ROOT / "figures/training/base.png").stat().st_mtime_ns
    history.unlink()
    assert planned_jobs(workdir, "results/all") == {"rebuild_missing": 1, "train_base": 1, "all": 1}
    run_snakemake(workdir, "results/all", "--cores", "2")
    assert history.read_bytes() == before  # no wall-clock times in a history
    assert (workdir / ROOT / "figures/training/base.png").stat().st_mtime_ns == curve
    assert planned_jobs(workdir, "results/all") == {}
    checked = verify(workdir)
    assert checked.returncode == 0, checked.stdout
