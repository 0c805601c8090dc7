"""Experiments are isolated: each writes under results/<name>/ only, a change to one overlay reruns and rewrites
nothing of another, and no run writes into the tracked tree."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import AS_COPIED, clone_run, file_digests, run_snakemake
from bgbias.config import ConfigError
from bgbias.experiments import load_experiments
from bgbias.grid import TABLES
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


@pytest.mark.parametrize("name", ["all", "logs", "benchmarks", "tables", "figures", "s0", "s12"])
def test_experiments_and_setups_named_after_a_fixed_folder_are_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / f"{name}.yaml").write_text("description: x\n")
    with pytest.raises(ConfigError, match=rf"name '{name}' is not allowed; allowed: .*not a folder name of the layout"):
        load_experiments(tmp_path, {}, {})
    (tmp_path / f"{name}.yaml").unlink()
    (tmp_path / "mine.yaml").write_text(f"setups:\n  {name}: {{}}\n  fine: {{}}\n")
    with pytest.raises(ConfigError, match=rf"setups \['{name}', 'fine'\] is not allowed"):
        load_experiments(tmp_path, {}, {})


@pytest.mark.parametrize("overlay", ["mnist: {mirror: /elsewhere}\n", "setups:\n  a: {mnist: {md5: {}}}\n"])
def test_an_experiments_mnist_source_is_refused(tmp_path: Path, overlay: str) -> None:
    (tmp_path / "mine.yaml").write_text(overlay)
    with pytest.raises(ConfigError, match=r"mnist\.(mirror|md5) is not allowed in an experiment: every experiment reads"):
        load_experiments(tmp_path, {}, {})


def test_an_alias_bomb_is_refused_within_seconds(tmp_path: Path) -> None:
    """Nine levels of nine aliases (9^9 = 387 million values once expanded) under description."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    (tmp_path / "bomb.yaml").write_text("description:\n" + "".join(f"  {line}\n" for line in lines))
    started = time.perf_counter()
    with pytest.raises(ConfigError, match=r"bomb.yaml: its YAML aliases expand to more than 100,000 values"):
        load_experiments(tmp_path, {}, {})
    assert time.perf_counter() - started < 5
    (tmp_path / "bomb.yaml").write_text("a: &a [*a]\n")
    with pytest.raises(ConfigError, match=r"an alias refers to a node that contains it"):
        load_experiments(tmp_path, {}, {})


def test_claims_are_declared_in_the_experiment_files(tmp_path: Path) -> None:
    """A setup's claims block overrides the experiment's column; published names a table of the registry."""
    (tmp_path / "mine.yaml").write_text(
        "claims: {column: whole, published: rebias}\n"
        "setups:\n  a: {claims: {column: first, original_run: true}}\n  b: {}\n"
    )
    experiment = load_experiments(tmp_path, {}, {})["mine"]
    assert experiment.published == "rebias"
    assert [(run.claims_column, run.beside_original_run) for run in experiment.runs.values()] == [
        ("first", True), ("whole", False)]
    (tmp_path / "mine.yaml").write_text("claims: {published: lff}\n")
    with pytest.raises(ConfigError, match=r"claims.published 'lff' is not allowed; allowed: rebias"):
        load_experiments(tmp_path, {}, {})
    (tmp_path / "mine.yaml").write_text("setups:\n  a: {claims: {published: rebias}}\n")
    with pytest.raises(ConfigError, match=r"setups.a.claims \{'published': 'rebias'\} is not allowed; allowed: a "
                                          r"mapping of column \(a name\), original_run \(true or false\)$"):
        load_experiments(tmp_path, {}, {})


def test_no_experiment_is_named_in_the_rules() -> None:
    """What feeds the claims document comes from the experiment files: no experiment's name is a literal in a rule
    (a table of the same name, e.g. `methods`, is the registry's)."""
    root = Path(__file__).resolve().parents[1]
    names = [path.stem for path in (root / "experiments").glob("*.yaml") if path.stem not in TABLES]
    assert "study" in names and "rebias" in names
    for source in [root / "Snakefile", *(root / "rules").glob("*.smk")]:
        text = source.read_text()
        assert not [name for name in names if f'"{name}"' in text or f"'{name}'" in text], source
