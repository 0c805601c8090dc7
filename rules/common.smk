import os
import re
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)

from bgbias.code_inputs import import_closure
from bgbias.config import ConfigError, validate_config
from bgbias.experiments import all_runs, load_experiments
from bgbias.grid import (
    BASE_MODEL, DEFAULT_RUN, EXPERIMENT_ROOT, GREY_MODEL, MNIST_RAW, PAIRED_PREFIX, RANDOM_SELECTION, REPRODUCTION,
    RESULTS, SCOPE_ROOT, RUN_ROOT, TABLES, benchmark_pattern, log_pattern, pattern, root_of, table_files,
    workflow_benchmark, workflow_log,
)
from bgbias.mnist import MNIST_MD5, size_problems
from bgbias.stages import STAGES

try:
    config.update(validate_config(config))
    EXPERIMENTS = load_experiments(Path(workflow.basedir) / "experiments", config, workflow.config_settings.config)
except ConfigError as error:
    raise WorkflowError(str(error)) from None
RUNS = all_runs(EXPERIMENTS)
if DEFAULT_RUN not in RUNS:
    raise WorkflowError(f"experiments/{DEFAULT_RUN}.yaml is missing: it is the experiment that results/all builds")


def submits_jobs():
    """Whether this invocation hands its jobs to a cluster (the slurm executor) instead of running them here.

    Inside a cluster job, or once Snakemake runs the DAG with a real executor, it says so itself. While the Snakefile
    is parsed, and in a dry-run (whose pseudo-executor replaces the slurm one), the sign is the job limit: remote
    execution needs --jobs (profiles/slurm sets `jobs`), while a local run turns --jobs into --cores. A local dry-run
    given --jobs (`snakemake -n -j 4`) therefore shows the cluster's resources.
    """
    if workflow.remote_exec:
        return True
    plugin = workflow.executor_plugin
    if plugin is not None and not plugin.common_settings.dryrun_exec:
        return not workflow.local_exec
    return workflow.resource_settings.nodes is not None


# run-time conditions checked before any job: the sizes against the MNIST files once fetched, a GPU when asked for
# (by the Snakemake that runs the jobs here; on a cluster, the job that asks for the GPU checks it)
PROBLEMS = sorted({line for run in RUNS.values() for line in size_problems(run.config["mnist"], MNIST_RAW)})
if any(run.config["device"] == "cuda" for run in RUNS.values()) and workflow.is_main_process and not submits_jobs():
    from bgbias.training import gpu_problem

    PROBLEMS += [problem for problem in [gpu_problem()] if problem]
SLURM_BLOCKS = {repr(run.config["slurm"]) for run in RUNS.values()}
if len(SLURM_BLOCKS) > 1:
    PROBLEMS += [
        "config key slurm differs between experiments; allowed: one slurm block for every experiment (set it in "
        "config.yaml, a --configfile or --config, not in experiments/*.yaml)"
    ]
if PROBLEMS:
    raise WorkflowError("\n".join(PROBLEMS))
SLURM = config["slurm"]  # the same in every run (checked above)
PAIRED_MODEL = f"{PAIRED_PREFIX}{{paired}}"  # the model of a paired cell, as a pattern
MULTI_SETUP = [name for name, experiment in EXPERIMENTS.items() if experiment.has_setups]
MNIST_FILES = [f"{MNIST_RAW}/{name}" for name in MNIST_MD5]


# Job priorities: the critical path (base model, its paired datasets, the paired fine-tunes) first; evaluations
# next; the adversarial experiment, the rankings, tables and figures fill the cores left idle.
PRIORITY = {"base": 50, "paired_dataset": 40, "paired_train": 30, "dataset": 20, "evaluate": 10, "figure": 0,
            "adversarial": 0, "table": 0}


def rule_name(kind, run):
    """The name of a run's own `kind` of job, e.g. evaluate_initial or confusion_figures_study_later."""
    return f"{kind}_{re.sub(r'[^0-9a-zA-Z]+', '_', run.name)}"


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
    """The bgbias modules the adapter `workflow_scripts/<script>.py` imports, directly or not, and for a stage of
    `bgbias.stages.STAGES` its function's module and what that imports, as inputs (paths relative to the working
    directory): editing one reruns exactly the jobs that run it."""
    root = Path(workflow.basedir)
    paths = list(import_closure(f"workflow_scripts/{script}.py", root))
    if script in STAGES:  # the stage's function is imported by name when it runs: its module and what that imports
        source = STAGES[script].source
        paths += [Path(source), *import_closure(source, root)]
    return [os.path.relpath(root / path) for path in dict.fromkeys(paths)]


