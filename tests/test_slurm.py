"""Running the workflow on SLURM: the profiles as Snakemake reads them, the resources each job asks for, the jobs
the grid submits, and a real one-node cluster with a dummy GPU (.ci/slurm-cluster.sh)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from conftest import REPO, copy_workflow, run_snakemake

PROFILES = REPO / "profiles"
CI_PROFILE = REPO / "tests" / "profiles" / "ci-slurm"
SLURM = ("--profile", "profiles/slurm")  # the documented way to run on SLURM
CLUSTER_TIMEOUT_S = 360

needs_plugin = pytest.mark.skipif(
    importlib.util.find_spec("snakemake_executor_plugin_slurm") is None,
    reason='needs the SLURM executor plugin: pip install -e ".[slurm]"',
)
needs_cluster = pytest.mark.skipif(
    os.environ.get("BGBIAS_SLURM") != "1",
    reason="needs a running SLURM cluster: start one with `.ci/slurm-cluster.sh start`, then set BGBIAS_SLURM=1",
)

# One figure of a paired model: every kind of job (local, grouped, GPU) without the whole grid's polling time.
CLUSTER_TARGET = "results/initial/s0/figures/confusion/paired-pool-f1/pool.png"
GPU_RULES = {"train_base", "paired_train", "rank_images", "train_grey", "attack", "adversarial_finetune"}
# What runs on the login node: the MNIST download (compute nodes often have no network), the tables, the small
# figures drawn from tables, training logs and a few images of each dataset, the manifests and results/reproduction.md
# (per run: <rule>_<run>).
LOCAL_RULES = {
    "mnist", "accuracy_table", "per_colour_table", "fraction_table", "summary_table", "forgetting_table",
    "attack_table", "comparison_table", "forgetting_figure", "training_curves", "sample_grids", "ranking_figure", "all",
    "run_all", "experiment_all", "reproduction", "ablation_table", "rebuild_missing", "methods_table", "claims_table",
}
GROUPS = {
    "biased_dataset": "datasets", "test_dataset": "datasets", "grey_dataset": "datasets",
    "paired_dataset": "paired_datasets",
    "attack": "adversarial", "adversarial_finetune": "adversarial",
    "evaluate": "evaluation", "confusion_figures": "evaluation",
    "evaluate_adversarial": "adversarial_evaluation",
}
PER_RUN = ("evaluate", "confusion_figures", "training_curves", "sample_grids")  # rules named <kind>_<run>


def base_rule(name: str) -> str:
    """`evaluate_study_initial` -> `evaluate`: the rule a per-run rule is made from."""
    if name == "evaluate_adversarial":  # one rule for every run
        return name
    return next((kind for kind in PER_RUN if name.startswith(f"{kind}_")), name)


def profile(name: str | Path) -> dict:
    return yaml.safe_load((PROFILES / name / "config.yaml" if isinstance(name, str) else name / "config.yaml").read_text())


def parsed_args(*argv: str, cwd: Path = REPO) -> tuple[dict, str]:
    """The settings Snakemake's command line makes of `argv` (profiles included), and what it printed."""
    script = (
        "import json, sys; from snakemake.cli import parse_args; _, args = parse_args(sys.argv[1:]); "
        "print(json.dumps({k: v if isinstance(v, (int, float, str, bool, type(None))) else sorted(map(str, v)) "
        "if isinstance(v, (set, frozenset)) else str(v) for k, v in vars(args).items()}))"
    )
    process = subprocess.run([sys.executable, "-c", script, *argv], cwd=cwd, capture_output=True, text=True, check=True)
    return json.loads(process.stdout.splitlines()[-1]), process.stderr


def dry_run(workdir: Path, *args: str, tiny: bool = True) -> str:
    """The output of a dry-run (on the tiny config unless `tiny` is False: then the default grid)."""
    if tiny:
        return run_snakemake(workdir, "-n", *args).stdout
    env = {**os.environ, "PYTHONPATH": str(workdir)}
    command = [sys.executable, "-m", "snakemake", "-n", *args]
    process = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    return process.stdout


def planned(output: str) -> list[dict]:
    """The jobs of a dry-run: rule, group (None outside a group job), group job number, resources, input and
    output files."""
    jobs, group, number = [], None, 0
    for line in output.splitlines():
        if match := re.match(r"\[.*\] Group job (\w+) ", line):
            group, number = match.group(1), number + 1
        elif match := re.match(r"( *)(?:local)?rule (\w+):$", line):
            jobs.append({"rule": match.group(2), "group": group if match.group(1) else None,
                         "group_job": number if match.group(1) else None, "resources": {}, "input": [], "output": []})
        elif jobs and (match := re.match(r"\s+resources: (.*)$", line)):
            jobs[-1]["resources"] = dict(item.split("=", 1) for item in match.group(1).split(", "))
        elif jobs and (match := re.match(r"\s+(input|output): (.*)$", line)):
            jobs[-1][match.group(1)] = match.group(2).split(", ")
    return jobs


