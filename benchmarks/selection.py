"""Cost of each selection strategy: seconds and peak memory of ranking the biased images of a real run.

Runs the `rank_images` stage (as its rule does: a fresh Python process, one thread) on a finished run's
base model and biased dataset, for every strategy, --repeats times, alternating the strategies. Default
config: 24,500 biased train + 4,900 biased dev images, about 30,000. Prints per strategy the median
whole-process wall seconds (Python start and imports included), the median seconds of the stage call itself,
its CPU seconds and the peak resident memory (the whole process, from wait4), with the load average.

    PYTHONPATH=. python benchmarks/selection.py --run results/marking/s0 --raw ../shared/data/mnist/raw
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

from bgbias.colour.selection import STRATEGIES
from bgbias.config import selection_slice, validate_config
from bgbias.grid import DEFAULT_RUN, root_of

MB = 1e6


def child(args: argparse.Namespace) -> None:
    """One ranking, as the rule runs it; prints the call's seconds and CPU seconds as JSON."""
    from bgbias.colour.selection import rank_images

    run = Path(args.run)
    started, cpu = time.perf_counter(), time.process_time()
    rank_images(
        run / "models/base.pt", run / "datasets/biased.h5", raw_dir=args.raw, output=Path(args.output),
        strategy=args.child, selection_config=selection_slice(validate_config({})), seed=0, device="cpu", threads=1,
    )
    print(json.dumps({"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu}))


def measure(strategy: str, args: argparse.Namespace, folder: Path) -> dict:
    """One fresh process: whole wall seconds, the stage's seconds and CPU seconds, peak resident MB."""
    output = folder / f"{strategy}.csv"
    command = [sys.executable, __file__, "--child", strategy, "--output", str(output), "--run", str(args.run),
               "--raw", str(args.raw)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    stdout = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ranking by {strategy} failed (exit {os.waitstatus_to_exitcode(status)})")
    rows = sum(1 for _ in output.open()) - 1
    return {**json.loads(stdout), "process_seconds": wall, "peak_mb": usage.ru_maxrss * 1024 / MB, "images": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=Path(root_of(DEFAULT_RUN)) / "s0",
                        help="a finished seed folder: models/base.pt and datasets/biased.h5")
    parser.add_argument("--raw", type=Path, default=Path("../shared/data/mnist/raw"), help="folder with the MNIST .gz files")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=list(STRATEGIES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    for needed in (args.run / "models/base.pt", args.run / "datasets/biased.h5"):
        if not needed.is_file():
            raise SystemExit(f"--run {args.run}: no {needed.relative_to(args.run)} (run its base model first)")
    load = os.getloadavg()[0]
    runs: dict[str, list[dict]] = {strategy: [] for strategy in args.strategies}
    with tempfile.TemporaryDirectory(prefix="bgbias-selection-") as name:
        for repeat in range(args.repeats):
            for strategy in args.strategies:
                runs[strategy].append(measure(strategy, args, Path(name)))
                print(f"  {repeat + 1}/{args.repeats} {strategy}: {runs[strategy][-1]}", file=sys.stderr, flush=True)
    print(f"\nMedians of {args.repeats} runs, one thread, {args.run}; load average {load:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs.\n")
    print("| strategy | images ranked | process s (Python start included) | stage s | stage CPU s | peak MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for strategy, results in runs.items():
        median = {key: statistics.median(result[key] for result in results) for key in results[0]}
        print(f"| {strategy} | {median['images']:,.0f} | {median['process_seconds']:.1f} | {median['seconds']:.1f} | "
              f"{median['cpu_seconds']:.1f} | {median['peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
