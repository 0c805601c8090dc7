"""Every output name of a run, from its validated config: what the rules, the plan, the studies and the CLI use.

`Grid(config, root)` lists the seeds, test sets, paired cells, models and attacks of a run; `PATHS`
holds the path pattern of every kind of output, relative to a run's folder, with Snakemake-style
wildcards (`{seed}`, `{model}`, ...). `pattern(kind)` gives the pattern under `results/{run}` (what
the rules declare), `Grid.path(kind, **wildcards)` one path of a run, and `Grid.outputs()` every
output of the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from bgbias.attacks import attack_names

MNIST_RAW = "resources/mnist/MNIST/raw"
RESULTS = "results"  # every output of every run lies under it


REPRODUCTION = f"{RESULTS}/reproduction.md"  # the claims document (docs/reproduction.md: its copy published with the code)


def root_of(name: str) -> str:
    """The folder of a run (`<experiment>` or `<experiment>/<setup>`), an experiment, or a wildcard of either."""
    return f"{RESULTS}/{name}"


RUN_ROOT = root_of("{run}")  # a run's folder: results/<experiment> or results/<experiment>/<setup>
EXPERIMENT_ROOT = root_of("{experiment}")  # an experiment's own tables (comparisons across its setups)
SCOPE_ROOT = root_of("{scope}")  # a manifest's folder: a run's or a multi-setup experiment's
DEFAULT_RUN = "initial"  # the experiment `results/all` builds
BASE_MODEL = "base"  # the model trained on the biased dataset
GREY_MODEL = "grey"  # the grey LeNet of the adversarial experiment, before fine-tuning
CLEAN = "clean"  # the clean official test split, beside the adversarial test sets
PAIRED_PREFIX = "paired-"  # paired model names: paired-<paired cell>
ERM, PAIRED = "erm", "paired"  # the methods with models of their own names: erm's is `base`, paired's one per cell

PATHS = {
    "biased": "s{seed}/datasets/biased.h5",
    "test_set": "s{seed}/datasets/test/{test_set}.h5",
    "paired_set": "s{seed}/datasets/paired/{paired}.h5",
    "ranking": "s{seed}/selection/{strategy}.csv",
    "ranking_figure": "s{seed}/figures/selection/{strategy}.png",
    "model": "s{seed}/models/{model}.pt",
    "history": "s{seed}/models/{model}.csv",
    "metrics": "s{seed}/eval/{model}/{test_set}.json",
    "confusion_png": "s{seed}/figures/confusion/{model}/{test_set}.png",
    "confusion_csv": "s{seed}/figures/confusion/{model}/{test_set}.csv",
    "training_curve": "s{seed}/figures/training/{model}.png",
    "samples": "s{seed}/figures/samples/{dataset}.png",
    "dataset": "s{seed}/datasets/{dataset}.h5",
    "grey": "s{seed}/adversarial/datasets/grey.h5",
    "grey_model": "s{seed}/adversarial/models/{model}.pt",
    "grey_history": "s{seed}/adversarial/models/{model}.csv",
    "adversarial_set": "s{seed}/adversarial/sets/{attack}.h5",
    "adversarial_metrics": "s{seed}/adversarial/eval/{model}.json",
    "table_csv": "tables/{table}.csv",
    "table_md": "tables/{table}.md",
    "figure": "figures/{figure}.png",
    "manifest": "all",
    "rebuilt": "logs/rebuilt.txt",  # the outputs a manifest found missing and had rebuilt first (a checkpoint)
}


@dataclass(frozen=True)
class Table:
    """One table: `tables/<name>.csv` and `.md`, with a figure `figures/<name>.png` when `figure`; in the HTML report
    under `category`, captioned by `report/<name>.rst`. `part` says whose table it is: every run's (`colour`), a run
    with attacks' (`adversarial`), or an experiment's (`experiment`, when its `Experiment.<when>` is true)."""

    name: str
    category: str
    figure: bool
    part: str
    when: str = ""

    @property
    def caption(self) -> str:
        """The caption file, relative to the rules' folder (as `report()` takes it)."""
        return f"../report/{self.name}.rst"


TABLES = {table.name: table for table in [
    Table("accuracy", "Accuracy tables", figure=True, part="colour"),
    Table("per_colour", "Per-colour tables", figure=True, part="colour"),
    Table("fractions", "Augmentation fraction", figure=True, part="colour"),
    Table("summary", "Accuracy tables", figure=False, part="colour"),  # every model x test set x metric over seeds
    Table("forgetting", "Adversarial forgetting", figure=True, part="adversarial"),
    Table("attacks", "Adversarial forgetting", figure=False, part="adversarial"),
    Table("comparison", "Experiments side by side", figure=False, part="experiment", when="has_setups"),
    Table("claims", "Claims", figure=False, part="experiment", when="claims_columns"),
    Table("ablation", "Experiments side by side", figure=True, part="experiment", when="ablation"),
    Table("methods", "Methods", figure=True, part="experiment", when="methods_table"),
]}