def resources_by_rule(output: str) -> dict[str, dict[str, str]]:
    """Rule -> the resources of its jobs in a dry-run (all jobs of a rule ask for the same here)."""
    return {job["rule"]: job["resources"] for job in planned(output)}


def workflow_rules(workdir: Path) -> dict[str, dict]:
    """Rule -> whether it is a local rule, and its group, as the parsed workflow declares them."""
    script = (
        "import json; from pathlib import Path; from snakemake.api import SnakemakeApi; "
        "from snakemake.settings.types import ResourceSettings, ConfigSettings, OutputSettings\n"
        "with SnakemakeApi(OutputSettings()) as api:\n"
        "    workflow = api.workflow(ResourceSettings(cores=1), ConfigSettings(configfiles=[Path('tests/data/tiny.yaml')]),"
        " snakefile=Path('Snakefile'))._workflow\n"
        "    print(json.dumps({r.name: {'local': r.name in workflow._localrules, 'group': r._group} for r in workflow.rules}))"
    )
    env = {**os.environ, "PYTHONPATH": str(workdir)}
    process = subprocess.run([sys.executable, "-c", script], cwd=workdir, env=env, capture_output=True, text=True, check=True)
    return json.loads(process.stdout.splitlines()[-1])


def slurm_submissions(output: str, local: set[str]) -> tuple[int, Counter]:
    """The SLURM jobs a dry-run plans (group jobs, and jobs of rules that are neither local nor grouped), and the
    local jobs by rule."""
    jobs = planned(output)
    groups = {job["group_job"] for job in jobs if job["group"]}
    alone = [job for job in jobs if not job["group"] and base_rule(job["rule"]) not in local]
    return len(groups) + len(alone), Counter(job["rule"] for job in jobs if base_rule(job["rule"]) in local)


# --- the profiles as Snakemake reads them ----------------------------------------------------------------------


def test_default_profile_holds_only_settings_right_everywhere() -> None:
    """profiles/default is loaded beside any --profile and wins: it holds no key of the cluster profiles, and none
    whose right value depends on where jobs run."""
    default = profile("default")
    assert set(default) == {
        "printshellcmds", "show-failed-logs", "rerun-incomplete", "rerun-triggers", "scheduler", "max-checksum-file-size",
    }
    assert not set(default) & set(profile("slurm")) and not set(default) & set(profile(CI_PROFILE))


@needs_plugin
def test_slurm_profile_settings_are_what_snakemake_uses() -> None:
    args, printed = parsed_args(*SLURM, "results/all")
    assert "profiles/slurm and workflow specific profile profiles/default for setting" in printed
    assert (args["executor"], args["jobs"], args["cores"], args["local_cores"]) == ("slurm", 50, 8, 2)
    assert (args["latency_wait"], args["keep_going"], args["retries"]) == (60, True, 1)
    # and the settings of profiles/default, which Snakemake 9 accepts in a profile
    assert args["scheduler"] == "greedy" and args["max_checksum_file_size"] == 2**40
    assert args["rerun_triggers"] == ["code", "input", "mtime", "params"]
    assert args["rerun_incomplete"] and args["printshellcmds"] and args["show_failed_logs"]
    local, _ = parsed_args("--cores", "2", "results/all")
    assert local["executor"] in (None, "local") and local["scheduler"] == "greedy" and local["latency_wait"] == 5


@needs_plugin
def test_set_resources_on_the_command_line_replaces_a_profiles_whole_block(tmp_path: Path) -> None:
    """Upstream behaviour (why profiles/slurm has no set-resources): --set-resources given on the command line
    replaces the profile's whole set-resources, it does not add to it."""
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"set-resources": {"train_base": {"mem_mb": 9000}}}))
    args, _ = parsed_args("results/all", "--profile", str(tmp_path), "--set-resources", "train_base:runtime=600")
    assert "runtime" in args["set_resources"] and "9000" not in args["set_resources"]
    assert "set-resources" not in profile("slurm")


# --- what each job asks for (dry-runs with the slurm profile; no cluster needed) --------------------------------

GPU_CLUSTER = "slurm={partition: cpu, gpu_partition: gpu, gpu_model: a100, account: lab}"


