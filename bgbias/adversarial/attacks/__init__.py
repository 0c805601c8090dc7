"""The attack registry: each attack kind's function, settings type and config keys.

An attack kind is one module of this package that calls `register` with its `AttackKind`; the
adversarial sets, the tables, the figure, the disk plan and the workflow all read this registry.
Adding an attack means adding its module (and its import at the end of this file, which sets the
order of the tables) and its keys in the config schema: `<name>_<setting>` for each field of its
settings type, and its list of strengths.

The modules import torch inside their functions, so that this registry (which the Snakefile and
the table jobs read) loads without torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from bgbias.storage import open_dataset

Perturb = Callable[..., Any]  # (model, images, labels, strength, settings) -> adversarial images (torch tensors)


@dataclass(frozen=True)
class AttackKind:
    """One kind of attack, run once per strength in the config list `strengths_key`."""

    name: str  # in set names: `<name>-<strength>`, e.g. fgsm-0.1
    strengths_key: str  # key of the `adversarial` config block listing the strengths, e.g. fgsm_epsilons
    strength_label: str  # axis label of the strength, e.g. "FGSM epsilon"
    settings: type  # dataclass; field f is read from the config key `<name>_<f>`
    perturb: Perturb
    log_scale: bool  # strengths plotted on a log axis
    stored_bytes: int  # compressed bytes of one stored adversarial image (the disk plan; benchmarks/disk_model.py)

    def settings_keys(self) -> list[str]:
        """The `adversarial` config keys this kind's settings come from."""
        return [f"{self.name}_{field.name}" for field in dataclasses.fields(self.settings)]

    def settings_of(self, adversarial_config: dict) -> Any:
        """This kind's settings from a config slice holding its keys."""
        return self.settings(**{f.name: adversarial_config[f"{self.name}_{f.name}"] for f in dataclasses.fields(self.settings)})


ATTACKS: dict[str, AttackKind] = {}


def register(kind: AttackKind) -> AttackKind:
    ATTACKS[kind.name] = kind
    return kind


@dataclass(frozen=True)
class Attack:
    """One adversarial set's attack: a kind and its strength."""

    kind: AttackKind
    strength: float

    @property
    def name(self) -> str:
        """File-name form: `fgsm-0.1`, `cw-5`."""
        return f"{self.kind.name}-{self.strength:g}"

    @classmethod
    def of(cls, kind: str, strength: float) -> "Attack":
        """The attack of the registered kind `kind` at `strength`."""
        if kind not in ATTACKS:
            raise ValueError(f"attack {kind!r} is unknown; allowed: {', '.join(ATTACKS)}")
        return cls(ATTACKS[kind], float(strength))

    @classmethod
    def parse(cls, name: str) -> "Attack":
        """The attack named `<kind>-<strength>`, e.g. fgsm-0.1 or cw-5."""
        kind, _, value = name.partition("-")
        try:
            return cls.of(kind, float(value))
        except ValueError:
            allowed = " or ".join(f"{k}-<one of {ATTACKS[k].strengths_key}>" for k in ATTACKS)
            raise ValueError(f"attack name {name!r} is not allowed; allowed: {allowed}") from None


def attack_names(adversarial_config: dict) -> list[str]:
    """The name of every adversarial set of an `adversarial` config block, in registry order."""
    return [Attack(kind, strength).name for kind in ATTACKS.values() for strength in adversarial_config[kind.strengths_key]]


def attack_config_slice(adversarial_config: dict, name: str) -> dict:
    """The config slice the adversarial set `name` depends on: the attacked subset sizes, the batch size, and the
    settings of its kind (not the other kinds' settings, nor the lists of strengths)."""
    keys = ["train_size", "dev_size", "test_size", "batch_size", *Attack.parse(name).kind.settings_keys()]
    return {key: adversarial_config[key] for key in keys}


def set_attack(path: Path) -> Attack:
    """The attack that made the adversarial set `path` (from its file attributes)."""
    with open_dataset(Path(path)) as handle:
        if "attack" not in handle.attrs:
            raise ValueError(f"{path} is not an adversarial set (no 'attack' attribute)")
        return Attack.of(str(handle.attrs["attack"]), float(handle.attrs["strength"]))


from bgbias.adversarial.attacks import fgsm, cw  # noqa: E402,F401  (register, in this order)
