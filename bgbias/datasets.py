"""Coloured datasets: paint MNIST digits over generated backgrounds and store them as HDF5."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bgbias.backgrounds import DEFAULT_POOL, Background, ModeContext, generate
from bgbias.mnist import Split, load_split, train_dev_split
from bgbias.seeding import rng_for
from bgbias.storage import ColoredSplit, atomic_path, create_file, write_attributes, write_split

WHITE = (255, 255, 255)
MODE_DTYPE = "S32"
BIASED_MODE = "biased"


@dataclass(frozen=True)
class BiasSpec:
    """Which digits carry their pool colour in train/dev, and how strictly."""

    mode: str = "partial"
    biased_digits: tuple[int, ...] = (5, 6, 7, 8, 9)
    unbiased_mode: str = "pool"
    correlation: float = 1.0

    def digits(self) -> tuple[int, ...]:
        return {"none": (), "partial": tuple(self.biased_digits), "all": tuple(range(10))}[self.mode]


@dataclass(frozen=True)
class ColorSpec:
    """The colours of a dataset: pool, foreground and mode options."""

    pool: np.ndarray = field(default_factory=lambda: DEFAULT_POOL.copy())
    foreground: tuple[int, int, int] = WHITE
    options: dict = field(default_factory=dict)

    def context(self) -> ModeContext:
        return ModeContext(pool=np.asarray(self.pool, np.uint8), options=dict(self.options))


@dataclass(frozen=True)
class MnistSpec:
    """Where the raw MNIST files are and how the splits are cut."""

    raw_dir: Path
    dev_size: int = 10000
    train_size: int | None = None
    test_size: int | None = None

    def train_dev(self, seed: int) -> tuple[Split, Split]:
        return train_dev_split(load_split(self.raw_dir, "train", self.train_size), self.dev_size, seed)

    def test(self) -> Split:
        return load_split(self.raw_dir, "test", self.test_size)


def background_mask(digits: np.ndarray) -> np.ndarray:
    """True where a grey digit image is background (pixel value 0)."""
    return digits == 0


def compose(split: Split, background: Background, modes: np.ndarray, colors: ColorSpec) -> ColoredSplit:
    """Paint the digits of `split` in the foreground colour over `background`."""
    foreground = np.array(colors.foreground, np.uint8)
    images = np.where((split.images > 0)[..., None], foreground, background.pixels)
    return ColoredSplit(images, split.labels, split.source_index, background.colors, modes)


def mode_background(split: Split, mode: str, rng: np.random.Generator, colors: ColorSpec) -> Background:
    """Backgrounds of `mode` for every image of `split`."""
    return generate(mode, background_mask(split.images), rng, colors.context())


def colored_split(split: Split, mode: str, rng: np.random.Generator, colors: ColorSpec) -> ColoredSplit:
    """Every image of `split` on a background of `mode`."""
    modes = np.full(len(split), mode.encode(), dtype=MODE_DTYPE)
    return compose(split, mode_background(split, mode, rng, colors), modes, colors)


def biased_split(split: Split, bias: BiasSpec, rng: np.random.Generator, colors: ColorSpec) -> ColoredSplit:
    """Biased digits get their pool colour (with probability `correlation`), the others `unbiased_mode`."""
    pool = np.asarray(colors.pool, np.uint8)
    biased = np.isin(split.labels, bias.digits())
    labels = split.labels[biased]
    keep = rng.random(len(labels)) < bias.correlation
    other = (labels + rng.integers(1, len(pool), size=len(labels))) % len(pool)
    biased_colors = pool[np.where(keep, labels, other)]
    unbiased = mode_background(split.subset(np.flatnonzero(~biased)), bias.unbiased_mode, rng, colors)

    pixels = np.empty((len(split), 28, 28, 3), np.uint8)
    pixels[biased] = biased_colors[:, None, None, :]
    pixels[~biased] = unbiased.pixels
    bg_colors = np.empty((len(split), 3), np.int16)
    bg_colors[biased] = biased_colors
    bg_colors[~biased] = unbiased.colors
    modes = np.where(biased, BIASED_MODE.encode(), bias.unbiased_mode.encode()).astype(MODE_DTYPE)
    return compose(split, Background(pixels, bg_colors), modes, colors)


def write_dataset(path: Path, splits: dict[str, ColoredSplit], config_slice: dict, seed: int) -> None:
    """Write `splits` to the HDF5 file `path` atomically, with the config slice and seed as attributes."""
    with atomic_path(path) as partial:
        with create_file(partial) as handle:
            write_attributes(handle, config_slice, seed)
            for name, split in splits.items():
                write_split(handle, name, split)


def make_biased_dataset(
    path: Path, mnist: MnistSpec, bias: BiasSpec, colors: ColorSpec, seed: int, config_slice: dict
) -> None:
    """The biased training set: `train` and `dev` groups of the official training split."""
    train, dev = mnist.train_dev(seed)
    splits = {
        name: biased_split(split, bias, rng_for(seed, "biased", name), colors)
        for name, split in (("train", train), ("dev", dev))
    }
    write_dataset(path, splits, config_slice, seed)


def make_test_dataset(path: Path, mnist: MnistSpec, mode: str, colors: ColorSpec, seed: int, config_slice: dict) -> None:
    """A test set: every image of the official test split on a background of `mode`."""
    split = colored_split(mnist.test(), mode, rng_for(seed, "test", mode), colors)
    write_dataset(path, {"test": split}, config_slice, seed)
