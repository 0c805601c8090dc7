"""The claims document (results/reproduction.md; docs/reproduction.md is its published copy): each claim of the
original notes measured in every claims column (the notes' procedure and the original code's, in the initial and the
later setup) over seeds, with a three-way verdict; the original code's single
runs beside ours; the ablation that names the cause of a gap; ReBias's published vanilla results beside ours.
Stages: `write_reproduction`, `write_claims_table`, `write_ablation`.

Verdicts are decided on the 95 % interval of the mean over seeds against the band a claim allows (`bgbias.stats.Band`):
inside the band, entirely outside it, or undecided, with the number of seeds that would decide it at the observed
spread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after the backend is chosen)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bgbias import __version__  # noqa: E402
from bgbias.figures import save_figure  # noqa: E402
from bgbias.grid import REPRODUCTION  # noqa: E402
from bgbias.published import ORIGINAL_CODE_RUN, PUBLISHED_VANILLA  # noqa: E402
from bgbias.stats import Band, Summary, about, summarize  # noqa: E402
from bgbias.storage import atomic_path, read_json, write_csv_markdown  # noqa: E402

TOLERANCE = 0.02  # "about v": v +- this
ACCURATE, MISCLASSIFIED = 0.90, 0.80
SAME = 0.01  # "stays at its best": the per-seed difference within +- this
PUBLISHED_POINTS = 5.0  # a published vanilla result is met within +- this (percentage points)
UNBIASED, BIASED = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)
# the models a claim names, by role: the first of a role's names that a column has (the code's strips: strips_black)
ROLES = {
    "base": ("base",),
    "pool-paired": ("paired-pool-f1",),
    "noise-paired": ("paired-noise-f1",),
    "strips-paired": ("paired-strips-f1", "paired-strips_black-f1"),
}
POSITIVE = Band(0.0, math.inf, inside="holds", outside="reversed")  # a per-seed difference above 0
SEEDS_RULE = (
    "*Undecided* cells give the seeds that would decide them if the mean and standard deviation s stayed as observed: "
    "the smallest n with t(0.975, n − 1) · s / √n below the distance from the mean to the nearest edge of the band."
)


VERDICT_RULE = (
    "Each cell: mean [95 % Student-t CI] over the seeds (n 3 unless marked) and the verdict. A claim is *reproduced* "
    "when the whole interval lies inside the band it allows (about v: v ± 0.02; accurate: above 0.90; misclassified: "
    "below 0.80; stays at its best: a per-seed difference within ± 0.01), *not reproduced* when the interval lies "
    "entirely outside, and *undecided* otherwise. A comparison (A beats B) *holds* when the interval of the per-seed "
    "difference lies above 0 and is *reversed* below 0. " + SEEDS_RULE
)


def role_model(metrics: pd.DataFrame, role: str) -> str:
    """The model of `role` in a column's metrics (its first name of the role that is present)."""
    present = set(metrics["model"])
    return next((name for name in ROLES[role] if name in present), ROLES[role][0])


def per_seed(metrics: pd.DataFrame, model: str, test_set: str, value: Callable[[pd.Series], float]) -> pd.Series:
    """`value` of each seed's metrics of `model` on `test_set`, indexed by seed."""
    rows = metrics[(metrics["model"] == model) & (metrics["test_set"] == test_set)].sort_values("seed")
    return pd.Series([value(row) for _, row in rows.iterrows()], index=rows["seed"].to_numpy(), dtype=float)


def accuracy(row: pd.Series) -> float:
    return row["accuracy"]


def accuracy_of(role: str, test_set: str = "pool") -> Callable[[pd.DataFrame], pd.Series]:
    return lambda metrics: per_seed(metrics, role_model(metrics, role), test_set, accuracy)


def digits_of(role: str, digits: tuple[int, ...]) -> Callable[[pd.DataFrame], pd.Series]:
    """The mean per-digit accuracy over `digits` on the pool test set."""
    return lambda metrics: per_seed(
        metrics, role_model(metrics, role), "pool", lambda row: float(np.mean([row["per_digit"][d] for d in digits]))
    )


def difference(first: Callable, second: Callable) -> Callable[[pd.DataFrame], pd.Series]:
    """Per seed, the first measure minus the second."""
    return lambda metrics: first(metrics) - second(metrics)


@dataclass(frozen=True)
class Claim:
    """One claim of the original notes: what it says, how it is measured per seed, the band it allows, and that band
    in words."""

    text: str
    measure: Callable[[pd.DataFrame], pd.Series]  # per-seed values from a column's metrics (one row per JSON)
    band: Band
    rule: str


