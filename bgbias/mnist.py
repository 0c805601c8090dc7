"""MNIST ingestion: fetch the four official files, verify them, read them as arrays."""

from __future__ import annotations

import gzip
import hashlib
import logging
import math
import shutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bgbias.config import filled
from bgbias.errors import UserError
from bgbias.seeding import rng_for
from bgbias.storage import atomic_path

log = logging.getLogger("bgbias")

MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FIX_HINT = (
    "delete it and rerun to fetch it again, or point `mnist.mirror` at a folder "
    "holding the four original MNIST .gz files"
)
MIRROR_HINT = (
    "this file is in the mirror folder (`mnist.mirror`): put the original MNIST file there, or point "
    "`mnist.mirror` at another folder holding the four original .gz files"
)


class MnistError(UserError, RuntimeError):
    """A missing or corrupt MNIST file."""


@dataclass(frozen=True)
class Split:
    """Grey digits of one split: images (N, 28, 28) uint8, labels (N,), source_index (N,)."""

    images: np.ndarray
    labels: np.ndarray
    source_index: np.ndarray

    def subset(self, index: np.ndarray) -> Split:
        return Split(self.images[index], self.labels[index], self.source_index[index])

    def __len__(self) -> int:
        return len(self.labels)


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_raw(raw_dir: Path, md5: dict[str, str] = MNIST_MD5, hint: str = FIX_HINT) -> None:
    """Raise MnistError naming the first missing or corrupt file in `raw_dir`, with `hint` on how to fix it."""
    for name, expected in md5.items():
        path = Path(raw_dir) / name
        if not path.is_file():
            raise MnistError(f"MNIST file missing: {path}; {hint}")
        actual = md5sum(path)
        if actual != expected:
            raise MnistError(f"MNIST file corrupt: {path} has MD5 {actual}, expected {expected}; {hint}")


def fetch_mnist(raw_dir: Path, mirror: Path | None = None, md5: dict[str, str] = MNIST_MD5) -> list[Path]:
    """Place the four MNIST .gz files in `raw_dir` (from `mirror`, else torchvision's download) and verify them."""
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    if mirror is not None:
        mirror = Path(mirror)
        if not mirror.is_dir():
            raise MnistError(
                f"config key mnist.mirror: {str(mirror)!r} is not a folder; allowed: a folder holding the four original "
                f"MNIST .gz files, or null to download them"
            )
        verify_raw(mirror, md5, MIRROR_HINT)
        for name in MNIST_MD5:
            with atomic_path(raw_dir / name) as partial:
                shutil.copyfile(mirror / name, partial)
    else:
        from torchvision.datasets import MNIST

        staging = raw_dir.parent / ".download"
        shutil.rmtree(staging, ignore_errors=True)
        MNIST(root=str(staging), download=True)
        for name in MNIST_MD5:
            with atomic_path(raw_dir / name) as partial:
                shutil.copyfile(staging / "MNIST" / "raw" / name, partial)
        shutil.rmtree(staging)
    verify_raw(raw_dir, md5)
    return [raw_dir / name for name in MNIST_MD5]


