"""Result tables: models x test sets, models x colours, the augmentation-fraction experiment.

Stages: `accuracy_tables`, `per_colour_tables` and `fraction_tables` (CSV, Markdown and a figure each).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bgbias.colour.plots import fraction_figure
from bgbias.figures import save_figure, table_heatmap
from bgbias.stats import Summary, summarize
from bgbias.storage import read_json, write_csv_markdown



SUMMARY_METRICS = (  # the metrics of the summary and comparison tables, as the README defines them
    "accuracy", "unbiased_accuracy", "bias_aligned_accuracy", "bias_conflicting_accuracy", "worst_cell_accuracy",
)


def load_metrics(paths: list[str | Path]) -> pd.DataFrame:
    """One row per metrics JSON: seed, model, test_set, the SUMMARY_METRICS, per_digit and per_colour."""
    rows = []
    for path in map(Path, paths):
        metrics = read_json(path, ["seed", "model_name", "test_set_name", "accuracy", "per_digit", "per_colour"])
        rows.append(
            {
                "seed": metrics["seed"],
                "model": metrics["model_name"],
                "test_set": metrics["test_set_name"],
                **{name: metrics.get(name) for name in SUMMARY_METRICS},
                "per_digit": metrics["per_digit"],
                "per_colour": metrics["per_colour"],
                "pairing": metrics.get("pairing"),
            }
        )
    return pd.DataFrame(rows)


def summary_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Long table: per model, test set and metric, the mean, std, n and 95 % Student-t interval over the seeds."""
    rows = []
    for (model, test_set), group in metrics.groupby(["model", "test_set"], sort=False):
        for name in SUMMARY_METRICS:
            summary = summarize(group[name])
            if summary.n:
                rows.append({
                    "model": model, "test_set": test_set, "metric": name, "n": summary.n, "mean": summary.mean,
                    "std": summary.std, "ci95_low": summary.low, "ci95_high": summary.high,
                })
    return pd.DataFrame(rows, columns=["model", "test_set", "metric", "n", "mean", "std", "ci95_low", "ci95_high"])


def summary_markdown(summary: pd.DataFrame, title: str) -> str:
    """One Markdown table per metric: models x test sets, each cell `mean ± std (n, 95 % CI)`."""
    parts = [f"# {title}\n"]
    for name, rows in summary.groupby("metric", sort=False):
        cells = rows.assign(cell=[
            Summary(r.mean, r.std, r.n, r.ci95_low, r.ci95_high).text() for r in rows.itertuples()
        ])
        table = cells.pivot(index="model", columns="test_set", values="cell")
        table = table.loc[list(dict.fromkeys(rows["model"])), list(dict.fromkeys(rows["test_set"]))].fillna("–")
        parts += [f"## {name}\n", table.to_markdown() + "\n"]
    return "\n".join(parts)


def summary_tables(metrics: list[str], *, title: str, csv: Path, md: Path) -> None:
    """Stage: every model x test set x metric of a run over its seeds, as CSV (long) and Markdown."""
    summary = summary_table(load_metrics(metrics))
    write_csv_markdown(summary, summary_markdown(summary, title), csv=csv, md=md, inputs=metrics)