@pytest.mark.workflow
@needs_plugin
@pytest.mark.parametrize("case, profile_args, config, gpu_job", [
    ("cluster, auto, no GPU partition", SLURM, ["device=auto"], {"gpu": "0"}),
    ("cluster, auto on a GPU partition", SLURM, ["device=auto", GPU_CLUSTER],
     {"gpu": "1", "gpu_model": "a100", "cpus_per_gpu": "2", "slurm_partition": "gpu", "slurm_account": "lab"}),
    ("cluster, cpu", SLURM, ["device=cpu", GPU_CLUSTER], {"gpu": "0", "slurm_partition": "cpu", "slurm_account": "lab"}),
    ("cluster, cuda, one partition", SLURM, ["device=cuda", "slurm={partition: cpu}"],
     {"gpu": "1", "cpus_per_gpu": "2", "slurm_partition": "cpu"}),
    ("cluster, gres", SLURM, ["device=auto", "slurm={gpu_partition: gpu, gres: 'gpu:a100:1', gpu_model: v100}"],
     {"gpu": "0", "gres": "gpu:a100:1", "cpus_per_gpu": "2", "slurm_partition": "gpu"}),
    ("here, auto", (), ["device=auto", GPU_CLUSTER],
     {"gpu": "1", "gpu_model": "a100", "cpus_per_gpu": "2", "slurm_partition": "gpu", "slurm_account": "lab"}),
    ("here, cpu", (), ["device=cpu"], {"gpu": "0"}),
])
def test_gpu_request_and_partition_follow_the_config(
    workflow_dir: Path, case: str, profile_args: tuple, config: list[str], gpu_job: dict
) -> None:
    """GPU rules ask for a GPU (and its partition, type, cores) only when the job will use one; every other job
    asks for the CPU partition and no GPU; a null setting is left out (the cluster's default)."""
    jobs = resources_by_rule(dry_run(workflow_dir, "results/all", *profile_args, "--config", *config))
    slurm_keys = {"gpu", "gpu_model", "gres", "cpus_per_gpu", "slurm_partition", "slurm_account"}
    cpu_job = {key: value for key, value in gpu_job.items() if key == "slurm_account"}
    if "partition: cpu" in " ".join(config):
        cpu_job["slurm_partition"] = "cpu"
    assert GPU_RULES - {"rank_images"} <= set(jobs), case
    for rule, resources in jobs.items():
        asked = {key: value for key, value in resources.items() if key in slurm_keys}
        if rule in GPU_RULES:
            assert asked == gpu_job, (case, rule)
        elif base_rule(rule) not in LOCAL_RULES:
            assert asked == cpu_job, (case, rule)


@pytest.mark.workflow
@needs_plugin
def test_one_resource_overridden_on_the_command_line_keeps_the_rest(workflow_dir: Path) -> None:
    """The documented override: `--set-resources train_base:runtime=600` changes that, and nothing else."""
    plain = resources_by_rule(dry_run(workflow_dir, "results/all", *SLURM, "--config", "device=auto", GPU_CLUSTER))
    changed = resources_by_rule(
        dry_run(workflow_dir, "results/all", *SLURM, "--config", "device=auto", GPU_CLUSTER, "--set-resources", "train_base:runtime=600")
    )
    assert plain["train_base"]["runtime"] == "240" and changed["train_base"]["runtime"] == "600"
    assert changed["train_base"] == {**plain["train_base"], "runtime": "600"}
    assert changed["train_base"]["gpu"] == "1" and changed["train_base"]["slurm_partition"] == "gpu"
    assert {rule: res for rule, res in changed.items() if rule != "train_base"} == {
        rule: res for rule, res in plain.items() if rule != "train_base"
    }


@pytest.mark.workflow
@needs_plugin
def test_cuda_is_checked_where_jobs_run(workflow_dir: Path) -> None:
    """`device: cuda` on a login node without a GPU: submitting is fine (the GPU job checks its GPU), running here
    is refused (tests/test_integrity.py); this machine has no GPU."""
    if importlib.util.find_spec("torch") and __import__("torch").cuda.is_available():
        pytest.skip("this machine has a GPU")
    jobs = resources_by_rule(dry_run(workflow_dir, CLUSTER_TARGET, *SLURM, "--config", "device=cuda"))
    assert jobs["train_base"]["gpu"] == "1"


@pytest.mark.workflow
def test_slurm_settings_are_one_for_every_experiment(workflow_dir: Path) -> None:
    (workflow_dir / "experiments" / "elsewhere.yaml").write_text("slurm: {partition: other}\n")
    refused = run_snakemake(workflow_dir, "-n", check=False)
    assert refused.returncode != 0
    assert "config key slurm differs between experiments" in refused.stdout + refused.stderr


