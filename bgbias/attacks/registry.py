"""The registry of attack kinds: what each kind's module registers (its function, settings type, config keys)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

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
