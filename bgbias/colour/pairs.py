"""Paired (augmented) datasets: K alternative versions of each training image.

A paired file is made from a biased dataset file (`results/s{seed}/datasets/biased.h5`).
Layout of a paired HDF5 file, per split group (`train`, `dev`), beside the standard
fields of the biased images (`images`, `labels`, `source_index`, `bg_color`, `bg_mode`,
copied unchanged from the biased file):

- `alt_index` (N,) int64: row of the image's versions in `alt_images`, or -1 when the
  image is paired with an exact copy of itself (unbiased digits, and biased digits
  left out by `augment_fraction`); identical copies are never stored. Augmented
  images take rows 0..M-1 in the order of the split. With `unbiased_pairs` a mode
  (not `self`), the unbiased digits follow, in the order of the split: each with one
  background of that mode, repeated for its K versions (the original code's pairing).
- `alt_images` (M, K, 28, 28, 3) uint8: the K versions of the M augmented images:
  the same digit pixels (foreground untouched) over K fresh backgrounds of the
  augment mode. Chunked `ALT_CHUNK` (16) images with all their K versions per chunk
  (about 376 KB for K = 10), so a batch of consecutive images, or the whole array,
  reads without decompressing anything twice. Compressed with HDF5's standard gzip
  filter at level 1 (any HDF5 reader decompresses it; noise-like chunks are deflated
  with zlib's Z_RLE strategy, which is twice as fast there, see `storage.deflate`).
  Its first axis is extendible (maxshape None), so M may be 0.
- `alt_bg_color` (M, K, 3) int16 and `alt_bg_mode` (M, K) bytes: their backgrounds
  (colour -1, -1, -1 when not one colour; the component mode for `mixture`).

With `crossover`, a version takes the background of another image of the same split
(the stored coloured images are the donors; never the image itself).

Which biased images are augmented: the images of the biased digits (the biased file's
`bias` config) are put in an order per split: a seeded random one (selection `random`), or
the ranking of a selection strategy (`bgbias.colour.selection`, a ranking CSV); the first
round(augment_fraction x count) are augmented. The order does not depend on the mode
or the fraction, so a smaller fraction augments a subset of a larger one.

File attributes: `config` (JSON: the dataset config slice, the biased file's `bias`
slice and `paired`: augment_mode, augment_fraction, copies, selection, and unbiased_pairs unless
`self`), `seed`, `bgbias_version`,
`copies` (K) and `augment_mode`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from bgbias.colour.backgrounds import Donors, canonical_mode, generate
from bgbias.config import recorded
from bgbias.colour.datasets import BiasSpec, ColorSpec, background_mask
from bgbias.mnist import MnistSpec, Split, split_files
from bgbias.seeding import rng_for
from bgbias.storage import (
    COMPRESSION,
    MODE_DTYPE,
    StoredSplit,
    DatasetFileError,
    READ_ERRORS,
    atomic_path,
    check_chunks,
    create_file,
    chunk_writer,
    open_dataset,
    read_split,
    read_table,
    write_attributes,
)

log = logging.getLogger("bgbias")
PAIRED_SPLITS = ("train", "dev")
PROGRESS_EVERY = 20 * 256  # augmented images between two progress lines (a multiple of BATCH)
ALT_CHUNK = 16  # augmented images (with all their K versions) per HDF5 chunk of alt_images
BATCH = 256  # augmented images whose K versions are generated at a time


@dataclass(frozen=True)
class PairedSplit:
    """A split of a paired dataset: the originals and the versions of the augmented ones."""

    base: StoredSplit
    alt_index: np.ndarray  # (N,) int64, -1 = paired with itself
    alt_images: np.ndarray  # (M, K, 28, 28, 3) uint8

    @property
    def copies(self) -> int:
        return int(self.alt_images.shape[1])

    def __len__(self) -> int:
        return len(self.base)

    def versions(self, pick: np.ndarray) -> np.ndarray:
        """x' for every image: version `pick[i]` of image i (its own copy when it has none)."""
        paired = self.base.images.copy()
        augmented = self.alt_index >= 0
        paired[augmented] = self.alt_images[self.alt_index[augmented], pick[augmented]]
        return paired