# --- which jobs run where, and how many SLURM jobs ---------------------------------------------------------------


@pytest.mark.workflow
def test_local_rules_and_groups(workflow_dir: Path) -> None:
    rules = workflow_rules(workflow_dir)
    assert {base_rule(name) for name, rule in rules.items() if rule["local"]} == LOCAL_RULES
    assert {name: rule["group"] for name, rule in rules.items() if rule["group"]} == {
        name: GROUPS[base_rule(name)] for name in rules if base_rule(name) in GROUPS
    }
    assert not {name for name, rule in rules.items() if rule["local"] and rule["group"]}


@pytest.mark.workflow
@needs_plugin
def test_default_grid_submits_few_slurm_jobs(workflow_dir: Path) -> None:
    """`results/all` of the default grid (not the tiny one): 26 SLURM jobs, 11 local jobs."""
    output = dry_run(workflow_dir, "results/all", *SLURM, tiny=False)
    submitted, local = slurm_submissions(output, LOCAL_RULES)
    jobs = planned(output)
    assert len(jobs) == 81
    # datasets (biased, 13 test, grey), paired datasets, 7 trainings, 10 attack+fine-tune,
    # 6 evaluations + confusion figures (one per model), the 11 adversarial evaluations
    assert submitted == 26
    assert local == {
        "mnist": 1, "accuracy_table": 1, "per_colour_table": 1, "fraction_table": 1, "summary_table": 1,
        "forgetting_table": 1, "attack_table": 1, "forgetting_figure": 1, "training_curves_initial": 1,
        "sample_grids_initial": 1, "all": 1,
    }
    sizes = Counter((job["group"], job["group_job"]) for job in jobs if job["group"])
    assert sorted(Counter(group for group, _ in sizes).items()) == [
        ("adversarial", 10), ("adversarial_evaluation", 1), ("datasets", 1), ("evaluation", 6), ("paired_datasets", 1),
    ]
    assert {group: n for (group, _), n in sizes.items() if group in ("datasets", "paired_datasets", "adversarial_evaluation")} == {
        "datasets": 15, "paired_datasets": 5, "adversarial_evaluation": 11,
    }
    # a group packed from several parts (group-components) must not use its own outputs: two packed group jobs
    # could otherwise each wait for a part of the other
    for group in profile("slurm")["group-components"]:
        members = [job for job in jobs if job["group"] == group]
        outputs = {path for job in members for path in job["output"]}
        assert members and not outputs & {path for job in members for path in job["input"]}, group


@pytest.mark.workflow
@needs_plugin
@pytest.mark.parametrize("target, expected", [
    (CLUSTER_TARGET, {"datasets": 1, "paired_datasets": 1, "train_base": 1, "paired_train": 1, "evaluation": 1}),
    ("results/initial/s0/figures/samples/test/noise.png", {"datasets": 1, "paired_datasets": 1}),
    ("results/initial/figures/forgetting.png", {"datasets": 1, "train_grey": 1, "adversarial": 4, "adversarial_evaluation": 1}),
])
def test_each_figure_target_builds_alone_on_the_cluster(workflow_dir: Path, target: str, expected: dict) -> None:
    jobs = planned(dry_run(workflow_dir, target, *SLURM))
    groups = {(job["group"], job["group_job"]) for job in jobs if job["group"]}
    alone = [job["rule"] for job in jobs if not job["group"] and base_rule(job["rule"]) not in LOCAL_RULES]
    assert Counter([group for group, _ in groups] + alone) == expected


# --- a real cluster ---------------------------------------------------------------------------------------------


def run_on_cluster(workdir: Path, *args: str) -> str:
    """Snakemake through profiles/slurm layered with the CI profile, verbose (the plugin then logs each sbatch
    call); its stdout and stderr together.

    A run still going after CLUSTER_TIMEOUT_S gets SIGINT, on which Snakemake cancels its SLURM jobs
    (on SIGTERM it waits for them, SIGKILL leaves them queued), and the test fails.
    """
    env = {**os.environ, "PYTHONPATH": str(workdir)}
    profiles = [*SLURM, "--profile", str(CI_PROFILE)]
    command = [sys.executable, "-m", "snakemake", *args, *profiles, "--verbose", "--configfile", str(workdir / "tests/data/tiny.yaml")]
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


def granted_gres(slurm_id: str) -> str:
    """The generic resources SLURM allocated to a job (`scontrol show job -d`; finished jobs stay MinJobAge s)."""
    shown = subprocess.run(["scontrol", "show", "job", "-d", slurm_id], capture_output=True, text=True, check=True).stdout
    match = re.search(r"JOB_GRES=(\S+)", shown)
    return "" if match is None or match.group(1) == "(null)" else match.group(1)