def method_code(wildcards):
    """The code inputs of a `train_method` job: its adapter's import closure and its method module's (which the
    stage imports by name)."""
    root = Path(workflow.basedir)
    source = f"bgbias/methods/{wildcards.method}.py"
    modules = [root / source, *(root / path for path in import_closure(source, root))]
    return sorted(set(code("train_method")) | {os.path.relpath(path) for path in modules})


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


def stage_settings(stage, **choices):
    """A `params:` function: the settings stage `stage` takes from the job's run config (`bgbias.stages.STAGES`);
    `choices` names the wildcard that gives each of its choices (e.g. attack="attack")."""

    def settings(wildcards):
        picked = {name: getattr(wildcards, wildcard) for name, wildcard in choices.items()}
        return STAGES[stage].settings(RUNS[wildcards.run].config, picked)

    return settings


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


def generation_mem_mb(split):
    """Memory (MB) of a job that colours the official `split` of the largest run: the images in RGB a few times
    over, plus Python."""
    official = {"train": 60000, "test": 10000}[split]
    count = max((run.config["mnist"][f"{split}_size"] or official for run in RUNS.values()), default=official)
    return 300 + count * 28 * 28 * 3 * 4 // 1_000_000


def uses_gpu(wildcards):
    """Whether a training or attack job asks for a GPU: with `device: cuda`, or `device: auto` when the job goes to
    a GPU partition (slurm.gpu_partition set) or runs here (where `--resources gpu=N` shares the local GPUs); never
    with `device: cpu`."""
    device = RUNS[wildcards.run].config["device"]
    if device == "cpu":
        return False
    return device == "cuda" or SLURM["gpu_partition"] is not None or not submits_jobs()


def if_gpu(value, otherwise=None):
    """A resource function of the wildcards: `value` for a job that asks for a GPU, else `otherwise` (None: the
    resource is left out)."""
    return lambda wildcards: value if uses_gpu(wildcards) else otherwise


def cpu_job():
    """The SLURM resources of a job without a GPU (`resources: **cpu_job(), ...`): the partition and account of
    the slurm block; a null one is left out, and the executor plugin then takes the cluster's default."""
    return dict(slurm_partition=SLURM["partition"], slurm_account=SLURM["account"])


def gpu_job():
    """The resources of a training or attack job (`resources: **gpu_job(), ...`): one GPU when `uses_gpu`, as the
    plugin's `gpu` (sbatch --gpus=1; locally, what --resources gpu=N counts), `gpu_model` (--gpus=<model>:1) or
    `gres` (--gres=<gres>, instead of --gpus on a cluster) resource, with slurm.cpus_per_gpu cores (--cpus-per-gpu) on the GPU partition;
    otherwise the job of a CPU rule. Partitions and account come from the slurm block."""
    gres = SLURM["gres"]
    return dict(
        gpu=lambda wildcards: int(uses_gpu(wildcards) and not (gres and submits_jobs())),
        gpu_model=if_gpu(None if gres else SLURM["gpu_model"]),
        gres=if_gpu(gres),
        cpus_per_gpu=if_gpu(SLURM["cpus_per_gpu"]),
        slurm_partition=if_gpu(SLURM["gpu_partition"] or SLURM["partition"], SLURM["partition"]),
        slurm_account=SLURM["account"],
    )


def missing(outputs):
    return sorted(path for path in outputs if not os.path.exists(path))


def scope_outputs(scope):
    """Every output of a run, or of a multi-setup experiment (its runs' and its own tables)."""
    return RUNS[scope].grid.outputs() if scope in RUNS else experiment_outputs(scope)


def missing_or_rebuilt(wildcards):
    """The inputs of the `rebuild_missing` checkpoint of a run or multi-setup experiment (the scope of a manifest):
    its missing outputs or, when none is missing, those it rebuilt last time (still there; `ancient`, so that their
    rebuilding by later jobs does not make it run again), so that an unchanged scope does not make it run again."""
    absent = missing(scope_outputs(wildcards.scope))
    listed = Path(pattern("rebuilt", root=root_of(wildcards.scope)))
    if absent or not listed.is_file():
        return absent
    return [ancient(path) for path in listed.read_text().splitlines() if os.path.exists(path)]


def after_rebuild(scope):
    """A manifest's inputs: every output of `scope` (a run or a multi-setup experiment), once its `rebuild_missing`
    checkpoint has rebuilt what was missing.

    Two steps in one invocation: a missing file is rebuilt first (its consumers stay out of the DAG); once the
    checkpoint has run, Snakemake judges every output again, so a rebuilt file that is byte-identical (inputs are
    compared by checksum) leaves its consumers up to date, while outputs that are outdated for any other reason
    (changed parameters or code) still rerun. One checkpoint per scope, so that the runs of an experiment are built
    side by side.
    """
    checkpoints.rebuild_missing.get(scope=scope)
    return scope_outputs(scope)


