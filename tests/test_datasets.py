"""Coloured datasets: biased semantics, correlation, test sets, HDF5 contents, determinism."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from bgbias.colour.datasets import biased_split, build_biased, build_test, make_biased_dataset, make_test_dataset
from bgbias.colour.plots import describe_dataset, plot_samples
from bgbias.config import dataset_slice, validate_config
from bgbias.mnist import MnistSpec, load_split
from bgbias.storage import SPLIT_FIELDS, chunk_writer, read_attributes, read_split
from conftest import MINI, POOL as POOL_UINT8, bias_spec, colour_spec

POOL = POOL_UINT8.astype(np.int16)


def pool_index(bg_color: np.ndarray) -> np.ndarray:
    """Index of each colour in the default pool, -1 if not a pool colour."""
    matches = (bg_color[:, None, :] == POOL[None]).all(-1)
    return np.where(matches.any(1), matches.argmax(1), -1)


@pytest.fixture(scope="module")
def grey(mini_mnist):
    return load_split(mini_mnist, "train")


@pytest.fixture(scope="module")
def data_config() -> dict:
    """The dataset config slice the workflow passes to the data stages (schema defaults, dev 100)."""
    return dataset_slice(MINI)


@pytest.fixture(scope="module")
def biased_file(tmp_path_factory, mini_mnist, data_config) -> Path:
    path = tmp_path_factory.mktemp("data") / "biased.h5"
    build_biased(path, raw_dir=mini_mnist, dataset_config=data_config, bias_config=validate_config({})["bias"], seed=0)
    return path


def check_images_match_mnist(split, grey_split) -> None:
    """source_index points at the MNIST image: same label, digit strokes white exactly where MNIST is > 0."""
    np.testing.assert_array_equal(split.labels, grey_split.labels[split.source_index])
    strokes = grey_split.images[split.source_index] > 0
    assert (split.images[strokes] == 255).all()
    assert not (split.images[~strokes] == 255).all(-1).any()  # no default background colour is white


def test_biased_file_holds_train_and_dev_with_the_contract_fields(biased_file, grey, data_config):
    with h5py.File(biased_file) as handle:
        assert sorted(handle) == ["dev", "train"]
        train = handle["train"]
        assert sorted(train) == sorted(SPLIT_FIELDS)
        assert train["images"].dtype == np.uint8 and train["images"].shape == (500, 28, 28, 3)
        assert train["bg_color"].dtype == np.int16 and train["bg_color"].shape == (500, 3)
        assert train["images"].compression == "gzip"
        assert handle["dev"]["images"].shape == (100, 28, 28, 3)
    attributes = read_attributes(biased_file)
    assert attributes["seed"] == 0 and attributes["config"]["bias"]["biased_digits"] == [5, 6, 7, 8, 9]
    assert attributes["config"]["color_pool"] == data_config["color_pool"]
    train, dev = read_split(biased_file, "train"), read_split(biased_file, "dev")
    assert sorted([*train.source_index, *dev.source_index]) == list(range(600))
    for split in (train, dev):
        check_images_match_mnist(split, grey)


def test_biased_digits_get_exactly_their_pool_colour_the_others_the_pool(biased_file):
    for name in ("train", "dev"):
        split = read_split(biased_file, name)
        biased = split.labels >= 5
        corner = split.images[:, 0, 0].astype(np.int16)
        np.testing.assert_array_equal(corner[biased], POOL[split.labels[biased]])
        np.testing.assert_array_equal(split.bg_color[biased], POOL[split.labels[biased]])
        background = ~(split.images == 255).all(-1)
        assert ((split.images == split.images[:, :1, :1]).all(-1) | ~background).all()
        assert set(split.bg_mode[biased]) == {b"biased"} and set(split.bg_mode[~biased]) == {b"pool"}
    train = read_split(biased_file, "train")
    unbiased = train.labels < 5
    colour = pool_index(train.bg_color[unbiased])
    assert (colour >= 0).all()
    assert abs((colour == train.labels[unbiased]).mean() - 0.1) < 0.08  # not tied to the digit
    assert all(len(set(colour[train.labels[unbiased] == d])) >= 7 for d in range(5))


@pytest.mark.parametrize("mode, biased", [("none", []), ("partial", [2, 7]), ("all", list(range(10)))])
def test_bias_mode_decides_which_digits_carry_their_colour(grey, mode, biased):
    spec = bias_spec(mode=mode, biased_digits=(2, 7), unbiased_mode="noise")
    split = biased_split(grey, spec, np.random.default_rng(0), colour_spec())
    carries = np.isin(split.labels, biased)
    np.testing.assert_array_equal(split.bg_mode == b"biased", carries)
    np.testing.assert_array_equal(split.bg_color[carries], POOL[split.labels[carries]])
    assert (split.bg_color[~carries] == -1).all() and (split.bg_mode[~carries] == b"noise").all()
    check_images_match_mnist(split, grey)


@pytest.mark.parametrize("rho", [0.3, 0.8])
def test_correlation_gives_the_own_colour_with_probability_rho(grey, rho):
    spec = bias_spec(mode="all", correlation=rho)
    own, others = [], []
    for seed in range(4):
        split = biased_split(grey, spec, np.random.default_rng(seed), colour_spec())
        colour = pool_index(split.bg_color)
        assert (colour >= 0).all()
        own.append(colour == split.labels)
        others.append((colour - split.labels)[colour != split.labels] % 10)
    own, others = np.concatenate(own), np.concatenate(others)
    assert abs(own.mean() - rho) < 4 * np.sqrt(rho * (1 - rho) / len(own))
    shares = np.bincount(others, minlength=10)[1:] / len(others)  # the other nine colours, uniformly
    assert np.abs(shares - 1 / 9).max() < 4 * np.sqrt(1 / 9 * 8 / 9 / len(others))


@pytest.mark.parametrize("mode", ["pool", "random_pure", "noise", "strips", "mixture", "crossover", "solid:123"])
def test_test_sets_come_from_the_official_test_split_without_bias(tmp_path, mini_mnist, data_config, mode):
    path = tmp_path / "test.h5"
    build_test(path, raw_dir=mini_mnist, dataset_config=data_config, mode=mode, seed=0)
    with h5py.File(path) as handle:
        assert list(handle) == ["test"]
    split = read_split(path, "test")
    np.testing.assert_array_equal(split.source_index, np.arange(300))
    grey_test = load_split(mini_mnist, "test")
    strokes = grey_test.images > 0
    assert (split.images[strokes] == 255).all()
    np.testing.assert_array_equal(split.labels, grey_test.labels)
    assert read_attributes(path)["config"]["mode"] == mode
    assert b"biased" not in set(split.bg_mode)


def test_pool_test_backgrounds_are_pool_colours_independent_of_the_digit(tmp_path, mini_mnist, data_config):
    path = tmp_path / "test.h5"
    build_test(path, raw_dir=mini_mnist, dataset_config=data_config, mode="pool", seed=0)
    split = read_split(path, "test")
    colour = pool_index(split.bg_color)
    assert (colour >= 0).all()
    assert abs((colour == split.labels).mean() - 0.1) < 0.07
    assert all(len(set(colour[split.labels == d])) >= 6 for d in range(10))


def read_all(path: Path) -> dict[str, np.ndarray]:
    with h5py.File(path) as handle:
        return {f"{g}/{f}": handle[g][f][()] for g in handle for f in handle[g]}


@pytest.mark.parametrize("mode", ["mixture", "crossover", "gaussian"])
def test_same_seed_gives_identical_arrays_another_seed_other_backgrounds(tmp_path, mnist_spec, mode):
    bias = bias_spec(unbiased_mode=mode)
    paths = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        paths[name] = tmp_path / f"{name}.h5"
        make_biased_dataset(
            paths[name], mnist=mnist_spec, bias=bias, colors=colour_spec(), seed=seed, config_slice={"bias": {}}, threads=2
        )
        make_test_dataset(
            tmp_path / f"{name}-test.h5", mnist=mnist_spec, mode=mode, colors=colour_spec(), seed=seed, config_slice={},
            threads=1,
        )
    for suffix in ("", "-test"):
        same, other = (read_all(tmp_path / f"{n}{suffix}.h5") for n in ("a", "b")), read_all(tmp_path / f"c{suffix}.h5")
        first, second = same
        assert first.keys() == second.keys()
        assert all(first[key].tobytes() == second[key].tobytes() for key in first)
        for group in {key.split("/")[0] for key in first}:
            assert not np.array_equal(first[f"{group}/images"], other[f"{group}/images"])
    test_a, test_c = read_split(tmp_path / "a-test.h5", "test"), read_split(tmp_path / "c-test.h5", "test")
    np.testing.assert_array_equal(test_a.source_index, test_c.source_index)
    grey_test = mnist_spec.test()
    for split in (test_a, test_c):
        assert (split.images[grey_test.images > 0] == 255).all()
    seeds = [read_split(paths[n], "train").source_index for n in ("a", "c")]
    devs = [read_split(paths[n], "dev").source_index for n in ("a", "c")]
    assert sorted([*seeds[0], *devs[0]]) == sorted([*seeds[1], *devs[1]])  # the same MNIST images


def test_unknown_modes_fail_before_any_work(tmp_path, mnist_spec):
    with pytest.raises(ValueError, match="unknown background mode 'noisy'"):
        make_test_dataset(
            tmp_path / "t.h5", mnist=MnistSpec(tmp_path / "missing", 100, None, None, "official"), mode="noisy", colors=colour_spec(),
            seed=0, config_slice={}, threads=1,
        )
    with pytest.raises(ValueError, match="unknown background mode 'plain'"):
        make_biased_dataset(
            tmp_path / "b.h5", mnist=mnist_spec, bias=bias_spec(unbiased_mode="plain"), colors=colour_spec(), seed=0,
            config_slice={}, threads=1,
        )
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("count", [0, 1, 1023, 2500])
def test_chunk_writer_round_trips_images_of_any_count(tmp_path, count):
    images = np.random.default_rng(count).integers(0, 256, (count, 28, 28, 3), dtype=np.uint8)
    images[: count // 2] = 17  # flat rows compress with the default strategy, noise with Z_RLE
    with h5py.File(tmp_path / "x.h5", "w") as handle:
        with chunk_writer(handle, "images", images.shape, 1024, threads=2) as writer:
            writer.append(images[:100])
            writer.append(images[100:])
    with h5py.File(tmp_path / "x.h5") as handle:
        assert handle["images"].compression == "gzip"
        assert handle["images"][()].tobytes() == images.tobytes()


def test_chunk_writer_refuses_a_short_dataset(tmp_path):
    with h5py.File(tmp_path / "x.h5", "w") as handle:
        with pytest.raises(ValueError, match="10 rows written, 20 expected"):
            with chunk_writer(handle, "images", (20, 28, 28, 3), 8) as writer:
                writer.append(np.zeros((10, 28, 28, 3), np.uint8))
        with pytest.raises(ValueError, match="30 rows appended, only 20 fit"):
            with chunk_writer(handle, "more", (20, 28, 28, 3), 8) as writer:
                writer.append(np.zeros((30, 28, 28, 3), np.uint8))


def test_sample_grid_of_a_biased_file_is_a_png(tmp_path, biased_file):
    png = tmp_path / "samples.png"
    plot_samples(biased_file, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert describe_dataset(read_attributes(biased_file)["config"]).startswith("biased digits 5,6,7,8,9")
