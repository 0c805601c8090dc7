"""Measure the bytes per image that `bgbias.plan` uses to estimate disk needs.

For each background mode: the compressed bytes per image of a coloured dataset (images in
chunks of 1024, as `bgbias.storage.write_split` stores them, plus the per-image fields) and
per alternative version of a paired dataset (one image's K versions per chunk). Modes not yet
in the registry are emulated from their definition in DESIGN.md (marked `emulated`).
Also float32 grey adversarial images (FGSM: x + eps * sign, CW: small dense perturbations).

    PYTHONPATH=$PWD python benchmarks/disk_model.py [MNIST_RAW_DIR] [IMAGES]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from bgbias.backgrounds import ALIASES, MODES, ModeContext, generate
from bgbias.datasets import colored_split, ColorSpec
from bgbias.mnist import load_split
from bgbias.storage import COMPRESSION, create_file, write_split

RAW = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/mnist/raw")
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
K = 10
POOL = ColorSpec().pool


def flat(rng: np.random.Generator, count: int, high: int = 225) -> np.ndarray:
    return np.broadcast_to(rng.integers(0, high, (count, 1, 1, 3), dtype=np.uint8), (count, 28, 28, 3))


def emulated(mode: str, rng: np.random.Generator, count: int) -> np.ndarray:
    """Background layers (count, 28, 28, 3) following DESIGN.md's definition of `mode`."""
    if mode in ("pool", "crossover") or mode.startswith("solid"):
        return np.broadcast_to(POOL[rng.integers(0, 10, count)][:, None, None], (count, 28, 28, 3))
    if mode == "random_pure":
        return flat(rng, count)
    if mode == "strips":
        rows = (np.arange(28) % 5 < 2)[None, :, None, None]
        return np.where(rows, flat(rng, count), flat(rng, count))
    if mode == "noise":
        return rng.integers(0, 256, (count, 28, 28, 3), dtype=np.uint8)
    if mode in ("noise_weak", "noise_minor"):
        half = 32 if mode == "noise_weak" else 10
        return rng.integers(128 - half, 129 + half, (count, 28, 28, 3)).astype(np.uint8)
    if mode == "gaussian":
        return np.clip(np.rint(rng.normal(128, 64, (count, 28, 28, 3))), 0, 255).astype(np.uint8)
    if mode == "salt_pepper":
        base = flat(rng, count).copy()
        blocks = rng.random((count, 14, 14)) < 0.1
        values = np.where(rng.random((count, 14, 14)) < 0.5, 0, 255).astype(np.uint8)
        mask = np.repeat(np.repeat(blocks, 2, 1), 2, 2)[..., None]
        return np.where(mask, np.repeat(np.repeat(values, 2, 1), 2, 2)[..., None], base)
    if mode == "mixture":
        parts = [emulated(name, rng, count) for name in ("pool", "random_pure", "strips", "noise")]
        return np.choose(rng.integers(0, 4, count)[:, None, None, None], parts)
    raise ValueError(mode)


def images(mode: str, digits: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    if mode in MODES or mode.startswith("solid:"):
        background = generate(mode, digits == 0, rng, ModeContext()).pixels
        source = "registry"
    else:
        background = emulated(mode, rng, len(digits))
        source = "emulated"
    return np.where((digits > 0)[..., None], np.uint8(255), background), source


def file_bytes(write) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.h5"
        with create_file(path) as handle:
            write(handle)
        return os.path.getsize(path)


def main() -> None:
    train = load_split(RAW, "train", COUNT)
    rng = np.random.default_rng(0)
    modes = ["pool", "random_pure", "strips", "noise", "noise_weak", "noise_minor", "gaussian", "salt_pepper",
             "crossover", "mixture", "solid:1"]
    print(f"{'mode':<12} {'source':<9} {'coloured B/image':>17} {'paired B/version':>17}")
    for mode in modes:
        pixels, source = images(mode, train.images, rng)
        split = colored_split(train, "pool", rng, ColorSpec())
        split = type(split)(pixels, split.labels, split.source_index, split.bg_color, split.bg_mode)
        coloured = file_bytes(lambda handle: write_split(handle, "train", split)) / COUNT
        count = COUNT // K
        versions = np.stack([images(mode, train.images[:count], rng)[0] for _ in range(K)], 1)
        paired = file_bytes(
            lambda handle: handle.create_dataset("alt", data=versions, chunks=(1, K, 28, 28, 3), **COMPRESSION)
        ) / (count * K)
        print(f"{mode:<12} {source:<9} {coloured:>17.0f} {paired:>17.0f}")
    grey = train.images.astype(np.float32) / 255
    for name, attacked in (
        ("fgsm 0.3", np.clip(grey + 0.3 * np.sign(rng.standard_normal(grey.shape)), 0, 1)),
        ("cw", np.clip(grey + rng.normal(0, 0.02, grey.shape), 0, 1)),
    ):
        stored = file_bytes(
            lambda handle: handle.create_dataset(
                "images", data=attacked.astype(np.float32), chunks=(1024, 28, 28), **COMPRESSION
            )
        )
        print(f"{'adv ' + name:<12} {'emulated':<9} {stored / COUNT:>17.0f}")
    print(f"registry modes: {sorted(MODES)}, aliases {sorted(ALIASES)}")


if __name__ == "__main__":
    main()
