"""Named experiments: config overlays in `experiments/<name>.yaml`, each run with one setup or several.

An experiment file holds config keys (an overlay) and, optionally:

- `description`: one line, shown above its tables;
- `setups`: named overlays over the experiment's own, one run each (e.g. `initial` and `later`), each with an
  optional `description` and `claims_column` of its own;
- `claims_column`: the run (or, in a setup, that setup's run) is a column of the claims table of
  docs/reproduction.md, under this title;
- `methods_table: true`: the experiment gets `tables/methods.*` and `figures/methods.png`, every method of every run
  side by side (`bgbias.methods.table`);
- `ablation`: the experiment's setups are rows of an ablation table (`tables/ablation.*`): each `models` x
  `test_set` accuracy as the per-seed difference to the `baseline` run, with the runs of `compare` beside.

A run's config is, from lowest to highest precedence: config.yaml, the `--configfile` files, the
experiment's overlay, the setup's overlay, the `--config` values. Its outputs live under
`results/<run>/`, where the run is named `<experiment>` (one setup) or `<experiment>/<setup>`; the
experiment's own tables (comparisons across its setups) under `results/<experiment>/tables/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bgbias.config import ConfigError, deep_merge, read_mapping, validate_config
from bgbias.grid import Grid, fixed_folders, reserved_name, root_of

EXPERIMENT_KEYS = ("description", "setups", "claims_column", "ablation", "methods_table")  # keys that are not config
SETUP_KEYS = ("description", "claims_column")  # keys of a setup that are not config
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
NAME_RULE = (
    f"lower-case letters, digits and _ . - ({NAME.pattern}), not a folder name of the layout "
    f"({', '.join(part.replace('{seed}', '<digits>') for part in fixed_folders())})"
)
SHARED_MNIST_KEYS = ("mirror", "md5")  # where the MNIST files come from: one setting for every experiment


def allowed_name(name: str) -> bool:
    """Whether `name` may name an experiment or a setup: a folder name that collides with no fixed path."""
    return bool(NAME.match(name)) and not reserved_name(name)


@dataclass(frozen=True)
class Run:
    """One setup of an experiment, run over its seeds."""

    name: str  # <experiment> or <experiment>/<setup>
    experiment: str
    setup: str | None
    config: dict  # validated
    description: str
    claims_column: str | None  # its column title in the claims table of docs/reproduction.md, if it is one

    @property
    def grid(self) -> Grid:
        return Grid(self.config, root=root_of(self.name))


@dataclass(frozen=True)
class Ablation:
    """An experiment whose setups are rows: each one's accuracy of `models` on `test_set` as the per-seed difference to
    the run `baseline`, beside the runs of `compare`."""

    baseline: str
    compare: tuple[str, ...]
    models: tuple[str, ...]
    test_set: str


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    runs: dict[str, Run]  # by setup name (the experiment's name when it has one setup)
    ablation: Ablation | None
    methods_table: bool

    @property
    def has_setups(self) -> bool:
        return any(run.setup is not None for run in self.runs.values())


def load_experiment(path: Path, base: dict, overrides: dict) -> Experiment:
    """The experiment of the file `path`: its runs' configs are `base`, the overlays, then `overrides`, validated."""
    name = path.stem
    if not allowed_name(name):
        raise ConfigError(f"experiment file {path}: name {name!r} is not allowed; allowed: {NAME_RULE}")
    overlay = read_mapping(path, "experiment file")
    setups = overlay.get("setups") or {}
    if not isinstance(setups, dict) or not all(isinstance(s, str) and allowed_name(s) for s in setups):
        raise ConfigError(f"experiment file {path}: setups {list(setups) if isinstance(setups, dict) else setups!r} "
                          f"is not allowed; allowed: a mapping of names ({NAME_RULE}) to config overlays")
    for where, block in [("", overlay), *((f"setups.{s}.", o) for s, o in setups.items() if isinstance(o, dict))]:
        shared = sorted(set(block.get("mnist") or {}) & set(SHARED_MNIST_KEYS)) if isinstance(block, dict) else []
        if shared:
            raise ConfigError(
                f"experiment file {path}: {where}mnist.{shared[0]} is not allowed in an experiment: every experiment "
                "reads the same MNIST files; allowed: set it in config.yaml, a --configfile or --config"
            )
    common = {key: value for key, value in overlay.items() if key not in EXPERIMENT_KEYS}
    runs = {}
    for setup, setup_overlay in (setups or {None: {}}).items():
        run_name = name if setup is None else f"{name}/{setup}"
        setup_overlay = dict(setup_overlay or {})
        description = str(setup_overlay.pop("description", overlay.get("description", "")))
        claims_column = setup_overlay.pop("claims_column", overlay.get("claims_column"))
        merged = deep_merge(deep_merge(deep_merge(base, common), setup_overlay), overrides)
        try:
            config = validate_config(merged)
        except ConfigError as error:
            where = f"experiment {run_name} ({path})"
            raise ConfigError("\n".join(f"{where}: {line}" for line in str(error).splitlines())) from None
        runs[setup or name] = Run(
            run_name, name, setup, config, " ".join(description.split()),
            None if claims_column is None else str(claims_column),
        )
    methods_table = overlay.get("methods_table", False)
    if not isinstance(methods_table, bool):
        raise ConfigError(f"experiment file {path}: methods_table {methods_table!r} is not allowed; allowed: true or false")
    return Experiment(
        name, str(overlay.get("description", "")), runs, ablation_of(path, overlay.get("ablation")), methods_table
    )


ABLATION_KEYS = {"baseline": str, "compare": list, "models": list, "test_set": str}


def ablation_of(path: Path, block) -> Ablation | None:
    """The `ablation` block of an experiment file; ConfigError naming the file when it is not one."""
    if block is None:
        return None
    if not isinstance(block, dict) or set(block) != set(ABLATION_KEYS) or not all(
        isinstance(block[key], kind) for key, kind in ABLATION_KEYS.items()
    ):
        raise ConfigError(
            f"experiment file {path}: ablation {block!r} is not allowed; allowed: a mapping with baseline (a run name), "
            "compare (a list of run names), models (a list of model names) and test_set (a test-set name)"
        )
    return Ablation(block["baseline"], tuple(block["compare"]), tuple(block["models"]), block["test_set"])


def load_experiments(folder: Path, base: dict, overrides: dict) -> dict[str, Experiment]:
    """Every experiment of `folder` (`*.yaml`), by name; the runs an ablation names must exist."""
    experiments = {path.stem: load_experiment(path, base, overrides) for path in sorted(Path(folder).glob("*.yaml"))}
    runs = all_runs(experiments)
    for name, experiment in experiments.items():
        ablation = experiment.ablation
        unknown = [run for run in (ablation.baseline, *ablation.compare) if run not in runs] if ablation else []
        if unknown:
            raise ConfigError(
                f"experiment file {Path(folder) / name}.yaml: ablation names runs {unknown} that do not exist; "
                f"allowed: {', '.join(runs)}"
            )
    return experiments


def all_runs(experiments: dict[str, Experiment]) -> dict[str, Run]:
    """Every run of the experiments, by run name."""
    return {run.name: run for experiment in experiments.values() for run in experiment.runs.values()}