CLAIMS = [
    Claim("base model: digits 0-4 stay accurate on a pool test set (mean per-digit accuracy)",
          digits_of("base", UNBIASED), Band(ACCURATE, math.inf), f"above {ACCURATE}"),
    Claim("base model: digits 5-9 are misclassified on a pool test set (mean per-digit accuracy)",
          digits_of("base", BIASED), Band(-math.inf, MISCLASSIFIED), f"below {MISCLASSIFIED}"),
    Claim("pool-paired reaches about 0.98 on a pool test set", accuracy_of("pool-paired"), about(0.98, TOLERANCE),
          f"0.98 ± {TOLERANCE}"),
    Claim("noise-paired plateaus at about 0.85 on a pool test set", accuracy_of("noise-paired"),
          about(0.85, TOLERANCE), f"0.85 ± {TOLERANCE}"),
    Claim("strips-paired plateaus at about 0.85 on a pool test set", accuracy_of("strips-paired"),
          about(0.85, TOLERANCE), f"0.85 ± {TOLERANCE}"),
    Claim("pool-paired beats noise-paired on a pool test set (per-seed difference)",
          difference(accuracy_of("pool-paired"), accuracy_of("noise-paired")), POSITIVE, "difference above 0"),
    Claim("pool-paired stays at its best on a noise test set (per-seed pool minus noise test accuracy)",
          difference(accuracy_of("pool-paired"), accuracy_of("pool-paired", "noise")), Band(-SAME, SAME),
          f"difference within ± {SAME}"),
]


def interval_text(summary: Summary, digits: int = 3) -> str:
    """`0.980 [0.975, 0.984]`; `(n 2)` appended unless n is 3; one seed: `0.980 (n 1)`; none: `not run`."""
    if summary.n == 0:
        return "not run"
    if summary.n == 1:
        return f"{summary.mean:.{digits}f} (n 1)"
    text = f"{summary.mean:.{digits}f} [{summary.low:.{digits}f}, {summary.high:.{digits}f}]"
    return text if summary.n == 3 else f"{text} (n {summary.n})"


def verdict_cell(summary: Summary, band: Band, digits: int = 3) -> str:
    verdict = band.verdict(summary)
    return interval_text(summary, digits) if verdict == "not run" else f"{interval_text(summary, digits)}: {verdict}"


def load_run_metrics(paths: list[str]) -> pd.DataFrame:
    """One row per metrics JSON: seed, model, test set, accuracy, unbiased accuracy and per-digit accuracy."""
    rows = []
    for path in paths:
        metrics = read_json(path, ["seed", "model_name", "test_set_name", "accuracy", "unbiased_accuracy", "per_digit"])
        rows.append({
            "seed": metrics["seed"], "model": metrics["model_name"], "test_set": metrics["test_set_name"],
            "accuracy": metrics["accuracy"], "unbiased_accuracy": metrics["unbiased_accuracy"],
            "per_digit": metrics["per_digit"],
        })
    return pd.DataFrame(rows, columns=["seed", "model", "test_set", "accuracy", "unbiased_accuracy", "per_digit"])


