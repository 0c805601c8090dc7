"""FGSM: one step of size epsilon along the sign of a loss gradient, in [0, 1] pixel space.

The loss (`adversarial.fgsm_loss`) is a registry:

- `ce` (default): the cross-entropy's gradient direction, exact at any confidence. The gradient of the
  cross-entropy is sum_{j != y} p_j (grad z_j - grad z_y). Taken by autograd through a float32
  softmax, the true class's term (p_y - 1) rounds to exactly 0 once the logit margin exceeds about
  17 (float64: about 37), and the step then only raises the other classes, a direction that barely
  lowers the true one. Here the weights p_j are computed as a softmax over the other classes only
  (p_j / (1 - p_y): the same direction, a positive factor per image, which the sign ignores), so the
  true class's term is never lost.
- `margin`: the Carlini-Wagner margin max_{j != y} z_j - z_y (no softmax at all).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable

from bgbias.attacks.registry import AttackKind, register


@dataclass(frozen=True)
class FGSMSettings:
    """Which loss FGSM ascends (config key fgsm_loss)."""

    loss: str


def others_and_true(logits, labels):
    """The logits with the true class masked to -inf, and the true class's logit (N, 1)."""
    import torch.nn.functional as F

    mask = F.one_hot(labels, logits.shape[1]).bool()
    return logits.masked_fill(mask, -math.inf), logits.gather(1, labels[:, None])


def cross_entropy_direction(logits, labels):
    """Per image, a loss whose gradient is a positive multiple of the cross-entropy's, at any confidence."""
    others, true = others_and_true(logits, labels)
    weights = others.softmax(1).detach()  # p_j / (1 - p_y) over the other classes, 0 for the true one
    return (weights * (others.masked_fill(weights == 0, 0) - true)).sum(1)


def margin(logits, labels):
    """Per image, the best other logit minus the true one."""
    others, true = others_and_true(logits, labels)
    return others.amax(1) - true[:, 0]


LOSSES: dict[str, Callable] = {"ce": cross_entropy_direction, "margin": margin}


def fgsm(model, images, labels, epsilon: float, settings: FGSMSettings):
    """clip(x + epsilon * sign(grad_x loss), 0, 1) for a batch `images` (N, C, 28, 28) in [0, 1]."""
    import torch

    x = images.detach().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(LOSSES[settings.loss](model(x), labels).sum(), x)
    return (images.detach() + epsilon * grad.sign()).clamp_(0.0, 1.0)


register(
    AttackKind(
        name="fgsm", strengths_key="fgsm_epsilons", strength_label="FGSM epsilon", settings=FGSMSettings,
        perturb=fgsm, log_scale=False, stored_bytes=1083,
    )
)