def mean_std_table(long: pd.DataFrame, column: str, value: str, order: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Models x `column` tables of the mean and the std over seeds of `value`."""
    grouped = long.groupby(["model", column], sort=False)[value]
    mean = grouped.mean().unstack(column)
    std = grouped.std(ddof=1 if long["seed"].nunique() > 1 else 0).unstack(column)
    models = list(dict.fromkeys(long["model"]))
    columns = [c for c in order if c in mean.columns]
    return mean.loc[models, columns], std.loc[models, columns]


def accuracy_table(metrics: pd.DataFrame, test_sets: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Models x test sets: mean and std over seeds of the overall accuracy."""
    return mean_std_table(metrics, "test_set", "accuracy", test_sets)


def colour_label(index: int, rgb: list[int]) -> str:
    return f"pool {index} ({','.join(map(str, rgb))})"


def per_colour_table(
    metrics: pd.DataFrame, pool: list[list[int]], pool_test_set: str | None, colour_tests: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Models x colours: accuracy per pool colour on the pool test set, then one column per solid colour test set."""
    columns = []
    if pool_test_set is not None:
        on_pool = metrics[metrics["test_set"] == pool_test_set]
        for index, rgb in enumerate(pool):
            columns.append(on_pool.assign(test_set=colour_label(index, rgb), accuracy=[c[index] for c in on_pool["per_colour"]]))
    columns.append(metrics[metrics["test_set"].isin(colour_tests)])
    long = pd.concat(columns, ignore_index=True)
    order = [*(colour_label(i, rgb) for i, rgb in enumerate(pool) if pool_test_set is not None), *colour_tests]
    return mean_std_table(long.astype({"accuracy": float}), "test_set", "accuracy", order)


FRACTION_METRICS = {  # column -> (test set, metric) of the fraction table; the pool test set's bias metrics too
    "accuracy": (None, "accuracy"),
    "bias_conflicting": ("pool", "bias_conflicting_accuracy"),
    "unbiased": ("pool", "unbiased_accuracy"),
}
THRESHOLD = 0.95  # the pool-test accuracy whose number of marked images the fraction table reports


def fraction_table(metrics: pd.DataFrame, test_sets: list[str]) -> pd.DataFrame:
    """Long table of the paired models over the seeds: augment mode, selection, fraction, marked images (mean),
    and per test set the accuracy (mean and 95 % interval), plus the pool test set's bias-conflicting and
    unbiased accuracy."""
    columns = ["augment", "selection", "fraction", "marked", "n"]
    if metrics["pairing"].isna().all():
        return pd.DataFrame(columns=columns)
    paired = paired_rows(metrics)
    rows = []
    for (augment, selection, fraction), group in paired.groupby(["augment", "selection", "fraction"], sort=False):
        row = {"augment": augment, "selection": selection, "fraction": fraction,
               "marked": float(group["marked"].mean()), "n": int(group["seed"].nunique())}
        for test_set in test_sets:
            summary = summarize(group.loc[group["test_set"] == test_set, "accuracy"])
            row.update({test_set: summary.mean, f"{test_set}_low": summary.low, f"{test_set}_high": summary.high})
        for name, (test_set, metric) in FRACTION_METRICS.items():
            if test_set is None or test_set not in test_sets:
                continue
            summary = summarize(group.loc[group["test_set"] == test_set, metric])
            row.update({f"pool_{name}": summary.mean, f"pool_{name}_low": summary.low, f"pool_{name}_high": summary.high})
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["augment", "selection", "fraction"], kind="stable").reset_index(drop=True)


def marked_to_reach(fractions: pd.DataFrame, column: str = "pool", threshold: float = THRESHOLD) -> pd.DataFrame:
    """Per augment mode and selection: the fewest marked images whose mean `column` reaches `threshold`."""
    rows = []
    for (augment, selection), group in fractions.groupby(["augment", "selection"], sort=False):
        reached = group.loc[group[column] >= threshold] if column in group else group.iloc[0:0]
        rows.append({
            "augment": augment, "selection": selection,
            f"marked to reach {threshold:g}": f"{reached['marked'].min():.0f}" if len(reached) else "not reached",
            f"best {column}": f"{group[column].max():.3f}" if column in group else "–",
        })
    return pd.DataFrame(rows)


def paired_rows(metrics: pd.DataFrame) -> pd.DataFrame:
    """The paired models' metrics rows with their augment mode, selection, fraction and marked images as columns."""
    paired = metrics[metrics["pairing"].notna()]
    keys = pd.DataFrame(list(paired["pairing"]), index=paired.index)
    return paired.assign(
        augment=keys.get("augment_mode"), selection=keys.get("selection", "random"),
        fraction=keys.get("augment_fraction"), marked=keys.get("marked"),
    )


def selection_differences(metrics: pd.DataFrame, test_set: str = "pool", baseline: str = "random") -> pd.DataFrame:
    """Per augment mode, fraction and selection other than `baseline`: the per-seed accuracy difference on
    `test_set` to the `baseline` selection's model of the same seed, augment mode and fraction (mean, n, 95 %
    interval); a strategy beats random where the interval lies above 0."""
    columns = ["augment", "fraction", "selection", "n", "mean", "ci95_low", "ci95_high"]
    paired = paired_rows(metrics)
    paired = paired[paired["test_set"] == test_set]
    keys = ["augment", "fraction", "seed"]
    base = paired[paired["selection"] == baseline].set_index(keys)["accuracy"]
    rows = []
    others = paired[paired["selection"] != baseline]
    for (augment, fraction, selection), group in others.groupby(["augment", "fraction", "selection"], sort=True):
        accuracy = group.set_index(keys)["accuracy"]
        differences = accuracy - base.reindex(accuracy.index)
        summary = summarize(differences.dropna())
        rows.append({"augment": augment, "fraction": fraction, "selection": selection, "n": summary.n,
                     "mean": summary.mean, "ci95_low": summary.low, "ci95_high": summary.high})
    return pd.DataFrame(rows, columns=columns)


def fraction_markdown(fractions: pd.DataFrame, differences: pd.DataFrame) -> str:
    """The fraction table (means; the CSV holds the intervals), how many marked images reach the threshold, and
    each selection's per-seed difference to random."""
    shown = fractions[[c for c in fractions.columns if not c.endswith(("_low", "_high"))]]
    parts = [shown.to_markdown(index=False, floatfmt=".3f") + "\n"]
    if fractions.empty:
        parts.append("No paired model in this run: `paired.augment_modes` is empty.\n")
    elif (fractions["marked"] == 0).any():
        parts.append("Rows with 0 marked images mark no image: the run has no biased digit (`bias.mode: none`), or the "
                     "fraction rounds to no image; their bias-conflicting accuracy is empty (nan) without biased digits.\n")
    if not fractions.empty and "pool" in fractions:
        parts += [f"Marked images needed for a mean pool-test accuracy of {THRESHOLD:g}:\n",
                  marked_to_reach(fractions).to_markdown(index=False) + "\n"]
    if not differences.empty:
        parts += ["Pool-test accuracy minus random's at the same fraction, per seed (mean and 95 % interval):\n",
                  differences.to_markdown(index=False, floatfmt=".3f") + "\n"]
        if (differences["n"] == 0).any():
            parts.append("n 0: no `random` model at the same augment mode and fraction to compare with (add random to "
                         "`paired.selections`).\n")
    return "\n".join(parts)


def to_markdown(mean: pd.DataFrame, std: pd.DataFrame, digits: int = 3) -> str:
    """A Markdown table of means, with ± std where several seeds were run."""
    show_std = bool(np.nan_to_num(std.to_numpy(dtype=float)).any())

    def cell(m: float, s: float) -> str:
        if pd.isna(m):
            return "–"
        return f"{m:.{digits}f} ± {s:.{digits}f}" if show_std and not pd.isna(s) else f"{m:.{digits}f}"

    text = pd.DataFrame(
        [[cell(m, s) for m, s in zip(mean.loc[i], std.loc[i])] for i in mean.index], index=mean.index, columns=mean.columns
    )
    return text.to_markdown() + "\n"


def to_csv_with_std(mean: pd.DataFrame, std: pd.DataFrame) -> pd.DataFrame:
    """Means, and `<column>_std` columns when several seeds were run."""
    if not np.nan_to_num(std.to_numpy(dtype=float)).any():
        return mean
    return pd.concat([mean, std.add_suffix("_std")], axis=1)


def write_table(mean: pd.DataFrame, std: pd.DataFrame, *, csv: Path, md: Path, inputs: list[str]) -> None:
    """A table as CSV (with std columns for several seeds) and Markdown (mean ± std)."""
    write_csv_markdown(to_csv_with_std(mean, std), to_markdown(mean, std), csv=csv, md=md, index=True, inputs=inputs)


def accuracy_tables(metrics: list[str], test_sets: list[str], *, csv: Path, md: Path, png: Path) -> None:
    """Stage: models x test sets accuracy table and heatmap."""
    mean, std = accuracy_table(load_metrics(metrics), test_sets)
    write_table(mean, std, csv=csv, md=md, inputs=metrics)
    save_figure(table_heatmap(mean, "accuracy: models x test sets"), Path(png), metrics)


def per_colour_tables(
    metrics: list[str],
    *,
    color_pool: list,
    pool_test_set: str | None,
    colour_tests: list[str],
    csv: Path,
    md: Path,
    png: Path,
) -> None:
    """Stage: models x background colours accuracy table and heatmap."""
    mean, std = per_colour_table(load_metrics(metrics), color_pool, pool_test_set, colour_tests)
    write_table(mean, std, csv=csv, md=md, inputs=metrics)
    save_figure(table_heatmap(mean, "accuracy per background colour"), Path(png), metrics)


def fraction_tables(metrics: list[str], test_sets: list[str], *, csv: Path, md: Path, png: Path) -> None:
    """Stage: accuracy versus the number of marked (augmented) images, per augment mode and selection, over the
    seeds: table and figure."""
    loaded = load_metrics(metrics)
    fractions = fraction_table(loaded, test_sets)
    differences = selection_differences(loaded) if "pool" in test_sets else pd.DataFrame()
    write_csv_markdown(fractions, fraction_markdown(fractions, differences), csv=csv, md=md, inputs=metrics)
    save_figure(fraction_figure(fractions), Path(png), metrics)
