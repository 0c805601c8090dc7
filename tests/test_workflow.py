"""The Snakemake workflow: dry-run, lint, command-line overrides and a tiny end-to-end run."""

from __future__ import annotations

import json
import subprocess
import re
from modulefinder import ModuleFinder
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from conftest import copy_workflow, run_snakemake
from bgbias.models import load_checkpoint
from bgbias.stages import STAGES

pytestmark = pytest.mark.workflow


def planned_jobs(workdir: Path, *args: str) -> dict[str, int]:
    """Rule -> number of jobs of a dry-run (empty when nothing is to be done)."""
    output = run_snakemake(workdir, "-n", *args).stdout
    if "Job stats:" not in output:
        return {}
    table = output.split("Job stats:")[1].split("\n\n")[0].splitlines()[3:]
    return {rule: int(count) for rule, count in (line.split() for line in table) if rule != "total"}


def test_one_figure_target_builds_only_what_it_needs(workflow_dir: Path) -> None:
    """One model's figures: its training and one evaluation job, which evaluates it on the run's 3 test sets."""
    jobs = planned_jobs(workflow_dir, "results/initial/s0/figures/confusion/base/noise.png")
    assert jobs == {
        "mnist": 1, "biased_dataset": 1, "test_dataset": 3, "train_base": 1, "evaluate_initial": 1,
        "confusion_figures_initial": 1,
    }


def test_dry_run_lists_the_initial_setup(workflow_dir: Path) -> None:
    result = run_snakemake(workflow_dir, "results/all", "-n", "--quiet", "rules")
    for rule in (
        "mnist", "biased_dataset", "test_dataset", "paired_dataset", "sample_grids_initial", "train_base", "paired_train",
        "evaluate_initial", "confusion_figures_initial", "accuracy_table", "per_colour_table", "fraction_table",
        "summary_table", "all",
    ):
        assert rule in result.stdout


def test_lint_is_clean(workflow_dir: Path) -> None:
    result = run_snakemake(workflow_dir, "--lint")
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_nested_override_from_the_command_line(workflow_dir: Path) -> None:
    result = run_snakemake(
        workflow_dir, "results/initial/s0/models/base.pt", "-n", "--printshellcmds", "--config", "train={epochs: 3, lr: 0.01}"
    )
    assert "train_base" in result.stdout
    bad = run_snakemake(workflow_dir, "-n", "--config", "train={epochs: 0}", check=False)
    assert bad.returncode != 0
    assert "config key train.epochs: 0 is not allowed; allowed: an integer >= 1" in bad.stdout + bad.stderr