def marked_images(split: PairedSplit, bias: dict) -> int:
    """The biased images of `split` that have versions (augmented), under the `bias` config the file records."""
    digits = BiasSpec.of(bias).digits()
    return int(((split.alt_index >= 0) & np.isin(split.base.labels, digits)).sum())


def read_paired_split(path: Path, name: str) -> PairedSplit:
    """Read split `name` of a paired dataset file into memory."""
    base = read_split(path, name)
    with open_dataset(path) as handle:
        try:
            group = handle[name]
            for field in ("alt_index", "alt_images"):
                check_chunks(path, group[field])
            alt_index, alt_images = group["alt_index"][()].astype(np.int64), group["alt_images"][()]
        except READ_ERRORS as error:
            raise DatasetFileError(f"{path} split {name!r} is not a readable paired split: {error}") from error
    if len(alt_index) != len(base) or alt_index.max(initial=-1) >= len(alt_images):
        raise DatasetFileError(
            f"{path} split {name!r}: alt_index ({len(alt_index)} rows, max {alt_index.max(initial=-1)}) does not fit "
            f"{len(base)} images and {len(alt_images)} augmented rows; delete it and rerun"
        )
    return PairedSplit(base, alt_index, alt_images)


def read_alt_index(path: Path, name: str) -> np.ndarray:
    """`alt_index` of split `name` of a paired dataset file."""
    with open_dataset(path) as handle:
        if f"{name}/alt_index" not in handle:
            raise DatasetFileError(f"{path} split {name!r} is not a paired split (no alt_index)")
        return handle[name]["alt_index"][()].astype(np.int64)


