"""Background modes: pixel properties of every mode on real MNIST digits."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from bgbias.colour.backgrounds import (
    ALIASES,
    MIXTURE,
    MODES,
    NAMED_SOLIDS,
    Donors,
    canonical_mode,
    fill_covered,
    generate,
)
from bgbias.colour.datasets import colored_split
from bgbias.mnist import Split, load_split
from conftest import POOL, colour_spec

TABLE_MODES = [
    "pool", "random_pure", "strips", "noise", "noise_weak", "noise_minor",
    "gaussian", "salt_pepper", "crossover", "mixture",
]
STRIP_A = np.arange(28) % 5 < 2


@pytest.fixture(scope="module")
def digits(mini_mnist) -> Split:
    """The 600 real training digits of the mini MNIST."""
    return load_split(mini_mnist, "train")


def paint(digits: Split, mode: str, seed: int = 0, options: dict | None = None):
    """Images, background mask and the coloured split of `digits` on `mode`."""
    colored = colored_split(digits, mode, np.random.default_rng(seed), colour_spec(**(options or {})))
    return colored, digits.images == 0


def one_colour(images: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per image: True when all its background pixels have one colour (that of its corner, always background)."""
    assert mask[:, 0, 0].all()
    return ((images == images[:, :1, :1]).all(-1) | ~mask).all((1, 2))


