"""Integrity of a finished run: bgbias verify, missing outputs rebuilt, provenance by content (a mirror elsewhere, a
moved checkout), parse-time refusals and one-line errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MINI_MNIST, clone_run, run_snakemake
from test_workflow import planned_jobs

pytestmark = pytest.mark.workflow


def verify(workdir: Path, *paths: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bgbias.cli", "verify", *paths], cwd=workdir, capture_output=True, text=True
    )


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_verify_a_finished_run_then_one_flipped_byte(finished_run: Path, tmp_path: Path) -> None:
    clean = verify(finished_run, "results/initial")
    assert clean.returncode == 0 and clean.stdout.strip().endswith("files checked: all verified"), clean.stdout
    workdir = clone_run(finished_run, tmp_path / "run")
    flip(workdir / "results/initial/s0/models/paired-pool-f1.pt")
    damaged = verify(workdir, "results/initial")
    assert damaged.returncode == 1
    lines = damaged.stdout.splitlines()
    assert [line for line in lines if line.startswith("corrupt:")] == [
        "corrupt: results/initial/s0/models/paired-pool-f1.pt is corrupt or was edited: its SHA-256 is "
        + lines[[line.startswith("corrupt:") for line in lines].index(True)].split("its SHA-256 is ", 1)[1]
    ]
    stale = [line for line in lines if line.startswith("stale:")]
    assert stale and all("paired-pool-f1.pt, which fails its own check" in line for line in stale)
    (workdir / "results/initial/s0/eval/base/pool.json").unlink()
    missing = verify(workdir, "results").stdout
    assert "missing: results/initial/s0/eval/base/pool.json (listed in results/all)" in missing


def test_a_deleted_intermediate_output_is_rebuilt_and_nothing_else(finished_run: Path, tmp_path: Path) -> None:
    workdir = clone_run(finished_run, tmp_path / "run")
    deleted = workdir / "results/initial/s0/eval/base/pool.json"
    before = deleted.read_bytes()
    deleted.unlink()
    assert planned_jobs(workdir, "results/all") == {"evaluate_initial": 1, "all": 1}
    run_snakemake(workdir, "results/all", "--cores", "2")
    assert deleted.read_bytes() == before
    # its consumers (tables, confusion figures) saw the same content: they stay as they are
    assert planned_jobs(workdir, "results/all") == {"all": 1}  # the manifest goes back to listing every output
    run_snakemake(workdir, "results/all", "--cores", "1")
    assert planned_jobs(workdir, "results/all") == {}
    assert verify(workdir, "results/initial").returncode == 0


def test_leftover_temporary_files_are_removed_by_the_next_run(finished_run: Path, tmp_path: Path) -> None:
    workdir = clone_run(finished_run, tmp_path / "run")
    leftover = workdir / "results/initial/s0/models/.paired-pool-f1.pt.12345.partial"
    leftover.write_bytes(b"half")
    assert "leftover: results/initial/s0/models/.paired-pool-f1.pt.12345.partial" in verify(workdir, "results").stdout
    (workdir / "results/initial/s0/eval/base/noise.json").unlink()
    run_snakemake(workdir, "results/all", "--cores", "2")
    assert not leftover.exists()


def test_mirror_elsewhere_or_a_typo_reruns_nothing_and_deletes_nothing(finished_run: Path, tmp_path: Path) -> None:
    elsewhere = shutil.copytree(MINI_MNIST, tmp_path / "another" / "mirror")
    assert planned_jobs(finished_run, "results/all", "--config", f"mnist={{mirror: {elsewhere}}}") == {}
    typo = run_snakemake(finished_run, "results/all", "--cores", "1", "--config", "mnist={mirror: /nonexistent}")
    assert "Nothing to be done" in typo.stdout + typo.stderr
    assert all((finished_run / "resources/mnist/MNIST/raw" / name).is_file() for name in (
        "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"))
    assert planned_jobs(finished_run, "results/all") == {}


def test_a_moved_checkout_reruns_nothing(finished_run: Path, tmp_path: Path) -> None:
    moved = clone_run(finished_run, tmp_path / "somewhere" / "else" / "checkout")
    assert planned_jobs(moved, "results/all") == {}


@pytest.mark.parametrize("override, message", [
    ("paired={copies: 100000}", "config key paired.copies: 100000 is not allowed as paired training would hold about"),
    ("test_modes=[]", "config key test_modes: [] is not allowed with colour_tests []"),
    ("mnist={test_size: 500}", "config key mnist.test_size: 500 is not allowed: the test split of "
                               "resources/mnist/MNIST/raw holds 300 images; allowed: null or at most 300"),
    ("device=cuda", "config key device: 'cuda' is not allowed here: no CUDA GPU is visible; allowed: auto or cpu"),
])
def test_run_time_conditions_are_refused_before_any_job(finished_run: Path, override: str, message: str) -> None:
    overrides = [override, "colour_tests=[]"] if override.startswith("test_modes") else [override]
    refused = run_snakemake(finished_run, "results/all", "-n", "--config", *overrides, check=False)
    assert refused.returncode != 0 and message in refused.stdout + refused.stderr
