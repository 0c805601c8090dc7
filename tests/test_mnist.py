"""MNIST ingestion: copying from a mirror, MD5 checks, IDX reading, the seeded train/dev split."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from bgbias.mnist import (
    MNIST_MD5, MnistError, fetch_mnist, load_split, read_idx, size_problems, train_dev_split, verify_raw,
)

TINY_MD5 = yaml.safe_load((Path(__file__).parent / "data" / "tiny.yaml").read_text())["mnist"]["md5"]


def test_fetch_from_mirror_copies_and_verifies(mini_mnist: Path, tmp_path: Path) -> None:
    paths = fetch_mnist(tmp_path / "raw", mirror=mini_mnist, md5=TINY_MD5)
    assert sorted(p.name for p in paths) == sorted(MNIST_MD5)
    for path in paths:
        assert path.read_bytes() == (mini_mnist / path.name).read_bytes()
    assert not list((tmp_path / "raw").glob(".*partial"))


def test_official_checksums_refuse_other_files(mini_mnist: Path, tmp_path: Path) -> None:
    with pytest.raises(MnistError, match=r"MNIST file corrupt: .*train-images-idx3-ubyte.gz has MD5 e6c4fae3"):
        fetch_mnist(tmp_path / "raw", mirror=mini_mnist)
    assert not (tmp_path / "raw" / "train-images-idx3-ubyte.gz").exists()


def test_missing_file_is_named_with_the_fix(mini_mnist: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(mini_mnist, mirror)
    (mirror / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(MnistError, match=r"MNIST file missing: .*t10k-labels-idx1-ubyte.gz; delete it and rerun"):
        verify_raw(mirror, TINY_MD5)


def test_altered_byte_is_detected(mini_mnist: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(mini_mnist, mirror)
    path = mirror / "train-labels-idx1-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(MnistError, match="train-labels-idx1-ubyte.gz has MD5"):
        verify_raw(mirror, TINY_MD5)


def test_read_idx_shapes_and_known_labels(mini_mnist: Path) -> None:
    train = load_split(mini_mnist, "train")
    test = load_split(mini_mnist, "test")
    assert train.images.shape == (600, 28, 28) and train.images.dtype == np.uint8
    assert test.images.shape == (300, 28, 28)
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.array_equal(train.source_index, np.arange(600))
    assert load_split(mini_mnist, "train", limit=50).images.shape == (50, 28, 28)


def test_read_idx_refuses_other_files(tmp_path: Path) -> None:
    path = tmp_path / "bogus.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"\x00\x00\x12\x34" + b"\x00" * 16)
    with pytest.raises(MnistError, match="is not an MNIST IDX file"):
        read_idx(path)


def test_train_dev_split_is_seeded_disjoint_and_complete(mini_mnist: Path) -> None:
    full = load_split(mini_mnist, "train")
    train, dev = train_dev_split(full, 100, seed=0)
    again_train, again_dev = train_dev_split(full, 100, seed=0)
    _, other_dev = train_dev_split(full, 100, seed=1)
    assert (len(train), len(dev)) == (500, 100)
    assert np.array_equal(dev.source_index, again_dev.source_index)
    assert not np.array_equal(dev.source_index, other_dev.source_index)
    assert sorted([*train.source_index, *dev.source_index]) == list(range(600))
    assert np.array_equal(dev.images, full.images[dev.source_index])
    assert np.array_equal(dev.labels, full.labels[dev.source_index])


def test_sizes_must_fit_the_files(mini_mnist: Path) -> None:
    message = "config key mnist.dev_size: 600 is not allowed: the training split holds 600 images; allowed: from 1 to 599"
    with pytest.raises(MnistError, match=message):
        train_dev_split(load_split(mini_mnist, "train"), 600, seed=0)
    with pytest.raises(MnistError, match=r"config key mnist.test_size: 301 is not allowed: the test split of .* holds 300"):
        load_split(mini_mnist, "test", 301)
    problems = size_problems({"train_size": None, "dev_size": 600, "test_size": 500, "split": "official"}, mini_mnist)
    assert problems == [
        f"config key mnist.dev_size: 600 is not allowed: the training split of {mini_mnist} holds 600 images; "
        "allowed: at most 599",
        f"config key mnist.test_size: 500 is not allowed: the test split of {mini_mnist} holds 300 images; "
        "allowed: null or at most 300",
    ]
    assert size_problems({"train_size": None, "dev_size": 100, "test_size": None, "split": "official"}, mini_mnist) == []
    assert size_problems({"train_size": None, "dev_size": 100, "test_size": 500, "split": "code"}, mini_mnist) == [
        f"config key mnist.test_size: 500 is not allowed with split code and dev_size 100: the training split holds "
        "600 images; allowed: at most 499"
    ]


@pytest.mark.real_mnist
@pytest.mark.skipif(not os.environ.get("BGBIAS_MNIST_RAW"), reason="set BGBIAS_MNIST_RAW to the real MNIST raw folder")
def test_real_mnist_ingestion(tmp_path: Path) -> None:
    paths = fetch_mnist(tmp_path / "raw", mirror=Path(os.environ["BGBIAS_MNIST_RAW"]))
    assert len(paths) == 4
    train, test = load_split(tmp_path / "raw", "train"), load_split(tmp_path / "raw", "test")
    assert (len(train), len(test)) == (60000, 10000)
    assert np.bincount(train.labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert abs(train.images.mean() - 33.318) < 0.01


def test_every_reader_checks_the_configured_md5s_again(tmp_path: Path, mini_mnist: Path) -> None:
    """Labels edited after the mnist rule, whatever record sits beside them, are refused by the jobs that read them."""
    from bgbias.colour.datasets import build_biased
    from bgbias.config import dataset_slice
    from conftest import MINI

    raw = tmp_path / "raw"
    shutil.copytree(mini_mnist, raw)
    labels = raw / "train-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(labels.read_bytes()))
    content[8] = (content[8] + 1) % 10  # the first image's label
    labels.write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(MnistError, match=r"MNIST file corrupt: .*train-labels-idx1-ubyte.gz has MD5 [0-9a-f]{32}, expected "
                                         r"78747101fdb79cc261cb376808749a34"):
        build_biased(tmp_path / "b.h5", raw_dir=raw, dataset_config=dataset_slice(MINI), bias_config=MINI["bias"], seed=0)
    assert not (tmp_path / "b.h5").exists()