def read_versions(path: Path, name: str, alt_rows: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` versions (images (R, count, 28, 28, 3) and modes (R, count)) of the rows `alt_rows` of
    `alt_images` in split `name`, read without loading the rest of the file."""
    unique, back = np.unique(alt_rows, return_inverse=True)
    with open_dataset(path) as handle:
        group = handle[name]
        images = group["alt_images"][unique, :count] if len(unique) else np.empty((0, count, 28, 28, 3), np.uint8)
        modes = group["alt_bg_mode"][unique, :count] if len(unique) else np.empty((0, count), MODE_DTYPE)
    return images[back], modes[back]


SELF = "self"  # unbiased_pairs: the unbiased digits are paired with an exact copy of themselves


@dataclass(frozen=True)
class PairSpec:
    """What a paired dataset augments: the mode, the share of the biased images (chosen by `selection`), K, and what
    the unbiased digits are paired with (`self`, or one background of a mode per image for all K versions)."""

    augment_mode: str
    augment_fraction: float
    copies: int
    selection: str
    unbiased_pairs: str

    def __post_init__(self) -> None:
        canonical_mode(self.augment_mode)  # the config and the command line are validated by the schema
        if self.unbiased_pairs != SELF:
            canonical_mode(self.unbiased_pairs)


@dataclass(frozen=True)
class VersionRows:
    """Rows of a split whose versions are stored: K fresh backgrounds of `mode` each, or with `one_draw` one
    background per image repeated for its K versions."""

    rows: np.ndarray
    mode: str
    one_draw: bool
    rng: np.random.Generator


RANKING_COLUMNS = ["split", "rank", "row", "source_index", "label", "score"]  # a selection's ranking CSV


def read_ranking(path: Path, split: str) -> np.ndarray:
    """The rows of the biased images of `split`, best first, from a ranking CSV."""
    table = read_table(path, RANKING_COLUMNS)
    return table.loc[table["split"] == split].sort_values("rank")["row"].to_numpy(np.int64)


def random_order(labels: np.ndarray, digits: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """The rows of the images of the biased `digits` in a seeded random order (selection `random`)."""
    return rng.permutation(np.flatnonzero(np.isin(labels, digits)))


def augmented_rows(order: np.ndarray, fraction: float) -> np.ndarray:
    """Sorted rows of the images to augment: the first round(`fraction` x count) of `order`."""
    return np.sort(order[: int(round(fraction * len(order)))])


def keep_foreground(versions: np.ndarray, images: np.ndarray, foreground: np.ndarray) -> np.ndarray:
    """`versions` (B, K, 28, 28, 3) with the `foreground` pixels (B, 28, 28) of `images` (B, 28, 28, 3) copied
    into all K versions, in place; returns `versions`. (The mask is widened to the channels once and
    broadcast over K, so numpy copies whole contiguous rows.)"""
    channels = np.repeat(foreground[..., None], versions.shape[-1], axis=-1)[:, None]
    np.copyto(versions, images[:, None], where=channels)
    return versions


def report_progress(split: str, done: int, total: int) -> None:
    """Log the versions written so far every PROGRESS_EVERY images and at the end."""
    if done == total or done % PROGRESS_EVERY == 0:
        log.info("%s: versions of %d/%d augmented images written", split, done, total)


def write_versions(
    group: h5py.Group,
    base: StoredSplit,
    masks: np.ndarray,
    parts: list[VersionRows],
    *,
    copies: int,
    colors: ColorSpec,
    threads: int,
) -> None:
    """Write `alt_images`, `alt_bg_color` and `alt_bg_mode` of the rows of `parts`, in order, BATCH images at a time."""
    total = sum(len(part.rows) for part in parts)
    alt_colors = np.empty((total, copies, 3), np.int16)
    alt_modes = np.empty((total, copies), MODE_DTYPE)
    donors = Donors(base.images, masks, base.bg_color, np.empty(0, np.int64))
    context = colors.context()
    done = 0
    with chunk_writer(group, "alt_images", (total, copies, 28, 28, 3), ALT_CHUNK, threads) as writer:
        for part in parts:
            draws = 1 if part.one_draw else copies
            for start in range(0, len(part.rows), BATCH):
                batch = part.rows[start : start + BATCH]
                mask = np.repeat(masks[batch], draws, axis=0)
                own = dataclasses.replace(donors, own=np.repeat(batch, draws))
                background = generate(part.mode, mask, part.rng, dataclasses.replace(context, donors=own))
                shape = (len(batch), draws, 28, 28)
                pixels = background.pixels.reshape(*shape, 3)
                if part.one_draw:
                    pixels = np.repeat(pixels, copies, axis=1)
                writer.append(keep_foreground(pixels, base.images[batch], ~masks[batch]))
                colours = background.colors.reshape(len(batch), draws, 3)
                alt_colors[done : done + len(batch)] = colours
                modes = part.mode.encode() if background.modes is None else background.modes.reshape(shape[:2])
                alt_modes[done : done + len(batch)] = modes
                done += len(batch)
                report_progress(group.name, done, total)
    group.create_dataset("alt_bg_color", data=alt_colors, **COMPRESSION)
    group.create_dataset("alt_bg_mode", data=alt_modes, **COMPRESSION)


def write_paired_split(
    handle: h5py.File,
    source: h5py.File,
    name: str,
    *,
    mnist_train: Split,
    digits: tuple[int, ...],
    spec: PairSpec,
    ranking: Path | None,
    colors: ColorSpec,
    seed: int,
    threads: int,
) -> None:
    """Copy split `name` of the biased file `source` into `handle` and add the versions of its augmented images.

    `mnist_train` is the official MNIST training split the images come from (their digit masks, by
    `source_index`); `ranking` orders the biased images (None: the seeded random order).
    """
    handle.copy(source[name], name)
    base = read_split(Path(source.filename), name)
    masks = background_mask(mnist_train.images[base.source_index])
    if ranking is None:
        order = random_order(base.labels, digits, rng_for(seed, "paired", name, "augmented"))
    else:
        order = read_ranking(ranking, name)
        if not np.array_equal(np.sort(order), np.flatnonzero(np.isin(base.labels, digits))):
            raise DatasetFileError(f"{ranking} does not rank the biased {name} images of {source.filename}")
    parts = [VersionRows(
        augmented_rows(order, spec.augment_fraction), spec.augment_mode, False,
        rng_for(seed, "paired", name, spec.augment_mode),
    )]
    if spec.unbiased_pairs != SELF:
        unbiased = np.flatnonzero(~np.isin(base.labels, digits))
        rng = rng_for(seed, "paired", name, "unbiased_pairs", spec.unbiased_pairs)
        parts.append(VersionRows(unbiased, spec.unbiased_pairs, True, rng))
    rows = np.concatenate([part.rows for part in parts])
    alt_index = np.full(len(base), -1, np.int64)
    alt_index[rows] = np.arange(len(rows))
    group = handle[name]
    group.create_dataset("alt_index", data=alt_index, **COMPRESSION)
    write_versions(group, base, masks, parts, copies=spec.copies, colors=colors, threads=threads)


def make_paired_dataset(
    path: Path,
    *,
    biased: Path,
    mnist_train: Split,
    spec: PairSpec,
    ranking: Path | None,
    colors: ColorSpec,
    seed: int,
    config_slice: dict,
    threads: int,
    inputs: list[Path],
) -> None:
    """The paired dataset of the biased dataset file `biased` (train and dev), written atomically to `path` (its
    checksum record names `inputs`).

    `mnist_train` is the official MNIST training split; the biased digits are those of the file's `bias` config;
    `ranking` is the ranking CSV of the spec's selection (None for `random`).
    """
    with open_dataset(biased) as source:
        source_config = json.loads(source.attrs["config"])
        if "bias" not in source_config:
            raise DatasetFileError(f"{biased} records no `bias` config: it is not a biased dataset file")
        bias = source_config["bias"]
        digits = BiasSpec.of(bias).digits()
        paired = recorded({
            "augment_mode": spec.augment_mode, "augment_fraction": spec.augment_fraction, "copies": spec.copies,
            "selection": spec.selection, "unbiased_pairs": spec.unbiased_pairs,
        }, "paired")
        with atomic_path(path, inputs) as partial:
            with create_file(partial) as handle:
                write_attributes(handle, {**config_slice, "bias": bias, "paired": paired}, seed)
                handle.attrs["copies"] = spec.copies
                handle.attrs["augment_mode"] = spec.augment_mode
                for name in PAIRED_SPLITS:
                    if name not in source:
                        raise DatasetFileError(f"{biased} has no split {name!r}; it holds {sorted(source)}")
                    write_paired_split(
                        handle, source, name, mnist_train=mnist_train, digits=digits, spec=spec, ranking=ranking,
                        colors=colors, seed=seed, threads=threads,
                    )


def build_paired(
    output: Path,
    *,
    biased: Path,
    raw_dir: Path,
    dataset_config: dict,
    mode: str,
    fraction: float,
    copies: int,
    selection: str,
    unbiased_pairs: str,
    ranking: Path | None,
    seed: int,
    threads: int = 1,
) -> None:
    """Stage: the paired dataset of a biased dataset: `copies` versions of `fraction` of the biased images, chosen
    by `selection` (its `ranking` CSV; None for `random`), on `mode`; the unbiased digits paired per
    `unbiased_pairs`."""
    make_paired_dataset(
        Path(output),
        biased=Path(biased),
        mnist_train=MnistSpec.of(Path(raw_dir), dataset_config["mnist"]).load("train"),
        spec=PairSpec(mode, fraction, copies, selection, unbiased_pairs),
        ranking=Path(ranking) if ranking else None,
        inputs=[Path(biased), *split_files(raw_dir, "train"), *([Path(ranking)] if ranking else [])],
        colors=ColorSpec.of(dataset_config),
        seed=seed,
        config_slice=dataset_config,
        threads=threads,
    )
    log.info("wrote %s", output)
