"""docs/reproduction.md: each claim of the original notes measured in both setups over seeds, with a verdict, and
ReBias's published vanilla results beside ours. Stage: `write_reproduction`.

Verdict rules (stated in the document):

- a claimed value "about v" is reproduced when the 95 % confidence interval of our mean overlaps [v - 0.02, v + 0.02];
- "accurate" means the interval lies above 0.90, "misclassified" that it lies below 0.80;
- "stays at its best" on another test set: the per-seed difference has a mean within 0.01 of 0;
- a ReBias row is reproduced when our mean is within 5 points (0.05) of ReBias's published mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

import numpy as np
import pandas as pd

from bgbias import __version__
from bgbias.stats import Summary, summarize
from bgbias.storage import atomic_path, read_json

TOLERANCE = 0.02  # "about v": our interval must overlap v +- this
ACCURATE, MISCLASSIFIED = 0.90, 0.80
SAME = 0.01  # "stays at its best": |mean difference| at most this
REBIAS_POINTS = 0.05
# ReBias (Bahng et al., ICML 2020), Table 1, vanilla model, unbiased accuracy (%) on Biased-MNIST, mean of 3 runs
REBIAS_VANILLA = {0.999: 10.4, 0.997: 33.4, 0.995: 72.1, 0.990: 89.1}
UNBIASED, BIASED = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)


@dataclass(frozen=True)
class Claim:
    """One claim of the original notes: what it says, how it is measured per seed, and the verdict rule."""

    text: str
    measure: Callable[[pd.DataFrame], pd.Series]  # per-seed values from a setup's metrics (one row per JSON)
    verdict: Callable[[Summary], bool]
    rule: str


def per_seed(metrics: pd.DataFrame, model: str, test_set: str, value: Callable[[pd.Series], float]) -> pd.Series:
    rows = metrics[(metrics["model"] == model) & (metrics["test_set"] == test_set)].sort_values("seed")
    return pd.Series([value(row) for _, row in rows.iterrows()], index=rows["seed"].to_numpy(), dtype=float)


def accuracy_of(model: str, test_set: str = "pool") -> Callable[[pd.DataFrame], pd.Series]:
    return lambda metrics: per_seed(metrics, model, test_set, lambda row: row["accuracy"])


def digits_of(model: str, digits: tuple[int, ...]) -> Callable[[pd.DataFrame], pd.Series]:
    """The mean per-digit accuracy over `digits` on the pool test set."""
    return lambda metrics: per_seed(metrics, model, "pool", lambda row: float(np.mean([row["per_digit"][d] for d in digits])))


def difference(first: Callable, second: Callable) -> Callable[[pd.DataFrame], pd.Series]:
    """Per seed, the first measure minus the second."""
    return lambda metrics: first(metrics) - second(metrics)


def about(value: float) -> Callable[[Summary], bool]:
    return lambda s: s.n > 0 and s.low <= value + TOLERANCE and s.high >= value - TOLERANCE


CLAIMS = [
    Claim("base model: digits 0-4 stay accurate on a pool test set (mean per-digit accuracy)",
          digits_of("base", UNBIASED), lambda s: s.n > 0 and s.low > ACCURATE, f"interval above {ACCURATE}"),
    Claim("base model: digits 5-9 are misclassified on a pool test set (mean per-digit accuracy)",
          digits_of("base", BIASED), lambda s: s.n > 0 and s.high < MISCLASSIFIED, f"interval below {MISCLASSIFIED}"),
    Claim("pool-paired reaches about 0.98 on a pool test set", accuracy_of("paired-pool-f1"), about(0.98),
          f"interval overlaps 0.98 ± {TOLERANCE}"),
    Claim("noise-paired plateaus at about 0.85 on a pool test set", accuracy_of("paired-noise-f1"), about(0.85),
          f"interval overlaps 0.85 ± {TOLERANCE}"),
    Claim("strips-paired plateaus at about 0.85 on a pool test set", accuracy_of("paired-strips-f1"), about(0.85),
          f"interval overlaps 0.85 ± {TOLERANCE}"),
    Claim("pool-paired beats noise-paired on a pool test set (per-seed difference)",
          difference(accuracy_of("paired-pool-f1"), accuracy_of("paired-noise-f1")),
          lambda s: s.n > 1 and s.low > 0, "interval above 0"),
    Claim("pool-paired stays at its best on a noise test set (per-seed pool minus noise test accuracy)",
          difference(accuracy_of("paired-pool-f1"), accuracy_of("paired-pool-f1", "noise")),
          lambda s: s.n > 0 and abs(s.mean) <= SAME, f"|mean| at most {SAME}"),
]


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
    return pd.DataFrame(rows)


def claims_table(setups: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per claim: per setup, the measure over seeds and its verdict."""
    rows = []
    for claim in CLAIMS:
        row = {"claim": claim.text, "rule": claim.rule}
        for setup, metrics in setups.items():
            summary = summarize(claim.measure(metrics))
            row[setup] = summary.text()
            row[f"{setup} verdict"] = "reproduced" if claim.verdict(summary) else "not reproduced"
        rows.append(row)
    return pd.DataFrame(rows)