def setup_paths(kind, **fixed):
    """A function of the wildcards: the path of output `kind` in each run of the job's experiment."""

    def paths(wildcards):
        runs = EXPERIMENTS[wildcards.experiment].runs.values()
        return [pattern(kind, root=root_of(run.name), **fixed) for run in runs]

    return paths


def experiment_outputs(experiment):
    """Every output of the runs of an experiment, and its own tables and figures (`Experiment.tables`)."""
    runs = EXPERIMENTS[experiment].runs.values()
    return [path for run in runs for path in run.grid.outputs()] + table_files(root_of(experiment), EXPERIMENTS[experiment].tables)


def table_root(name):
    """The folder pattern of table `name`: an experiment's or a run's."""
    return EXPERIMENT_ROOT if TABLES[name].part == "experiment" else RUN_ROOT


def table_labels(name, kind):
    scope = {"experiment": "{experiment}"} if TABLES[name].part == "experiment" else {"run": "{run}"}
    return {**scope, "table": name, "kind": kind}


def table_output(name):
    """The outputs of table `name` (`grid.TABLES`): its CSV, in the report under the table's category and caption,
    and its Markdown (`output: **table_output(name)`)."""
    table = TABLES[name]
    return dict(
        csv=report(pattern("table_csv", root=table_root(name), table=name), caption=table.caption,
                   category=table.category, labels=table_labels(name, "table")),
        md=pattern("table_md", root=table_root(name), table=name),
    )


def figure_output(name):
    """The figure of table `name`, in the report beside it."""
    table = TABLES[name]
    return report(pattern("figure", root=table_root(name), figure=name), caption=table.caption,
                  category=table.category, labels=table_labels(name, "figure"))


def table_job_file(make, name, figure):
    """A path of the job that writes table `name` (or, with `figure`, its figure), by `make` (log or benchmark)."""
    kind, wildcard = ("figure", "figure") if figure else ("table_csv", "table")
    return make(kind, root=table_root(name), **{wildcard: name})


def table_log(name, figure=False):
    return table_job_file(log_pattern, name, figure)


def table_benchmark(name, figure=False):
    return table_job_file(benchmark_pattern, name, figure)


def experiments_with(name):
    """The experiments that have table `name` (a wildcard constraint for its rule)."""
    return [experiment for experiment, spec in EXPERIMENTS.items() if TABLES[name] in spec.tables]


def run_metrics(run, models=None, test_sets=None):
    """The metrics JSONs of a run's `models` x `test_sets` (None: all of the run's) over its seeds."""
    grid = run.grid
    return grid.paths("metrics", seed=grid.seeds, model=models or grid.models, test_set=test_sets or list(grid.test_sets))


def claim_columns(experiment=None):
    """Claims column title -> the metrics JSONs on the pool and noise test sets of the run whose experiment file
    declares it (`claims: {column: <title>}`); only `experiment`'s when given."""
    runs = RUNS.values() if experiment is None else EXPERIMENTS[experiment].runs.values()
    return {
        run.claims_column: run_metrics(run, test_sets=[name for name in ("pool", "noise") if name in run.grid.test_sets])
        for run in runs if run.claims_column
    }


def ablation_rows(experiment):
    """Row name -> run of an ablation experiment: its setups, then the runs it compares with."""
    runs = EXPERIMENTS[experiment].runs.values()
    return {**{run.setup: run for run in runs}, **{name: RUNS[name] for name in EXPERIMENTS[experiment].ablation.compare}}


def ablation_metrics(experiment, which):
    """The metrics JSONs of an ablation's `rows` (row -> paths) or its `baseline` (run -> paths)."""
    ablation = EXPERIMENTS[experiment].ablation
    runs = ablation_rows(experiment) if which == "rows" else {ablation.baseline: RUNS[ablation.baseline]}
    return {name: run_metrics(run, list(ablation.models), [ablation.test_set]) for name, run in runs.items()}


ABLATIONS = [name for name, experiment in EXPERIMENTS.items() if experiment.ablation]
PUBLISHED_RUNS = {
    name: [run for experiment in EXPERIMENTS.values() if experiment.published == name for run in experiment.runs.values()]
    for name in dict.fromkeys(experiment.published for experiment in EXPERIMENTS.values() if experiment.published)
}  # published table -> the runs whose base models stand beside it (`claims: {published: <table>}`)


def published_metrics():
    """Published table -> run name -> the base model's metrics JSONs on the pool test set."""
    return {name: {run.name: run_metrics(run, [BASE_MODEL], ["pool"]) for run in runs}
            for name, runs in PUBLISHED_RUNS.items()}