def tables_of(part: str) -> list[Table]:
    return [table for table in TABLES.values() if table.part == part]


def table_files(root: str, tables: list[Table]) -> list[str]:
    """The CSV, Markdown and figure files of `tables` under `root` (a run's or an experiment's folder)."""
    return [
        *(fill(f"{root}/{PATHS[kind]}", {"table": table.name}) for table in tables for kind in ("table_csv", "table_md")),
        *(fill(f"{root}/{PATHS['figure']}", {"figure": table.name}) for table in tables if table.figure),
    ]


def fixed_folders() -> list[str]:
    """The first parts of the layout's fixed paths under results/ and a run's folder (`s{seed}` stands for every
    seed): an experiment or setup of one of these names would collide with them."""
    return sorted({path.split("/", 1)[0] for path in PATHS.values()} | {LOGS, BENCHMARKS, REPRODUCTION.split("/", 1)[1]})


def reserved_name(name: str) -> bool:
    """Whether a folder named `name` under results/ or a run's folder would collide with a fixed path."""
    return any(re.fullmatch(re.sub(r"\{\w+\}", r"\\d+", part), name) for part in fixed_folders())


def pattern(kind: str, root: str = RUN_ROOT, **fixed: str) -> str:
    """The path pattern of an output kind under `root`; the `fixed` wildcards filled in, the others left."""
    return fill(f"{root}/{PATHS[kind]}", fixed)


LOGS, BENCHMARKS = "logs", "benchmarks"  # the folders of job logs and Snakemake benchmarks: not artifacts


def workflow_log(name: str) -> str:
    """The log of a workflow-wide job (the MNIST files, results/all, the claims document)."""
    return f"{RESULTS}/{LOGS}/{name}.log"


def workflow_benchmark(name: str) -> str:
    """The Snakemake benchmark of a workflow-wide job."""
    return f"{RESULTS}/{BENCHMARKS}/{name}.tsv"


def run_content() -> re.Pattern:
    """The first folder of every artifact below a run's folder (`s<seed>`, `tables`, `figures`)."""
    folders = {path.split("/", 1)[0] for path in PATHS.values() if "/" in path} - {LOGS}
    return re.compile("|".join(sorted(re.sub(r"\{\w+\}", r"\\d+", folder) for folder in folders)))


def log_pattern(kind: str, root: str = RUN_ROOT, **fixed: str) -> str:
    """The log file pattern of the job that writes an output kind."""
    return fill(f"{root}/{LOGS}/{PATHS[kind].rsplit('.', 1)[0]}.log", fixed)


def benchmark_pattern(kind: str, root: str = RUN_ROOT, **fixed: str) -> str:
    """The Snakemake benchmark file pattern of the job that writes an output kind."""
    return fill(f"{root}/{BENCHMARKS}/{PATHS[kind].rsplit('.', 1)[0]}.tsv", fixed)


def fill(text: str, values: dict[str, str]) -> str:
    """`text` with the wildcards named in `values` replaced by them, the others left as they are."""
    for name, value in values.items():
        text = text.replace(f"{{{name}}}", value)
    return text


def slug(mode: str) -> str:
    """A file-name-safe form of a mode name (solid:1,2,3 -> solid-1_2_3)."""
    return mode.replace(":", "-").replace(",", "_")


def fraction_tag(fraction: float) -> str:
    """An augment fraction as it appears in file names (1.0 -> 1, 0.25 -> 0.25)."""
    return f"{fraction:g}"


def cell_name(augment_mode: str, fraction: float, selection: str) -> str:
    """`pool-f1`, `noise-f0.01-influence`: the selection is named unless it is random."""
    name = f"{slug(augment_mode)}-f{fraction_tag(fraction)}"
    return name if selection == RANDOM_SELECTION else f"{name}-{selection}"


RANDOM_SELECTION = "random"


@dataclass(frozen=True)
class PairedCell:
    """One paired dataset of the grid and the model fine-tuned on it."""

    name: str  # <augment>-f<fraction>, with -<selection> unless the selection is random: pool-f1, noise-f0.01-influence
    augment_mode: str
    fraction: float
    selection: str

    @property
    def model(self) -> str:
        return PAIRED_PREFIX + self.name