def rebias_table(runs: dict[str, pd.DataFrame], correlations: dict[str, float], recipes: dict[str, str]) -> pd.DataFrame:
    """Per correlation: ReBias's published vanilla unbiased accuracy and each recipe's (ours) on the pool test set;
    `not run` where a recipe has no run at that correlation."""
    rows = []
    for rho, published in sorted(REBIAS_VANILLA.items(), reverse=True):
        row = {"rho": rho, "ReBias vanilla (published, %)": published}
        for recipe in dict.fromkeys(recipes.values()):
            row[f"{recipe} (%)"], row[f"{recipe} verdict"] = "not run", ""
        for run, metrics in runs.items():
            if correlations[run] != rho:
                continue
            summary = summarize(per_seed(metrics, "base", "pool", lambda r: 100 * r["unbiased_accuracy"]))
            within = summary.n > 0 and abs(summary.mean - published) <= 100 * REBIAS_POINTS
            row[f"{recipes[run]} (%)"] = summary.text(1)
            row[f"{recipes[run]} verdict"] = "within 5 points" if within else "not within 5 points"
        rows.append(row)
    return pd.DataFrame(rows)


def write_reproduction(
    output: Path,
    *,
    study: dict[str, list[str]],
    rebias: dict[str, list[str]],
    correlations: dict[str, float],
    recipes: dict[str, str],
    descriptions: dict[str, str],
) -> None:
    """Stage: the claims table of the `study` setups (setup -> metrics JSONs) and the ReBias table of the `rebias`
    runs (run -> metrics JSONs; `correlations` and `recipes` name each run's rho and recipe)."""
    setups = {setup: load_run_metrics(paths) for setup, paths in study.items()}
    seeds = sorted({int(s) for metrics in setups.values() for s in metrics["seed"]})
    rebias_runs = {run: load_run_metrics(paths) for run, paths in rebias.items()}
    parts = [
        "# Reproduction of the original notes' claims\n",
        f"Generated by `snakemake --cores all docs/reproduction.md` (bgbias {__version__}) from the `study` experiment "
        f"(setups {', '.join(setups)}, seeds {seeds}) and the `rebias` experiment. Each cell: mean ± standard "
        "deviation over the seeds, n, and the 95 % Student-t confidence interval of the mean. Every number comes "
        "from the results under `results/study/` and `results/rebias/`; rerun the target and `git diff` this file "
        "to compare.\n",
        "## Setups\n",
        *(f"- **{setup}**: {descriptions.get(setup, '')}" for setup in setups),
        "",
        "## Claims\n",
        "Verdict rules: a claimed value *about v* is reproduced when the interval overlaps v ± 0.02; *accurate* means "
        "the interval lies above 0.90 and *misclassified* below 0.80; *stays at its best* means a mean per-seed "
        "difference within 0.01 of 0; a comparison of two models holds when the interval of the per-seed "
        "difference excludes 0. With one seed there is no interval: that cell is one observation.\n",
        claims_table(setups).to_markdown(index=False) + "\n",
        "## ReBias's Biased-MNIST protocol, vanilla models\n",
        "Unbiased accuracy (%, the mean over the digit x colour cells of the unbiased pool test set) of the base "
        "model trained at each correlation rho, beside ReBias's published vanilla model (Table 1; mean of 3 runs). "
        "A recipe is within 5 points when its mean is.\n",
        rebias_table(rebias_runs, correlations, recipes).to_markdown(index=False) + "\n",
    ]
    with atomic_path(Path(output), [path for paths in [*study.values(), *rebias.values()] for path in paths]) as partial:
        partial.write_text("\n".join(parts))
