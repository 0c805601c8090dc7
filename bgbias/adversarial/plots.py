"""Figure of the forgetting experiment: clean accuracy before and after adversarial fine-tuning. Stage:
`plot_forgetting`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bgbias.attacks import ATTACKS
from bgbias.figures import save_figure
from bgbias.grid import CLEAN, GREY_MODEL
from bgbias.storage import read_table

import matplotlib.pyplot as plt  # after bgbias.figures chose the Agg backend


def forgetting_figure(table: pd.DataFrame) -> plt.Figure:
    """Per attack kind: clean accuracy before (grey model) and after fine-tuning, by attack strength,
    beside the accuracy on the attack's own test set before and after."""
    kinds = [kind for name, kind in ATTACKS.items() if (table["attack"] == name).any()]
    figure, axes = plt.subplots(1, max(len(kinds), 1), figsize=(5.5 * max(len(kinds), 1), 4), squeeze=False)
    grey = table.loc[table["model"] == GREY_MODEL]
    for axis, kind in zip(axes[0], kinds):
        tuned = table.loc[table["attack"] == kind.name]
        names = tuned.groupby("strength")["model"].first()
        strengths = names.index.to_numpy()
        before_own = [grey[name].mean() for name in names]
        curves = {
            "clean, after fine-tuning": tuned.groupby("strength")[CLEAN],
            "own attack's test set, after": tuned.groupby("strength")["own"],
        }
        for label, groups in curves.items():
            axis.errorbar(strengths, groups.mean(), yerr=groups.std().fillna(0), marker="o", capsize=3, label=label)
        axis.axhline(grey[CLEAN].mean(), color="black", linestyle="--", label="clean, before (grey LeNet)")
        axis.plot(strengths, before_own, color="grey", linestyle=":", marker="x", label="own attack's test set, before")
        if kind.log_scale:
            axis.set_xscale("log")
        axis.set(
            xlabel=kind.strength_label, ylabel="accuracy", ylim=(0, 1.02), title=f"fine-tuned on {kind.name.upper()} sets"
        )
        axis.legend(fontsize=8, loc="lower left")
    figure.suptitle("Catastrophic forgetting: clean accuracy before and after adversarial fine-tuning")
    figure.tight_layout()
    return figure


def plot_forgetting(table: Path, png: Path) -> None:
    """Stage: clean accuracy before and after adversarial fine-tuning, per attack strength."""
    save_figure(forgetting_figure(read_table(table, ["model", "attack", "strength", CLEAN, "own"])), Path(png), [table])