def submissions(output: str) -> dict[str, dict]:
    """SLURM job id -> the rules it ran (from its SLURM log) and its sbatch call (the plugin's verbose log)."""
    calls = re.findall(r"^sbatch call: (sbatch .*)$", output, flags=re.MULTILINE)
    jobs = {}
    for slurm_id, log in re.findall(r"has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.", output):
        log = Path(log)
        assert log.name == f"{slurm_id}.log"
        rules = set(re.findall(r"^\s*(?:local)?rule (\w+):$", log.read_text(), flags=re.MULTILINE))
        # the call's --output names the log's folder, with %j for the id
        call = next(call for call in calls if f"--output {log.parent}/%j.log " in call)
        jobs[slurm_id] = {"rules": rules, "call": call}
    return jobs


@pytest.mark.slurm
@pytest.mark.workflow
@needs_plugin
@needs_cluster
def test_gpu_jobs_get_a_granted_gpu_and_a_cpu_run_asks_for_none(workflow_dir: Path, tmp_path: Path) -> None:
    """One figure chain twice on the CI cluster (gres gpu:dummy:1 on its one node, partition `ci` its default):
    with `device: auto` on a GPU partition the training jobs ask for the typed GPU and SLURM grants it (scontrol,
    and the GPUs the job logs); with `device: cpu` no job asks for a GPU. Every job of a group runs in one SLURM
    job, local rules run here, and SLURM records every job completed with exit code 0."""
    config = slurm_config()
    assert config["JobCompType"] == "jobcomp/filetxt", "the test reads SLURM's job completion file"
    assert "gpu" in config.get("GresTypes", ""), "the CI cluster has a dummy GPU (.ci/slurm-cluster.sh)"
    cpu_dir = copy_workflow(tmp_path / "cpu")
    runs = {
        "auto": (workflow_dir, ["device=auto", "slurm={gpu_partition: ci, gpu_model: dummy}"]),
        "cpu": (cpu_dir, ["device=cpu", "slurm={gpu_partition: ci, gpu_model: dummy}"]),
    }
    for device, (workdir, overrides) in runs.items():
        plan = dry_run(workdir, CLUSTER_TARGET, *SLURM, "--profile", str(CI_PROFILE), "--config", *overrides)
        expected, local = slurm_submissions(plan, LOCAL_RULES)
        assert expected == 5 and local == {"mnist": 1}, plan[-3000:]

        output = run_on_cluster(workdir, CLUSTER_TARGET, "--config", *overrides)

        jobs = submissions(output)
        assert len(jobs) == expected, "one SLURM job per group job or ungrouped job"
        assert not any("mnist" in job["rules"] for job in jobs.values()), "the MNIST download runs here"
        assert [sorted(job["rules"]) for job in jobs.values() if len(job["rules"]) > 1] == [
            ["biased_dataset", "test_dataset"], ["confusion_figures_initial", "evaluate_initial"],
        ]
        assert sum(bool(job["rules"] & GPU_RULES) for job in jobs.values()) == 2, "train_base and paired_train"
        for slurm_id, job in jobs.items():
            gpu_job = bool(job["rules"] & GPU_RULES)
            log = (workdir / "results/initial/logs/s0/models" / f"{'base' if 'train_base' in job['rules'] else 'paired-pool-f1'}.log")
            if device == "auto" and gpu_job:
                assert "--gpus=dummy:1" in job["call"] and "--cpus-per-gpu=2" in job["call"], job["call"]
                assert granted_gres(slurm_id) == "gpu:dummy:1"
                assert f"GPUs granted (SLURM job {slurm_id}): " in log.read_text()
                assert "CUDA_VISIBLE_DEVICES=0" in log.read_text()
            else:
                assert not re.search(r"--gpus|--gres|--cpus-per-gpu", job["call"]), job["call"]
                assert granted_gres(slurm_id) == ""
                if gpu_job:
                    assert "GPUs granted" not in log.read_text()
            assert " -p ci " in job["call"], "a null partition is the cluster's default"

        records = [
            record
            for record in jobcomp_records(Path(config["JobCompLoc"]))
            if record.get("WorkDir") == str(workdir)
        ]
        assert sorted(record["JobId"] for record in records) == sorted(jobs)
        assert {record["JobState"] for record in records} == {"COMPLETED"}
        assert {record["ExitCode"] for record in records} == {"0:0"}
        assert (workdir / CLUSTER_TARGET).is_file()
