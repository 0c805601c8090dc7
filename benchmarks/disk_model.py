"""Measure the bytes per image that `bgbias.plan` uses to estimate disk needs.

For each background mode of the registry: the compressed bytes per image of a coloured dataset
(stored as `bgbias.storage.write_split` stores a split, with the per-image fields) and per
alternative version of a paired dataset (one image's K versions per chunk). Also float32 grey
adversarial images (FGSM: x + eps * sign, CW: small dense perturbations, both emulated).

    PYTHONPATH=$PWD python benchmarks/disk_model.py --raw ../shared/data/mnist/raw --images 10000
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from bgbias.colour.backgrounds import ALIASES, MODES
from bgbias.colour.datasets import ColorSpec, colored_split
from bgbias.config import dataset_slice, validate_config
from bgbias.mnist import load_split
from bgbias.storage import COMPRESSION, create_file, write_split

K = 10
COLORS = ColorSpec.of(dataset_slice(validate_config({})))
MEASURED = ["pool", "random_pure", "strips", "noise", "noise_weak", "noise_minor", "gaussian", "salt_pepper",
            "crossover", "mixture", "solid:1"]


def file_bytes(write) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.h5"
        with create_file(path) as handle:
            write(handle)
        return os.path.getsize(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", type=Path, default=Path("../shared/data/mnist/raw"), help="folder with the MNIST .gz files")
    parser.add_argument("--images", type=int, default=10000, help="training images measured")
    args = parser.parse_args()
    images = args.images
    train = load_split(args.raw, "train", images)
    rng = np.random.default_rng(0)
    print(f"{'mode':<12} {'coloured B/image':>17} {'paired B/version':>17}")
    for mode in MEASURED:
        split = colored_split(train, mode, rng, COLORS)
        coloured = file_bytes(lambda handle, split=split: write_split(handle, "train", split)) / images
        count = images // K
        subset = train.subset(np.arange(count))
        versions = np.stack([colored_split(subset, mode, rng, COLORS).images for _ in range(K)], 1)
        paired = file_bytes(
            lambda handle, versions=versions: handle.create_dataset("alt", data=versions, chunks=(1, K, 28, 28, 3), **COMPRESSION)
        ) / (count * K)
        print(f"{mode:<12} {coloured:>17.0f} {paired:>17.0f}")
    grey = train.images.astype(np.float32) / 255
    for name, attacked in (
        ("fgsm 0.3", np.clip(grey + 0.3 * np.sign(rng.standard_normal(grey.shape)), 0, 1)),
        ("cw", np.clip(grey + rng.normal(0, 0.02, grey.shape), 0, 1)),
    ):
        stored = file_bytes(
            lambda handle, attacked=attacked: handle.create_dataset(
                "images", data=attacked.astype(np.float32), chunks=(1024, 28, 28), **COMPRESSION
            )
        )
        print(f"{'adv ' + name:<12} {stored / images:>17.0f}")
    print(f"registry modes: {sorted(MODES)}, aliases {sorted(ALIASES)}")


if __name__ == "__main__":
    main()
