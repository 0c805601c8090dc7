"""Integrity of a finished run: bgbias verify, missing outputs rebuilt, provenance by content (a mirror elsewhere, a
moved checkout), parse-time refusals and one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bgbias.models import load_checkpoint
from bgbias.provenance import IntegrityError
from bgbias.storage import read_json
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
    assert planned_jobs(workdir, "results/all") == {"rebuild_missing": 1, "evaluate_initial": 1, "all": 1}
    run_snakemake(workdir, "results/all", "--cores", "2")
    assert deleted.read_bytes() == before
    # its consumers (tables, confusion figures) and the manifest saw the same content: they stay as they are
    assert planned_jobs(workdir, "results/all") == {}
    assert verify(workdir, "results/initial").returncode == 0


KILLED_WRITER = """
import os, signal, sys
from bgbias.storage import atomic_path
with atomic_path(sys.argv[1]) as partial:
    partial.write_bytes(b"half")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_jobs_leftover_is_reported_with_its_fix_and_removed_when_its_output_is_rebuilt(
    finished_run: Path, tmp_path: Path
) -> None:
    workdir = clone_run(finished_run, tmp_path / "run")
    output = workdir / "results/initial/s0/eval/base/noise.json"
    for path in (output, Path(f"{output}.sha256")):
        path.unlink()
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(output)], env={**os.environ, "PYTHONPATH": str(workdir)}, timeout=60
    )
    assert killed.returncode == -signal.SIGKILL
    (leftover,) = output.parent.glob(".*.partial")
    shown = leftover.relative_to(workdir)
    checked = verify(workdir, "results")
    assert checked.returncode == 1
    assert f"leftover: {shown} is a killed job's temporary file, safe to delete once no job is running: rm {shown}" in (
        checked.stdout.splitlines()
    )
    run_snakemake(workdir, "results/all", "--cores", "2")
    assert output.is_file() and not leftover.exists()


BASE = "results/initial/s0/models/base.pt"
PAIRED = "results/initial/s0/models/paired-pool-f1.pt"
MISPLACED = (
    "misplaced: {path} holds the artifact recorded as {recorded}: an artifact copied or linked into another's place; "
    "delete it and its .sha256 and rerun"
)


@pytest.mark.parametrize("how", ["copied", "linked"])
def test_an_artifact_copied_or_linked_into_anothers_place_is_refused_by_name(
    finished_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    workdir = clone_run(finished_run, tmp_path / "run")
    for suffix in ("", ".sha256"):
        (workdir / (BASE + suffix)).unlink()
        if how == "copied":
            shutil.copy2(workdir / (PAIRED + suffix), workdir / (BASE + suffix))
        else:
            (workdir / (BASE + suffix)).symlink_to(Path(PAIRED + suffix).name)
    checked = verify(workdir, "results/initial")
    assert checked.returncode == 1
    assert MISPLACED.format(path=BASE, recorded="initial/s0/models/paired-pool-f1.pt") in checked.stdout.splitlines()
    monkeypatch.chdir(workdir)
    with pytest.raises(IntegrityError, match=f"^{BASE} holds the artifact recorded as {PAIRED.removeprefix('results/')}"):
        load_checkpoint(Path(BASE))


def test_two_metrics_swapped_with_their_records_are_refused_by_name(
    finished_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = clone_run(finished_run, tmp_path / "run")
    pool, noise = (workdir / f"results/initial/s0/eval/base/{name}.json" for name in ("pool", "noise"))
    for suffix in ("", ".sha256"):
        swap = pool.with_name("swap")
        Path(str(pool) + suffix).rename(swap)
        Path(str(noise) + suffix).rename(Path(str(pool) + suffix))
        swap.rename(Path(str(noise) + suffix))
    lines = verify(workdir, "results/initial").stdout.splitlines()
    for path, other in ((pool, noise), (noise, pool)):
        shown, recorded = path.relative_to(workdir), other.relative_to(workdir / "results")
        assert MISPLACED.format(path=shown, recorded=recorded) in lines
    monkeypatch.chdir(workdir)
    with pytest.raises(IntegrityError, match="holds the artifact recorded as initial/s0/eval/base/noise.json"):
        read_json(pool.relative_to(workdir))


def test_a_moved_checkout_still_verifies(finished_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    moved = clone_run(finished_run, tmp_path / "somewhere" / "else" / "checkout")
    checked = verify(moved, "results")
    assert checked.returncode == 0 and checked.stdout.strip().endswith("files checked: all verified"), checked.stdout
    record = json.loads((moved / (BASE + ".sha256")).read_text())
    assert record["file"] == "initial/s0/models/base.pt"
    monkeypatch.chdir(moved / "results/initial/s0")
    load_checkpoint(Path("models/base.pt"))


UNFINISHED = (
    "unfinished: results/initial is a run that did not finish (stopped, or still running): its manifest results/all "
    "is missing; finish it with `snakemake --cores all results/all` (with the --configfile and --config it was started "
    "with), then verify again"
)


def test_a_run_without_its_manifest_is_not_finished(finished_run: Path, tmp_path: Path) -> None:
    workdir = clone_run(finished_run, tmp_path / "run")
    for name in ("results/all", "results/all.sha256"):
        (workdir / name).unlink()
    for folder in ("results", "results/initial", "results/initial/s0/models"):
        checked = verify(workdir, folder)
        assert checked.returncode == 1 and "all verified" not in checked.stdout
        assert [line for line in checked.stdout.splitlines() if not line[0].isdigit()] == [UNFINISHED], checked.stdout
    assert verify(workdir, BASE).returncode == 0  # a file asked about on its own: its own check only


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
