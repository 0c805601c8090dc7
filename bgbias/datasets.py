"""Coloured datasets: paint MNIST digits over generated backgrounds and store them as HDF5."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from bgbias.backgrounds import (
    DEFAULT_POOL,
    MODE_DTYPE,
    ModeContext,
    canonical_mode,
    fill_colors,
    generate,
    set_pixels,
)
from bgbias.mnist import Split, load_split, train_dev_split
from bgbias.seeding import rng_for
from bgbias.storage import ColoredSplit, atomic_path, create_file, write_attributes, write_split

WHITE = (255, 255, 255)
BIASED_MODE = "biased"
CHUNK = 4096  # images coloured at a time


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


def paint(digits: np.ndarray, layer: np.ndarray, foreground: tuple[int, int, int]) -> np.ndarray:
    """The digit strokes (grey value > 0) painted in the foreground colour over the background `layer`
    (N, 28, 28, 3), in place; returns `layer`."""
    set_pixels(layer, digits > 0, foreground)
    return layer


def empty_split(split: Split) -> ColoredSplit:
    """A coloured split with the labels and sources of `split` and unfilled images, colours and modes."""
    count = len(split)
    return ColoredSplit(
        np.empty((count, 28, 28, 3), np.uint8),
        split.labels,
        split.source_index,
        np.empty((count, 3), np.int16),
        np.empty(count, MODE_DTYPE),
    )


def color_rows(
    colored: ColoredSplit, rows: np.ndarray, split: Split, mode: str, rng: np.random.Generator, colors: ColorSpec
) -> None:
    """Fill `rows` of `colored` with those images of `split` on backgrounds of `mode`, CHUNK images at a time
    (bounding the memory of any mode; `crossover` without donors takes its backgrounds from the same chunk)."""
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        digits = split.images[chunk]
        background = generate(mode, background_mask(digits), rng, colors.context())
        colored.images[chunk] = paint(digits, background.pixels, colors.foreground)
        colored.bg_color[chunk] = background.colors
        colored.bg_mode[chunk] = mode.encode() if background.modes is None else background.modes


def colored_split(split: Split, mode: str, rng: np.random.Generator, colors: ColorSpec) -> ColoredSplit:
    """Every image of `split` on a background of `mode`."""
    colored = empty_split(split)
    color_rows(colored, np.arange(len(split)), split, mode, rng, colors)
    return colored


def biased_split(split: Split, bias: BiasSpec, rng: np.random.Generator, colors: ColorSpec) -> ColoredSplit:
    """Biased digits get their pool colour (with probability `correlation`, else one of the other pool
    colours, uniformly), the others backgrounds of `unbiased_mode`."""
    pool = np.asarray(colors.pool, np.uint8)
    biased = np.flatnonzero(np.isin(split.labels, bias.digits()))
    labels = split.labels[biased]
    keep = rng.random(len(labels)) < bias.correlation
    other = (labels + rng.integers(1, len(pool), size=len(labels))) % len(pool)
    biased_colors = pool[np.where(keep, labels, other)]

    colored = empty_split(split)
    flat = fill_colors(len(biased), biased_colors).pixels
    colored.images[biased] = paint(split.images[biased], flat, colors.foreground)
    colored.bg_color[biased] = biased_colors
    colored.bg_mode[biased] = BIASED_MODE.encode()
    del flat  # free the layer before the unbiased images are coloured
    unbiased = np.setdiff1d(np.arange(len(split)), biased)
    color_rows(colored, unbiased, split, bias.unbiased_mode, rng, colors)
    return colored


def write_dataset(
    path: Path,
    splits: Mapping[str, ColoredSplit] | Iterable[tuple[str, ColoredSplit]],
    config_slice: dict,
    seed: int,
    threads: int = 1,
) -> None:
    """Write `splits` (a mapping, or (name, split) pairs built one at a time) to the HDF5 file `path`
    atomically, with the config slice and seed as attributes, compressing in `threads` threads."""
    with atomic_path(path) as partial:
        with create_file(partial) as handle:
            write_attributes(handle, config_slice, seed)
            for name, split in splits.items() if isinstance(splits, Mapping) else splits:
                write_split(handle, name, split, threads)


def make_biased_dataset(
    path: Path, mnist: MnistSpec, bias: BiasSpec, colors: ColorSpec, seed: int, config_slice: dict, threads: int = 1
) -> None:
    """The biased training set: `train` and `dev` groups of the official training split."""
    canonical_mode(bias.unbiased_mode)
    train, dev = mnist.train_dev(seed)
    splits = (
        (name, biased_split(split, bias, rng_for(seed, "biased", name), colors))
        for name, split in (("train", train), ("dev", dev))
    )
    write_dataset(path, splits, config_slice, seed, threads)


def make_test_dataset(
    path: Path, mnist: MnistSpec, mode: str, colors: ColorSpec, seed: int, config_slice: dict, threads: int = 1
) -> None:
    """A test set: every image of the official test split on a background of `mode`."""
    canonical_mode(mode)
    split = colored_split(mnist.test(), mode, rng_for(seed, "test", mode), colors)
    write_dataset(path, {"test": split}, config_slice, seed, threads)
