"""Hard interruptions: SIGKILL the whole workflow mid-stage, rerun, and get what an uninterrupted run gets.

After a SIGKILL Snakemake's directory lock stays behind, so the rerun is `snakemake --unlock`
followed by the same command (Snakemake's own advice); the profile's `rerun-incomplete`
redoes any job Snakemake had marked incomplete.
"""

from __future__ import annotations

import gzip
import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bgbias.mnist import read_idx
from bgbias.storage import atomic_path, read_split, stale_partials
from conftest import MINI_MNIST, copy_workflow, run_snakemake
from workflow_helpers import (
    METRICS, TRAINING, assert_same_results, kill_group, partials, prepare, reference_run, start_snakemake, wait_until,
)

TILES = 40  # 40 x 600 = 24,000 training images: writing the biased HDF5 file takes long enough to catch
BIASED = "results/initial/s0/datasets/biased.h5"

OUTPUTS = ("initial/s0/datasets/**/*.h5", "initial/s0/models/*.pt", "initial/s0/models/*.csv", "initial/s0/eval/**/*.json")


def write_idx(path: Path, array: np.ndarray) -> None:
    """An MNIST IDX file, gzip-compressed."""
    magic = (0x08 << 8 | array.ndim).to_bytes(4, "big")
    header = magic + b"".join(n.to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb", compresslevel=1) as handle:
        handle.write(header + np.ascontiguousarray(array, np.uint8).tobytes())


KILLED_WRITER = """
import os, signal, sys
from bgbias.storage import atomic_path
with atomic_path(sys.argv[1]) as partial:
    partial.write_bytes(b"half")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_killed_writer_leaves_only_its_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "data.h5"
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target)], timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert not target.exists()
    (left,) = stale_partials(target)
    assert left.name.startswith(".data.h5.") and left.read_bytes() == b"half"
    with atomic_path(target) as partial:
        partial.write_bytes(b"complete")
    assert target.read_bytes() == b"complete" and stale_partials(target) == []


def test_failed_writer_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "metrics.json"
    with pytest.raises(RuntimeError), atomic_path(target) as partial:
        partial.write_text("{")
        raise RuntimeError("stage failed")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def tiled_mirror(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An MNIST mirror with the mini training images repeated 40 times, and its config slice."""
    folder = tmp_path_factory.mktemp("tiled-mnist")
    for kind in ("images-idx3", "labels-idx1"):
        train = read_idx(MINI_MNIST / f"train-{kind}-ubyte.gz")
        write_idx(folder / f"train-{kind}-ubyte.gz", np.concatenate([train] * TILES))
        write_idx(folder / f"t10k-{kind}-ubyte.gz", read_idx(MINI_MNIST / f"t10k-{kind}-ubyte.gz"))
    md5 = {path.name: hashlib.md5(path.read_bytes()).hexdigest() for path in folder.iterdir()}
    return {"mnist": {"mirror": str(folder), "md5": md5, "dev_size": 100}}


@pytest.mark.workflow
def test_kill_during_dataset_generation(tmp_path: Path, tiled_mirror: dict) -> None:
    reference = prepare(copy_workflow(tmp_path / "reference"), tiled_mirror)
    run_snakemake(reference, "--cores", "2", BIASED)

    workdir = prepare(copy_workflow(tmp_path / "killed"), tiled_mirror)
    biased = workdir / BIASED
    run = start_snakemake(workdir, "--cores", "2", BIASED)
    wait_until(lambda: any(p.name.startswith(".biased.h5.") for p in partials(workdir)), run, "biased.h5 being written")
    kill_group(run)
    time.sleep(1)
    left = [p.name for p in partials(workdir)]
    assert any(name.startswith(".biased.h5.") for name in left), left
    assert not biased.exists(), "a half-written dataset was given the final name"

    plain_rerun = run_snakemake(workdir, "--cores", "2", BIASED, check=False)
    assert plain_rerun.returncode != 0 and "--unlock" in plain_rerun.stdout + plain_rerun.stderr
    run_snakemake(workdir, "--unlock")
    run_snakemake(workdir, "--cores", "2", BIASED)

    assert partials(workdir) == []
    assert len(read_split(biased, "train")) == 600 * TILES - 100
    assert assert_same_results(reference, workdir, ("initial/s0/datasets/*.h5",)) == [BIASED]


@pytest.mark.workflow
def test_kill_during_training(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Three epochs, no early stop: killed after the first epoch is logged, the rerun trains from scratch."""
    reference = reference_run(tmp_path_factory)
    workdir = prepare(copy_workflow(tmp_path / "killed"), TRAINING)
    log = workdir / "results/initial/logs/s0/models/base.log"
    run = start_snakemake(workdir, "--cores", "2", METRICS)
    wait_until(lambda: log.is_file() and "epoch 1/3" in log.read_text(), run, "the first training epoch")
    kill_group(run)
    time.sleep(1)
    assert "epoch 3/3" not in log.read_text()
    assert not (workdir / "results/initial/s0/models/base.pt").exists()
    assert not (workdir / METRICS).exists()

    run_snakemake(workdir, "--unlock")
    run_snakemake(workdir, "--cores", "2", METRICS)

    assert partials(workdir) == []
    assert "epoch 3/3" in log.read_text()
    compared = assert_same_results(
        reference, workdir, OUTPUTS
    )
    assert METRICS in compared


def killed_and_recovered(tmp_path: Path, override: dict, target: str, when) -> Path:
    """Build `target` once uninterrupted and once killed (SIGKILL to the whole group) as soon as `when(workdir)`,
    then `--unlock` and the plain command again; returns the recovered workdir after comparing the two."""
    reference = prepare(copy_workflow(tmp_path / "reference"), override)
    run_snakemake(reference, "--cores", "2", target)
    workdir = prepare(copy_workflow(tmp_path / "killed"), override)
    run = start_snakemake(workdir, "--cores", "2", target)
    wait_until(lambda: when(workdir), run, f"the job of {target} at work")
    kill_group(run)
    time.sleep(1)
    assert not (workdir / target).exists(), "a killed job's output was given its final name"
    run_snakemake(workdir, "--unlock")
    run_snakemake(workdir, "--cores", "2", target)
    assert partials(workdir) == []
    assert assert_same_results(reference, workdir, (target.removeprefix("results/"),)) == [target]
    verified = subprocess.run([sys.executable, "-m", "bgbias.cli", "verify", target], cwd=workdir, capture_output=True,
                              text=True)
    assert verified.returncode == 0, verified.stdout
    return workdir


@pytest.mark.workflow
def test_kill_during_paired_dataset(tmp_path: Path, tiled_mirror: dict) -> None:
    target = "results/initial/s0/datasets/paired/pool-f1.h5"
    killed_and_recovered(
        tmp_path, tiled_mirror, target, lambda workdir: any(p.name.startswith(".pool-f1.h5.") for p in partials(workdir))
    )


@pytest.mark.workflow
def test_kill_during_paired_train(tmp_path: Path) -> None:
    log = "results/initial/logs/s0/models/paired-pool-f1.log"
    killed_and_recovered(
        tmp_path, {"paired": {"train": {"epochs": 3, "patience": 3}}}, "results/initial/s0/models/paired-pool-f1.pt",
        lambda workdir: (workdir / log).is_file() and "epoch 1/3" in (workdir / log).read_text(),
    )


@pytest.mark.workflow
def test_kill_during_attack(tmp_path: Path) -> None:
    killed_and_recovered(
        tmp_path, {"adversarial": {"cw_steps": 400, "cw_abort_early": False}}, "results/initial/s0/adversarial/sets/cw-5.h5",
        lambda workdir: any(p.name.startswith(".cw-5.h5.") for p in partials(workdir)),
    )
