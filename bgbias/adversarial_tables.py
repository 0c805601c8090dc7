"""Tables and figure of the adversarial experiments: the forgetting table, the attack table, and
clean accuracy before and after adversarial fine-tuning (no torch: table jobs start fast)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from bgbias.adversarial import CLEAN, GREY_MODEL, KINDS, Attack  # noqa: E402

KIND_LABELS = {"fgsm": "FGSM epsilon", "cw": "CW-L2 constant c"}


def attack_order(name: str) -> tuple[int, float]:
    """Sort key: the grey model first, then FGSM, then CW, each by strength."""
    if name == GREY_MODEL:
        return (-1, 0.0)
    attack = Attack.parse(name)
    return (KINDS.index(attack.kind), attack.strength)


def forgetting_table(evaluations: list[dict]) -> pd.DataFrame:
    """One row per (seed, model) from evaluations {"seed", "model", "accuracy": {test set: accuracy}}.

    Columns: seed, model, attack and strength it was fine-tuned on (none for the grey model),
    `clean` accuracy, `clean_change` (minus the grey model's clean accuracy, same seed), `own`
    (accuracy on the test set of its own attack) and the accuracy on every adversarial test set.
    """
    rows = []
    sets = sorted({name for e in evaluations for name in e["accuracy"] if name != CLEAN}, key=attack_order)
    for evaluation in evaluations:
        model, scores = evaluation["model"], evaluation["accuracy"]
        attack = None if model == GREY_MODEL else Attack.parse(model)
        rows.append(
            {
                "seed": int(evaluation["seed"]),
                "model": model,
                "attack": attack.kind if attack else "none",
                "strength": attack.strength if attack else math.nan,
                CLEAN: scores[CLEAN],
                "own": scores.get(model, math.nan),
                **{name: scores.get(name, math.nan) for name in sets},
            }
        )
    table = pd.DataFrame(rows)
    grey = table.loc[table["model"] == GREY_MODEL].set_index("seed")[CLEAN]
    table["clean_change"] = table[CLEAN] - table["seed"].map(grey)
    table = table.sort_values(["seed", "model"], key=lambda c: c.map(attack_order) if c.name == "model" else c)
    return table[["seed", "model", "attack", "strength", CLEAN, "clean_change", "own", *sets]].reset_index(drop=True)


def mean_std(table: pd.DataFrame, by: list[str], columns: list[str]) -> pd.DataFrame:
    """Mean of `columns` per group, as text `mean ± std` when the group has more than one row."""
    grouped = table.groupby(by, sort=False)[columns]
    means, stds = grouped.mean(), grouped.std()

    def cell(mean: float, std: float) -> str:
        return "" if pd.isna(mean) else f"{mean:.3f}" if pd.isna(std) else f"{mean:.3f} ± {std:.3f}"

    cells = {c: [cell(m, s) for m, s in zip(means[c], stds[c])] for c in columns}
    return pd.DataFrame(cells, index=means.index).reset_index()


def forgetting_markdown(table: pd.DataFrame) -> str:
    """The forgetting table averaged over seeds (mean ± std with several seeds) as Markdown."""
    columns = [c for c in table.columns if c not in ("seed", "model", "attack", "strength")]
    seeds = sorted(table["seed"].unique())
    text = mean_std(table, ["model"], columns).rename(columns={"model": "model (fine-tuned on)"})
    header = (
        f"Accuracy of the grey LeNet (`grey`) and of its copies fine-tuned on each adversarial training set, "
        f"on the clean official test split (`clean`) and on every adversarial test set; `own` = the test set "
        f"of the model's own attack; `clean_change` = clean accuracy minus the grey model's. "
        f"Seeds: {', '.join(map(str, seeds))}.\n\n"
    )
    return header + text.to_markdown(index=False) + "\n"


def attack_table(summaries: list[pd.DataFrame]) -> pd.DataFrame:
    """The per-split attack summaries of every set and seed, FGSM then CW, by strength and split."""
    table = pd.concat(summaries, ignore_index=True)
    split_order = {"train": 0, "dev": 1, "test": 2}
    table = table.assign(
        _kind=table["attack"].map(KINDS.index), _split=table["split"].map(split_order)
    ).sort_values(["seed", "_kind", "strength", "_split"])
    return table.drop(columns=["_kind", "_split"]).reset_index(drop=True)


def attack_markdown(table: pd.DataFrame) -> str:
    """The attack table averaged over seeds (mean ± std with several seeds) as Markdown."""
    keys = ["attack", "strength", "split"]
    columns = ["clean_accuracy", "success_rate", "mean_l2", "mean_linf", "mean_l2_successful"]
    text = mean_std(table, keys, columns)
    text.insert(len(keys), "n", table.groupby(keys, sort=False)["n"].sum().to_numpy())
    seeds = sorted(table["seed"].unique())
    header = (
        "Attacks on the grey LeNet, per split of the attacked subset: success rate (share of images the model "
        "misclassifies after the attack), mean L2 and L-infinity size of the perturbation in [0, 1] pixel units "
        "(over all images, and L2 over the successful ones); `n` counts images over all seeds. "
        f"Seeds: {', '.join(map(str, seeds))}.\n\n"
    )
    return header + text.to_markdown(index=False) + "\n"


def forgetting_figure(table: pd.DataFrame) -> plt.Figure:
    """Per attack kind: clean accuracy before (grey model) and after fine-tuning, by attack strength,
    beside the accuracy on the attack's own test set before and after."""
    kinds = [k for k in KINDS if (table["attack"] == k).any()]
    figure, axes = plt.subplots(1, max(len(kinds), 1), figsize=(5.5 * max(len(kinds), 1), 4), squeeze=False)
    grey = table.loc[table["model"] == GREY_MODEL]
    for axis, kind in zip(axes[0], kinds):
        tuned = table.loc[table["attack"] == kind]
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
        if kind == "cw":
            axis.set_xscale("log")
        axis.set(xlabel=KIND_LABELS[kind], ylabel="accuracy", ylim=(0, 1.02), title=f"fine-tuned on {kind.upper()} sets")
        axis.legend(fontsize=8, loc="lower left")
    figure.suptitle("Catastrophic forgetting: clean accuracy before and after adversarial fine-tuning")
    figure.tight_layout()
    return figure