def test_tiny_end_to_end_run(finished_run: Path) -> None:
    workflow_dir = finished_run
    results = workflow_dir / "results"
    listed = [line.split("\t")[1] for line in (results / "all").read_text().splitlines()]
    assert listed and all((workflow_dir / path).is_file() for path in listed)

    with h5py.File(results / "initial/s0/datasets/biased.h5", "r") as handle:
        assert set(handle) == {"train", "dev"}
        assert handle["train/images"].shape == (500, 28, 28, 3)
        assert handle["dev/images"].shape == (100, 28, 28, 3)
        assert json.loads(handle.attrs["config"])["bias"]["biased_digits"] == [5, 6, 7, 8, 9]
        assert handle.attrs["seed"] == 0

    history = pd.read_csv(results / "initial/s0/models/base.csv")
    assert list(history.columns[:5]) == ["epoch", "train_loss", "train_accuracy", "dev_loss", "dev_accuracy"]
    assert 1 <= len(history) <= 2 and history["best"].sum() == 1
    model, meta = load_checkpoint(results / "initial/s0/models/base.pt", in_channels=3)
    assert meta["seed"] == 0 and meta["config"]["train"]["epochs"] == 2

    metrics = json.loads((results / "initial/s0/eval/base/pool.json").read_text())
    confusion = np.array(metrics["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == metrics["n"] == 300
    assert metrics["accuracy"] == pytest.approx(np.trace(confusion) / 300)
    assert len(metrics["per_digit"]) == 10

    table = pd.read_csv(results / "initial/s0/figures/confusion/base/pool.csv", index_col=0)
    assert np.array_equal(table.to_numpy(), confusion)
    for png in ("initial/s0/figures/confusion/base/pool.png", "initial/s0/figures/training/base.png"):
        with Image.open(results / png) as image:
            assert image.format == "PNG" and image.width > 300
    assert (results / "initial/logs/s0/models/base.log").read_text().count("epoch ") >= 1

    models = ["base", "paired-pool-f1"]
    paired_history = pd.read_csv(results / "initial/s0/models/paired-pool-f1.csv")
    assert 1 <= len(paired_history) <= 2
    _, paired_meta = load_checkpoint(results / "initial/s0/models/paired-pool-f1.pt", in_channels=3)
    assert paired_meta["config"]["paired"]["method"] == "l2"

    accuracy = pd.read_csv(results / "initial/tables/accuracy.csv", index_col="model")
    assert list(accuracy.index) == models and list(accuracy.columns) == ["pool", "noise", "solid-black"]
    for model in models:
        for test_set in accuracy.columns:
            saved = json.loads((results / f"initial/s0/eval/{model}/{test_set}.json").read_text())["accuracy"]
            assert accuracy.loc[model, test_set] == pytest.approx(saved, abs=1e-4)
    per_colour = pd.read_csv(results / "initial/tables/per_colour.csv", index_col="model")
    assert list(per_colour.index) == models and len(per_colour.columns) == 11
    assert per_colour.columns[0] == "pool 0 (255,0,0)" and per_colour.columns[-1] == "solid-black"
    fractions = pd.read_csv(results / "initial/tables/fractions.csv")
    assert fractions[["augment", "fraction"]].values.tolist() == [["pool", 1.0]]
    assert (results / "initial/tables/accuracy.md").read_text().count("\n") == 2 + len(models)
    summary = pd.read_csv(results / "initial/tables/summary.csv")
    row = summary.set_index(["model", "test_set", "metric"]).loc[("base", "pool", "accuracy")]
    assert row["n"] == 1 and row["mean"] == pytest.approx(accuracy.loc["base", "pool"], abs=1e-4)
    assert not (workflow_dir / "results/reproduction.md").exists(), "only its own target writes the claims document"
    for png in ("figures/accuracy.png", "figures/per_colour.png", "figures/fractions.png", "s0/figures/samples/biased.png"):
        assert (results / "initial" / png).read_bytes()[:4] == b"\x89PNG"


def test_nothing_reruns_after_a_finished_run(finished_run: Path) -> None:
    assert planned_jobs(finished_run, "results/all") == {}


def test_changing_the_paired_reg_reruns_exactly_its_dependents(finished_run: Path) -> None:
    jobs = planned_jobs(finished_run, "results/all", "--config", "paired={reg: 0.001}")
    assert jobs == {
        "paired_train": 1, "evaluate_initial": 1, "confusion_figures_initial": 1, "training_curves_initial": 1,
        "accuracy_table": 1, "per_colour_table": 1, "fraction_table": 1, "summary_table": 1, "all": 1,
    }


def test_changing_the_bias_reruns_training_but_not_the_test_sets(finished_run: Path) -> None:
    jobs = planned_jobs(finished_run, "results/all", "--config", "bias={correlation: 0.9}")
    assert "train_base" in jobs and "test_dataset" not in jobs and "mnist" not in jobs


def test_editing_library_code_reruns_the_rules_that_run_it(finished_run: Path) -> None:
    module = finished_run / "bgbias" / "colour" / "tables.py"
    original = module.read_text()
    try:
        module.write_text(original + "\n")
        jobs = planned_jobs(finished_run, "results/all")
    finally:
        module.write_text(original)
    assert set(jobs) == {"accuracy_table", "per_colour_table", "fraction_table", "summary_table", "all"}


def test_report_holds_every_category(finished_run: Path) -> None:
    printed = run_snakemake(finished_run, "--report", "results/report.html")
    assert "(WARNING/" not in printed.stdout + printed.stderr  # every caption renders cleanly
    report = (finished_run / "results" / "report.html").read_text()
    for category in (
        "Datasets", "Training curves", "Confusion matrices", "Accuracy tables", "Per-colour tables",
        "Augmentation fraction", "Adversarial forgetting",
    ):
        assert category in report


def source_imports(workdir: Path, script: Path) -> set[str]:
    """The bgbias source files a script imports, found by the standard library's ModuleFinder (an implementation
    independent of bgbias.code_inputs)."""
    finder = ModuleFinder(path=[str(workdir)])
    finder.run_script(str(script))
    return {
        str(Path(module.__file__).relative_to(workdir))
        for name, module in finder.modules.items()
        if name.split(".")[0] == "bgbias" and module.__file__
    }


def adapter_imports(workdir: Path) -> dict[str, set[str]]:
    """Script name -> the bgbias source files it imports."""
    return {script.stem: source_imports(workdir, script) for script in sorted((workdir / "workflow_scripts").glob("*.py"))}


def declared_code(dry_run: str) -> dict[str, set[str]]:
    """Rule -> the bgbias source files among the inputs of its jobs, as a dry-run prints them."""
    declared: dict[str, set[str]] = {}
    rule = None
    for line in dry_run.splitlines():
        if match := re.match(r"\s*(?:local)?rule (\w+):$", line):
            rule = match.group(1)
            declared.setdefault(rule, set())
        elif rule and (match := re.match(r"\s+input: (.*)$", line)):
            declared[rule].update(p for p in match.group(1).split(", ") if p.startswith("bgbias/"))
    return declared


@pytest.fixture(scope="module")
def every_rule_planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A workflow copy and the dry-run (`--forceall`) of targets that need every rule."""
    workdir = copy_workflow(tmp_path_factory.mktemp("planned") / "workflow")
    targets = (  # every rule (a comparison table named: the manifests' own inputs wait for their checkpoint)
        "results/all", "results/later/all", "results/rebias/all", "results/rebias/tables/comparison.csv",
        "results/reproduction.md", "results/methods/initial/s0/models/groupdro.pt", "results/methods/tables/methods.csv",
        "results/marking/s0/figures/selection/influence.png", "results/study/tables/claims.csv",
    )
    return workdir, run_snakemake(workdir, *targets, "-n", "--forceall").stdout


def test_no_rule_writes_into_the_tracked_tree(every_rule_planned: tuple[Path, str]) -> None:
    workdir, planned = every_rule_planned
    outputs = {path for line in planned.splitlines() if (match := re.match(r"\s+(?:output|log|benchmark): (.*)$", line))
               for path in match.group(1).split(", ")}
    assert "results/reproduction.md" in outputs and len(outputs) > 500
    tracked = set(subprocess.run(["git", "ls-files"], cwd=Path(__file__).parents[1], capture_output=True, text=True,
                                 check=True).stdout.split())
    assert outputs & tracked == set()
    assert {path.split("/", 1)[0] for path in outputs} == {"results", "resources"}  # both ignored by .gitignore


def test_each_rule_lists_exactly_the_modules_its_adapter_imports(every_rule_planned: tuple[Path, str]) -> None:
    workflow_dir, planned = every_rule_planned
    declared = declared_code(planned)
    imports = adapter_imports(workflow_dir)
    scripts = rule_scripts(workflow_dir)
    assert {script_of(rule, scripts) for rule in declared} == set(scripts.values()), "every rule file's rule ran"
    # the MNIST files are verified by their MD5s whatever the code: editing bgbias never fetches them again
    assert declared.pop("mnist") == set() and imports[scripts["mnist"]]
    for script, stage in STAGES.items():  # a stage's adapter runs its function, imported by name
        imports[script] |= {stage.source, *source_imports(workflow_dir, workflow_dir / stage.source)}
    for method in ("groupdro", "lff", "jtt"):  # train_method's stage imports each method's module by name
        module = f"bgbias/methods/{method}.py"
        imports["train_method"] |= {module, *source_imports(workflow_dir, workflow_dir / module)}
    for rule, modules in declared.items():
        assert modules == imports[script_of(rule, scripts)], rule


@pytest.mark.parametrize(  # modules whose importers import nothing that an upstream rule imports
    "module, rules",
    [
        ("bgbias/adversarial/plots.py", {"forgetting_figure"}),
        ("bgbias/colour/evaluation.py", {"evaluate_initial"}),
        ("bgbias/adversarial/tables.py", {"attack_table", "forgetting_table"}),
        ("bgbias/figures.py", {"training_curves_initial", "sample_grids_initial", "confusion_figures_initial",
                               "accuracy_table", "per_colour_table",
                               "summary_table",
                               "fraction_table", "forgetting_figure"}),
    ],
)
def test_editing_a_module_reruns_exactly_the_rules_that_import_it(finished_run: Path, module: str, rules: set) -> None:
    path = finished_run / module
    original = path.read_text()
    try:
        path.write_text(original + "\n")  # an edit: Snakemake ignores a bare change of modification time
        output = run_snakemake(finished_run, "results/all", "-n").stdout
    finally:
        path.write_text(original)
    reasons = dict(re.findall(r"^\s*(?:local)?rule (\w+):\n(?:.*\n)*?\s+reason: (.*)$", output, re.MULTILINE))
    assert {rule for rule, reason in reasons.items() if f"Updated input files: {module}" in reason} == rules


def rule_scripts(workdir: Path) -> dict[str, str]:
    """Rule name, or for the rules each run has of its own the prefix of their names -> the stem of the `script:`
    file, read from the rule files."""
    scripts = {}
    named = r'^\s*rule (\w+):|^\s*rule:\s*\n\s*name:\s*\n\s*rule_name\("(\w+)"'
    script = r'.*?script:\s*\n\s*"(?:\.\./)?workflow_scripts/(\w+)\.py"'
    for path in [workdir / "Snakefile", *sorted((workdir / "rules").glob("*.smk"))]:
        for rule, prefix, stem in re.findall(f"(?:{named}){script}", path.read_text(), re.DOTALL | re.MULTILINE):
            scripts[rule or prefix] = stem
    return scripts


def script_of(rule: str, scripts: dict[str, str]) -> str:
    """The script of `rule`: its own entry, else that of the prefix of a run's rule (evaluate_initial -> evaluate)."""
    return scripts.get(rule) or next(stem for prefix, stem in scripts.items() if rule.startswith(prefix + "_"))
