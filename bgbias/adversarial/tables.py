"""Tables of the adversarial experiments: the forgetting table and the attack table (no torch: table jobs start
fast). Stages: `forgetting_tables` and `attack_tables`."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd

from bgbias.attacks import ATTACKS, Attack
from bgbias.adversarial.grey import set_attack
from bgbias.grid import CLEAN, GREY_MODEL
from bgbias.stats import binomial_interval
from bgbias.storage import SPLITS, open_dataset, read_json, write_csv_markdown

log = logging.getLogger("bgbias")
SUMMARY_FIELDS = ("labels", "success", "l2", "linf", "clean_prediction")


def attack_order(name: str) -> tuple[int, float]:
    """Sort key: the grey model first, then the attacks in registry order, each by strength."""
    if name == GREY_MODEL:
        return (-1, 0.0)
    attack = Attack.parse(name)
    return (list(ATTACKS).index(attack.kind.name), attack.strength)


def attack_summary(path: Path) -> pd.DataFrame:
    """Per split of an adversarial set: size, clean accuracy, success rate among the images the model classified
    right before the attack (the usual definition: an image already wrong is no success of the attack), mean L2 /
    L-inf (all and successful)."""
    rows = []
    attack = set_attack(path)
    with open_dataset(Path(path)) as handle:
        for split in (s for s in SPLITS if s in handle):
            f = {field: handle[split][field][()] for field in SUMMARY_FIELDS}
            correct = f["clean_prediction"] == f["labels"]
            success = f["success"].astype(bool) & correct
            rows.append(
                {
                    "attack": attack.kind.name,
                    "strength": attack.strength,
                    "name": attack.name,
                    "seed": int(handle.attrs["seed"]),
                    "split": split,
                    "n": len(success),
                    "clean_accuracy": float(correct.mean()),
                    "correct": int(correct.sum()),
                    "successes": int(success.sum()),
                    "success_rate": float(success.sum() / correct.sum()) if correct.any() else math.nan,
                    "mean_l2": float(f["l2"].mean()),
                    "mean_linf": float(f["linf"].mean()),
                    "mean_l2_successful": float(f["l2"][success].mean()) if success.any() else math.nan,
                }
            )
    return pd.DataFrame(rows)


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
                "attack": attack.kind.name if attack else "none",
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
        _kind=table["attack"].map(list(ATTACKS).index), _split=table["split"].map(split_order)
    ).sort_values(["seed", "_kind", "strength", "_split"])
    return table.drop(columns=["_kind", "_split"]).reset_index(drop=True)


def success_cells(table: pd.DataFrame, keys: list[str]) -> list[str]:
    """Per group, the success rate over all its seeds' images: `successes / correct = rate [95 % Wilson interval]`."""
    cells = []
    for _, group in table.groupby(keys, sort=False):
        successes, correct = int(group["successes"].sum()), int(group["correct"].sum())
        low, high = binomial_interval(successes, correct)
        cells.append(f"{successes}/{correct} = {successes / correct:.3f} [{low:.3f}, {high:.3f}]" if correct else "–")
    return cells


def attack_markdown(table: pd.DataFrame) -> str:
    """The attack table over seeds as Markdown: the pooled success rate with its binomial interval, the other columns
    as mean ± std with several seeds."""
    keys = ["attack", "strength", "split"]
    text = mean_std(table, keys, ["clean_accuracy", "mean_l2", "mean_linf", "mean_l2_successful"])
    text.insert(len(keys), "n", table.groupby(keys, sort=False)["n"].sum().to_numpy())
    text.insert(len(keys) + 2, "success (of the images right before the attack)", success_cells(table, keys))
    seeds = sorted(table["seed"].unique())
    header = (
        "Attacks on the grey LeNet, per split of the attacked subset: success rate (the share of the images the model "
        "classified right before the attack that it misclassifies after it, over all seeds, with its 95 % Wilson "
        "interval), mean L2 and L-infinity size of the perturbation in [0, 1] pixel units (over all images, and L2 "
        "over the successful ones); `n` counts images over all seeds. "
        f"Seeds: {', '.join(map(str, seeds))}.\n\n"
    )
    return header + text.to_markdown(index=False) + "\n"


def forgetting_tables(evaluations: list[Path], *, csv: Path, md: Path) -> None:
    """Stage: the forgetting table (every grey / fine-tuned model on clean and adversarial test sets), CSV and Markdown."""
    table = forgetting_table([read_json(path, ["model", "seed", "accuracy"]) for path in evaluations])
    write_csv_markdown(table, forgetting_markdown(table), csv=csv, md=md, inputs=evaluations)
    log.info("forgetting table: %d rows", len(table))


def attack_tables(sets: list[Path], *, csv: Path, md: Path) -> None:
    """Stage: success rate and perturbation sizes of every adversarial set, per split, as CSV and Markdown."""
    table = attack_table([attack_summary(Path(path)) for path in sets])
    write_csv_markdown(table, attack_markdown(table), csv=csv, md=md, inputs=sets)
    log.info("attack table: %d rows", len(table))
