"""Experiments are isolated: each writes under results/<name>/ only, a change to one overlay reruns and rewrites
nothing of another, and no run writes into the tracked tree."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import AS_COPIED, clone_run, file_digests, run_snakemake
from bgbias.storage import read_attributes

UNTRACKED = ("results", "resources", ".snakemake", "__pycache__")  # .gitignore's run folders


def test_a_finished_run_writes_nothing_into_the_tracked_tree(finished_run: Path) -> None:
    """Every file of the run's folder outside the ignored run folders is the copied workflow's, byte for byte."""
    as_copied = json.loads((finished_run.parent / AS_COPIED).read_text())
    after = {
        path: digest for path, digest in file_digests(finished_run).items()
        if not set(Path(path).parts) & set(UNTRACKED)
    }
    assert len(after) > 50, "the copy holds the workflow"
    assert after == {path: digest for path, digest in as_copied.items() if not set(Path(path).parts) & set(UNTRACKED)}


def test_changing_one_overlay_leaves_the_other_experiments_untouched(finished_run: Path, tmp_path: Path) -> None:
    run = clone_run(finished_run, tmp_path / "run")
    second = run / "experiments/second.yaml"
    second.write_text("description: a second experiment\nbias: {correlation: 0.9}\n")
    target = "results/second/s0/datasets/biased.h5"
    run_snakemake(run, target, "--cores", "2")
    assert read_attributes(run / target)["config"]["bias"]["correlation"] == 0.9
    initial = file_digests(run / "results/initial")

    second.write_text("description: a second experiment\nbias: {correlation: 0.8}\n")
    assert "Nothing to be done" in run_snakemake(run, "results/all", "-n").stdout  # initial's jobs stay done
    run_snakemake(run, target, "--cores", "2")
    assert read_attributes(run / target)["config"]["bias"]["correlation"] == 0.8
    assert file_digests(run / "results/initial") == initial  # nothing of initial rewritten

    overlay = run / "experiments/initial.yaml"
    overlay.write_text(overlay.read_text() + "bias: {correlation: 0.95}\n")
    rebuilt = run_snakemake(run, target, "-n").stdout
    assert "Nothing to be done" in rebuilt, rebuilt  # the second experiment does not follow initial's overlay
    assert "results/initial/s0/datasets/biased.h5" in run_snakemake(run, "results/all", "-n").stdout
