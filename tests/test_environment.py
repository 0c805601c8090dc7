"""environment.yml, the conda environment of `--sdm conda`, against pyproject.toml.

Static: these machines have no conda, so no test creates the environment. What the checks keep true:
Snakemake copies environment.yml to .snakemake/conda/ before creating it, so the file may not point at the
checkout (`-e .`, a path); it lists pyproject.toml's dependencies with the same pins instead (bgbias itself is
imported from the checkout); and it leaves out Snakemake, which a job's script imports from the Snakemake that runs
the workflow.
"""

from __future__ import annotations

import re
import tomllib

import yaml

from conftest import REPO

NOT_IN_ENVIRONMENT = {"snakemake"}  # the running Snakemake provides it to the jobs' scripts


def name(requirement: str) -> str:
    return re.split(r"[\s<>=!~\[;@]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def normalized(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def environment() -> dict:
    return yaml.safe_load((REPO / "environment.yml").read_text())


def pip_requirements() -> list[str]:
    return next(item["pip"] for item in environment()["dependencies"] if isinstance(item, dict))


def test_environment_lists_pyprojects_dependencies_with_the_same_pins() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {normalized(r) for r in project["dependencies"] if name(r) not in NOT_IN_ENVIRONMENT}
    assert {normalized(r) for r in pip_requirements()} == wanted
    assert {name(r) for r in project["dependencies"]} - {name(r) for r in pip_requirements()} == NOT_IN_ENVIRONMENT


def test_environment_does_not_refer_to_the_checkout() -> None:
    """Nothing that only resolves next to the original file: no editable install, path, file URL or local folder."""
    for requirement in pip_requirements():
        assert not re.match(r"^(-e|--editable|-r|\.|/|file:)", requirement.strip()), requirement
        assert "@" not in requirement and "file:" not in requirement, requirement


def test_environment_python_satisfies_requires_python() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    python = next(d for d in environment()["dependencies"] if isinstance(d, str) and d.startswith("python="))
    major, minor = map(int, python.split("=")[1].split(".")[:2])
    lowest = tuple(map(int, re.match(r">=(\d+)\.(\d+)", project["requires-python"]).groups()))
    assert (major, minor) >= lowest