def claims_table(columns: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per claim: the band it allows, then per column the mean [95 % CI] over seeds and its verdict."""
    rows = []
    for claim in CLAIMS:
        row = {"claim": claim.text, "band": claim.rule}
        for column, metrics in columns.items():
            row[column] = verdict_cell(summarize(claim.measure(metrics)), claim.band)
        rows.append(row)
    return pd.DataFrame(rows)


def original_run_table(columns: dict[str, pd.DataFrame], beside: list[str]) -> pd.DataFrame:
    """The original code's single-run accuracies (later setup) beside ours in the columns `beside`, each judged
    against the single run ± TOLERANCE."""
    rows = []
    for role, value in ORIGINAL_CODE_RUN.items():
        row = {"model (pool test set accuracy)": role, "original code, one run": f"{value:.3f}"}
        for column in beside:
            row[column] = verdict_cell(summarize(accuracy_of(role)(columns[column])), about(value, TOLERANCE))
        rows.append(row)
    return pd.DataFrame(rows)


def published_table(runs: dict[str, pd.DataFrame], *, published: str, correlations: dict[str, float],
                    recipes: dict[str, str]) -> pd.DataFrame:
    """Per correlation: the `published` vanilla unbiased accuracy and each recipe's (ours) on the pool test set,
    judged against the published value ± 5 points; `not run` where a recipe has no run at that correlation."""
    rows = []
    for rho, value in sorted(PUBLISHED_VANILLA[published].accuracy.items(), reverse=True):
        row = {"rho": rho, f"{published} vanilla (published, %)": value}
        for recipe in dict.fromkeys(recipes.values()):
            row[f"{recipe} (%)"] = "not run"
        for run, metrics in runs.items():
            if correlations[run] != rho:
                continue
            summary = summarize(per_seed(metrics, "base", "pool", lambda row: 100 * row["unbiased_accuracy"]))
            band = Band(value - PUBLISHED_POINTS, value + PUBLISHED_POINTS, "within 5 points", "not within 5 points")
            row[f"{recipes[run]} (%)"] = verdict_cell(summary, band, digits=1)
        rows.append(row)
    return pd.DataFrame(rows)


def ablation_table(rows: dict[str, pd.DataFrame], baseline: pd.DataFrame, *, models: list[str], test_set: str,
                   baseline_name: str) -> pd.DataFrame:
    """Per row (a run) and model: the accuracy on `test_set` over seeds, and its per-seed difference to the
    `baseline` run's with a verdict (raises, lowers, undecided). The baseline comes first."""
    table = []
    for name, metrics in {baseline_name: baseline, **rows}.items():
        for model in models:
            values = per_seed(metrics, model, test_set, accuracy)
            change = summarize(values - per_seed(baseline, model, test_set, accuracy))
            table.append({
                "row": name, "model": model, "accuracy": interval_text(summarize(values)),
                "difference to " + baseline_name: "–" if name == baseline_name else verdict_cell(
                    change, Band(0.0, math.inf, inside="raises", outside="lowers")),
                "mean": summarize(values).mean, "difference": change.mean, "low": change.low, "high": change.high,
                "n": change.n,
            })
    return pd.DataFrame(table)


def ablation_markdown(table: pd.DataFrame, *, title: str, description: str, descriptions: dict[str, str]) -> str:
    shown = table.drop(columns=["mean", "difference", "low", "high", "n"])
    wide = shown.pivot(index="row", columns="model")
    models, measures = list(dict.fromkeys(table["model"])), [c for c in shown.columns if c not in ("row", "model")]
    wide = wide.loc[list(dict.fromkeys(table["row"])), [(what, model) for model in models for what in measures]]
    wide.columns = [f"{model}: {what}" for what, model in wide.columns]
    rows = "\n".join(f"- **{row}**: {descriptions.get(row, '')}" for row in dict.fromkeys(table["row"]))
    return "\n".join([
        f"# {title}\n", f"{description}\n", rows + "\n",
        "Each cell: mean [95 % CI] over seeds; the difference is taken per seed to the first row. " + SEEDS_RULE + "\n",
        wide.to_markdown() + "\n",
    ])


def ablation_figure(table: pd.DataFrame, title: str) -> plt.Figure:
    """The per-seed differences to the baseline with their 95 % intervals: one row per run, one marker per model."""
    rows = [row for row in dict.fromkeys(table["row"])][1:]
    models = list(dict.fromkeys(table["model"]))
    figure, axes = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.5))
    for offset, model in enumerate(models):
        part = table[table["model"] == model].set_index("row").loc[rows]
        y = np.arange(len(rows)) + 0.15 * (offset - (len(models) - 1) / 2)
        error = np.vstack([part["difference"] - part["low"], part["high"] - part["difference"]])
        axes.errorbar(part["difference"], y, xerr=np.nan_to_num(error), fmt="o", capsize=3, label=model)
    axes.axvline(0, color="grey", linewidth=1)
    axes.set_yticks(np.arange(len(rows)), rows)
    axes.invert_yaxis()
    axes.set(xlabel=f"accuracy difference to {table['row'].iloc[0]} (per seed, 95 % CI)", title=title)
    axes.legend(loc="best", fontsize="small")
    return figure


def write_claims_table(
    *, columns: dict[str, list[str]], descriptions: dict[str, str], title: str, description: str, csv: Path, md: Path,
) -> None:
    """Stage: an experiment's claims table, each claim of the notes in each of its claims columns (title -> metrics
    JSONs)."""
    table = claims_table({column: load_run_metrics(paths) for column, paths in columns.items()})
    markdown = "\n".join([
        f"# {title}\n", f"{description}\n", *(f"- **{column}**: {descriptions.get(column, '')}" for column in columns),
        "", VERDICT_RULE + "\n", table.to_markdown(index=False) + "\n",
    ])
    inputs = [Path(path) for paths in columns.values() for path in paths]
    write_csv_markdown(table, markdown, csv=Path(csv), md=Path(md), inputs=inputs)


