"""Untargeted Carlini-Wagner L2: Adam in tanh space, early abort, the best other class with the true one masked out."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from bgbias.attacks.registry import AttackKind, register

log = logging.getLogger("bgbias")
TANH_SHRINK = 1 - 1e-6
ABORT_TOLERANCE = 1e-4  # CW aborts when a window lowers the loss by less than this share


@dataclass(frozen=True)
class CWSettings:
    """Adam steps and learning rate, confidence kappa, early abort (config keys cw_steps, cw_lr, ...)."""

    steps: int
    lr: float
    kappa: float
    abort_early: bool


def true_and_other(logits, labels):
    """The true class's logit and the best other logit, the true class masked out with -inf."""
    import torch.nn.functional as F

    true = logits.gather(1, labels[:, None]).squeeze(1)
    mask = F.one_hot(labels, logits.shape[1]).bool()
    return true, logits.masked_fill(mask, -math.inf).amax(1)


def cw_margin(logits, labels, kappa: float):
    """Carlini-Wagner's f6 per image: max(Z_y - max_{i != y} Z_i, -kappa).

    The true class is masked out; `max((1 - onehot) * logits)` would pick 0 for it whenever
    every other logit is negative.
    """
    true, other = true_and_other(logits, labels)
    return (true - other).clamp(min=-kappa)


def cw_success(logits, labels, kappa: float):
    """Misclassified, with the best other logit at least `kappa` above the true one."""
    true, other = true_and_other(logits, labels)
    return (logits.argmax(1) != labels) & (other - true >= kappa)


def cw_l2(model, images, labels, c: float, settings: CWSettings):
    """Untargeted Carlini-Wagner L2 at constant `c` on a batch `images` in [0, 1].

    Adam on w, with x' = (tanh(w) + 1) / 2 always in [0, 1], minimising ||x' - x||^2 + c f6(x').
    Returns per image the smallest-L2 x' that was adversarial (the clean image where none was).
    With `abort_early` it stops once the lowest batch loss of a window of a tenth of the steps
    is less than 0.01 % below the lowest loss before it (the first window only sets the mark).
    """
    import torch

    images = images.detach()
    w = torch.atanh((images * 2 - 1) * TANH_SHRINK).requires_grad_(True)
    optimiser = torch.optim.Adam([w], lr=settings.lr)
    best, best_l2 = images.clone(), torch.full((len(images),), math.inf, device=images.device)
    window, lowest, lowest_before = max(settings.steps // 10, 1), math.inf, math.inf
    for step in range(settings.steps):
        with torch.enable_grad():
            adversarial = (torch.tanh(w) + 1) / 2
            logits = model(adversarial)
            l2 = (adversarial - images).square().flatten(1).sum(1)
            loss = (l2 + c * cw_margin(logits, labels, settings.kappa)).sum()
            w.grad = torch.autograd.grad(loss, w)[0]
        optimiser.step()
        with torch.no_grad():
            better = cw_success(logits, labels, settings.kappa) & (l2 < best_l2)
            best_l2 = torch.where(better, l2, best_l2)
            best[better] = adversarial[better].detach()
        lowest = min(lowest, loss.item())
        if settings.abort_early and (step + 1) % window == 0:
            if step + 1 > window and lowest > lowest_before - ABORT_TOLERANCE * abs(lowest_before):
                log.info("CW: loss stopped improving, abort after %d of %d steps", step + 1, settings.steps)
                break
            lowest_before, lowest = min(lowest_before, lowest), math.inf
    return best


register(
    AttackKind(
        name="cw", strengths_key="cw_c", strength_label="CW-L2 constant c", settings=CWSettings, perturb=cw_l2,
        log_scale=True, stored_bytes=2133,
    )
)
