"""Paired (augmented) datasets: K alternative versions of each training image.

Layout of a paired HDF5 file, per split group (`train`, `dev`), beside the standard
fields of the biased images (`images`, `labels`, `source_index`, `bg_color`, `bg_mode`):

- `alt_index` (N,) int64: row of the image's versions in `alt_images`, or -1 when the
  image is paired with an exact copy of itself (unbiased digits, and biased digits
  left out by `augment_fraction`); identical copies are never stored.
- `alt_images` (M, K, 28, 28, 3) uint8: the K versions of the M augmented images,
  chunked one image's K versions at a time.
- `alt_bg_color` (M, K, 3) int16 and `alt_bg_mode` (M, K) bytes: their backgrounds.

The file attribute `copies` holds K.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bgbias.storage import DatasetFileError, ColoredSplit, open_dataset, read_split


@dataclass(frozen=True)
class PairedSplit:
    """A split of a paired dataset: the originals and the versions of the augmented ones."""

    base: ColoredSplit
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


def read_paired_split(path: Path, name: str) -> PairedSplit:
    """Read split `name` of a paired dataset file into memory."""
    base = read_split(path, name)
    with open_dataset(path) as handle:
        group = handle[name]
        try:
            return PairedSplit(base, group["alt_index"][()].astype(np.int64), group["alt_images"][()])
        except (OSError, KeyError) as error:
            raise DatasetFileError(f"{path} split {name!r} is not a paired split: {error}") from error
