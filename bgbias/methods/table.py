"""The methods table and figure of an experiment: every method of every run on the pool test set, unbiased,
bias-conflicting and worst-cell accuracy as mean [95 % CI] over the seeds, with what each method knows, ranked by
unbiased accuracy, beside ReBias's published rows; then paired training at its smallest marked share against every other
method as the per-seed difference with its interval; the figure plots unbiased accuracy against rho, one curve per method
with its band.
Stage: `methods_tables`."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd

from bgbias.figures import save_figure
from bgbias.grid import BASE_MODEL, ERM, PAIRED, PAIRED_PREFIX
from bgbias.methods import METHODS
from bgbias.published import REBIAS_TABLE1
from bgbias.stats import Band, summarize
from bgbias.storage import read_json, write_csv_markdown

import matplotlib.pyplot as plt  # after bgbias.figures chose the Agg backend

log = logging.getLogger("bgbias")
METRICS = ("unbiased_accuracy", "bias_conflicting_accuracy", "worst_cell_accuracy")
DODGE = 0.00012  # rho between two methods' points in the figure
PAIRED_AHEAD = Band(0.0, math.inf, inside="paired higher", outside="paired lower")  # a per-seed difference above 0


def method_of(model: str, pairing: dict | None) -> str:
    """The method (and for paired its marked share) that trained `model`."""
    if model == BASE_MODEL:
        return ERM
    if model.startswith(PAIRED_PREFIX):
        return f"{PAIRED} ({pairing['augment_mode']}, {pairing['augment_fraction']:g} marked)"
    return model


def supervision_of(method: str, pairing: dict | None) -> str:
    """What a method knows besides the labels."""
    if method.startswith(PAIRED):
        return f"marked images ({pairing['marked']} of the biased ones)"
    return METHODS[method].supervision


def seed_rows(runs: dict[str, list[str]]) -> pd.DataFrame:
    """One row per (run, method, seed): the three accuracies, what the method knows and, for paired, its marked share."""
    records = []
    for run, paths in runs.items():
        for path in paths:
            metrics = read_json(path, ["model_name", "seed", "pairing", *METRICS])
            method = method_of(metrics["model_name"], metrics["pairing"])
            fraction = metrics["pairing"]["augment_fraction"] if method.startswith(PAIRED) else math.nan
            records.append({"run": run, "method": method, "supervision": supervision_of(method, metrics["pairing"]),
                            "marked_share": fraction, "seed": metrics["seed"],
                            **{name: metrics[name] for name in METRICS}})
    return pd.DataFrame(records)


def method_rows(seeds: pd.DataFrame, correlations: dict[str, float]) -> pd.DataFrame:
    """One row per (run, method), ranked by mean unbiased accuracy within each run: each metric's mean, 95 % interval
    and n over the seeds."""
    rows = []
    for (run, method), group in seeds.groupby(["run", "method"], sort=False):
        row = {"run": run, "rho": correlations[run], "method": method, "supervision": group["supervision"].iloc[0]}
        for name in METRICS:
            summary = summarize(group[name])
            row.update({name: summary.mean, f"{name}_low": summary.low, f"{name}_high": summary.high, "n": summary.n})
        rows.append(row)
    table = pd.DataFrame(rows)
    order = {run: index for index, run in enumerate(dict.fromkeys(table["run"]))}
    table = table.sort_values(["run", "unbiased_accuracy"], key=lambda column: column.map(order)
                              if column.name == "run" else -column, kind="stable", ignore_index=True)
    table.insert(3, "rank", table.groupby("run", sort=False).cumcount() + 1)
    return table


def paired_differences(seeds: pd.DataFrame) -> pd.DataFrame:
    """Per run: paired training at its smallest marked share minus every other method, unbiased accuracy, as the
    per-seed difference (seeds both have) with its 95 % interval and verdict (paired higher / lower / undecided)."""
    rows = []
    for run, group in seeds.groupby("run", sort=False):
        paired = group.dropna(subset=["marked_share"])
        if paired.empty:
            continue
        reference = paired.loc[paired["marked_share"].idxmin(), "method"]
        ours = group[group["method"] == reference].set_index("seed")["unbiased_accuracy"]
        for method, other in group[group["method"] != reference].groupby("method", sort=False):
            theirs = other.set_index("seed")["unbiased_accuracy"]
            summary = summarize((ours - theirs).dropna())
            rows.append({"run": run, "paired": reference, "method": method, "difference": summary.mean,
                         "difference_low": summary.low, "difference_high": summary.high,
                         "n": summary.n, "verdict": PAIRED_AHEAD.verdict(summary)})
    return pd.DataFrame(rows, columns=["run", "paired", "method", "difference", "difference_low", "difference_high", "n",
                                       "verdict"])


def cell(row: pd.Series, name: str) -> str:
    if row["n"] == 0 or math.isnan(row[name]):
        return "–"
    if row["n"] == 1:
        return f"{row[name]:.3f} (n 1)"
    return f"{row[name]:.3f} [{row[f'{name}_low']:.3f}, {row[f'{name}_high']:.3f}]"


def methods_markdown(table: pd.DataFrame, differences: pd.DataFrame, *, title: str, description: str) -> str:
    """Per run, the methods ranked with their three accuracies as mean [95 % CI], then paired training against each
    other method, then ReBias's published rows."""
    parts = [f"# {title}\n", f"{description}\n",
             "Pool test set: unbiased accuracy (mean over the digit x colour cells), bias-conflicting accuracy (biased "
             "digits on another colour), worst cell; mean [95 % Student-t CI] over the seeds (n per row). No method "
             "selected its model on a test set: each on the biased dev split, lff none (the last epoch of its fixed "
             "budget). Rank: by mean unbiased accuracy (intervals that overlap do not "
             "order two methods; the differences below do).\n"]
    for run, rows in table.groupby("run", sort=False):
        shown = pd.DataFrame({
            "rank": rows["rank"], "method": rows["method"], "knows": rows["supervision"], "n": rows["n"],
            **{name.replace("_accuracy", ""): [cell(row, name) for _, row in rows.iterrows()] for name in METRICS},
        })
        parts += [f"## {run} (rho {rows['rho'].iloc[0]:g})\n", shown.to_markdown(index=False) + "\n"]
    if not differences.empty:
        parts.append("## Paired training at its smallest marked share against each method\n")
        parts.append("Unbiased accuracy, paired minus the method, per seed; mean [95 % CI] over the seeds both have; "
                     "*paired higher* when the interval lies above 0, *paired lower* below 0, else *undecided*.\n")
        shown = pd.DataFrame({
            "run": differences["run"], "paired": differences["paired"], "minus": differences["method"],
            "n": differences["n"],
            "difference": [cell(row, "difference") for _, row in differences.iterrows()],
            "verdict": differences["verdict"],
        })
        parts.append(shown.to_markdown(index=False) + "\n")
    published = pd.DataFrame({method: values for method, values in REBIAS_TABLE1.items()}).sort_index(ascending=False)
    parts += ["## ReBias's published results (Table 1; unbiased accuracy, %, mean of 3 runs; its own CNN recipe)\n",
              published.rename_axis("rho").to_markdown() + "\n"]
    return "\n".join(parts)


