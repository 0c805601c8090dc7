"""Speed, peak memory and disk size of dataset generation on full-size MNIST (not run as a test).

For every mode: one coloured dataset (the 60,000 official training images as train/dev, every
image on the mode: bias.mode none), one test set (the 10,000 official test images) and one
paired dataset (K versions of the biased digits' images of the default biased dataset, on the
mode). Each generation runs in a fresh Python process; its wall time (of the generation call,
after imports), its peak resident memory (the whole process, from wait4) and its file size are
the medians over --repeats runs; the CPU seconds of the generation (all its threads) are
reported too, a number that a loaded machine inflates less than the wall time. Prints a
Markdown table, the goals met or missed, and the disk size of the default config's catalogue
of datasets estimated from the measured files. The generation goes through the library, as
the data stages do (they import no torch).

    PYTHONPATH=. python benchmarks/generate.py --raw ../shared/data/mnist/raw --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bgbias.colour.datasets import build_biased, build_test
from bgbias.colour.pairs import build_paired
from bgbias.config import dataset_slice, validate_config

MODES = [
    "pool", "random_pure", "strips", "noise", "noise_weak", "noise_minor",
    "gaussian", "salt_pepper", "crossover", "mixture", "solid:1",
]
KINDS = ("coloured", "test", "paired")
GOALS = {  # kind: (seconds, peak MB)
    "coloured": (2.0, 400.0),
    "paired": (8.0, 1000.0),
}
PAIRED_DISK_GOAL_MB = {"noise": 700.0, "pool": 150.0, "random_pure": 150.0, "strips": 150.0, "solid:1": 150.0}
CATALOGUE_GOAL_MB = 2000.0
MB = 1e6


def generate(kind: str, mode: str, output: Path, raw: Path, biased: Path, copies: int, threads: int) -> None:
    """One generation with the default config through the data stages' own functions (which import no torch)."""
    config = validate_config({})
    data, bias = dataset_slice(config), config["bias"]
    common = {"raw_dir": raw, "dataset_config": data, "seed": 0, "threads": threads}
    builders = {
        "biased": lambda: build_biased(output, bias_config=bias, **common),
        "coloured": lambda: build_biased(output, bias_config={**bias, "mode": "none", "unbiased_mode": mode}, **common),
        "test": lambda: build_test(output, mode=mode, **common),
        "paired": lambda: build_paired(
            output, biased=biased, mode=mode, fraction=1.0, copies=copies, selection="random", unbiased_pairs="self", ranking=None,
            **common,
        ),
    }
    builders[kind]()


