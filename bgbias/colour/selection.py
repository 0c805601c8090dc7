"""Which biased images to mark: strategies that rank the biased images of a split from the base model alone.
Stage: `rank_images`.

A paired dataset with `augment_fraction` f < 1 augments the top round(f x count) images of its selection's
ranking (`paired.selections`). A strategy ranks the images within each biased digit, and the ranking interleaves
the digits in proportion to their counts: every fraction marks each biased digit's best-scored images in equal
share, as the random selection does in expectation (scores of different digits are not comparable: a class's
images share much of their gradient). `random` is a seeded permutation, computed where the paired dataset is built; the
other strategies are a registry, each scoring every biased image (higher = mark first):

- `bias_score`: how much the prediction rests on the background: the base model's probability of the true digit
  minus its mean probability when the background is replaced, in turn, by each other pool colour. 10 forward passes
  per image.
- `loss`: the base model's cross-entropy on one copy whose background is replaced by another pool colour, drawn per
  image (seeded). 1 forward pass per image.
- `influence`: TracIn (Pruthi et al. 2020) over the base model's training trajectory, restricted to the last linear
  layer: score(z) = -sum over the snapshots c of lr_c x grad L(heldout; c) . grad L(z; c), how much z's own training
  steps raised the loss of a held-out set with unbiased backgrounds (the first `influence_heldout` dev images, each
  on a random pool colour); the most harmful first. The snapshots are the weights after epochs 1, 2, 4, 8, ... that
  the base model's checkpoint keeps. A first-order, trajectory-based estimate: unlike the Hessian-based influence
  of Koh & Liang at the final weights, it also credits images the model has fitted by the end (whose final gradient
  is about 0) - the shortcut carriers. Per-image gradients have the closed form (softmax - onehot) x [features, 1]
  in the 10 x 85 last-layer parameters (LeNet), in float64, with softmax - onehot taken as minus the sum of the
  other classes for the true class, so confident images keep their exact, tiny gradients (see the FGSM note on
  float32 saturation). Cost per snapshot: one forward pass per image and per held-out image, one matrix-vector
  product.

Ranking file (CSV, one row per biased image of each split, best first): split, rank, row (index in the biased
file's split), source_index, label, score.
"""

from __future__ import annotations

import logging
from pathlib import Path
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from bgbias.colour.datasets import BiasSpec, ColorSpec, background_mask
from bgbias.colour.pairs import RANKING_COLUMNS
from bgbias.mnist import MnistSpec, split_files
from bgbias.models import EVAL_BATCH, Classifier, image_tensor, to_unit
from bgbias.seeding import rng_for
from bgbias.storage import StoredSplit, atomic_path, read_attributes, read_split
from bgbias.training import open_model_stage

log = logging.getLogger("bgbias")
RANKED_SPLITS = ("train", "dev")