def colour_range(images: np.ndarray, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per image and channel, the lowest and highest value over the pixels `where`."""
    low = np.where(where[..., None], images, 255).min((1, 2))
    high = np.where(where[..., None], images, 0).max((1, 2))
    return low, high


def normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def background_values(images: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """All background channel values, (pixels, 3)."""
    return images[mask]


def test_the_registry_holds_every_mode_of_the_design_table():
    assert set(TABLE_MODES) <= set(MODES)
    assert {alias: ALIASES[alias] for alias in ("basic", "pure")} == {"basic": "pool", "pure": "pool"}
    assert canonical_mode("basic") == "pool"


def test_unknown_modes_are_refused_naming_the_allowed_ones():
    with pytest.raises(ValueError, match="unknown background mode 'stripes'.*strips"):
        canonical_mode("stripes")
    with pytest.raises(ValueError, match="unknown solid colour 'solid:purple'.*half_123.*r,g,b"):
        canonical_mode("solid:purple")
    with pytest.raises(ValueError, match="solid:1,2,300"):
        canonical_mode("solid:1,2,300")


@pytest.mark.parametrize("mode", [*TABLE_MODES, "basic", "solid:black", "solid:12", "solid:10,20,30"])
def test_foreground_is_white_and_background_is_the_generated_layer(digits, mode):
    colored, mask = paint(digits, mode)
    assert colored.images.shape == (600, 28, 28, 3) and colored.images.dtype == np.uint8
    assert (colored.images[~mask] == 255).all()
    layer = generate(mode, mask, np.random.default_rng(0), colour_spec().context())
    assert np.array_equal(colored.images[mask], layer.pixels[mask])
    assert np.array_equal(colored.bg_color, layer.colors)
    np.testing.assert_array_equal(colored.labels, digits.labels)


def test_pool_gives_one_pool_colour_per_image_uniformly(digits):
    colored, mask = paint(digits, "pool")
    assert one_colour(colored.images, mask).all()
    index = (colored.bg_color[:, None, :] == POOL[None].astype(np.int16)).all(-1).argmax(1)
    assert (POOL[index] == colored.images[:, 0, 0]).all()
    counts = np.bincount(index, minlength=10)
    assert counts.min() > 60 - 4 * np.sqrt(60 * 0.9) and counts.max() < 60 + 4 * np.sqrt(60 * 0.9)


def test_random_pure_gives_one_random_colour_per_image_never_above_224(digits):
    colored, mask = paint(digits, "random_pure")
    assert one_colour(colored.images, mask).all()
    values = background_values(colored.images, mask)
    assert values.max() == 224 and values.min() == 0
    assert len(np.unique(colored.bg_color, axis=0)) == 600
    np.testing.assert_array_equal(colored.bg_color, colored.images[:, 0, 0])


def test_strips_rows_with_row_mod_5_below_2_share_colour_a_the_others_colour_b(digits):
    colored, mask = paint(digits, "strips")
    images = colored.images.astype(np.int16)
    a = images[:, 0, 0]  # row 0: an A row, column 0 is background in MNIST
    b = images[:, 2, 0]  # row 2: a B row
    expected = np.where(STRIP_A[None, :, None, None], a[:, None, None], b[:, None, None])
    assert ((images == expected).all(-1) | ~mask).all()
    assert max(a.max(), b.max()) == 224
    assert (a != b).any(-1).mean() > 0.99
    assert (colored.bg_color == -1).all()


def test_strips_colour_is_recorded_when_only_one_strip_colour_shows():
    mask = np.zeros((50, 28, 28), bool)
    mask[:25, :2] = True  # background only in A rows (0, 1)
    mask[25:, 2:5] = True  # background only in B rows (2, 3, 4)
    result = generate("strips", mask, np.random.default_rng(0), colour_spec().context())
    np.testing.assert_array_equal(result.colors[:25], result.pixels[:25, 0, 0])
    np.testing.assert_array_equal(result.colors[25:], result.pixels[25:, 2, 0])
    both = generate("strips", np.ones((50, 28, 28), bool), np.random.default_rng(0), colour_spec().context())
    assert (both.colors == -1).all()


def test_noise_spreads_over_0_to_255_independently_of_the_digit(digits):
    colored, mask = paint(digits, "noise")
    values = background_values(colored.images, mask)
    histogram = np.bincount(values.ravel(), minlength=256)
    expected = values.size / 256
    assert histogram.min() > expected - 5 * np.sqrt(expected) and histogram.max() < expected + 5 * np.sqrt(expected)
    per_digit = [colored.images[digits.labels == d][mask[digits.labels == d]].mean() for d in range(10)]
    assert np.allclose(per_digit, 127.5, atol=1.0)
    assert (colored.bg_color == -1).all()
    assert not one_colour(colored.images, mask).any()


@pytest.mark.parametrize("mode, low, high", [("noise_weak", 96, 160), ("noise_minor", 118, 138)])
def test_weak_noises_stay_around_128(digits, mode, low, high):
    colored, mask = paint(digits, mode)
    values = background_values(colored.images, mask)
    assert values.min() == low and values.max() == high
    assert abs(values.mean() - 128) < 0.2


def test_gaussian_has_mean_128_and_the_configured_std(digits):
    colored, mask = paint(digits, "gaussian", options={"gaussian_std": 20})
    values = background_values(colored.images, mask).astype(float)
    assert abs(values.mean() - 128) < 0.2 and abs(values.std() - 20) < 0.2
    wide, _ = paint(digits, "gaussian")
    wide_values = background_values(wide.images, mask).ravel()
    # std 64: rounded, clipped at both ends: P(0) = P(128 + 64 Z < 0.5), P(255) = P(128 + 64 Z >= 254.5)
    for value, tail in ((0, normal_cdf((0.5 - 128) / 64)), (255, 1 - normal_cdf((254.5 - 128) / 64))):
        assert abs((wide_values == value).mean() - tail) < 4 * math.sqrt(tail / len(wide_values))
    centre = 0.5 * (math.erf(0.5 / 64 / math.sqrt(2)) * 2)
    assert abs((wide_values == 128).mean() - centre) < 4 * math.sqrt(centre / len(wide_values))


def test_salt_pepper_sets_a_fraction_of_blocks_black_or_white_over_a_pool_colour(digits):
    colored, mask = paint(digits, "salt_pepper", options={"salt_pepper_fraction": 0.2, "salt_pepper_block": 4})
    images = colored.images
    black, white = (images == 0).all(-1) & mask, (images == 255).all(-1) & mask
    salt = black | white
    assert abs(salt[mask].mean() - 0.2) < 0.02 and abs(black[mask].mean() - 0.1) < 0.015
    for kind in (black, white):  # a block is hit as a whole: every background pixel of a hit block
        hit = kind.reshape(600, 7, 4, 7, 4).any((2, 4))
        np.testing.assert_array_equal(kind, np.repeat(np.repeat(hit, 4, 1), 4, 2) & mask)
    low, high = colour_range(images, mask & ~salt)
    assert (low == high).all()  # the rest of the background is one colour ...
    assert (low[:, None].astype(np.int16) == POOL[None]).all(-1).any(1).all()  # ... from the pool
    untouched = ~salt.any((1, 2))
    np.testing.assert_array_equal(colored.bg_color[untouched], low[untouched])
    assert (colored.bg_color[~untouched] == -1).all()


def test_salt_pepper_over_random_colours(digits):
    colored, mask = paint(digits, "salt_pepper", options={"salt_pepper_base": "random_pure"})
    salt = (colored.images == 0).all(-1) | (colored.images == 255).all(-1)
    low, high = colour_range(colored.images, mask & ~salt)
    assert (low == high).all() and high.max() <= 224 and len(np.unique(low, axis=0)) > 590
    with pytest.raises(ValueError, match="salt_pepper_base='noise'.*pool, random_pure"):
        paint(digits, "salt_pepper", options={"salt_pepper_base": "noise"})


def test_crossover_pastes_the_background_of_another_image(digits):
    mask = digits.images[:200] == 0
    donor_images = np.random.default_rng(1).integers(0, 256, (200, 28, 28, 3), dtype=np.uint8)
    donors = Donors(donor_images, mask, np.full((200, 3), -1, np.int16), np.arange(200))
    context = dataclasses.replace(colour_spec().context(), donors=donors)
    result = generate("crossover", mask, np.random.default_rng(0), context)
    both = mask[:, None] & mask[None, :]  # (image, donor, 28, 28)
    equal = (result.pixels[:, None] == donor_images[None]).all(-1) | ~both
    matches = equal.all((2, 3))
    np.fill_diagonal(matches, False)
    assert matches.sum(1).tolist() == [1] * 200  # exactly one other image is the donor
    chosen = matches.argmax(1)
    assert len(np.unique(chosen)) > 100
    filled = fill_covered(donor_images[chosen], mask[chosen])
    np.testing.assert_array_equal(result.pixels, filled)


def test_crossover_without_donors_takes_source_mode_backgrounds_of_the_same_split(digits):
    colored, mask = paint(digits, "crossover")
    assert one_colour(colored.images, mask).all()
    in_pool = (colored.bg_color[:, None] == POOL[None].astype(np.int16)).all(-1).any(1)
    assert in_pool.all()
    mixed, _ = paint(digits, "crossover", options={"crossover_source": "noise"})
    assert not one_colour(mixed.images, mask).any()
    with pytest.raises(ValueError, match="crossover_source='crossover'"):
        paint(digits, "crossover", options={"crossover_source": "crossover"})
    with pytest.raises(ValueError, match="at least 2 images"):
        generate("crossover", mask[:1], np.random.default_rng(0), colour_spec().context())


def test_fill_covered_takes_the_nearest_background_pixel_on_the_left_else_right():
    images = np.arange(28 * 28 * 3, dtype=np.int64).reshape(1, 28, 28, 3).astype(np.uint8)
    masks = np.ones((1, 28, 28), bool)
    masks[0, 5, 3:6] = False  # covered in the middle of row 5: takes column 2
    masks[0, 6, :4] = False  # covered at the start of row 6: takes column 4
    masks[0, 7, :] = False  # a row without background: black
    filled = fill_covered(images, masks)
    np.testing.assert_array_equal(filled[0, 5, 3:6], np.repeat(images[0, 5, 2:3], 3, axis=0))
    np.testing.assert_array_equal(filled[0, 6, :4], np.repeat(images[0, 6, 4:5], 4, axis=0))
    assert (filled[0, 7] == 0).all()
    np.testing.assert_array_equal(filled[masks], images[masks])


def component_of(images: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Which mixture component each image's background looks like, by its pixels."""
    flat = one_colour(images, mask)
    first = images[np.arange(len(images)), 0, 0].astype(np.int16)
    in_pool = (first[:, None] == POOL[None].astype(np.int16)).all(-1).any(1)
    a, b = images[:, 0, 0], images[:, 2, 0]
    expected = np.where(STRIP_A[None, :, None, None], a[:, None, None], b[:, None, None])
    striped = ((images == expected).all(-1) | ~mask).all((1, 2))
    return np.select(
        [flat & in_pool, flat, striped], ["pool", "random_pure", "strips"], default="noise"
    )


def test_mixture_images_each_belong_to_one_component_in_equal_shares(digits):
    colored, mask = paint(digits, "mixture")
    recorded = colored.bg_mode.astype(str)
    assert set(recorded) == set(MIXTURE)
    looks = component_of(colored.images, mask)
    # a random_pure colour may happen to be a pool colour: only the pool/random_pure boundary may blur
    agree = (looks == recorded) | ((looks == "pool") & (recorded == "random_pure"))
    assert agree.all()
    shares = np.array([(recorded == name).sum() for name in MIXTURE])
    assert (np.abs(shares - 150) < 4 * np.sqrt(600 * 0.25 * 0.75)).all()
    noisy = recorded == "noise"
    assert (colored.bg_color[noisy] == -1).all() and (colored.bg_color[recorded == "pool"] >= 0).all()


@pytest.mark.parametrize("name", sorted(NAMED_SOLIDS))
def test_solid_colours_are_exact(digits, name):
    colored, mask = paint(Split(digits.images[:50], digits.labels[:50], digits.source_index[:50]), f"solid:{name}")
    assert (colored.images[mask] == NAMED_SOLIDS[name]).all()
    assert (colored.bg_color == NAMED_SOLIDS[name]).all()


def test_solid_rgb_colour(digits):
    colored, mask = paint(digits, "solid:0,168,225")
    assert (colored.images[mask] == (0, 168, 225)).all()
    assert NAMED_SOLIDS["special"] == (0, 168, 225)


@pytest.mark.parametrize("mode", TABLE_MODES)
def test_a_mode_is_a_function_of_its_generator(digits, mode):
    mask = digits.images[:100] == 0
    context = colour_spec().context()
    first = generate(mode, mask, np.random.default_rng(5), context)
    again = generate(mode, mask, np.random.default_rng(5), context)
    other = generate(mode, mask, np.random.default_rng(6), context)
    assert np.array_equal(first.pixels, again.pixels) and np.array_equal(first.colors, again.colors)
    assert not np.array_equal(first.pixels, other.pixels)
