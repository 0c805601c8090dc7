"""Paired datasets: which images are augmented, what their versions look like, the file layout."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from bgbias.colour.datasets import build_biased, build_test
from bgbias.cli import main
from bgbias.colour.pairs import build_paired, read_alt_index, read_paired_split, read_versions
from bgbias.colour.plots import describe_dataset, plot_samples
from bgbias.config import dataset_slice, validate_config
from bgbias.mnist import load_split
from bgbias.storage import DatasetFileError, read_attributes, read_split
from conftest import MINI, POOL as POOL_UINT8, run_snakemake

K = 4
POOL = POOL_UINT8.astype(np.int16)


def build(raw_dir: Path, data_config: dict, path: Path, biased: Path, mode: str, fraction: float, *, seed: int,
          threads: int = 1) -> None:
    """The paired dataset of `biased` on `mode`, K versions of a random `fraction` of the biased images."""
    build_paired(
        path, biased=biased, raw_dir=raw_dir, dataset_config=data_config, mode=mode, fraction=fraction, copies=K,
        selection="random", unbiased_pairs="self", ranking=None, seed=seed, threads=threads,
    )


@pytest.fixture(scope="module")
def data_config() -> dict:
    return dataset_slice(MINI)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("paired")


@pytest.fixture(scope="module")
def biased_file(folder, mini_mnist, data_config) -> Path:
    path = folder / "biased.h5"
    bias = {**validate_config({})["bias"], "biased_digits": [5, 6, 7, 8, 9]}
    build_biased(path, raw_dir=mini_mnist, dataset_config=data_config, bias_config=bias, seed=0)
    return path


@pytest.fixture(scope="module")
def paired(folder, biased_file, mini_mnist, data_config):
    """Build (once) the paired file of a mode, fraction and seed."""
    built = {}

    def make(mode: str, fraction: float = 1.0, seed: int = 0) -> Path:
        path = folder / f"{mode}-{fraction}-{seed}.h5"
        if path not in built:
            build(mini_mnist, data_config, path, biased_file, mode, fraction, seed=seed, threads=2)
            built[path] = True
        return path

    return make


@pytest.fixture(scope="module")
def grey(mini_mnist):
    return load_split(mini_mnist, "train")


def strokes_of(split, grey) -> np.ndarray:
    return grey.images[split.source_index] > 0


@pytest.mark.parametrize("name", ["train", "dev"])
def test_biased_digits_get_k_versions_unbiased_digits_pair_with_themselves(paired, biased_file, grey, name):
    pairs = read_paired_split(paired("pool"), name)
    original = read_split(biased_file, name)
    for field in ("images", "labels", "source_index", "bg_color", "bg_mode"):
        np.testing.assert_array_equal(getattr(pairs.base, field), getattr(original, field))
    biased = pairs.base.labels >= 5
    assert (pairs.alt_index[~biased] == -1).all()
    np.testing.assert_array_equal(pairs.alt_index[biased], np.arange(biased.sum()))
    assert pairs.copies == K and pairs.alt_images.shape == (biased.sum(), K, 28, 28, 3)
    strokes = strokes_of(pairs.base, grey)[biased]
    versions = pairs.alt_images
    assert (versions[np.broadcast_to(strokes[:, None], versions.shape[:4])] == 255).all()  # foreground untouched
    corner = versions[:, :, 0, 0].astype(np.int16)  # (M, K, 3): each version one pool colour
    assert ((versions == versions[:, :, :1, :1]).all(-1) | strokes[:, None]).all()
    assert (corner[:, :, None] == POOL[None, None]).all(-1).any(-1).all()
    own = POOL[pairs.base.labels[biased]]
    assert abs((corner == own[:, None]).all(-1).mean() - 0.1) < 0.06  # fresh colours, not the digit's
    assert (corner != corner[:, :1]).any(-1).any(1).mean() > 0.9  # the K versions differ from each other


def test_versions_pick_the_alternative_of_augmented_images_and_the_image_itself_otherwise(paired):
    pairs = read_paired_split(paired("noise"), "train")
    pick = np.arange(len(pairs)) % K
    chosen = pairs.versions(pick)
    augmented = pairs.alt_index >= 0
    np.testing.assert_array_equal(chosen[~augmented], pairs.base.images[~augmented])
    np.testing.assert_array_equal(chosen[augmented], pairs.alt_images[pairs.alt_index[augmented], pick[augmented]])
    assert not (chosen[augmented] == pairs.base.images[augmented]).all((1, 2, 3)).any()


def test_alt_backgrounds_are_recorded(paired):
    path = paired("mixture")
    pairs = read_paired_split(path, "train")
    with h5py.File(path) as handle:
        colors, modes = handle["train/alt_bg_color"][()], handle["train/alt_bg_mode"][()]
    assert colors.shape == (len(pairs.alt_images), K, 3) and modes.shape == (len(pairs.alt_images), K)
    assert set(modes.ravel()) == {b"pool", b"random_pure", b"strips", b"noise"}
    flat = modes != b"noise"
    single = (modes == b"pool") | (modes == b"random_pure")
    np.testing.assert_array_equal(colors[single], pairs.alt_images[:, :, 0, 0][single])
    assert (colors[~flat] == -1).all()
    images, version_modes = read_versions(path, "train", np.array([3, 0, 3]), 2)
    np.testing.assert_array_equal(images, pairs.alt_images[[3, 0, 3], :2])
    np.testing.assert_array_equal(version_modes, modes[[3, 0, 3], :2])


def test_crossover_versions_carry_another_training_image_background(paired, grey):
    pairs = read_paired_split(paired("crossover"), "train")
    augmented = np.flatnonzero(pairs.alt_index >= 0)
    colours = pairs.alt_images[:, :, 0, 0].astype(np.int16)  # biased file: every background one colour
    strokes = strokes_of(pairs.base, grey)
    assert ((pairs.alt_images == pairs.alt_images[:, :, :1, :1]).all(-1) | strokes[augmented, None]).all()
    donors = pairs.base.images[:, 0, 0].astype(np.int16)
    share_own = (colours == donors[augmented, None]).all(-1).mean()
    # each version's colour is that of another image of the split: the same as the image's own only by chance
    by_colour = {tuple(c): np.mean((donors == c).all(-1)) for c in np.unique(donors, axis=0)}
    expected_own = np.mean([by_colour[tuple(c)] for c in donors[augmented]])
    assert abs(share_own - expected_own) < 0.06
    assert all(tuple(c) in by_colour for c in colours.reshape(-1, 3))


def test_fraction_augments_a_seeded_subset_of_the_biased_images(paired):
    full = read_alt_index(paired("pool"), "train")
    half = read_alt_index(paired("pool", 0.5), "train")
    biased = (full >= 0).sum()
    assert (half >= 0).sum() == round(0.5 * biased)
    assert set(np.flatnonzero(half >= 0)) < set(np.flatnonzero(full >= 0))
    np.testing.assert_array_equal(half[half >= 0], np.arange((half >= 0).sum()))
    other_mode = read_alt_index(paired("noise", 0.5), "train")
    np.testing.assert_array_equal(half, other_mode)  # the subset depends on the seed only
    other_seed = read_alt_index(paired("pool", 0.5, seed=1), "train")
    assert not np.array_equal(half, other_seed)


def test_same_seed_identical_file_other_seed_other_backgrounds(paired, folder, biased_file, mini_mnist, data_config):
    again = folder / "again.h5"
    build(mini_mnist, data_config, again, biased_file, "strips", 1.0, seed=0, threads=1)
    with h5py.File(paired("strips")) as first, h5py.File(again) as second, h5py.File(paired("strips", seed=1)) as other:
        for name in ("train", "dev"):
            assert sorted(first[name]) == sorted(second[name])
            for field in first[name]:
                assert first[name][field][()].tobytes() == second[name][field][()].tobytes()
            assert not np.array_equal(first[name]["alt_images"][()], other[name]["alt_images"][()])
            np.testing.assert_array_equal(first[name]["source_index"][()], other[name]["source_index"][()])


def test_file_attributes_record_the_pairing(paired):
    path = paired("noise")
    attributes = read_attributes(path)
    assert attributes["config"]["paired"] == {
        "augment_mode": "noise", "augment_fraction": 1.0, "copies": K, "selection": "random"
    }
    assert attributes["config"]["bias"]["biased_digits"] == [5, 6, 7, 8, 9]
    with h5py.File(path) as handle:
        assert handle.attrs["copies"] == K and handle.attrs["augment_mode"] == "noise"
        assert handle["train/alt_images"].compression == "gzip"
        assert handle["train/alt_images"].chunks[1:] == (K, 28, 28, 3)


def test_bias_none_pairs_every_image_with_itself(folder, mini_mnist, data_config):
    biased = folder / "unbiased.h5"
    build_biased(biased, raw_dir=mini_mnist, dataset_config=data_config, bias_config={**validate_config({})["bias"], "mode": "none"}, seed=0)
    path = folder / "none.h5"
    build(mini_mnist, data_config, path, biased, "noise", 1.0, seed=0)
    pairs = read_paired_split(path, "train")
    assert (pairs.alt_index == -1).all() and pairs.alt_images.shape == (0, K, 28, 28, 3)
    np.testing.assert_array_equal(pairs.versions(np.zeros(len(pairs), int)), pairs.base.images)


def test_bad_inputs_are_refused_with_clear_errors(folder, mini_mnist, data_config, capsys, monkeypatch):
    monkeypatch.chdir(folder)
    common = ["generate", "paired", "--biased", str(folder / "biased.h5"), "--raw", str(mini_mnist), "--out", "x.h5"]
    for extra, message in (
        (["--fraction", "2"], "--fraction: 2.0 is not allowed; allowed: a number > 0 and <= 1"),
        (["--fraction", "0"], "--fraction: 0.0 is not allowed; allowed: a number > 0 and <= 1"),
        (["--mode", "pools"], "--mode: 'pools' is not allowed; allowed: one of pool, basic,"),
        (["--selection", "influence"], "--ranking is needed with a --selection other than random, and only then"),
    ):
        assert main([*common, *extra]) == 2
        error = capsys.readouterr().err
        assert error.startswith(f"bgbias generate: {message}") and error.count("\n") == 1, error
    assert not (folder / "x.h5").exists()
    test_file = folder / "a-test-set.h5"
    build_test(test_file, raw_dir=mini_mnist, dataset_config=data_config, mode="pool", seed=0)
    with pytest.raises(DatasetFileError, match="records no `bias` config"):
        build(mini_mnist, data_config, folder / "bad.h5", test_file, "pool", 1.0, seed=0)
    assert not (folder / "bad.h5").exists()


def test_sample_grid_of_a_paired_file(paired, tmp_path):
    png = tmp_path / "paired.png"
    plot_samples(paired("mixture"), png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    caption = describe_dataset(read_attributes(paired("mixture", 0.5))["config"])
    assert caption == "paired: 4 versions on mixture for 50% of the biased digits' images"


@pytest.mark.workflow
def test_workflow_plans_a_paired_dataset_per_mode_and_fraction_and_a_sample_grid_per_dataset(workflow_dir):
    grid = "paired={augment_modes: [pool, noise, solid:1], augment_fractions: [1.0, 0.25]}"
    process = run_snakemake(workflow_dir, "-n", "--forceall", "results/all", "--config", grid, "test_modes=[pool]")
    planned = process.stdout
    for augment in ("pool", "noise", "solid-1"):
        for fraction in ("1", "0.25"):
            assert f"results/initial/s0/datasets/paired/{augment}-f{fraction}.h5" in planned
            assert f"results/initial/s0/figures/samples/paired/{augment}-f{fraction}.png" in planned
    for dataset in ("biased", "test/pool"):
        assert f"results/initial/s0/figures/samples/{dataset}.png" in planned
