"""Whole `bgbias` processes as a user runs them: wall and CPU seconds, Python start and imports included.

Times `bgbias --help`, `bgbias plan`, `bgbias generate biased` and `bgbias generate test` (default config, full MNIST), each in
a fresh process, --repeats times alternating, and prints medians with the load average. CPU seconds are user +
system of the process (from wait4), a figure a loaded machine inflates less than the wall time.

    python benchmarks/cli.py --raw ../shared/data/mnist/raw --repeats 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def bgbias_command() -> list[str]:
    """The installed `bgbias` entry point beside this Python, else the module."""
    script = Path(sys.executable).with_name("bgbias")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bgbias.cli"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", type=Path, default=Path("../shared/data/mnist/raw"), help="folder with the MNIST .gz files")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    raw = args.raw.resolve()
    commands = {
        "bgbias --help": ["--help"],
        "bgbias plan": ["plan"],
        "bgbias generate biased": ["generate", "biased", "--raw", str(raw), "--out", "biased.h5"],
        "bgbias generate test": ["generate", "test", "--raw", str(raw), "--out", "test.h5"],
    }
    load = os.getloadavg()[0]
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory(prefix="bgbias-cli-") as name:
        folder = Path(name)
        for _ in range(args.repeats):
            for label, arguments in commands.items():
                runs[label].append(run_process([*bgbias_command(), *arguments], folder))
                for leftover in folder.iterdir():
                    leftover.unlink() if leftover.is_file() else shutil.rmtree(leftover)
    print(f"Medians of {args.repeats} runs; load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the "
          f"end, on {os.cpu_count()} CPUs.\n")
    print("| command | wall s | CPU s |")
    print("|---|---:|---:|")
    medians = {label: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r)) for label, r in runs.items()}
    for label, (wall, cpu) in medians.items():
        print(f"| `{label}` | {wall:.2f} | {cpu:.2f} |")
    both = [medians[f"bgbias generate {kind}"] for kind in ("biased", "test")]
    print(f"| biased + test | {sum(w for w, _ in both):.2f} | {sum(c for _, c in both):.2f} |")


def run_process(command: list[str], folder: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one process run in `folder` (no config.yaml there: the schema's
    defaults)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {stderr.decode()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
