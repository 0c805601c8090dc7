"""The attack registry: each attack kind's function, settings type and config keys.

An attack kind is one module of this package that calls `registry.register` with its `AttackKind`;
the adversarial sets, the tables, the figure, the disk plan and the workflow all read the registry.
Adding an attack means adding its module (and its name to the import below, which sets the order of
the tables) and its keys in the config schema: `<name>_<setting>` for each field of its settings
type, and its list of strengths.

The modules import torch inside their functions, so that this registry (which the Snakefile and
the table jobs read) loads without torch; it reads no file (a set's attack: `grey.set_attack`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bgbias.attacks import fgsm  # noqa: F401  (registration order = the order of the tables)
from bgbias.attacks import cw  # noqa: F401
from bgbias.attacks.registry import ATTACKS, AttackKind


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
    def of(cls, kind: str, strength: float) -> Attack:
        """The attack of the registered kind `kind` at `strength`."""
        if kind not in ATTACKS:
            raise ValueError(f"attack {kind!r} is unknown; allowed: {', '.join(ATTACKS)}")
        return cls(ATTACKS[kind], float(strength))

    @classmethod
    def parse(cls, name: str) -> Attack:
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
