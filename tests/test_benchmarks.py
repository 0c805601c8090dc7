"""The benchmark scripts stay runnable: each imports against today's package, and grid.py reads a finished run."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("script", sorted(path.name for path in BENCHMARKS.glob("*.py")))
def test_benchmark_imports(script: str) -> None:
    """A module moved or renamed in bgbias breaks the script's import here, not in front of a user."""
    spec = importlib.util.spec_from_file_location(f"benchmark_{script[:-3]}", BENCHMARKS / script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    assert callable(module.main)


def test_grid_report_of_finished_run(finished_run: Path) -> None:
    """grid.py names every finished job of the run's log, and its figures hang together."""
    # the run's own log is the first: tests that dry-run the finished run add later ones
    log = min((finished_run / ".snakemake/log").glob("*.snakemake.log"), key=lambda p: p.stat().st_mtime)
    finished = len(re.findall(r"^Finished jobid: \d+", log.read_text(), re.MULTILINE))
    report = subprocess.run(
        [sys.executable, str(BENCHMARKS / "grid.py"), "--log", str(log)], cwd=finished_run, capture_output=True,
        text=True, check=True,
    ).stdout
    assert re.search(rf"\({finished} jobs, 2 cores\)", report), report
    exact, total = map(int, re.search(r"exact from the job's log for (\d+) of (\d+) jobs", report).groups())
    assert total == finished and exact >= finished // 2, report  # every job with a bgbias adapter logs its CPU
    wall = float(re.search(r"wall time: ([\d.]+) min", report).group(1))
    critical = float(re.search(r"critical path: ([\d.]+) min over \d+ jobs: (.*)", report).group(1))
    chain = re.search(r"critical path: [\d.]+ min over \d+ jobs: (.*)", report).group(1).split(" -> ")
    packing = float(re.search(r"packing efficiency \(CPU / \(cores x wall\)\): ([\d.]+)", report).group(1))
    longest = [float(seconds) for seconds in re.findall(r"^\s+([\d.]+) s  \w+", report, re.MULTILINE)]
    assert chain[0] == "mnist" and len(chain) >= 4, chain  # every chain starts at the MNIST files
    assert len(longest) == 5 and longest == sorted(longest, reverse=True), report
    assert 0 < packing <= 1.0 and longest[0] / 60 - 0.05 <= critical <= wall + 0.1, report


def test_import_graph_has_no_cycle() -> None:
    """No module import cycle, and none between folders (a sub-package is one node): the attack registry is a leaf."""
    report = subprocess.run(
        [sys.executable, str(BENCHMARKS / "import_graph.py")], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"cycles 0\n", report) and "folder-level cycles 0" in report, report


def test_folder_graph_finds_a_loop() -> None:
    """The folder-level graph collapses a sub-package, so a loop through it is found although no module loops."""
    spec = importlib.util.spec_from_file_location("benchmark_import_graph", BENCHMARKS / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    graph = {"pkg.grid": {"pkg.sub.a"}, "pkg.sub.a": set(), "pkg.sub.b": {"pkg.grid"}}
    assert [c for c in module.strongly_connected(graph) if len(c) > 1] == []
    folders = module.folder_graph(graph, "pkg")
    assert [c for c in module.strongly_connected(folders) if len(c) > 1] == [["pkg.grid", "pkg.sub"]]
