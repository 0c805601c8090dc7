"""Adversarial sets: the attacks' names and settings, the attacked subsets, and reading a set's summary.

No torch here (the attacks themselves are in `bgbias.attacks`), so that table jobs start fast.

An adversarial set file (HDF5), one per attack and strength (`fgsm-0.1.h5`, `cw-0.5.h5`), has
one group per split (`train`, `dev`, `test`), holding the seeded attacked subset of that
split of the grey dataset:

- `images` (N, 28, 28) float32 in [0, 1]: the adversarial images. Not uint8 like the other
  datasets: rounding to 1/255 steps would change the perturbation and undo borderline CW
  successes.
- `labels` (N,) int64 (the true digit), `source_index` (N,) int64 (index in the official
  MNIST split) and `grey_index` (N,) int64 (row in the grey dataset's split).
- `bg_color` (N, 3) int16: (0, 0, 0) where the background (the pixels that are 0 in the
  clean digit) is still exactly black, (-1, -1, -1) where the attack changed it;
  `bg_mode` (N,) bytes: the attack name.
- `success` (N,) bool: the attacked model does not predict the true label.
- `l2`, `linf` (N,) float32: L2 and L-infinity norm of (adversarial - clean) in [0, 1] units.
- `clean_prediction`, `adversarial_prediction` (N,) int64: the attacked model's predictions.

File attributes: the config slice, the seed, the bgbias version, `attack` (fgsm or cw) and
`strength` (epsilon or c).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bgbias.seeding import rng_for
from bgbias.storage import SPLITS, open_dataset

KINDS = ("fgsm", "cw")
CLEAN = "clean"  # the clean official test split, beside the adversarial test sets
GREY_MODEL = "grey"  # the grey LeNet before fine-tuning
SUMMARY_FIELDS = ("labels", "success", "l2", "linf", "clean_prediction")


@dataclass(frozen=True)
class Attack:
    """An attack and its strength: FGSM's epsilon or CW's constant c."""

    kind: str
    strength: float

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"attack {self.kind!r} is unknown; allowed: {', '.join(KINDS)}")
        if self.kind == "fgsm" and not 0 <= self.strength <= 1:
            raise ValueError(f"FGSM epsilon {self.strength} is not allowed; allowed: 0 <= epsilon <= 1")
        if self.kind == "cw" and not self.strength > 0:
            raise ValueError(f"CW constant c {self.strength} is not allowed; allowed: c > 0")

    @property
    def name(self) -> str:
        """File-name form: `fgsm-0.1`, `cw-5`."""
        return f"{self.kind}-{self.strength:g}"

    @classmethod
    def parse(cls, name: str) -> "Attack":
        """The attack named `fgsm-<epsilon>` or `cw-<c>`."""
        kind, _, value = name.partition("-")
        try:
            strength = float(value)
        except ValueError:
            raise ValueError(f"attack name {name!r} is not allowed; allowed: fgsm-<epsilon> or cw-<c>") from None
        return cls(kind, strength)


@dataclass(frozen=True)
class CWSpec:
    """Carlini-Wagner L2 settings: Adam steps and learning rate, confidence kappa, early abort."""

    steps: int = 1000
    lr: float = 0.01
    kappa: float = 0.0
    abort_early: bool = True


def attack_names(adversarial: dict) -> list[str]:
    """The name of every attack of the `adversarial` config slice, FGSM first."""
    return [Attack("fgsm", e).name for e in adversarial["fgsm_epsilons"]] + [
        Attack("cw", c).name for c in adversarial["cw_c"]
    ]


def attacked_subset(count: int, size: int | None, seed: int, split: str) -> np.ndarray:
    """Sorted indices of the `size` images of a split (of `count`) to attack; all when `size` is None or >= count."""
    if size is None or size >= count:
        return np.arange(count)
    return np.sort(rng_for(seed, "adversarial", split).choice(count, size, replace=False))


def set_attack(path: Path) -> Attack:
    """The attack that made the adversarial set `path` (from its file attributes)."""
    with open_dataset(Path(path)) as handle:
        if "attack" not in handle.attrs:
            raise ValueError(f"{path} is not an adversarial set (no 'attack' attribute)")
        return Attack(str(handle.attrs["attack"]), float(handle.attrs["strength"]))


def attack_summary(path: Path) -> pd.DataFrame:
    """Per split of an adversarial set: size, clean accuracy, success rate, mean L2 / L-inf (all and successful)."""
    rows = []
    attack = set_attack(path)
    with open_dataset(Path(path)) as handle:
        for split in (s for s in SPLITS if s in handle):
            f = {field: handle[split][field][()] for field in SUMMARY_FIELDS}
            success = f["success"].astype(bool)
            rows.append(
                {
                    "attack": attack.kind,
                    "strength": attack.strength,
                    "name": attack.name,
                    "seed": int(handle.attrs["seed"]),
                    "split": split,
                    "n": len(success),
                    "clean_accuracy": float((f["clean_prediction"] == f["labels"]).mean()),
                    "success_rate": float(success.mean()),
                    "mean_l2": float(f["l2"].mean()),
                    "mean_linf": float(f["linf"].mean()),
                    "mean_l2_successful": float(f["l2"][success].mean()) if success.any() else math.nan,
                }
            )
    return pd.DataFrame(rows)
