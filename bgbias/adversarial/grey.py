"""Standard grey MNIST as an HDF5 dataset: what the grey LeNet of the adversarial experiments learns. Stage:
`build_grey`.

The file follows the HDF5 contract of the coloured datasets as far as it applies to grey
images: groups `train` and `dev` (the official training split, cut by the same seeded
`train_dev_split` as the coloured data) and `test` (the official test split), each with
`images` (N, 28, 28) uint8 (one channel, so no colour axis), `labels` (N,) int64,
`source_index` (N,) int64 (index in the official split), `bg_color` (N, 3) int16 =
(0, 0, 0) (MNIST's background is black) and `bg_mode` (N,) = b"grey". The file attributes
hold the config slice, the seed and the bgbias version.
"""

from __future__ import annotations

import logging
from pathlib import Path

import h5py
import numpy as np

from bgbias.attacks import Attack
from bgbias.mnist import MnistSpec, Split, split_files
from bgbias.storage import (
    COMPRESSION,
    IMAGE_CHUNK,
    MODE_DTYPE,
    DatasetFileError,
    StoredSplit,
    atomic_path,
    create_file,
    open_dataset,
    read_fields,
    write_attributes,
)

log = logging.getLogger("bgbias")

GREY_MODE = "grey"


def grey_split(split: Split) -> StoredSplit:
    """The grey digits of `split` with the contract's background fields (black, mode `grey`)."""
    count = len(split)
    return StoredSplit(
        split.images,
        split.labels,
        split.source_index,
        np.zeros((count, 3), np.int16),
        np.full(count, GREY_MODE.encode(), dtype=MODE_DTYPE),
    )


def write_group(handle: h5py.File, name: str, fields: dict[str, np.ndarray]) -> None:
    """Group `name` with one compressed dataset per field, chunked `IMAGE_CHUNK` rows at a time."""
    group = handle.create_group(name)
    for field, values in fields.items():
        chunks = (min(max(len(values), 1), IMAGE_CHUNK), *values.shape[1:])
        group.create_dataset(field, data=values, chunks=chunks, **COMPRESSION)


def split_fields(split: StoredSplit) -> dict[str, np.ndarray]:
    """The contract's five fields of `split`, by name."""
    return {
        "images": split.images,
        "labels": split.labels,
        "source_index": split.source_index,
        "bg_color": split.bg_color,
        "bg_mode": split.bg_mode,
    }


def make_grey_dataset(path: Path, *, mnist: MnistSpec, seed: int, config_slice: dict) -> None:
    """Grey MNIST with `train`, `dev` (seeded split of the official training images) and `test` groups."""
    train, dev = mnist.train_dev(seed)
    with atomic_path(Path(path), list(dict.fromkeys([*split_files(mnist.raw_dir, "train"), *mnist.test_files()]))) as partial:
        with create_file(partial) as handle:
            write_attributes(handle, config_slice, seed)
            for name, split in (("train", train), ("dev", dev), ("test", mnist.test())):
                write_group(handle, name, split_fields(grey_split(split)))


def read_grey_split(path: Path, name: str) -> StoredSplit:
    """Split `name` of a grey dataset or an adversarial set: the five layout fields, with `images`
    (N, 28, 28) uint8 (grey) or float32 in [0, 1] (adversarial) checked."""
    path = Path(path)
    split = read_fields(path, name)
    count = len(split.labels)
    if split.images.shape != (count, 28, 28) or split.images.dtype not in (np.uint8, np.float32):
        raise DatasetFileError(
            f"{path} split {name!r} field 'images' has shape {split.images.shape} and type {split.images.dtype}, "
            f"expected shape {(count, 28, 28)} of uint8 or float32 (a grey dataset or an adversarial set)"
        )
    return split


def build_grey(output: Path, *, raw_dir: Path, dataset_config: dict, seed: int) -> None:
    """Stage: grey MNIST (train/dev split as for the coloured data, official test split)."""
    make_grey_dataset(
        Path(output), mnist=MnistSpec.of(raw_dir, dataset_config["mnist"]), seed=seed, config_slice=dataset_config
    )
    log.info("wrote %s", output)


def set_attack(path: Path) -> Attack:
    """The attack that made the adversarial set `path` (from its file attributes)."""
    with open_dataset(Path(path)) as handle:
        if "attack" not in handle.attrs:
            raise DatasetFileError(f"wrong kind of file: expected an adversarial set, got {path} (no 'attack' attribute)")
        return Attack.of(str(handle.attrs["attack"]), float(handle.attrs["strength"]))
