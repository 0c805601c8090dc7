"""How well a finished run used its cores: wall time, CPU, packing efficiency, critical path, idle cores.

    python benchmarks/grid.py [--log .snakemake/log/<run>.snakemake.log] [--cores N]

Reads one Snakemake log (default: the newest under .snakemake/log), the benchmark file of every job it ran
(`benchmark:` of each rule: wall seconds `s`) and each job's own log, whose last line gives the job process's exact
CPU seconds (`process CPU: ...`, Python start included; Snakemake's benchmark `cpu_time` is the fallback: it
samples every 30 s after a job's first 15 s, so it misses up to 30 s of each job). It prints:

- wall time: from the first job's start to the last job's end;
- summed job CPU time, and the packing efficiency: summed job CPU / (cores x wall);
- the critical path: the longest chain of jobs through the DAG (a job's inputs made by other jobs of the run),
  weighted by each job's wall seconds;
- the five longest jobs;
- the idle-core time: cores x wall minus the sum over jobs of threads x wall seconds;
- with --gpu FILE (nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits -l 1 > FILE): the mean
  GPU utilisation and the mean number of jobs running at once.

Log timestamps have a resolution of one second; job durations come from the benchmark files.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from bgbias import logs

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
RULE = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
FIELD = re.compile(r"^\s+(\w+): (.*)$")
FINISHED = re.compile(r"^Finished jobid: (\d+)")


@dataclass
class Job:
    rule: str
    jobid: int = -1
    start: datetime | None = None
    end: datetime | None = None
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    benchmark: str | None = None
    log: str | None = None
    threads: int = 1
    seconds: float = 0.0
    cpu: float = 0.0
    cpu_exact: bool = False  # cpu from the job's own log, not from the benchmark's samples


def parse_log(path: Path) -> dict[int, Job]:
    """The jobs of a Snakemake log with their start and end times, files, benchmark file and threads."""
    jobs: dict[int, Job] = {}
    stamp: datetime | None = None
    current: Job | None = None
    for line in path.read_text().splitlines():
        if match := STAMP.match(line):
            stamp = datetime.strptime(match.group(1), "%a %b %d %H:%M:%S %Y")
            current = None
        elif match := RULE.match(line):
            current = Job(match.group(1), start=stamp)
        elif current is not None and (match := FIELD.match(line)):
            name, value = match.groups()
            if name == "jobid":
                current.jobid = int(value)
                jobs[current.jobid] = current
            elif name in ("input", "output"):
                getattr(current, f"{name}s").extend(value.split(", "))
            elif name in ("benchmark", "log"):
                setattr(current, name, value.split(", ")[0])
            elif name == "threads":
                current.threads = int(value)
        elif (match := FINISHED.match(line)) and int(match.group(1)) in jobs:
            jobs[int(match.group(1))].end = stamp
    return {jobid: job for jobid, job in jobs.items() if job.end is not None}


PROCESS_CPU = re.compile(rf"{re.escape(logs.PROCESS_CPU)}: ([\d.]+) s")


def logged_cpu(path: str | None) -> float | None:
    """The exact CPU seconds a job's log ends with (bgbias.logs.process_usage), or None."""
    if not path or not Path(path).is_file():
        return None
    found = PROCESS_CPU.findall(Path(path).read_text())
    return float(found[-1]) if found else None


def add_benchmarks(jobs: dict[int, Job]) -> None:
    """Each job's wall seconds (benchmark file; log times where it has none) and CPU seconds (its log's exact
    figure; the benchmark's sampled one where the log has none)."""
    for job in jobs.values():
        if job.benchmark and Path(job.benchmark).is_file():
            row = pd.read_csv(job.benchmark, sep="\t").iloc[-1]
            job.seconds, job.cpu = float(row["s"]), float(row["cpu_time"])
        else:
            job.seconds = (job.end - job.start).total_seconds()
        exact = logged_cpu(job.log)
        if exact is not None:
            job.cpu, job.cpu_exact = exact, True


def critical_path(jobs: dict[int, Job]) -> tuple[float, list[Job]]:
    """The longest chain of jobs (a job after those that make its inputs), by summed wall seconds."""
    maker = {output: job.jobid for job in jobs.values() for output in job.outputs}
    upstream = {jobid: {maker[i] for i in job.inputs if i in maker} for jobid, job in jobs.items()}
    longest: dict[int, tuple[float, list[int]]] = {}

    def chain(jobid: int) -> tuple[float, list[int]]:
        if jobid not in longest:
            before = max((chain(u) for u in upstream[jobid]), default=(0.0, []))
            longest[jobid] = (before[0] + jobs[jobid].seconds, [*before[1], jobid])
        return longest[jobid]

    seconds, path = max((chain(jobid) for jobid in jobs), default=(0.0, []))
    return seconds, [jobs[jobid] for jobid in path]


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log", type=Path, help="a Snakemake log (default: the newest of .snakemake/log)")
    parser.add_argument("--cores", type=int, help="the cores of the run (default: read from the log)")
    parser.add_argument("--gpu", type=Path, help="nvidia-smi utilisation samples, one per second")
    args = parser.parse_args()
    log = args.log or max(Path(".snakemake/log").glob("*.snakemake.log"), key=lambda p: p.stat().st_mtime)
    text = log.read_text()
    cores = args.cores or int(re.search(r"Provided cores: (\d+)", text).group(1))
    jobs = parse_log(log)
    if not jobs:
        raise SystemExit(f"{log}: no finished job")
    add_benchmarks(jobs)
    start = min(job.start for job in jobs.values())
    end = max(job.end for job in jobs.values())
    wall = max((end - start).total_seconds(), 1.0)
    cpu = sum(job.cpu for job in jobs.values())
    exact = sum(job.cpu_exact for job in jobs.values())
    busy = sum(job.threads * job.seconds for job in jobs.values())
    path_seconds, path = critical_path(jobs)
    print(f"log: {log} ({len(jobs)} jobs, {cores} cores)")
    print(f"wall time: {minutes(wall)}")
    print(f"job CPU: exact from the job's log for {exact} of {len(jobs)} jobs, the benchmark's sample for the rest")
    print(f"summed job CPU: {minutes(cpu)}; packing efficiency (CPU / (cores x wall)): {cpu / (cores * wall):.2f}")
    print(f"critical path: {minutes(path_seconds)} over {len(path)} jobs: " + " -> ".join(job.rule for job in path))
    print(f"wall / max(critical path, CPU / cores): {wall / max(path_seconds, cpu / cores):.2f}")
    print(f"idle-core time: {minutes(max(cores * wall - busy, 0))} of {minutes(cores * wall)}")
    print(f"mean jobs running at once: {sum(job.seconds for job in jobs.values()) / wall:.1f}")
    print("five longest jobs:")
    for job in sorted(jobs.values(), key=lambda j: -j.seconds)[:5]:
        print(f"  {job.seconds:7.1f} s  {job.rule}  {', '.join(job.outputs[:1])}")
    by_rule = pd.DataFrame([{"rule": j.rule, "seconds": j.seconds, "cpu": j.cpu} for j in jobs.values()])
    print("CPU minutes by rule (top 8):")
    for rule, row in by_rule.groupby("rule").sum().sort_values("cpu", ascending=False).head(8).iterrows():
        print(f"  {row['cpu'] / 60:6.1f}  {rule}")
    if args.gpu:
        samples = pd.to_numeric(Path(args.gpu).read_text().split(), errors="coerce")
        print(f"GPU utilisation: mean {samples.mean():.0f} % over {len(samples)} one-second samples")


if __name__ == "__main__":
    main()
