"""Adversarial attacks on the grey LeNet in [0, 1] pixel space: FGSM and Carlini-Wagner L2.

Both attacks run on batches of images (the model normalizes its inputs itself);
`make_adversarial_set` writes a set in the layout described in `bgbias.adversarial`.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bgbias.adversarial import Attack, CWSpec, attacked_subset
from bgbias.backgrounds import MODE_DTYPE
from bgbias.grey import read_grey_split, write_group
from bgbias.models import LeNet
from bgbias.storage import SPLITS, atomic_path, create_file, write_attributes
from bgbias.training import image_tensor, to_unit

log = logging.getLogger("bgbias")
TANH_SHRINK = 1 - 1e-6
ABORT_TOLERANCE = 1e-4  # CW aborts when a window lowers the loss by less than this share


def fgsm(model: LeNet, images: torch.Tensor, labels: torch.Tensor, epsilon: float) -> torch.Tensor:
    """clip(x + epsilon * sign(grad_x cross-entropy), 0, 1) for a batch `images` (N, C, 28, 28) in [0, 1]."""
    x = images.detach().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x), labels, reduction="sum"), x)
    return (images.detach() + epsilon * grad.sign()).clamp_(0.0, 1.0)


def true_and_other(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The true class's logit and the best other logit, the true class masked out with -inf."""
    true = logits.gather(1, labels[:, None]).squeeze(1)
    mask = F.one_hot(labels, logits.shape[1]).bool()
    return true, logits.masked_fill(mask, -math.inf).amax(1)


def cw_margin(logits: torch.Tensor, labels: torch.Tensor, kappa: float) -> torch.Tensor:
    """Carlini-Wagner's f6 per image: max(Z_y - max_{i != y} Z_i, -kappa).

    The true class is masked out; `max((1 - onehot) * logits)` would pick 0 for it whenever
    every other logit is negative.
    """
    true, other = true_and_other(logits, labels)
    return (true - other).clamp(min=-kappa)


def cw_success(logits: torch.Tensor, labels: torch.Tensor, kappa: float) -> torch.Tensor:
    """Misclassified, with the best other logit at least `kappa` above the true one."""
    true, other = true_and_other(logits, labels)
    return (logits.argmax(1) != labels) & (other - true >= kappa)


