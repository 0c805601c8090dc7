"""ERM: the base model's objective, the mean cross-entropy of a batch (as `bgbias.training.fine_tune` trains)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bgbias.methods import MethodInfo

INFO = MethodInfo(
    name="erm", description="plain cross-entropy (the base model)",
    supervision="none", implementation="bgbias.methods.erm:cross_entropy",
)


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of `logits` (N, C) against `labels` (N,)."""
    return F.cross_entropy(logits, labels)
