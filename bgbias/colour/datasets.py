"""Coloured datasets: paint MNIST digits over generated backgrounds and store them as HDF5.

Stages: `build_biased` (the biased train/dev set) and `build_test` (one test set per mode).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterable, Mapping

import numpy as np

from bgbias.colour.backgrounds import ModeContext, canonical_mode, fill_colors, generate, set_pixels
from bgbias.config import biased_digits
from bgbias.mnist import MnistSpec, Split, split_files
from bgbias.seeding import rng_for
from bgbias.storage import MODE_DTYPE, StoredSplit, atomic_path, create_file, write_attributes, write_split

log = logging.getLogger("bgbias")
BIASED_MODE = "biased"
CHUNK = 4096  # images coloured at a time


@dataclass(frozen=True)
class BiasSpec:
    """Which digits carry their pool colour in train/dev, and how strictly (the config's `bias` block)."""

    mode: str
    biased_digits: tuple[int, ...]
    unbiased_mode: str
    correlation: float

    @classmethod
    def of(cls, bias_config: dict) -> BiasSpec:
        return cls(
            bias_config["mode"], tuple(bias_config["biased_digits"]), bias_config["unbiased_mode"],
            bias_config["correlation"],
        )

    def digits(self) -> tuple[int, ...]:
        return biased_digits(self.mode, self.biased_digits)


@dataclass(frozen=True)
class ColorSpec:
    """The colours of a dataset: pool, foreground and mode options (from the config's dataset slice)."""

    pool: np.ndarray
    foreground: tuple[int, int, int]
    options: dict

    @classmethod
    def of(cls, dataset_config: dict) -> ColorSpec:
        """The colours of a validated dataset config slice (`color_pool`, `foreground`, `modes`)."""
        return cls(
            np.asarray(dataset_config["color_pool"], np.uint8), tuple(dataset_config["foreground"]),
            dict(dataset_config["modes"]),
        )

    def context(self) -> ModeContext:
        return ModeContext(pool=np.asarray(self.pool, np.uint8), options=dict(self.options))


def background_mask(digits: np.ndarray) -> np.ndarray:
    """True where a grey digit image is background (pixel value 0)."""
    return digits == 0


def paint(digits: np.ndarray, layer: np.ndarray, foreground: tuple[int, int, int]) -> np.ndarray:
    """The digit strokes (grey value > 0) painted in the foreground colour over the background `layer`
    (N, 28, 28, 3), in place; returns `layer`."""
    set_pixels(layer, digits > 0, foreground)
    return layer


def empty_split(split: Split) -> StoredSplit:
    """A coloured split with the labels and sources of `split` and unfilled images, colours and modes."""
    count = len(split)
    return StoredSplit(
        np.empty((count, 28, 28, 3), np.uint8),
        split.labels,
        split.source_index,
        np.empty((count, 3), np.int16),
        np.empty(count, MODE_DTYPE),
    )


def color_rows(
    colored: StoredSplit, rows: np.ndarray, split: Split, mode: str, rng: np.random.Generator, colors: ColorSpec
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


def colored_split(split: Split, mode: str, rng: np.random.Generator, colors: ColorSpec) -> StoredSplit:
    """Every image of `split` on a background of `mode`."""
    colored = empty_split(split)
    color_rows(colored, np.arange(len(split)), split, mode, rng, colors)
    return colored


def biased_split(split: Split, bias: BiasSpec, rng: np.random.Generator, colors: ColorSpec) -> StoredSplit:
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
    splits: Mapping[str, StoredSplit] | Iterable[tuple[str, StoredSplit]],
    *,
    config_slice: dict,
    seed: int,
    threads: int,
    inputs: Iterable[Path] = (),
) -> None:
    """Write `splits` (a mapping, or (name, split) pairs built one at a time) to the HDF5 file `path`
    atomically, with the config slice and seed as attributes, compressing in `threads` threads; its checksum
    record names `inputs`."""
    with atomic_path(path, inputs) as partial:
        with create_file(partial) as handle:
            write_attributes(handle, config_slice, seed)
            for name, split in splits.items() if isinstance(splits, Mapping) else splits:
                write_split(handle, name, split, threads)


def make_biased_dataset(
    path: Path, *, mnist: MnistSpec, bias: BiasSpec, colors: ColorSpec, seed: int, config_slice: dict, threads: int
) -> None:
    """The biased training set: `train` and `dev` groups of the official training split."""
    canonical_mode(bias.unbiased_mode)
    train, dev = mnist.train_dev(seed)
    splits = (
        (name, biased_split(split, bias, rng_for(seed, "biased", name), colors))
        for name, split in (("train", train), ("dev", dev))
    )
    write_dataset(
        path, splits, config_slice=config_slice, seed=seed, threads=threads, inputs=split_files(mnist.raw_dir, "train")
    )


def make_test_dataset(
    path: Path, *, mnist: MnistSpec, mode: str, colors: ColorSpec, seed: int, config_slice: dict, threads: int
) -> None:
    """A test set: every image of the official test split on a background of `mode`."""
    canonical_mode(mode)
    split = colored_split(mnist.test(), mode, rng_for(seed, "test", mode), colors)
    write_dataset(
        path, {"test": split}, config_slice=config_slice, seed=seed, threads=threads,
        inputs=mnist.test_files(),
    )


def build_biased(
    output: Path, *, raw_dir: Path, dataset_config: dict, bias_config: dict, seed: int, threads: int = 1
) -> None:
    """Stage: the biased train/dev dataset of the bias config."""
    make_biased_dataset(
        Path(output), mnist=MnistSpec.of(raw_dir, dataset_config["mnist"]), bias=BiasSpec.of(bias_config),
        colors=ColorSpec.of(dataset_config), seed=seed, config_slice={**dataset_config, "bias": bias_config},
        threads=threads,
    )
    log.info("wrote %s", output)


def build_test(output: Path, *, raw_dir: Path, dataset_config: dict, mode: str, seed: int, threads: int = 1) -> None:
    """Stage: a test set on backgrounds of `mode`."""
    make_test_dataset(
        Path(output), mnist=MnistSpec.of(raw_dir, dataset_config["mnist"]), mode=mode,
        colors=ColorSpec.of(dataset_config), seed=seed, config_slice={**dataset_config, "mode": mode}, threads=threads,
    )
    log.info("wrote %s", output)
