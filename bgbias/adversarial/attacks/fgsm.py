"""FGSM: one step of size epsilon along the sign of the loss gradient, in [0, 1] pixel space."""

from __future__ import annotations

from dataclasses import dataclass

from bgbias.adversarial.attacks import AttackKind, register


@dataclass(frozen=True)
class FGSMSettings:
    """FGSM has no settings besides its epsilon."""


def fgsm(model, images, labels, epsilon: float, settings: FGSMSettings):
    """clip(x + epsilon * sign(grad_x cross-entropy), 0, 1) for a batch `images` (N, C, 28, 28) in [0, 1]."""
    import torch
    import torch.nn.functional as F

    x = images.detach().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x), labels, reduction="sum"), x)
    return (images.detach() + epsilon * grad.sign()).clamp_(0.0, 1.0)


register(
    AttackKind(
        name="fgsm", strengths_key="fgsm_epsilons", strength_label="FGSM epsilon", settings=FGSMSettings,
        perturb=fgsm, log_scale=False, stored_bytes=1083,
    )
)