def write_ablation(
    *, rows: dict[str, list[str]], baseline: dict[str, list[str]], models: list[str], test_set: str, title: str,
    description: str, descriptions: dict[str, str], csv: Path, md: Path, png: Path,
) -> None:
    """Stage: the ablation table and figure: every run of `rows` (run -> metrics JSONs) against the one `baseline`
    run."""
    (baseline_name, baseline_paths), = baseline.items()
    table = ablation_table(
        {name: load_run_metrics(paths) for name, paths in rows.items()}, load_run_metrics(baseline_paths),
        models=models, test_set=test_set, baseline_name=baseline_name,
    )
    inputs = [Path(path) for paths in [*rows.values(), baseline_paths] for path in paths]
    markdown = ablation_markdown(table, title=title, description=description, descriptions=descriptions)
    write_csv_markdown(table, markdown, csv=Path(csv), md=Path(md), inputs=inputs)
    save_figure(ablation_figure(table, title), Path(png), inputs)


def write_reproduction(
    output: Path,
    *,
    columns: dict[str, list[str]],
    descriptions: dict[str, str],
    beside_original_run: list[str],
    ablations: dict[str, str],
    published: dict[str, dict[str, list[str]]],
    correlations: dict[str, float],
    recipes: dict[str, str],
) -> None:
    """Stage: the claims table of the claims columns (title -> metrics JSONs, `descriptions` by title), the original
    code's single run beside the columns `beside_original_run`, the ablation tables (`ablations`: title -> its
    Markdown file) and, per published table (`bgbias.published.PUBLISHED_VANILLA`), the base models of the runs that
    stand beside it (run -> metrics JSONs; `correlations` and `recipes` name each run's rho and recipe)."""
    frames = {title: load_run_metrics(paths) for title, paths in columns.items()}
    seeds = sorted({int(s) for metrics in frames.values() for s in metrics["seed"]})
    parts = [
        "# Reproduction of the original notes' claims\n",
        f"Generated by `snakemake --cores all {REPRODUCTION}` (bgbias {__version__}) from what experiments/*.yaml "
        f"declare in their `claims` and `ablation` blocks (seeds {seeds}). Every number comes from the results under "
        "`results/`; `docs/reproduction.md` is the copy published with the code: rerun the target and `diff` the two "
        "to compare.\n",
        "## Columns: two setups, two procedures\n",
        "The notes describe one paired procedure, the original code (PaulCCCCCCH/MNIST-synthetic-experiments) runs "
        "another; the `-code` columns run the code's (see the README's *Two procedures*).\n",
        *(f"- **{title}**: {descriptions.get(title, '')}" for title in columns),
        "",
        "## Claims\n",
        VERDICT_RULE + "\n",
        claims_table(frames).to_markdown(index=False) + "\n",
    ]
    if beside_original_run:
        parts += [
            "## The original code's single run beside ours\n",
            "The original code, run once in its later setup on this kind of machine, gave these accuracies on a pool "
            f"test set; each of our later columns is judged against that number ± {TOLERANCE}.\n",
            original_run_table(frames, beside_original_run).to_markdown(index=False) + "\n",
        ]
    for title, path in ablations.items():
        text = Path(path).read_text()
        parts += [f"## Ablation: {title}\n", text.split("\n", 1)[1].strip() + "\n"]
    for name, runs in published.items():
        table = published_table({run: load_run_metrics(paths) for run, paths in runs.items()}, published=name,
                                correlations=correlations, recipes=recipes)
        parts += [
            f"## {PUBLISHED_VANILLA[name].title}\n",
            "Unbiased accuracy (%, the mean over the digit x colour cells of the unbiased pool test set) of the base "
            f"model trained at each correlation rho, beside {PUBLISHED_VANILLA[name].source}, judged against the "
            "published value ± 5 points.\n",
            table.to_markdown(index=False) + "\n",
        ]
    inputs = [path for paths in columns.values() for path in paths] + list(ablations.values())
    inputs += [path for runs in published.values() for paths in runs.values() for path in paths]
    with atomic_path(Path(output), inputs) as partial:
        partial.write_text("\n".join(parts))