def methods_figure(table: pd.DataFrame, title: str) -> plt.Figure:
    """Unbiased accuracy against rho (the runs below rho 1): one curve per method with its 95 % interval as bars and
    band, ReBias's published vanilla dashed."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    protocol = table[table["rho"] < 1]  # ReBias's protocol; runs at rho 1 (the notes' setups) are in the table only
    curves = list(protocol.sort_values("rho").groupby("method", sort=False))
    for number, (method, rows) in enumerate(curves):
        mean = rows["unbiased_accuracy"]
        bars = [mean - rows["unbiased_accuracy_low"], rows["unbiased_accuracy_high"] - mean]  # also at a lone rho
        rho = rows["rho"] + (number - (len(curves) - 1) / 2) * DODGE  # side by side, not over each other
        line = axes.errorbar(rho, mean, yerr=bars, marker="o", capsize=3, label=method)
        axes.fill_between(rho, rows["unbiased_accuracy_low"], rows["unbiased_accuracy_high"], alpha=0.15,
                          color=line[0].get_color())
    vanilla = sorted(REBIAS_TABLE1["Vanilla"].items())
    axes.plot([rho for rho, _ in vanilla], [value / 100 for _, value in vanilla], "k--", label="ReBias vanilla (published)")
    axes.set(xlabel="rho (share of images on their digit's colour in training)", ylabel="unbiased accuracy (pool test)",
             ylim=(0, 1.02), title=title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return figure


def methods_tables(
    runs: dict[str, list[str]], *, correlations: dict[str, float], title: str, description: str, csv: Path, md: Path,
    png: Path,
) -> None:
    """Stage: the methods table (CSV, Markdown) and figure of an experiment's runs (run -> pool-test metrics JSONs)."""
    seeds = seed_rows(runs)
    table = method_rows(seeds, correlations)
    differences = paired_differences(seeds)
    inputs = [Path(path) for paths in runs.values() for path in paths]
    write_csv_markdown(table, methods_markdown(table, differences, title=title, description=description), csv=csv,
                       md=md, inputs=inputs)
    save_figure(methods_figure(table, title), Path(png), inputs)
    log.info("methods table: %d rows", len(table))