def measure(kind: str, mode: str, folder: Path, args: argparse.Namespace) -> dict:
    """Run one generation in a fresh process: seconds, peak resident MB, MB on disk."""
    output = folder / ("biased.h5" if kind == "biased" else f"{kind}-{mode.replace(':', '-')}.h5")
    command = [
        sys.executable, __file__, "--child", kind, mode, str(output), "--raw", str(args.raw),
        "--biased", str(folder / "biased.h5"), "--copies", str(args.copies), "--threads", str(args.threads),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    stdout = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{kind} {mode} failed with exit code {process.returncode}")
    size = output.stat().st_size
    if kind != "biased":
        output.unlink()
        Path(f"{output}.sha256").unlink()
    return {**json.loads(stdout), "peak_mb": usage.ru_maxrss * 1024 / MB, "disk_mb": size / MB}


def median_of(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def verdict(kind: str, mode: str, result: dict) -> str:
    """'ok' or what is missed, against the issue's goals."""
    missed = []
    seconds, peak = GOALS.get(kind, (None, None))
    if seconds is not None and result["seconds"] > seconds:
        missed.append(f"time +{result['seconds'] / seconds - 1:.0%}")
    if peak is not None and result["peak_mb"] > peak:
        missed.append(f"memory +{result['peak_mb'] / peak - 1:.0%}")
    disk = PAIRED_DISK_GOAL_MB.get(mode) if kind == "paired" else None
    if disk is not None and result["disk_mb"] > disk:
        missed.append(f"disk +{result['disk_mb'] / disk - 1:.0%}")
    return "MISSED " + ", ".join(missed) if missed else "ok"


def catalogue_mb(results: dict, biased: dict) -> float:
    """Disk size of the default config's datasets: the biased file, one test set per test mode and colour
    test (solid:* sets sized as the measured solid:1), one paired dataset per augment mode and fraction."""
    config = validate_config({})
    test = [mode if mode in results else "solid:1" for mode in [*config["test_modes"], *config["colour_tests"]]]
    paired = config["paired"]["augment_modes"] * len(config["paired"]["augment_fractions"])
    return (
        biased["disk_mb"]
        + sum(results[mode]["test"]["disk_mb"] for mode in test)
        + sum(results[mode]["paired"]["disk_mb"] for mode in paired)
    )


def run(args: argparse.Namespace) -> None:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bgbias-bench-", dir=args.tmp) as name:
        folder = Path(name)
        biased = median_of([measure("biased", "pool", folder, args) for _ in range(args.repeats)])
        results: dict = {mode: {} for mode in args.modes}
        for _ in range(args.repeats):
            for mode in args.modes:
                for kind in KINDS:
                    results[mode].setdefault(kind, []).append(measure(kind, mode, folder, args))
                    print(f"  {kind} {mode}: {results[mode][kind][-1]}", file=sys.stderr, flush=True)
    results = {mode: {kind: median_of(runs) for kind, runs in kinds.items()} for mode, kinds in results.items()}
    print(
        f"Medians of {args.repeats} run(s); {args.threads} compression thread(s); K = {args.copies}; "
        f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs.\n"
    )
    print(f"biased dataset (default config, 60,000 images): {biased['seconds']:.2f} s ({biased['cpu_seconds']:.2f} "
          f"s CPU), {biased['peak_mb']:.0f} MB peak, {biased['disk_mb']:.1f} MB on disk\n")
    print("| mode | coloured 60k: s (CPU s) | MB peak | MB disk | goal | test 10k: s (CPU s) | MB peak | MB disk "
          "| paired K: s (CPU s) | MB peak | MB disk | goal |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for mode, kinds in results.items():
        cells = [mode]
        for kind in KINDS:
            result = kinds[kind]
            cells += [
                f"{result['seconds']:.2f} ({result['cpu_seconds']:.2f})", f"{result['peak_mb']:.0f}",
                f"{result['disk_mb']:.1f}",
            ]
            if kind in GOALS:
                cells.append(verdict(kind, mode, result))
        print("| " + " | ".join(cells) + " |")
    if all(mode in results for mode in validate_config({})["paired"]["augment_modes"] + ["solid:1"]):
        total = catalogue_mb(results, biased)
        state = "ok" if total <= CATALOGUE_GOAL_MB else f"MISSED +{total / CATALOGUE_GOAL_MB - 1:.0%}"
        print(f"\nDefault catalogue on disk (biased + 13 test sets + 5 paired): {total:.0f} MB ({state}, goal "
              f"{CATALOGUE_GOAL_MB:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/mnist/raw",
                        help="folder with the four official MNIST .gz files (default: ../shared/data/mnist/raw)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", nargs="+", default=MODES)
    parser.add_argument("--copies", type=int, default=10, help="K, versions per augmented image")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="compression threads (default: the CPUs available)")
    parser.add_argument("--tmp", type=Path, default=None, help="where the files are written (default: the system's)")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "MODE", "OUTPUT"), help=argparse.SUPPRESS)
    parser.add_argument("--biased", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, mode, output = args.child
        start, cpu = time.perf_counter(), time.process_time()
        generate(kind, mode, Path(output), args.raw, args.biased, args.copies, args.threads)
        print(json.dumps({"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}))
    else:
        run(args)


if __name__ == "__main__":
    main()
