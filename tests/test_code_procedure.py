"""The original code's procedure as settings: each one tested against the behaviour it stands for, and the slices
that leave the settings out at the notes' defaults."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bgbias.colour.backgrounds import generate
from bgbias.colour.datasets import build_biased
from bgbias.colour.paired_training import (
    DEV_LOSSES, PairTensors, draw_picks, paired_fine_tune, version_cross_entropy,
)
from bgbias.colour.pairs import build_paired, marked_images, read_paired_split
from bgbias.config import dataset_slice, filled, paired_train_slice, recorded, validate_config
from bgbias.mnist import MnistSpec, load_split
from bgbias.models import LeNet
from bgbias.training import EpochResult, TrainSpec, fit
from conftest import MINI, POOL, colour_spec, paired_spec, train_spec

K = 3
STRIP_A = np.arange(28) % 5 < 2


def test_strips_black_has_one_random_colour_on_rows_below_2_mod_5_and_black_rows_elsewhere() -> None:
    mask = np.ones((200, 28, 28), bool)
    layer = generate("strips_black", mask, np.random.default_rng(0), colour_spec().context())
    assert (layer.pixels[:, ~STRIP_A] == 0).all()
    colours = layer.pixels[:, 0, 0]
    assert (layer.pixels[:, STRIP_A] == colours[:, None, None]).all()
    assert colours.max() == 224 and len(np.unique(colours, axis=0)) == 200
    assert (layer.colors == -1).all()  # two colours show: not one colour
    top_only = np.zeros((1, 28, 28), bool)
    top_only[0, :2] = True
    one = generate("strips_black", top_only, np.random.default_rng(0), colour_spec().context())
    np.testing.assert_array_equal(one.colors[0], one.pixels[0, 0, 0])  # only the coloured rows show


def test_the_code_split_takes_test_images_from_the_training_tail(mini_mnist: Path) -> None:
    spec = MnistSpec(mini_mnist, dev_size=100, train_size=None, test_size=100, split="code")
    train, dev = spec.train_dev(seed=0)
    test = spec.test()
    assert (len(train), len(dev), len(test)) == (400, 100, 100)
    np.testing.assert_array_equal(test.source_index, np.arange(500, 600))
    official = load_split(mini_mnist, "train")
    np.testing.assert_array_equal(test.images, official.images[500:])
    assert sorted([*train.source_index, *dev.source_index]) == list(range(500))
    other_seed = spec.train_dev(seed=1)[1]
    assert set(dev.source_index) != set(other_seed.source_index)
    assert spec.test_files()[0].name == "train-images-idx3-ubyte.gz"
    by_default = MnistSpec(mini_mnist, dev_size=100, train_size=None, test_size=None, split="code")
    np.testing.assert_array_equal(by_default.test().source_index, np.arange(500, 600))  # the last sixth
    official_spec = MnistSpec(mini_mnist, dev_size=100, train_size=None, test_size=100, split="official")
    assert official_spec.test_files()[0].name == "t10k-images-idx3-ubyte.gz"


@pytest.fixture(scope="module")
def paired_files(tmp_path_factory, mini_mnist: Path) -> dict[str, Path]:
    """A biased set with unbiased digits on noise, and its pool-paired sets with unbiased_pairs self and pool."""
    folder = tmp_path_factory.mktemp("code_pairs")
    data = dataset_slice(MINI)
    bias = {**validate_config({})["bias"], "unbiased_mode": "noise"}
    build_biased(folder / "biased.h5", raw_dir=mini_mnist, dataset_config=data, bias_config=bias, seed=0)
    files = {}
    for pairs in ("self", "pool"):
        files[pairs] = folder / f"paired-{pairs}.h5"
        build_paired(
            files[pairs], biased=folder / "biased.h5", raw_dir=mini_mnist, dataset_config=data, mode="noise",
            fraction=1.0, copies=K, selection="random", unbiased_pairs=pairs, ranking=None, seed=0,
        )
    return files


@pytest.mark.parametrize("name", ["train", "dev"])
def test_unbiased_pairs_pool_pairs_each_unbiased_digit_with_one_pool_colour_for_all_k(paired_files, mini_mnist, name):
    split = read_paired_split(paired_files["pool"], name)
    strokes = load_split(mini_mnist, "train").images[split.base.source_index] > 0
    unbiased = np.flatnonzero(split.base.labels < 5)
    assert (split.alt_index[unbiased] >= 0).all()
    versions = split.alt_images[split.alt_index[unbiased]]  # (U, K, 28, 28, 3)
    for row, image in enumerate(versions):
        stroke = strokes[unbiased[row]]
        assert (image[:, stroke] == split.base.images[unbiased[row]][stroke]).all()  # x's strokes in every version
        background = image[:, ~stroke]  # (K, pixels, 3)
        assert (background == background[0, 0]).all()  # one colour, the same for all K versions
        assert (POOL == background[0, 0]).all(1).any()  # a pool colour
    assert not np.array_equal(versions[:, 0], split.base.images[unbiased])  # x was on noise: x' differs from x
    # the biased digits keep their K fresh augment backgrounds, and the marked count is theirs alone
    biased = np.flatnonzero(split.base.labels >= 5)
    np.testing.assert_array_equal(split.alt_index[biased], np.arange(len(biased)))
    assert marked_images(split, validate_config({})["bias"]) == len(biased)


def test_unbiased_pairs_self_stores_no_copies_and_keeps_the_biased_versions(paired_files):
    with_self, with_pool = (read_paired_split(paired_files[p], "train") for p in ("self", "pool"))
    assert (with_self.alt_index[with_self.base.labels < 5] == -1).all()
    augmented = len(with_self.alt_images)
    np.testing.assert_array_equal(with_pool.alt_images[:augmented], with_self.alt_images)


def test_version_ce_ignores_x_and_keeps_dropout_on(mnist_spec) -> None:
    from test_paired_training import paired_fixture

    _, dev = paired_fixture(mnist_spec)
    torch.manual_seed(0)
    model = LeNet(in_channels=3, dropout=True)
    pairs = PairTensors(dev, torch.device("cpu"))
    pairs.set_picks(draw_picks(dev, "random", np.random.default_rng(0)))
    spec = paired_spec(dev_loss="version_ce")
    torch.manual_seed(1)
    first = version_cross_entropy(model, pairs, spec)
    pairs.images = torch.zeros_like(pairs.images)  # x changes; x' of augmented images does not
    augmented = pairs.alt_index >= 0
    pairs.images[~augmented] = torch.from_numpy(dev.base.images)[~augmented.numpy()]  # self-pairs: x' is x
    torch.manual_seed(1)
    assert version_cross_entropy(model, pairs, spec) == first  # the same dropout draws: x played no part
    assert version_cross_entropy(model, pairs, spec) != first  # other dropout draws: dropout is on
    assert DEV_LOSSES["paired"].measure(model, pairs, spec) == DEV_LOSSES["paired"].measure(model, pairs, spec)


def test_version_ce_redraws_the_dev_versions_at_every_evaluation(mnist_spec) -> None:
    from test_paired_training import paired_fixture

    train, dev = paired_fixture(mnist_spec)
    seen = []
    original = PairTensors.set_picks

    def spy(self, picks):
        if len(picks) == len(dev):
            seen.append(np.asarray(picks).copy())
        original(self, picks)

    for dev_loss, draws in (("paired", 1), ("version_ce", 3)):
        seen.clear()
        PairTensors.set_picks = spy
        try:
            model = LeNet(in_channels=3, dropout=True)
            spec = paired_spec(dev_loss=dev_loss, train={"epochs": 3, "patience": None})
            paired_fine_tune(model, train, dev, spec=spec, seed=0, device=torch.device("cpu"))
        finally:
            PairTensors.set_picks = original
        assert len(seen) == draws, dev_loss


def batch_orders(spec: TrainSpec) -> list[list[int]]:
    """The order of the training indices in each epoch of `fit`."""
    model = LeNet(in_channels=3, dropout=False)
    orders: list[list[int]] = []

    def step(index: torch.Tensor):
        if not orders or len(orders[-1]) == 20:
            orders.append([])
        orders[-1].extend(index.tolist())
        return model.head.bias.sum() * 0, 0

    fit(model, step, 20, lambda: EpochResult(1.0, 0.0), spec=spec, seed=0, device=torch.device("cpu"))
    return orders


def test_without_reshuffle_every_epoch_has_the_first_epochs_order() -> None:
    fixed = batch_orders(train_spec(epochs=3, patience=None, batch_size=5, reshuffle=False))
    shuffled = batch_orders(train_spec(epochs=3, patience=None, batch_size=5))
    assert fixed[0] == fixed[1] == fixed[2] and sorted(fixed[0]) == list(range(20)) and fixed[0] != list(range(20))
    assert shuffled[0] == fixed[0] and shuffled[1] != shuffled[0]


def test_slices_leave_the_code_settings_out_at_the_notes_defaults() -> None:
    notes = validate_config({})
    assert "split" not in dataset_slice(notes)["mnist"]
    assert not {"reg_reduction", "dev_loss"} & set(paired_train_slice(notes))
    assert "reshuffle" not in paired_train_slice(notes)["train"]
    assert recorded(notes["train"], "train") == {k: v for k, v in notes["train"].items() if k != "reshuffle"}
    code = validate_config({"mnist": {"split": "code"}, "train": {"reshuffle": False},
                            "paired": {"reg_reduction": "sum", "dev_loss": "version_ce", "unbiased_pairs": "pool"}})
    assert dataset_slice(code)["mnist"]["split"] == "code"
    assert paired_train_slice(code)["reg_reduction"] == "sum" and paired_train_slice(code)["dev_loss"] == "version_ce"
    assert recorded(code["train"], "train")["reshuffle"] is False
    assert filled(recorded(notes["train"], "train"), "train") == notes["train"]
    spec = paired_spec()
    assert (spec.reg_reduction, spec.dev_loss, spec.train.reshuffle) == ("mean", "paired", True)


def test_bad_code_settings_are_refused_naming_what_is_allowed() -> None:
    from bgbias.config import ConfigError

    cases = {
        "paired.reg_reduction": ({"paired": {"reg_reduction": "max"}}, "one of mean, sum"),
        "paired.dev_loss": ({"paired": {"dev_loss": "x"}}, "one of paired, version_ce"),
        "mnist.split": ({"mnist": {"split": "random"}}, "one of official, code"),
        "paired.unbiased_pairs": ({"paired": {"unbiased_pairs": "copy"}}, "self"),
    }
    for key, (config, allowed) in cases.items():
        with pytest.raises(ConfigError, match=rf"{key}: .* is not allowed; allowed: .*{allowed}"):
            validate_config(config)
