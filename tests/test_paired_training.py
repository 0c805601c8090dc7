"""Paired fine-tuning: the loss on hand-made tensors, label alignment, and a real fine-tune on mini MNIST."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bgbias.colour.datasets import biased_split
from bgbias.colour.paired_training import (
    DISTANCES, PairTensors, draw_picks, paired_dev_loss, paired_fine_tune, paired_loss,
)
from bgbias.colour.pairs import PairedSplit
from bgbias.config import ConfigError, validate_config
from bgbias.models import LeNet
from bgbias.seeding import rng_for
from conftest import bias_spec, colour_spec, paired_spec

Z = torch.tensor([[-3.0, -1.0, -2.0], [-0.5, -4.0, -1.5]])
Z_PAIR = torch.tensor([[-1.0, -1.0, -4.0], [-0.5, -2.0, -1.5]])


def test_distances_on_hand_made_tensors() -> None:
    assert DISTANCES["l2"](Z, Z_PAIR).tolist() == pytest.approx([4 + 0 + 4, 0 + 4 + 0])
    assert DISTANCES["l1"](Z, Z_PAIR).tolist() == pytest.approx([2 + 0 + 2, 0 + 2 + 0])
    assert DISTANCES["none"](Z, Z_PAIR).tolist() == [0.0, 0.0]
    p, q = Z.softmax(1), Z_PAIR.softmax(1)
    expected_kl = (p * (p.log() - q.log())).sum(1)
    assert DISTANCES["kl"](Z, Z_PAIR).tolist() == pytest.approx(expected_kl.tolist(), rel=1e-5)
    assert DISTANCES["kl"](Z, Z).tolist() == pytest.approx([0.0, 0.0], abs=1e-7)


def test_the_summed_reduction_is_batch_size_times_the_mean() -> None:
    torch.manual_seed(0)
    model = LeNet(in_channels=3, dropout=False).double().eval()
    x, x_pair = torch.rand(50, 3, 28, 28, dtype=torch.float64), torch.rand(50, 3, 28, 28, dtype=torch.float64)
    y = torch.randint(0, 10, (50,))
    cross_entropies = F.cross_entropy(model(x), y) + F.cross_entropy(model(x_pair), y)
    mean, _ = paired_loss(model, x, x_pair, y, paired_spec(reg=0.5, reg_reduction="mean"))
    summed, _ = paired_loss(model, x, x_pair, y, paired_spec(reg=0.5, reg_reduction="sum"))
    assert (summed - cross_entropies).item() == pytest.approx(50 * (mean - cross_entropies).item(), rel=1e-9)
    # the original code's l2 term: reg * mean(square(norm(z1 - z2))), the squared norm of the whole (50 x 10) matrix
    code_term = 0.5 * torch.mean(torch.square(torch.norm(model(x) - model(x_pair))))
    assert (summed - cross_entropies).item() == pytest.approx(code_term.item(), rel=1e-9)


@pytest.mark.parametrize("method", ["none", "l1", "l2", "kl"])
@pytest.mark.parametrize("target", ["logits", "penultimate"])
def test_paired_loss_is_two_cross_entropies_plus_the_weighted_distance(method: str, target: str) -> None:
    torch.manual_seed(0)
    model = LeNet(in_channels=3, dropout=False).eval()
    x, x_pair = torch.rand(4, 3, 28, 28), torch.rand(4, 3, 28, 28)
    y = torch.tensor([0, 3, 5, 9])
    spec = paired_spec(method=method, target=target, reg=0.5)
    loss, logits = paired_loss(model, x, x_pair, y, spec)
    z, z_pair = (model(x), model(x_pair)) if target == "logits" else (model.features(x), model.features(x_pair))
    expected = F.cross_entropy(model(x), y) + F.cross_entropy(model(x_pair), y) + 0.5 * DISTANCES[method](z, z_pair).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert torch.allclose(logits, model(x), atol=1e-5)


def test_bad_settings_are_refused_with_what_is_allowed() -> None:
    with pytest.raises(ConfigError, match=r"paired.method: 'cosine' is not allowed; allowed: one of none, l2, l1, kl"):
        validate_config({"paired": {"method": "cosine"}})
    with pytest.raises(ConfigError, match=r"paired.target: 'hidden' is not allowed; allowed: one of logits, penultimate"):
        validate_config({"paired": {"target": "hidden"}})
    with pytest.raises(ConfigError, match=r"paired.pick: 'last' is not allowed"):
        validate_config({"paired": {"pick": "last"}})


def paired_fixture(mnist_spec, copies: int = 3) -> tuple[PairedSplit, PairedSplit]:
    """Hand-built pairs from the mini MNIST: biased digits get `copies` pool-coloured versions."""
    colors = colour_spec()
    train, dev = mnist_spec.train_dev(seed=0)
    splits = []
    for name, split in (("train", train), ("dev", dev)):
        base = biased_split(split, bias_spec(), rng_for(0, "test", name), colors)
        augmented = np.flatnonzero(np.isin(base.labels, (5, 6, 7, 8, 9)))
        alt_index = np.full(len(base), -1)
        alt_index[augmented] = np.arange(len(augmented))
        rng = rng_for(0, "versions", name)
        colours = colors.pool[rng.integers(0, 10, size=(len(augmented), copies))]
        digits = (split.images[augmented] > 0)[:, None, ..., None]
        alt_images = np.where(digits, np.uint8(255), colours[:, :, None, None, :]).astype(np.uint8)
        splits.append(PairedSplit(base, alt_index, alt_images))
    return splits[0], splits[1]


def test_pairs_keep_labels_and_images_aligned(mnist_spec) -> None:
    train, _ = paired_fixture(mnist_spec)
    tensors = PairTensors(train, torch.device("cpu"))
    picks = draw_picks(train, "random", np.random.default_rng(1))
    tensors.set_picks(picks)
    index = torch.arange(len(train))
    x, x_pair, y = tensors.batch(index)
    assert torch.equal(y, torch.as_tensor(train.base.labels))
    own = train.alt_index < 0
    assert torch.equal(x[own], x_pair[own])
    expected = train.versions(picks)
    assert torch.equal(x_pair, torch.from_numpy(expected).permute(0, 3, 1, 2).float() / 255)
    digit_pixels = torch.from_numpy(train.base.images.min(-1) == 255)
    assert torch.equal(x.min(1).values[digit_pixels], x_pair.min(1).values[digit_pixels])


def test_picks_first_fixed_and_random(mnist_spec) -> None:
    train, _ = paired_fixture(mnist_spec, copies=3)
    rng = np.random.default_rng(0)
    assert set(draw_picks(train, "first", rng)) == {0}
    assert set(draw_picks(train, 2, rng)) == {2}
    assert set(draw_picks(train, "random", rng)) == {0, 1, 2}
    with pytest.raises(ValueError, match=r"paired.pick=3 is not allowed: the dataset has 3 versions"):
        draw_picks(train, 3, rng)


def test_paired_fine_tune_lowers_the_paired_loss(mnist_spec) -> None:
    train, dev = paired_fixture(mnist_spec)
    spec = paired_spec(dict(epochs=3, patience=3, batch_size=25, lr=0.01, momentum=0.9), reg=1e-3, pick="first")
    torch.manual_seed(0)
    model = LeNet(in_channels=3)
    device = torch.device("cpu")
    dev_tensors = PairTensors(dev, device)
    before = paired_dev_loss(model, dev_tensors, spec).loss
    history = paired_fine_tune(model, train, dev, spec=spec, seed=0, device=device)
    after = paired_dev_loss(model, dev_tensors, spec).loss
    assert after < before
    assert history["dev_loss"].min() == pytest.approx(after, rel=1e-5)
    assert list(history["epoch"]) == [1, 2, 3]
