"""Several jobs read one dataset file at once: read-only opens, no HDF5 file locks."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bgbias.colour.datasets import make_test_dataset
from bgbias.storage import open_dataset, read_split
from conftest import colour_spec

TIMEOUT = 60


@pytest.fixture
def dataset(tmp_path: Path, mnist_spec) -> Path:
    path = tmp_path / "test.h5"
    make_test_dataset(
        path, mnist=mnist_spec, mode="pool", colors=colour_spec(), seed=0, config_slice={"mode": "pool"}, threads=1
    )
    return path


def digest(path: str) -> str:
    split = read_split(Path(path), "test")
    return hashlib.sha256(split.images.tobytes() + split.labels.tobytes()).hexdigest()


def read_after(path: str, barrier, results) -> None:
    """Wait until every process is ready, then read the whole split."""
    barrier.wait(TIMEOUT)
    results.put(digest(path))


def hold_open(path: str, barrier, done) -> None:
    """Keep the file open (as a long evaluation job would) while the others read."""
    with open_dataset(Path(path)):
        barrier.wait(TIMEOUT)
        done.wait(TIMEOUT)


def test_two_processes_read_while_a_third_holds_the_file(dataset: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier, done, results = context.Barrier(3), context.Event(), context.Queue()
    holder = context.Process(target=hold_open, args=(str(dataset), barrier, done))
    readers = [context.Process(target=read_after, args=(str(dataset), barrier, results)) for _ in range(2)]
    for process in (holder, *readers):
        process.start()
    digests = [results.get(timeout=TIMEOUT) for _ in readers]
    done.set()
    for process in (holder, *readers):
        process.join(TIMEOUT)
        assert process.exitcode == 0
    assert digests == [digest(str(dataset))] * 2


def test_readers_open_read_only_without_lock(dataset: Path) -> None:
    """A read-only file opens; while a reader has it open, another process can take HDF5's exclusive lock.

    With HDF5's default locking the reader would hold a shared lock and that process would fail
    ("unable to lock file"); on file systems without lock support every open would fail.
    """
    os.chmod(dataset, 0o444)
    with open_dataset(dataset) as handle:
        assert handle.mode == "r"
        assert len(read_split(dataset, "test")) == 300
        os.chmod(dataset, 0o644)
        locker = subprocess.run(
            [sys.executable, "-c", "import h5py, sys; h5py.File(sys.argv[1], 'r+', locking=True).close()", dataset],
            capture_output=True, text=True, timeout=TIMEOUT,
        )
        assert locker.returncode == 0, locker.stderr
