"""Shared fixtures: the mini MNIST (real images), the tiny workflow config, a workflow runner."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from bgbias.colour.datasets import BiasSpec, ColorSpec
from bgbias.config import dataset_slice, validate_config
from bgbias.mnist import MnistSpec
from bgbias.training import TrainSpec

REPO = Path(__file__).resolve().parents[1]
MINI_MNIST = REPO / "tests" / "data" / "mnist-mini"
TINY_CONFIG = REPO / "tests" / "data" / "tiny.yaml"
WORKFLOW_FILES = (
    "Snakefile", "config.yaml", "environment.yml", "pyproject.toml", "report", "rules", "schemas", "workflow_scripts",
    "profiles", "bgbias", "experiments", "tests/data",
)


DEFAULTS = validate_config({})  # every setting at the schema's default
# the defaults for data made from tests/data/mnist-mini: its files' checksums, 100 dev images
MINI = validate_config({"mnist": {"dev_size": 100, "md5": yaml.safe_load(TINY_CONFIG.read_text())["mnist"]["md5"]}})
POOL = np.asarray(DEFAULTS["color_pool"], np.uint8)  # the default colour pool


def colour_spec(**options) -> ColorSpec:
    """The default colours, with mode `options` changed."""
    return ColorSpec.of({**dataset_slice(DEFAULTS), "modes": {**DEFAULTS["modes"], **options}})


def bias_spec(**changes) -> BiasSpec:
    """The default bias, with `changes`."""
    return BiasSpec.of({**DEFAULTS["bias"], **changes})


def train_spec(**changes) -> TrainSpec:
    """The default base-model training settings, with `changes`."""
    return TrainSpec.of({**DEFAULTS["train"], **changes})


def paired_spec(train: dict | None = None, **changes):
    """The default paired-training settings, with `changes` (and `train` changes)."""
    from bgbias.colour.paired_training import PairedSpec

    paired = DEFAULTS["paired"]
    return PairedSpec.of({**paired, **changes, "train": {**paired["train"], **(train or {})}})


@pytest.fixture(scope="session")
def mini_mnist() -> Path:
    """Folder with the first 600 train / 300 test real MNIST images in MNIST's .gz format."""
    return MINI_MNIST


@pytest.fixture(scope="session")
def mnist_spec() -> MnistSpec:
    return MnistSpec(MINI_MNIST, dev_size=100, train_size=None, test_size=None, split="official")


@pytest.fixture(scope="session")
def tiny_config() -> dict:
    return yaml.safe_load(TINY_CONFIG.read_text())


def copy_workflow(destination: Path) -> Path:
    """A copy of the workflow (not of results/) in `destination`, so a test run is isolated."""
    for name in WORKFLOW_FILES:
        source = REPO / name
        target = destination / name
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def run_snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run snakemake in `workdir` on the tiny config; returns the finished process."""
    env = {**os.environ, "PYTHONPATH": str(workdir)}
    command = [sys.executable, "-m", "snakemake", *args, "--configfile", str(workdir / "tests/data/tiny.yaml")]
    process = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    if check and process.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{process.stdout[-4000:]}\n{process.stderr[-6000:]}")
    return process


@pytest.fixture
def workflow_dir(tmp_path: Path) -> Path:
    """An isolated copy of the workflow to run Snakemake in."""
    return copy_workflow(tmp_path / "workflow")


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny config's results/all run to completion once per test session, shared by every test that reads a
    finished run (tests that change it work on `clone_run` copies)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("finished") / "workflow")
    (workdir.parent / AS_COPIED).write_text(json.dumps(file_digests(workdir)))
    run_snakemake(workdir, "results/all", "--cores", "2")
    return workdir


AS_COPIED = "workflow-as-copied.json"  # beside a finished run: the digest of each file of the copied workflow


def file_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below `folder`, by its relative path."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*")) if path.is_file()
    }


def clone_run(run: Path, destination: Path) -> Path:
    """A copy of a finished workflow folder, modification times kept (as `cp -a` or a moved checkout keeps them)."""
    shutil.copytree(run, destination, symlinks=True)
    return destination
