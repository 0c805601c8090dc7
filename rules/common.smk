import os
import re
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)

from bgbias.adversarial.attacks import attack_config_slice
from bgbias.code_inputs import import_closure
from bgbias.colour.datasets import biased_digits
from bgbias.config import ConfigError, dataset_slice, paired_train_slice, selection_slice, validate_config
from bgbias.experiments import all_runs, load_experiments
from bgbias.grid import (
    BASE_MODEL, DEFAULT_RUN, GREY_MODEL, MNIST_RAW, RANDOM_SELECTION, SUMMARY_TABLE, benchmark_pattern, log_pattern,
    pattern,
)
from bgbias.mnist import MNIST_MD5, size_problems

try:
    config.update(validate_config(config))
    EXPERIMENTS = load_experiments(Path(workflow.basedir) / "experiments", config, workflow.config_settings.config)
except ConfigError as error:
    raise WorkflowError(str(error)) from None
RUNS = all_runs(EXPERIMENTS)
if DEFAULT_RUN not in RUNS:
    raise WorkflowError(f"experiments/{DEFAULT_RUN}.yaml is missing: it is the experiment that results/all builds")
# run-time conditions checked before any job: the sizes against the MNIST files once fetched, a GPU when asked for
PROBLEMS = sorted({line for run in RUNS.values() for line in size_problems(run.config["mnist"], MNIST_RAW)})
if any(run.config["device"] == "cuda" for run in RUNS.values()) and workflow.local_exec:
    from bgbias.training import gpu_problem

    PROBLEMS += [problem for problem in [gpu_problem()] if problem]
if PROBLEMS:
    raise WorkflowError("\n".join(PROBLEMS))
MULTI_SETUP = [name for name, experiment in EXPERIMENTS.items() if experiment.has_setups]
MNIST_FILES = [f"{MNIST_RAW}/{name}" for name in MNIST_MD5]


# Job priorities: the critical path (base model, its paired datasets, the paired fine-tunes) first; evaluations
# next; the adversarial experiment, the rankings, tables and figures fill the cores left idle.
PRIORITY = {"base": 50, "paired_dataset": 40, "paired_train": 30, "dataset": 20, "evaluate": 10, "figure": 0,
            "adversarial": 0, "table": 0}


def rule_name(kind, run):
    """The name of a run's own `kind` of job, e.g. evaluate_initial or confusion_figures_study_later."""
    return f"{kind}_{re.sub(r'[^0-9a-zA-Z]+', '_', run.name)}"


def run_biased_digits(run):
    """The digits that carry their colour in the run's training data."""
    bias = run.config["bias"]
    return list(biased_digits(bias["mode"], bias["biased_digits"]))


def figure_titles(template, names):
    """A function of the wildcards: `template` filled with each of `names` and the job's wildcards."""
    return lambda wildcards: [template.format(name=name, **dict(wildcards.items())) for name in names]


def one_of(names):
    """A wildcard pattern matching exactly one of `names`."""
    return "|".join(re.escape(name) for name in sorted(set(names), key=len, reverse=True)) or "(?!)"


def union(attribute):
    """Every value of a grid attribute over all runs."""
    return [value for run in RUNS.values() for value in getattr(run.grid, attribute)]


wildcard_constraints:
    run=one_of(RUNS),
    experiment=one_of(MULTI_SETUP),
    seed=r"\d+",
    test_set=one_of(union("test_sets")),
    paired=one_of(union("paired")),
    model=one_of(union("models")),
    attack=one_of(union("attacks")),
    grey_model=one_of(union("adversarial_models")),
    dataset=one_of(union("datasets")),
    strategy=one_of(union("strategies")),


def code(script):
    """The bgbias modules the adapter `workflow_scripts/<script>.py` imports, directly or not, as inputs (paths
    relative to the working directory): editing one reruns exactly the jobs that run it."""
    root = Path(workflow.basedir)
    return [os.path.relpath(root / path) for path in import_closure(f"workflow_scripts/{script}.py", root)]


def run_config(*keys):
    """A function of the wildcards giving the setting `keys` of the job's run (for `params:`)."""

    def lookup(wildcards):
        value = RUNS[wildcards.run].config
        for key in keys:
            value = value[key]
        return value

    return lookup


