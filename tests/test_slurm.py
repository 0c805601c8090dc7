"""Running the workflow on SLURM: the cluster profile, and a real one-node cluster (.ci/slurm-cluster.sh)."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from conftest import REPO, run_snakemake

SLURM_PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
CI_PROFILE = REPO / "tests" / "profiles" / "ci-slurm"
CLUSTER_TIMEOUT_S = 360

needs_plugin = pytest.mark.skipif(
    importlib.util.find_spec("snakemake_executor_plugin_slurm") is None,
    reason='needs the SLURM executor plugin: pip install -e ".[slurm]"',
)
needs_cluster = pytest.mark.skipif(
    os.environ.get("BGBIAS_SLURM") != "1",
    reason="needs a running SLURM cluster: start one with `.ci/slurm-cluster.sh start`, then set BGBIAS_SLURM=1",
)

# One figure of a paired model: 8 jobs of 8 rules (MNIST, three datasets, two trainings, evaluation, figure),
# enough to show every kind of job going through SLURM without the whole grid's polling time.
CLUSTER_TARGET = "results/initial/s0/figures/confusion/paired-pool-f1/pool.png"


def job_stats(output: str) -> Counter:
    """Rule -> job count from the `Job stats:` table Snakemake prints."""
    table = output.split("Job stats:", 1)[1]
    counts = Counter()
    for line in table.splitlines()[3:]:
        fields = line.split()
        if len(fields) != 2 or fields[0] == "total":
            break
        counts[fields[0]] = int(fields[1])
    return counts


def job_resources(output: str) -> dict[str, dict[str, str]]:
    """Rule -> its `resources:` line of a dry-run, as a dict of strings."""
    resources: dict[str, dict[str, str]] = {}
    rule = None
    for line in output.splitlines():
        if match := re.match(r"(?:local)?rule (\w+):$", line):
            rule = match.group(1)
        elif rule and (match := re.match(r"\s+resources: (.*)$", line)):
            resources[rule] = dict(item.split("=", 1) for item in match.group(1).split(", "))
    return resources


def profile_gpu_rules(profile: Path) -> dict[str, dict]:
    return yaml.safe_load(profile.read_text())["set-resources"]


def run_on_cluster(workdir: Path, *args: str) -> str:
    """Snakemake through profiles/slurm layered with the CI profile; its stdout and stderr together.

    A run still going after CLUSTER_TIMEOUT_S gets SIGINT, on which Snakemake cancels its SLURM jobs
    (on SIGTERM it waits for them, SIGKILL leaves them queued), and the test fails.
    """
    env = {**os.environ, "PYTHONPATH": str(workdir)}
    profiles = ["--profile", "profiles/slurm", "--workflow-profile", str(CI_PROFILE)]
    cpus = ["--max-threads", str(len(os.sched_getaffinity(0)))]
    command = [sys.executable, "-m", "snakemake", *args, *profiles, *cpus, "--configfile", str(workdir / "tests/data/tiny.yaml")]
    with subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        try:
            output, _ = process.communicate(timeout=CLUSTER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
            try:
                output, _ = process.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                output, _ = process.communicate()
            pytest.fail(f"snakemake on SLURM still running after {CLUSTER_TIMEOUT_S} s, interrupted:\n{output[-6000:]}")
    assert process.returncode == 0, f"snakemake on SLURM failed:\n{output[-8000:]}"
    return output


def slurm_config() -> dict[str, str]:
    lines = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, check=True).stdout
    return dict(re.findall(r"^(\w+)\s+= (.*)$", lines, flags=re.MULTILINE))


def jobcomp_records(path: Path) -> list[dict[str, str]]:
    """The job completion file of jobcomp/filetxt: one `Key=value ...` line per finished job."""
    return [dict(re.findall(r"(\w+)=(\S*)", line)) for line in path.read_text().splitlines() if line.strip()]


def test_ci_profile_zeroes_every_gpu_the_cluster_profile_requests() -> None:
    requested = profile_gpu_rules(SLURM_PROFILE)
    zeroed = profile_gpu_rules(CI_PROFILE / "config.yaml")
    assert {rule for rule, resources in requested.items() if resources.get("gpu")} == set(zeroed)
    assert all(resources == {"gpu": 0} for resources in zeroed.values())


@pytest.mark.workflow
@needs_plugin
def test_slurm_profile_gives_every_gpu_rule_a_gpu(workflow_dir: Path) -> None:
    plain = job_resources(run_snakemake(workflow_dir, "results/all", "-n").stdout)
    declared_gpu = {rule for rule, resources in plain.items() if "gpu" in resources}
    result = run_snakemake(workflow_dir, "results/all", "-n", "--workflow-profile", "profiles/slurm")
    assert "Using workflow specific profile profiles/slurm" in result.stderr
    on_cluster = job_resources(result.stdout)
    gpu_rules = set(profile_gpu_rules(SLURM_PROFILE))
    assert declared_gpu and declared_gpu <= gpu_rules
    for rule, resources in on_cluster.items():
        if rule in gpu_rules:
            assert resources["gpu"] == "1" and resources["slurm_partition"] == "FILL-ME-gpu-partition", rule
        else:
            assert "gpu" not in resources and resources["slurm_partition"] == "FILL-ME-partition", rule
        assert resources["slurm_account"] == "FILL-ME-account", rule


@pytest.mark.slurm
@pytest.mark.workflow
@needs_plugin
@needs_cluster
def test_each_job_runs_as_its_own_slurm_job(workflow_dir: Path) -> None:
    config = slurm_config()
    assert config["JobCompType"] == "jobcomp/filetxt", "the test reads SLURM's job completion file"
    expected = job_stats(run_snakemake(workflow_dir, CLUSTER_TARGET, "-n").stdout)
    assert len(expected) == 8, expected

    output = run_on_cluster(workflow_dir, CLUSTER_TARGET)

    run_id = re.search(r"SLURM run ID: (\S+)", output).group(1)
    submitted = {
        slurm_id: Path(log)
        for slurm_id, log in re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.", output)
    }
    assert len(submitted) == sum(expected.values()), "one SLURM job per workflow job, each with its own id"
    rules_run = Counter()
    for slurm_id, log in submitted.items():
        assert log.name == f"{slurm_id}.log"
        rules_in_job = set(re.findall(r"^(?:local)?rule (\w+):$", log.read_text(), flags=re.MULTILINE))
        assert len(rules_in_job) == 1, f"SLURM job {slurm_id} ran {rules_in_job}"
        rules_run[rules_in_job.pop()] += 1
    assert rules_run == expected

    records = [
        record
        for record in jobcomp_records(Path(config["JobCompLoc"]))
        if record.get("WorkDir") == str(workflow_dir)
    ]
    assert sorted(record["JobId"] for record in records) == sorted(submitted)
    assert {record["Name"] for record in records} == {run_id}
    assert {record["JobState"] for record in records} == {"COMPLETED"}
    assert {record["ExitCode"] for record in records} == {"0:0"}
    assert (workflow_dir / CLUSTER_TARGET).is_file()
