"""Adversarial sets: attack the grey Classifier on a seeded subset of every split and write HDF5. Stage: `attack`.

An adversarial set file (HDF5), one per attack and strength (`fgsm-0.1.h5`, `cw-0.5.h5`), has
one group per split (`train`, `dev`, `test`), holding the seeded attacked subset of that
split of the grey dataset:

- `images` (N, 28, 28) float32 in [0, 1]: the adversarial images. Not uint8 like the other
  datasets: rounding to 1/255 steps would change the perturbation and undo borderline CW
  successes.
- `labels` (N,) int64 (the true digit), `source_index` (N,) int64 (index in the official
  MNIST split) and `grey_index` (N,) int64 (row in the grey dataset's split).
- `bg_color` (N, 3) int16: (0, 0, 0) where the background (the pixels that are 0 in the
  clean digit) is still exactly black, (-1, -1, -1) where the attack changed it;
  `bg_mode` (N,) bytes: the attack name.
- `success` (N,) bool: the attacked model does not predict the true label.
- `l2`, `linf` (N,) float32: L2 and L-infinity norm of (adversarial - clean) in [0, 1] units.
- `clean_prediction`, `adversarial_prediction` (N,) int64: the attacked model's predictions.

File attributes: the config slice, the seed, the bgbias version, `attack` (the attack kind of
`bgbias.attacks`, e.g. fgsm or cw) and `strength` (e.g. epsilon or c).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from bgbias.attacks import Attack
from bgbias.adversarial.grey import read_grey_split, write_group
from bgbias.models import Classifier, image_tensor, to_unit
from bgbias.seeding import rng_for
from bgbias.storage import MODE_DTYPE, SPLITS, atomic_path, create_file, write_attributes
from bgbias.training import open_model_stage

log = logging.getLogger("bgbias")


def attacked_subset(count: int, size: int | None, seed: int, split: str) -> np.ndarray:
    """Sorted indices of the `size` images of a split (of `count`) to attack; all when `size` is None or >= count."""
    if size is None or size >= count:
        return np.arange(count)
    return np.sort(rng_for(seed, "adversarial", split).choice(count, size, replace=False))


def attack_images(
    model: Classifier,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    attack: Attack,
    settings: object,
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
        adversarial = attack.kind.perturb(model, x, y, attack.strength, settings)
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
    model: Classifier,
    *,
    grey_dataset: Path,
    attack: Attack,
    attack_config: dict,
    seed: int,
    device: torch.device,
    inputs: list[Path],
) -> None:
    """Attack the seeded subset (`<split>_size` images of `attack_config`) of every split of the grey dataset; write
    HDF5 with `attack_config` and the attack's name as the config slice; `inputs`: the files the model came from."""
    settings = attack.kind.settings_of(attack_config)
    with atomic_path(Path(path), [grey_dataset, *inputs]) as partial, create_file(partial) as handle:
        write_attributes(handle, {"adversarial": attack_config, "attack": attack.name}, seed)
        handle.attrs["attack"], handle.attrs["strength"] = attack.kind.name, attack.strength
        for split in SPLITS:
            clean = read_grey_split(grey_dataset, split)
            index = attacked_subset(len(clean), attack_config[f"{split}_size"], seed, split)
            if len(index) == 0:
                raise ValueError(f"{grey_dataset} split {split!r} is empty; there is nothing to attack")
            result = attack_images(
                model, clean.images[index], clean.labels[index], attack=attack, settings=settings,
                batch_size=attack_config["batch_size"], device=device,
            )
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


def attack(
    model: Path, grey_dataset: Path, *, output: Path, name: str, attack_config: dict, device: str, seed: int,
    threads: int = 1,
) -> None:
    """Stage: the adversarial set `name` (e.g. fgsm-0.1, cw-5) of the grey model on the grey dataset.

    `attack_config` holds the attacked subset sizes, the batch size and the settings of the attack's kind.
    """
    where, net, _ = open_model_stage(model, threads=threads, device=device, in_channels=1)
    chosen = Attack.parse(name)
    sizes = {split: attack_config[f"{split}_size"] for split in SPLITS}
    log.info("attack %s on %s, attacked images per split %s, on %s", name, grey_dataset, sizes, where)
    make_adversarial_set(
        Path(output), net, grey_dataset=Path(grey_dataset), attack=chosen, attack_config=attack_config, seed=seed,
        device=where, inputs=[Path(model)],
    )