def read_idx(path: Path) -> np.ndarray:
    """Read a gzip-compressed IDX file (MNIST's format) into a uint8 array."""
    if not Path(path).is_file():
        raise MnistError(
            f"MNIST file missing: {path}; the workflow's `mnist` job places it, or `bgbias fetch-mnist --raw {Path(path).parent}`"
        )
    try:
        with gzip.open(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError, zlib.error) as error:
        raise MnistError(f"MNIST file corrupt: {path} is not a complete gzip file ({error}); {FIX_HINT}") from error
    magic = int.from_bytes(data[:4], "big")
    if magic not in (2049, 2051):
        raise MnistError(f"MNIST file corrupt: {path} is not an MNIST IDX file (magic number {magic}); {FIX_HINT}")
    ndim = magic & 0xFF
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    header = 4 + 4 * ndim
    if len(data) != header + math.prod(shape):
        raise MnistError(
            f"MNIST file corrupt: {path} holds {len(data) - header} bytes of data, "
            f"its header announces shape {shape} ({math.prod(shape)} bytes); {FIX_HINT}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def split_files(raw_dir: Path, split: str) -> list[Path]:
    """The two raw files (images, labels) of the official `split`."""
    return [Path(raw_dir) / name for name in SPLIT_FILES[split]]


def count_images(raw_dir: Path, split: str) -> int:
    """The number of images of the official `split` in `raw_dir`, from its labels file's header."""
    path = Path(raw_dir) / SPLIT_FILES[split][1]
    try:
        with gzip.open(path, "rb") as handle:
            return int.from_bytes(handle.read(8)[4:8], "big")
    except (OSError, EOFError, zlib.error) as error:
        raise MnistError(f"MNIST file corrupt: {path} is not a complete gzip file ({error}); {FIX_HINT}") from error


def size_problems(mnist_config: dict, raw_dir: Path) -> list[str]:
    """The `mnist` sizes that the files in `raw_dir` cannot give, one line each (nothing when they are absent)."""
    if not all((Path(raw_dir) / name).is_file() for files in SPLIT_FILES.values() for name in files):
        return []
    train, test = count_images(raw_dir, "train"), count_images(raw_dir, "test")
    train_size, dev_size, test_size = mnist_config["train_size"], mnist_config["dev_size"], mnist_config["test_size"]
    problems = []
    if train_size is not None and train_size > train:
        problems.append(f"config key mnist.train_size: {train_size} is not allowed: the training split of {raw_dir} "
                        f"holds {train} images; allowed: null or at most {train}")
    if dev_size >= min(train_size or train, train):
        problems.append(f"config key mnist.dev_size: {dev_size} is not allowed: the training split of {raw_dir} holds "
                        f"{min(train_size or train, train)} images; allowed: at most {min(train_size or train, train) - 1}")
    if mnist_config["split"] == "code":
        train_images = min(train_size or train, train)
        tail = test_size or train_images // CODE_TEST_SHARE
        if tail + dev_size >= train_images:
            problems.append(f"config key mnist.test_size: {tail} is not allowed with split code and dev_size {dev_size}: "
                            f"the training split holds {train_images} images; allowed: at most "
                            f"{train_images - dev_size - 1}")
    elif test_size is not None and test_size > test:
        problems.append(f"config key mnist.test_size: {test_size} is not allowed: the test split of {raw_dir} holds "
                        f"{test} images; allowed: null or at most {test}")
    return problems


def load_split(raw_dir: Path, split: str, limit: int | None = None, md5: dict[str, str] | None = None) -> Split:
    """The official `split` ('train' or 'test'), optionally only its first `limit` images (at most its count); its
    two files checked against the `md5` checksums first (the config's `mnist.md5`; None reads them unchecked)."""
    image_file, label_file = SPLIT_FILES[split]
    if md5 is not None:
        verify_raw(raw_dir, {name: md5[name] for name in SPLIT_FILES[split]})
    images = read_idx(Path(raw_dir) / image_file)
    labels = read_idx(Path(raw_dir) / label_file)
    if limit is not None and limit > len(labels):
        raise MnistError(
            f"config key mnist.{split}_size: {limit} is not allowed: the {split} split of {raw_dir} holds {len(labels)} "
            f"images; allowed: null or at most {len(labels)}"
        )
    images, labels = images[:limit], labels[:limit]
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise MnistError(
            f"MNIST files corrupt: {Path(raw_dir) / image_file} holds images of shape {images.shape}, "
            f"{Path(raw_dir) / label_file} {len(labels)} labels; {FIX_HINT}"
        )
    return Split(images, labels.astype(np.int64), np.arange(len(labels), dtype=np.int64))


def train_dev_split(train: Split, dev_size: int, seed: int) -> tuple[Split, Split]:
    """Split training images into train and dev, `dev_size` dev images chosen by `seed` (each kept in file order)."""
    if not 0 < dev_size < len(train):
        raise MnistError(
            f"config key mnist.dev_size: {dev_size} is not allowed: the training split holds {len(train)} images; "
            f"allowed: from 1 to {len(train) - 1}"
        )
    order = rng_for(seed, "train_dev_split").permutation(len(train))
    return train.subset(np.sort(order[dev_size:])), train.subset(np.sort(order[:dev_size]))


CODE_TEST_SHARE = 6  # split code: the last sixth of the training split is the test set (10,000 of 60,000), unless test_size


@dataclass(frozen=True)
class MnistSpec:
    """Where the raw MNIST files are and how the splits are cut (the config's `mnist` block)."""

    raw_dir: Path
    dev_size: int
    train_size: int | None
    test_size: int | None
    split: str
    md5: dict[str, str] | None = None  # the files' checksums, checked before every read (None: unchecked, in tests)

    @classmethod
    def of(cls, raw_dir: Path, mnist_config: dict) -> MnistSpec:
        """The spec of a validated `mnist` config block, reading from `raw_dir`."""
        block = filled(mnist_config, "mnist")
        return cls(
            Path(raw_dir), block["dev_size"], block["train_size"], block["test_size"], block["split"], block["md5"]
        )

    def load(self, split: str) -> Split:
        """The first `train_size` images of the official training split, or the official test split (`split`)."""
        return load_split(self.raw_dir, split, self.train_size if split == "train" else self.test_size, self.md5)

    @property
    def scheme(self) -> SplitScheme:
        return SPLITS[self.split]

    def train_dev(self, seed: int) -> tuple[Split, Split]:
        return self.scheme.train_dev(self, seed)

    def test(self) -> Split:
        return self.scheme.test(self)

    def test_files(self) -> list[Path]:
        """The raw files the test images come from."""
        return split_files(self.raw_dir, self.scheme.test_source)


@dataclass(frozen=True)
class SplitScheme:
    """How MNIST is cut into train, dev and test images, and which official split the test images come from."""

    train_dev: Callable[[MnistSpec, int], tuple[Split, Split]]
    test: Callable[[MnistSpec], Split]
    test_source: str


def code_test_count(spec: MnistSpec, train_images: int) -> int:
    """Split code: how many of the last training images are test images."""
    return spec.test_size or train_images // CODE_TEST_SHARE


def code_train_dev(spec: MnistSpec, seed: int) -> tuple[Split, Split]:
    """The original code's train and dev: the training split less its last test images, cut by `seed`."""
    train = spec.load("train")
    tail = code_test_count(spec, len(train))
    if tail >= len(train):
        raise MnistError(
            f"config key mnist.test_size: {tail} is not allowed with split code: the training split holds {len(train)} "
            "images; allowed: fewer, leaving the train and dev images"
        )
    head = np.arange(len(train) - tail)
    return train_dev_split(train.subset(head), spec.dev_size, seed)


def code_test(spec: MnistSpec) -> Split:
    """The original code's test images: the last ones of the training split."""
    train = spec.load("train")
    return train.subset(np.arange(max(len(train) - code_test_count(spec, len(train)), 0), len(train)))


SPLITS: dict[str, SplitScheme] = {
    "official": SplitScheme(
        lambda spec, seed: train_dev_split(spec.load("train"), spec.dev_size, seed),
        lambda spec: spec.load("test"),
        "test",
    ),
    "code": SplitScheme(code_train_dev, code_test, "train"),
}


def fetch(raw_dir: Path, mirror: str | None, md5: dict[str, str]) -> None:
    """Stage: place and verify the four MNIST files in `raw_dir`."""
    log.info("MNIST: %s", f"copying from mirror {mirror}" if mirror else "downloading with torchvision")
    for path in fetch_mnist(Path(raw_dir), Path(mirror) if mirror else None, md5):
        log.info("verified %s", path)