def recoloured(images: np.ndarray, masks: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """`images` (N, 28, 28, 3) with their background pixels (`masks`, N x 28 x 28) set to `colours` (N, 3)."""
    return np.where(masks[..., None], colours[:, None, None, :].astype(np.uint8), images)


def log_probabilities(model: Classifier, images: np.ndarray, device: torch.device) -> np.ndarray:
    """float64 log-softmax (N, 10) of uint8 images, batch by batch."""
    model.eval()
    tensor = image_tensor(images, device)
    with torch.no_grad():
        parts = [
            torch.log_softmax(model(to_unit(tensor[s : s + EVAL_BATCH])).double(), 1).cpu()
            for s in range(0, len(tensor), EVAL_BATCH)
        ]
    return torch.cat(parts).numpy() if parts else np.empty((0, 10))


class Candidates:
    """The biased images of a split to rank, with what every strategy needs."""

    def __init__(self, split: StoredSplit, rows: np.ndarray, masks: np.ndarray, pool: np.ndarray) -> None:
        self.rows, self.images, self.labels = rows, split.images[rows], split.labels[rows]
        self.masks, self.pool = masks[rows], pool

    def other_colour(self, rng: np.random.Generator) -> np.ndarray:
        """Per image, a pool colour other than its digit's own, uniformly."""
        return (self.labels + rng.integers(1, len(self.pool), size=len(self.labels))) % len(self.pool)


Strategy = Callable[..., np.ndarray]  # (model, candidates, *, heldout, snapshots, rng, device) -> scores (N,)


def bias_score(model: Classifier, candidates: Candidates, *, device: torch.device, **_) -> np.ndarray:
    """p(true digit | image) minus its mean over the image on each other pool colour."""
    own = np.exp(log_probabilities(model, candidates.images, device)[np.arange(len(candidates.labels)), candidates.labels])
    swapped = np.zeros(len(candidates.labels))
    for shift in range(1, len(candidates.pool)):
        colours = candidates.pool[(candidates.labels + shift) % len(candidates.pool)]
        logp = log_probabilities(model, recoloured(candidates.images, candidates.masks, colours), device)
        swapped += np.exp(logp[np.arange(len(candidates.labels)), candidates.labels])
    return own - swapped / (len(candidates.pool) - 1)


def swapped_loss(model: Classifier, candidates: Candidates, *, rng: np.random.Generator, device: torch.device, **_):
    """The cross-entropy on a copy whose background is another pool colour."""
    colours = candidates.pool[candidates.other_colour(rng)]
    logp = log_probabilities(model, recoloured(candidates.images, candidates.masks, colours), device)
    return -logp[np.arange(len(candidates.labels)), candidates.labels]


def last_layer_inputs(model: Classifier, images: np.ndarray, device: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """float64 penultimate activations with a column of ones (N, 85) and softmax probabilities (N, 10)."""
    model.eval()
    tensor = image_tensor(images, device)
    features, logits = [], []
    with torch.no_grad():
        for start in range(0, len(tensor), EVAL_BATCH):
            out, feats = model.forward_with_features(to_unit(tensor[start : start + EVAL_BATCH]))
            features.append(feats.double().cpu())
            logits.append(out.double().cpu())
    features = torch.cat(features).numpy()
    logits = torch.cat(logits)
    return np.hstack([features, np.ones((len(features), 1))]), torch.softmax(logits, 1).numpy()


def loss_gradients(features: np.ndarray, probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per image, the cross-entropy's gradient in the last layer (N, 10 x 85): (softmax - onehot) x features, the
    true class's term as minus the sum of the others (exact however confident the model is)."""
    residual = probabilities.copy()
    rows = np.arange(len(labels))
    residual[rows, labels] = 0.0
    residual[rows, labels] = -residual.sum(1)
    return (residual[:, :, None] * features[:, None, :]).reshape(len(labels), -1)


def influence(
    model: Classifier, candidates: Candidates, *, heldout: StoredSplit, snapshots: list[dict], device: torch.device, **_
) -> np.ndarray:
    """TracIn over the base model's training trajectory, in the last layer: per image z, minus the sum over the
    snapshots of lr x grad L(heldout) . grad L(z); positive where z's training steps raised the held-out loss."""
    score = np.zeros(len(candidates.labels))
    for snapshot in snapshots:
        model.load_state_dict(snapshot["state_dict"])
        features, probabilities = last_layer_inputs(model, candidates.images, device)
        held_features, held_probabilities = last_layer_inputs(model, heldout.images, device)
        heldout_gradient = loss_gradients(held_features, held_probabilities, heldout.labels).mean(0)
        score -= snapshot["lr"] * (loss_gradients(features, probabilities, candidates.labels) @ heldout_gradient)
    return score


STRATEGIES: dict[str, Strategy] = {"bias_score": bias_score, "loss": swapped_loss, "influence": influence}
RANDOM = "random"  # the seeded permutation of `bgbias.colour.pairs`; needs no model


def unbiased_heldout(dev: StoredSplit, masks: np.ndarray, pool: np.ndarray, size: int, seed: int) -> StoredSplit:
    """The first `size` dev images, each on a uniformly drawn pool colour (the digit and its colour independent)."""
    rows = np.arange(min(size, len(dev)))
    colours = pool[rng_for(seed, "selection", "heldout").integers(0, len(pool), size=len(rows))]
    images = recoloured(dev.images[rows], masks[rows], colours)
    return StoredSplit(images, dev.labels[rows], dev.source_index[rows], colours.astype(np.int16), dev.bg_mode[rows])


def ranking(scores: np.ndarray, rows: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Positions of `rows`, best first: each digit's images from the highest score to the lowest (equal scores in
    row order), the digits interleaved in proportion to their counts, so that any top fraction holds that fraction of
    each digit's images (as the random selection does in expectation)."""
    within = np.empty(len(rows))
    for digit in np.unique(labels):
        members = np.flatnonzero(labels == digit)
        order = members[np.lexsort((rows[members], -scores[members]))]
        within[order] = (np.arange(len(order)) + 0.5) / len(order)
    return np.lexsort((labels, within))


def rank_images(
    base: Path,
    biased: Path,
    *,
    raw_dir: Path,
    output: Path,
    strategy: str,
    selection_config: dict,
    seed: int,
    device: str,
    threads: int = 1,
) -> None:
    """Stage: rank the biased images of each split of the biased dataset by `strategy` with the base model; write
    the ranking CSV. `selection_config` holds `influence_heldout`."""
    where, model, meta = open_model_stage(base, threads=threads, device=device, in_channels=3)
    final = {key: value.clone() for key, value in model.state_dict().items()}
    recorded = read_attributes(biased)["config"]
    pool = ColorSpec.of(recorded).pool
    digits = BiasSpec.of(recorded["bias"]).digits()
    mnist_train = MnistSpec.of(Path(raw_dir), recorded["mnist"]).load("train")
    splits = {name: read_split(biased, name) for name in RANKED_SPLITS}
    masks = {name: background_mask(mnist_train.images[split.source_index]) for name, split in splits.items()}
    heldout = unbiased_heldout(splits["dev"], masks["dev"], pool, selection_config["influence_heldout"], seed)
    parts = []
    for name, split in splits.items():
        rows = np.flatnonzero(np.isin(split.labels, digits))
        candidates = Candidates(split, rows, masks[name], pool)
        model.load_state_dict(final)
        scores = STRATEGIES[strategy](
            model, candidates, heldout=heldout, snapshots=meta.get("snapshots", []),
            rng=rng_for(seed, "selection", strategy, name), device=where,
        )
        order = ranking(scores, rows, split.labels[rows])
        parts.append(pd.DataFrame({
            "split": name, "rank": np.arange(len(order)), "row": rows[order],
            "source_index": split.source_index[rows[order]], "label": split.labels[rows[order]], "score": scores[order],
        }))
        log.info("%s: %d biased %s images ranked by %s", base, len(rows), name, strategy)
    with atomic_path(Path(output), [base, biased, *split_files(raw_dir, "train")]) as partial:
        pd.concat(parts, ignore_index=True)[RANKING_COLUMNS].to_csv(partial, index=False, float_format="%.10g")
