"""Debiasing methods: their training objectives as plain torch building blocks, one module each, and the registry
`METHODS`. The registry names each method's implementation as `module:attribute` and imports it only on `load()`, so
that reading the registry imports neither torch nor the data modules."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal, get_args

Supervision = Literal["none", "bias labels", "group labels", "marked images"]
SUPERVISIONS: tuple[str, ...] = get_args(Supervision)


@dataclass(frozen=True, kw_only=True)
class MethodInfo:
    """A method: its name, what it does, the supervision it trains with, and where its loss (or the class or
    factory that makes it) lives, as `module:attribute`."""

    name: str
    description: str
    supervision: Supervision
    implementation: str

    def __post_init__(self) -> None:
        if self.supervision not in SUPERVISIONS:
            allowed = ", ".join(SUPERVISIONS)
            raise ValueError(f"method {self.name}: supervision {self.supervision!r}; allowed: {allowed}")

    def load(self) -> Any:
        """The loss, class or factory that `implementation` names."""
        module, attribute = self.implementation.split(":")
        return getattr(importlib.import_module(module), attribute)


METHODS: dict[str, MethodInfo] = {
    info.name: info
    for info in (
        MethodInfo(
            name="erm", description="plain cross-entropy (the base model)", supervision="none",
            implementation="bgbias.methods.erm:cross_entropy",
        ),
        MethodInfo(
            name="groupdro",
            description="online group DRO: exponentiated-gradient weights on the (digit, colour) groups' losses",
            supervision="group labels", implementation="bgbias.methods.groupdro:GroupDRO",
        ),
        MethodInfo(
            name="lff",
            description="a GCE-trained biased model reweights the debiased model's CE towards the samples it fails on",
            supervision="none", implementation="bgbias.methods.lff:LfF",
        ),
        MethodInfo(
            name="jtt",
            description="ERM again, an ERM model's training errors after T epochs counted lambda_up times",
            supervision="none", implementation="bgbias.methods.jtt:JTT",
        ),
        MethodInfo(
            name="rubi",
            description="CE of the logits masked by sigmoid of a colour-only network's logits, plus that network's CE",
            supervision="none", implementation="bgbias.methods.rubi:RUBi",
        ),
        MethodInfo(
            name="learned_mixin",
            description="CE of a gated product of experts with a fixed colour-only network, plus an entropy penalty",
            supervision="none", implementation="bgbias.methods.learned_mixin:LearnedMixin",
        ),
        MethodInfo(
            name="paired",
            description="fine-tuning on (x, x') pairs: two CEs plus a distance between their logits or features",
            supervision="marked images", implementation="bgbias.colour.paired_training:paired_loss",
        ),
    )
}
