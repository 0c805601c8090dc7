"""Experiments are isolated: each writes under results/<name>/ only, a change to one overlay reruns and rewrites
nothing of another, and no run writes into the tracked tree."""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import REPO, clone_run, run_snakemake
from bgbias.storage import read_attributes

UNTRACKED = ("results", "resources", ".snakemake", "__pycache__")  # .gitignore's run folders


def digests(folder: Path) -> dict[Path, str]:
    return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_a_finished_run_writes_nothing_into_the_tracked_tree(finished_run: Path) -> None:
    """Every file of the run's folder outside the ignored run folders is a byte-identical copy of the checkout's."""
    written = [
        path.relative_to(finished_run) for path in finished_run.rglob("*")
        if path.is_file() and not set(path.relative_to(finished_run).parts) & set(UNTRACKED)
    ]
    assert written, "the copy holds the workflow"
    changed = [str(path) for path in written if not (REPO / path).is_file() or (REPO / path).read_bytes() != (finished_run / path).read_bytes()]
    assert changed == []


def test_changing_one_overlay_leaves_the_other_experiments_untouched(finished_run: Path, tmp_path: Path) -> None:
    run = clone_run(finished_run, tmp_path / "run")
    second = run / "experiments/second.yaml"
    second.write_text("description: a second experiment\nbias: {correlation: 0.9}\n")
    target = "results/second/s0/datasets/biased.h5"
    run_snakemake(run, target, "--cores", "2")
    assert read_attributes(run / target)["config"]["bias"]["correlation"] == 0.9
    initial = digests(run / "results/initial")

    second.write_text("description: a second experiment\nbias: {correlation: 0.8}\n")
    assert "Nothing to be done" in run_snakemake(run, "results/all", "-n").stdout  # initial's jobs stay done
    run_snakemake(run, target, "--cores", "2")
    assert read_attributes(run / target)["config"]["bias"]["correlation"] == 0.8
    assert digests(run / "results/initial") == initial  # nothing of initial rewritten

    overlay = run / "experiments/initial.yaml"
    overlay.write_text(overlay.read_text() + "bias: {correlation: 0.95}\n")
    rebuilt = run_snakemake(run, target, "-n").stdout
    assert "Nothing to be done" in rebuilt, rebuilt  # the second experiment does not follow initial's overlay
    assert "results/initial/s0/datasets/biased.h5" in run_snakemake(run, "results/all", "-n").stdout