class Grid:
    """The outputs of a run of a validated `config`, under the folder `root`."""

    def __init__(self, config: dict, root: str = root_of(DEFAULT_RUN)) -> None:
        self.config = config
        self.root = root

    @cached_property
    def seeds(self) -> list[int]:
        return list(self.config.get("seeds") or [self.config["seed"]])

    @cached_property
    def test_sets(self) -> dict[str, str]:
        """Test-set name -> background mode, for every test mode and single-colour test."""
        return {slug(mode): mode for mode in [*self.config["test_modes"], *self.config["colour_tests"]]}

    @cached_property
    def colour_tests(self) -> list[str]:
        return [slug(mode) for mode in self.config["colour_tests"]]

    @cached_property
    def pool_test_set(self) -> str | None:
        """The test set whose backgrounds are pool colours (for the per-colour table), if the grid has one."""
        return "pool" if "pool" in self.test_sets else None

    @cached_property
    def per_colour_test_sets(self) -> list[str]:
        """The test sets of the per-colour table: the pool test set (by background colour), then the single colours."""
        return [self.pool_test_set, *self.colour_tests] if self.pool_test_set else self.colour_tests

    @cached_property
    def paired(self) -> dict[str, PairedCell]:
        """Paired-cell name -> cell, for every augment mode x augment fraction x selection (a fraction of 1 takes every
        biased image: one cell, whatever the selections)."""
        if PAIRED not in self.config["methods"]:
            return {}
        paired = self.config["paired"]
        cells = [
            PairedCell(cell_name(mode, fraction, selection), mode, fraction, selection)
            for mode in paired["augment_modes"]
            for fraction in paired["augment_fractions"]
            for selection in (paired["selections"] if fraction < 1 else [RANDOM_SELECTION])
        ]
        named = {cell.name: cell for cell in cells}
        if len(named) < len(cells):
            raise ValueError(
                f"paired.augment_fractions {paired['augment_fractions']} has values equal to 6 significant digits"
            )
        return named

    @cached_property
    def strategies(self) -> list[str]:
        """The selection strategies whose ranking some paired cell needs."""
        return list(dict.fromkeys(c.selection for c in self.paired.values() if c.selection != RANDOM_SELECTION))

    @cached_property
    def trained_methods(self) -> list[str]:
        """The methods of the run that the generic `train_method` rule trains (one model each, named after it)."""
        return [method for method in self.config["methods"] if method not in (ERM, PAIRED)]

    @cached_property
    def models(self) -> list[str]:
        """The base model (erm), the methods' own models, then the paired fine-tunes."""
        base = [BASE_MODEL] if ERM in self.config["methods"] else []
        return [*base, *self.trained_methods, *(cell.model for cell in self.paired.values())]

    @cached_property
    def datasets(self) -> list[str]:
        """Every coloured dataset, as the `{dataset}` of `PATHS["dataset"]`."""
        return ["biased", *(f"test/{name}" for name in self.test_sets), *(f"paired/{name}" for name in self.paired)]

    @cached_property
    def attacks(self) -> list[str]:
        return attack_names(self.config["adversarial"])

    @cached_property
    def adversarial_models(self) -> list[str]:
        return [GREY_MODEL, *self.attacks]

    def path(self, kind: str, **wildcards) -> str:
        return pattern(kind, self.root).format(**wildcards)

    def paths(self, kind: str, **lists) -> list[str]:
        """`path(kind, ...)` for every combination of the `lists` of wildcard values, in order."""
        combinations: list[dict] = [{}]
        for name, values in lists.items():
            combinations = [{**done, name: value} for done in combinations for value in values]
        return [self.path(kind, **values) for values in combinations]

    def metrics(self, test_sets: list[str] | None = None) -> list[str]:
        """Metrics JSONs of every (seed, model, test set), or only of `test_sets`."""
        return self.paths("metrics", seed=self.seeds, model=self.models, test_set=test_sets or list(self.test_sets))

    def adversarial_outputs(self) -> list[str]:
        """Every output of the adversarial experiment (none without attacks)."""
        if not self.attacks:
            return []
        seeds = self.seeds
        return [
            *self.paths("grey", seed=seeds),
            *self.paths("grey_model", seed=seeds, model=self.adversarial_models),
            *self.paths("grey_history", seed=seeds, model=self.adversarial_models),
            *self.paths("adversarial_set", seed=seeds, attack=self.attacks),
            *self.paths("adversarial_metrics", seed=seeds, model=self.adversarial_models),
            *table_files(self.root, tables_of("adversarial")),
        ]

    def outputs(self) -> list[str]:
        """Every output of the run: intermediate ones too, so that `all` rebuilds whatever is missing."""
        seeds, models, test_sets = self.seeds, self.models, list(self.test_sets)
        per_test = dict(seed=seeds, model=models, test_set=test_sets)
        return [
            *self.paths("dataset", seed=seeds, dataset=self.datasets),
            *self.paths("ranking", seed=seeds, strategy=self.strategies),
            *self.paths("ranking_figure", seed=seeds, strategy=self.strategies),
            *self.paths("samples", seed=seeds, dataset=self.datasets),
            *self.paths("model", seed=seeds, model=models),
            *self.paths("history", seed=seeds, model=models),
            *self.paths("training_curve", seed=seeds, model=models),
            *self.paths("metrics", **per_test),
            *self.paths("confusion_png", **per_test),
            *self.paths("confusion_csv", **per_test),
            *table_files(self.root, tables_of("colour")),
            *self.adversarial_outputs(),
        ]
