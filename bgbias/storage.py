"""HDF5 dataset files: atomic writing and validated reading (the layout is in README.md)."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import h5py
import numpy as np

from bgbias import __version__

SPLITS = ("train", "dev", "test")
SPLIT_FIELDS = ("images", "labels", "source_index", "bg_color", "bg_mode")
COMPRESSION = {"compression": "gzip", "compression_opts": 1, "shuffle": True}


class DatasetFileError(RuntimeError):
    """An unreadable, truncated or malformed dataset file."""


@dataclass(frozen=True)
class ColoredSplit:
    """One split of a coloured dataset, as stored in HDF5."""

    images: np.ndarray  # (N, 28, 28, 3) uint8
    labels: np.ndarray  # (N,) int64
    source_index: np.ndarray  # (N,) int64
    bg_color: np.ndarray  # (N, 3) int16, -1 where the background is not one colour
    bg_mode: np.ndarray  # (N,) bytes, the mode that made each background

    def __len__(self) -> int:
        return len(self.labels)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of `path`; rename it to `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_attributes(handle: h5py.File, config_slice: dict, seed: int) -> None:
    handle.attrs["config"] = json.dumps(config_slice, sort_keys=True)
    handle.attrs["seed"] = seed
    handle.attrs["bgbias_version"] = __version__


def write_split(handle: h5py.File, name: str, split: ColoredSplit) -> None:
    """Write `split` as group `name` with chunked, compressed datasets."""
    group = handle.create_group(name)
    count = len(split)
    group.create_dataset(
        "images", data=split.images, chunks=(min(max(count, 1), 1024), 28, 28, 3), **COMPRESSION
    )
    for field in SPLIT_FIELDS[1:]:
        group.create_dataset(field, data=getattr(split, field), **COMPRESSION)


def open_dataset(path: Path) -> h5py.File:
    """Open a dataset file read-only, with an error naming the file when it is not valid HDF5."""
    try:
        return h5py.File(path, "r")
    except (OSError, KeyError) as error:
        raise DatasetFileError(
            f"cannot read dataset file {path}: {error}; it is truncated or not HDF5, delete it and rerun"
        ) from error


def read_split(path: Path, name: str) -> ColoredSplit:
    """Read split `name` of the dataset file `path` into memory."""
    with open_dataset(path) as handle:
        if name not in handle:
            raise DatasetFileError(f"{path} has no split {name!r}; it holds {sorted(handle)}")
        group = handle[name]
        try:
            return ColoredSplit(*(group[field][()] for field in SPLIT_FIELDS))
        except (OSError, KeyError) as error:
            raise DatasetFileError(f"cannot read split {name!r} of {path}: {error}") from error


def read_attributes(path: Path) -> dict:
    """The config slice, seed and version recorded in a dataset file."""
    with open_dataset(path) as handle:
        return {
            "config": json.loads(handle.attrs["config"]),
            "seed": int(handle.attrs["seed"]),
            "bgbias_version": str(handle.attrs["bgbias_version"]),
        }