def run_grid(wildcards):
    return RUNS[wildcards.run].grid


def run_paths(kind, **lists):
    """A function of the wildcards: the paths of output `kind` in the job's run, for every combination of the
    grid lists named by `lists` (e.g. seed="seeds"); a name in braces takes the job's own wildcard instead."""

    def paths(wildcards):
        grid = run_grid(wildcards)
        values = {
            key: [getattr(wildcards, name[1:-1])] if name.startswith("{") else getattr(grid, name)
            for key, name in lists.items()
        }
        return grid.paths(kind, **values)

    return paths


def test_mode(wildcards):
    return run_grid(wildcards).test_sets[wildcards.test_set]


def paired_cell(wildcards):
    return run_grid(wildcards).paired[wildcards.paired]


def ranking_of(wildcards):
    """The ranking CSV a paired dataset's selection needs (none for random)."""
    cell = paired_cell(wildcards)
    if cell.selection == RANDOM_SELECTION:
        return []
    return pattern("ranking", run=wildcards.run, seed=wildcards.seed, strategy=cell.selection)


def dataset_params(wildcards):
    """The config slice every coloured dataset of the run depends on."""
    return dataset_slice(RUNS[wildcards.run].config)


def grey_params(wildcards):
    """The config slice the grey MNIST dataset depends on."""
    return {"mnist": dataset_slice(RUNS[wildcards.run].config)["mnist"]}


def paired_train_params(wildcards):
    """The paired config slice that paired training depends on (not the grid lists or K)."""
    return paired_train_slice(RUNS[wildcards.run].config)


def attack_params(wildcards):
    """The config slice an adversarial set depends on: the attacked subset sizes, and its kind's settings."""
    return attack_config_slice(RUNS[wildcards.run].config["adversarial"], wildcards.attack)


def generation_mem_mb(split):
    """Memory (MB) of a job that colours the official `split` of the largest run: the images in RGB a few times
    over, plus Python."""
    official = {"train": 60000, "test": 10000}[split]
    count = max((run.config["mnist"][f"{split}_size"] or official for run in RUNS.values()), default=official)
    return 300 + count * 28 * 28 * 3 * 4 // 1_000_000


def gpu_count(wildcards):
    """GPUs a training or attack job asks for: one, unless its run says `device: cpu`."""
    return 0 if RUNS[wildcards.run].config["device"] == "cpu" else 1


def missing(outputs):
    return sorted(path for path in outputs if not os.path.exists(path))


def missing_or_all(outputs):
    """What a manifest needs: every output, or only the missing ones when some are.

    Snakemake does not rebuild a missing file whose consumers are up to date; listing every output makes the
    manifest rebuild whatever is missing. Listing only the missing ones then keeps their consumers out of this
    invocation: a file rebuilt byte for byte leaves them up to date (inputs are compared by checksum).
    """
    return missing(outputs) or outputs


def setup_paths(kind, **fixed):
    """A function of the wildcards: the path of output `kind` in each run of the job's experiment."""

    def paths(wildcards):
        runs = EXPERIMENTS[wildcards.experiment].runs.values()
        return [pattern(kind, root=f"results/{run.name}", **fixed) for run in runs]

    return paths


def experiment_outputs(experiment):
    """Every output of the runs of an experiment, and its comparison tables."""
    tables = [pattern(kind, root=f"results/{experiment}", table="comparison") for kind in ("table_csv", "table_md")]
    return [path for run in EXPERIMENTS[experiment].runs.values() for path in run.grid.outputs()] + tables


def claim_metrics(experiment, models, test_sets):
    """Run name -> the metrics JSONs of `models` x `test_sets` over the seeds of each run of `experiment`."""
    return {
        run.name: run.grid.paths("metrics", seed=run.grid.seeds, model=models, test_set=test_sets)
        for run in EXPERIMENTS[experiment].runs.values()
    }


STUDY = ("study", ["base", "paired-pool-f1", "paired-noise-f1", "paired-strips-f1"], ["pool", "noise"])
REBIAS = ("rebias", ["base"], ["pool"])
