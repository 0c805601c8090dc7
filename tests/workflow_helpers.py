"""Helpers for tests that run, kill and compare real Snakemake runs of the tiny workflow."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from collections.abc import Callable

import h5py
import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from bgbias.config import deep_merge
from conftest import REPO, copy_workflow, run_snakemake

TINY = Path("tests/data/tiny.yaml")
# three epochs without early stopping: long enough to kill the run in the middle of training
TRAINING = {"train": {"epochs": 3, "patience": 3}}
METRICS = "results/initial/s0/eval/base/pool.json"


def prepare(workdir: Path, override: dict | None = None) -> Path:
    """Complete an isolated workflow copy (environment.yml) and merge `override` into its tiny config."""
    shutil.copy2(REPO / "environment.yml", workdir / "environment.yml")
    config = yaml.safe_load((workdir / TINY).read_text())
    (workdir / TINY).write_text(yaml.safe_dump(deep_merge(config, override or {})))
    return workdir


def reference_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uninterrupted run of the tiny workflow (TRAINING) up to the metrics, shared by a test session."""
    workdir = tmp_path_factory.getbasetemp() / "reference-run"
    if not (workdir / METRICS).is_file():
        shutil.rmtree(workdir, ignore_errors=True)
        prepare(copy_workflow(workdir), TRAINING)
        run_snakemake(workdir, "--cores", "2", METRICS)
    return workdir


def start_snakemake(workdir: Path, *args: str) -> subprocess.Popen:
    """Snakemake on the tiny config in its own process group (so that the test can kill all of it)."""
    command = [sys.executable, "-m", "snakemake", *args, "--configfile", str(workdir / TINY)]
    return subprocess.Popen(
        command, cwd=workdir, env={**os.environ, "PYTHONPATH": str(workdir)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL Snakemake and every job it started, as a power cut or `kill -9` of the group would."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def wait_until(condition: Callable[[], bool], process: subprocess.Popen, what: str, timeout: float = 300) -> None:
    """Poll `condition` every 5 ms; fail if the run ends or `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the run ended before {what}:\n{process.stdout.read()[-4000:]}")
        if time.monotonic() > deadline:
            kill_group(process)
            raise AssertionError(f"no {what} within {timeout} s")
        time.sleep(0.005)


def partials(workdir: Path) -> list[Path]:
    """Temporary files of unfinished writes under results/."""
    return sorted((workdir / "results").rglob(".*.partial"))


def h5_content(path: Path) -> dict:
    """Every array and attribute of an HDF5 file, by name."""
    content: dict = {}
    with h5py.File(path, "r") as handle:
        content.update({f"@{key}": value for key, value in handle.attrs.items()})
        handle.visititems(
            lambda name, item: content.update({name: item[()]}) if isinstance(item, h5py.Dataset) else None
        )
    return content


def assert_same_h5(first: Path, second: Path) -> None:
    a, b = h5_content(first), h5_content(second)
    assert sorted(a) == sorted(b), (first, second)
    for name in a:
        assert np.array_equal(a[name], b[name]), f"{name} differs between {first} and {second}"


def assert_same_values(a, b, where: str) -> None:
    """Nested metadata equal, tensors (the snapshots of a trajectory) compared with torch.equal."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            assert_same_values(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for index, (x, y) in enumerate(zip(a, b)):
            assert_same_values(x, y, f"{where}[{index}]")
    else:
        assert a == b, where


def assert_same_results(first: Path, second: Path, patterns: tuple[str, ...]) -> list[str]:
    """Compare two workdirs' outputs: HDF5 arrays byte for byte, metrics JSON, model weights, training logs.

    Returns the compared paths (relative to results/).
    """
    compared = []
    for pattern in patterns:
        files = sorted(p.relative_to(first) for p in (first / "results").glob(pattern))
        assert files, f"no {pattern} in {first}"
        assert files == sorted(p.relative_to(second) for p in (second / "results").glob(pattern))
        for name in files:
            a, b = first / name, second / name
            if name.suffix == ".h5":
                assert_same_h5(a, b)
            elif name.suffix == ".json":
                assert json.loads(a.read_text()) == json.loads(b.read_text()), name
            elif name.suffix == ".pt":
                state_a = torch.load(a, weights_only=True)
                state_b = torch.load(b, weights_only=True)
                assert state_a.keys() == state_b.keys()
                for key in state_a["state_dict"]:
                    assert torch.equal(state_a["state_dict"][key], state_b["state_dict"][key]), (name, key)
                assert_same_values(
                    {k: v for k, v in state_a.items() if k != "state_dict"},
                    {k: v for k, v in state_b.items() if k != "state_dict"},
                    str(name),
                )
            elif name.suffix == ".csv":
                pd.testing.assert_frame_equal(pd.read_csv(a), pd.read_csv(b))
            compared.append(str(name))
    return compared
