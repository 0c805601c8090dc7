"""Named experiments: config overlays in `experiments/<name>.yaml`, each run with one setup or several.

An experiment file holds config keys (an overlay) and, optionally:

- `description`: one line, shown above its tables;
- `setups`: named overlays over the experiment's own, one run each (e.g. `initial` and `later`), each with an
  optional `description` and `claims` block of its own;
- `claims`: what the experiment feeds into the claims document (results/reproduction.md) (no experiment is named in the rules):
  - `column: <title>` (in the experiment or a setup): the run is a column of the claims table under this title;
  - `original_run: true` (likewise): the column stands beside the original code's single run (its later setup);
  - `published: <table>` (in the experiment only): its runs' base models beside a published table
    (`bgbias.studies.reproduction.PUBLISHED`, e.g. `rebias`);
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
from bgbias.grid import Grid, Table, fixed_folders, reserved_name, root_of, tables_of
from bgbias.published import PUBLISHED_VANILLA

EXPERIMENT_KEYS = ("description", "setups", "claims", "ablation", "methods_table")  # keys that are not config
RUN_CLAIM_KEYS = {"column": str, "original_run": bool}  # the claims keys of a run (experiment or setup)
CLAIM_KEYS = {**RUN_CLAIM_KEYS, "published": str}  # and of an experiment
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
    claims_column: str | None  # its column title in the claims table of the claims document, if it is one
    beside_original_run: bool  # its column stands beside the original code's single run

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
    published: str | None  # the published table its runs' base models stand beside in the claims document

    @property
    def has_setups(self) -> bool:
        return any(run.setup is not None for run in self.runs.values())

    @property
    def claims_columns(self) -> list[str]:
        """The claims columns its runs declare (its `claims` table, when it has setups)."""
        return [run.claims_column for run in self.runs.values() if run.claims_column]

    @property
    def tables(self) -> list[Table]:
        """Its own tables (`grid.TABLES` of part `experiment` whose condition it meets); only with setups, since a
        one-setup experiment's folder is its run's."""
        return [table for table in tables_of("experiment") if self.has_setups and getattr(self, table.when)]


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
    claims = claims_of(path, "claims", overlay.get("claims"), CLAIM_KEYS)
    if claims.get("published", next(iter(PUBLISHED_VANILLA))) not in PUBLISHED_VANILLA:
        raise ConfigError(f"experiment file {path}: claims.published {claims['published']!r} is not allowed; "
                          f"allowed: {', '.join(PUBLISHED_VANILLA)}")
    runs = {}
    for setup, setup_overlay in (setups or {None: {}}).items():
        run_name = name if setup is None else f"{name}/{setup}"
        setup_overlay = dict(setup_overlay or {})
        description = str(setup_overlay.pop("description", overlay.get("description", "")))
        run_claims = {
            key: value for key, value in claims.items() if key in RUN_CLAIM_KEYS
        } | claims_of(path, f"setups.{setup}.claims", setup_overlay.pop("claims", None), RUN_CLAIM_KEYS)
        merged = deep_merge(deep_merge(deep_merge(base, common), setup_overlay), overrides)
        try:
            config = validate_config(merged)
        except ConfigError as error:
            where = f"experiment {run_name} ({path})"
            raise ConfigError("\n".join(f"{where}: {line}" for line in str(error).splitlines())) from None
        runs[setup or name] = Run(
            run_name, name, setup, config, " ".join(description.split()), run_claims.get("column"),
            run_claims.get("original_run", False),
        )
    methods_table = overlay.get("methods_table", False)
    if not isinstance(methods_table, bool):
        raise ConfigError(f"experiment file {path}: methods_table {methods_table!r} is not allowed; allowed: true or false")
    return Experiment(
        name, " ".join(str(overlay.get("description", "")).split()), runs, ablation_of(path, overlay.get("ablation")),
        methods_table,
        claims.get("published"),
    )


def claims_of(path: Path, where: str, block, keys: dict[str, type]) -> dict:
    """A `claims` block of an experiment file (empty when absent); ConfigError naming the file when it is not one."""
    if block is None:
        return {}
    if not isinstance(block, dict) or not set(block) <= set(keys) or not all(
        isinstance(value, keys[key]) for key, value in block.items()
    ):
        allowed = ", ".join(f"{key} ({'true or false' if kind is bool else 'a name'})" for key, kind in keys.items())
        raise ConfigError(f"experiment file {path}: {where} {block!r} is not allowed; allowed: a mapping of {allowed}")
    return block


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