def cw_l2(model: LeNet, images: torch.Tensor, labels: torch.Tensor, c: float, spec: CWSpec) -> torch.Tensor:
    """Untargeted Carlini-Wagner L2 at constant `c` on a batch `images` in [0, 1].

    Adam on w, with x' = (tanh(w) + 1) / 2 always in [0, 1], minimising ||x' - x||^2 + c f6(x').
    Returns per image the smallest-L2 x' that was adversarial (the clean image where none was).
    With `abort_early` it stops once the lowest batch loss of a window of a tenth of the steps
    is less than 0.01 % below the lowest loss before it (the first window only sets the mark).
    """
    images = images.detach()
    w = torch.atanh((images * 2 - 1) * TANH_SHRINK).requires_grad_(True)
    optimiser = torch.optim.Adam([w], lr=spec.lr)
    best, best_l2 = images.clone(), torch.full((len(images),), math.inf, device=images.device)
    window, lowest, lowest_before = max(spec.steps // 10, 1), math.inf, math.inf
    for step in range(spec.steps):
        with torch.enable_grad():
            adversarial = (torch.tanh(w) + 1) / 2
            logits = model(adversarial)
            l2 = (adversarial - images).square().flatten(1).sum(1)
            loss = (l2 + c * cw_margin(logits, labels, spec.kappa)).sum()
            w.grad = torch.autograd.grad(loss, w)[0]
        optimiser.step()
        with torch.no_grad():
            better = cw_success(logits, labels, spec.kappa) & (l2 < best_l2)
            best_l2 = torch.where(better, l2, best_l2)
            best[better] = adversarial[better].detach()
        lowest = min(lowest, loss.item())
        if spec.abort_early and (step + 1) % window == 0:
            if step + 1 > window and lowest > lowest_before - ABORT_TOLERANCE * abs(lowest_before):
                log.info("CW: loss stopped improving, abort after %d of %d steps", step + 1, spec.steps)
                break
            lowest_before, lowest = min(lowest_before, lowest), math.inf
    return best


def perturb(model: LeNet, images: torch.Tensor, labels: torch.Tensor, attack: Attack, cw: CWSpec) -> torch.Tensor:
    """Adversarial versions of a batch."""
    if attack.kind == "fgsm":
        return fgsm(model, images, labels, attack.strength)
    return cw_l2(model, images, labels, attack.strength, cw)


def attack_images(
    model: LeNet,
    images: np.ndarray,
    labels: np.ndarray,
    attack: Attack,
    cw: CWSpec,
    batch_size: int,
    device: torch.device,
) -> dict[str, np.ndarray]:
    """Attack grey uint8 `images` (N, 28, 28) batch by batch; `model` is put in eval mode and frozen.

    Returns the adversarial images (float32 in [0, 1]) and per image `success`, `l2`, `linf`,
    `clean_prediction` and `adversarial_prediction`.
    """
    model = model.to(device).eval().requires_grad_(False)
    pixels, targets = image_tensor(images, device), torch.as_tensor(labels, device=device)
    parts: list[dict[str, torch.Tensor]] = []
    for start in range(0, len(targets), batch_size):
        x, y = to_unit(pixels[start : start + batch_size]), targets[start : start + batch_size]
        adversarial = perturb(model, x, y, attack, cw)
        with torch.no_grad():
            prediction = model(adversarial).argmax(1)
            delta = (adversarial - x).flatten(1)
            parts.append(
                {
                    "images": adversarial[:, 0],
                    "success": prediction != y,
                    "l2": delta.norm(dim=1),
                    "linf": delta.abs().amax(1),
                    "clean_prediction": model(x).argmax(1),
                    "adversarial_prediction": prediction,
                }
            )
    return {key: torch.cat([part[key] for part in parts]).cpu().numpy() for key in parts[0]}


def make_adversarial_set(
    path: Path,
    model: LeNet,
    grey: Path,
    attack: Attack,
    cw: CWSpec,
    sizes: dict[str, int | None],
    batch_size: int,
    seed: int,
    device: torch.device,
    config_slice: dict,
) -> None:
    """Attack the seeded subset (`sizes[split]` images) of every split of the grey dataset `grey`; write HDF5."""
    with atomic_path(Path(path)) as partial, create_file(partial) as handle:
        write_attributes(handle, config_slice, seed)
        handle.attrs["attack"], handle.attrs["strength"] = attack.kind, attack.strength
        for split in SPLITS:
            clean = read_grey_split(grey, split)
            index = attacked_subset(len(clean), sizes[split], seed, split)
            if len(index) == 0:
                raise ValueError(f"{grey} split {split!r} is empty; there is nothing to attack")
            result = attack_images(model, clean.images[index], clean.labels[index], attack, cw, batch_size, device)
            still_black = ((result["images"] == 0) | (clean.images[index] > 0)).all((1, 2))
            log.info(
                "%s %s: %d images, success %.3f, mean L2 %.3f, mean L-inf %.3f",
                attack.name, split, len(index), result["success"].mean(), result["l2"].mean(), result["linf"].mean(),
            )
            write_group(
                handle,
                split,
                {
                    **result,
                    "labels": clean.labels[index],
                    "source_index": clean.source_index[index],
                    "grey_index": index.astype(np.int64),
                    "bg_color": np.where(still_black[:, None], 0, -1).astype(np.int16).repeat(3, 1),
                    "bg_mode": np.full(len(index), attack.name.encode(), dtype=MODE_DTYPE),
                },
            )
