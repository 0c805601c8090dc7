"""Paired training (the notes' method): the base model fine-tuned on (x, x') pairs of a paired dataset, x' the image
on a fresh background of the augment mode for the marked share of the biased images. Its implementation, settings
(`paired` block) and rules are the colour wing's: `bgbias.colour.paired_training` and `rules/train.smk`."""

from __future__ import annotations

from bgbias.methods import MethodInfo

INFO = MethodInfo(
    name="paired", description="fine-tuning on (x, x') pairs: two CEs plus a distance between their logits or features",
    supervision="marked images", implementation="bgbias.colour.paired_training:paired_loss",
)
