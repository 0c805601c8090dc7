"""Debiasing methods: their training objectives as plain torch building blocks, one module each, and the registry
`METHODS`. The registry names each method's implementation as `module:attribute` and imports it only on `load()`, so
that reading the registry imports neither torch nor the data modules."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal, get_args

Supervision = Literal["none", "bias labels", "group labels", "marked images"]
SUPERVISIONS: tuple[str, ...] = get_args(Supervision)


@dataclass(frozen=True)
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
        MethodInfo("erm", "plain cross-entropy (the base model)", "none", "bgbias.methods.erm:cross_entropy"),
        MethodInfo(
            "groupdro", "online group DRO: exponentiated-gradient weights on the (digit, colour) groups' losses",
            "group labels", "bgbias.methods.groupdro:GroupDRO",
        ),
        MethodInfo(
            "lff", "a GCE-trained biased model reweights the debiased model's CE towards the samples it fails on",
            "none", "bgbias.methods.lff:LfF",
        ),
        MethodInfo(
            "jtt", "ERM again on the training set with an ERM model's errors after T epochs counted lambda_up times",
            "none", "bgbias.methods.jtt:JTT",
        ),
        MethodInfo(
            "rubi", "CE of the logits masked by sigmoid of a colour-only network's logits, plus that network's CE",
            "none", "bgbias.methods.rubi:RUBi",
        ),
        MethodInfo(
            "learned_mixin",
            "CE of a gated product of experts with a fixed colour-only network, plus an entropy penalty",
            "none", "bgbias.methods.learned_mixin:LearnedMixin",
        ),
        MethodInfo(
            "paired", "fine-tuning on (x, x') pairs: two CEs plus a distance between their logits or features",
            "marked images", "bgbias.colour.paired_training:paired_loss",
        ),
    )
}
