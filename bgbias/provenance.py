"""Checksummed artifacts: every file bgbias writes gets a record beside it, and every reader verifies it first.

The record of `x` is `x.sha256`, a small JSON file: the name of `x` (its path under the nearest folder named `results`,
`initial/s0/models/base.pt`, so that it holds wherever the checkout is moved; its file name outside one), its SHA-256
and size, the SHA-256 of each input `x` was made from (by path, as the job saw it), and the bgbias version. It is
written before `x` takes its final name, so that a finished file always has its record. `verify(path)` refuses, in
one line naming it, a file that has no record, whose content no longer matches it, or whose record names another
artifact (one copied or linked into another's place); `bgbias verify` checks whole runs (`verify_run`).
A file's SHA-256 is computed once per process and cached (by path, size and modification time).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shlex
from pathlib import Path
from collections.abc import Iterable, Iterator

from bgbias import __version__
from bgbias.errors import UserError
from bgbias.grid import BENCHMARKS, DEFAULT_RUN, LOGS, PATHS, RESULTS, pattern, root_of, run_content

SUFFIX = ".sha256"
PARTIAL = ".partial"  # the ending of temporary files, `.<name prefix>.<hash of the name>.<process id>.partial`
PREFIX = 32  # characters of the name a temporary name keeps, so that it stays short whatever the name's length
MANIFEST = PATHS["manifest"]  # a run's manifest, in its folder; `results/all` is the default run's
RUN_CONTENT = run_content()  # the first folder of every output below a run's folder
SKIPPED_FOLDERS = (LOGS, BENCHMARKS)  # job logs and Snakemake benchmarks: not artifacts
BLOCK = 1 << 20
_known: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> SHA-256 of files verified or hashed


class IntegrityError(UserError):
    """A missing file, one without a (readable) record, one whose content does not match its record or whose record
    names another artifact; `problem` is the word `bgbias verify` reports it under."""

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.problem = problem


def record_path(path: Path) -> Path:
    """Where the record of `path` is: `path` with `.sha256` appended."""
    path = Path(path)
    return path.with_name(path.name + SUFFIX)


def partial_stem(name: str) -> str:
    """What the temporary names of the file `name` begin with: its first PREFIX characters and a hash of all of it."""
    return f".{name[:PREFIX]}.{hashlib.sha256(os.fsencode(name)).hexdigest()[:16]}."


def partial_name(path: Path) -> Path:
    """The temporary name this process writes `path` under, in its folder: short, so that any legal name works."""
    path = Path(path)
    return path.with_name(f"{partial_stem(path.name)}{os.getpid()}{PARTIAL}")


def stale_partials(path: Path) -> list[Path]:
    """Temporary files of `path` that writers killed mid-way left behind."""
    path = Path(path)
    return sorted(path.parent.glob(f"{glob.escape(partial_stem(path.name))}*{PARTIAL}"))


def is_partial(path: Path) -> bool:
    """Whether `path` is a writer's temporary file."""
    return path.name.startswith(".") and path.name.endswith(PARTIAL)


def results_folder(path: Path) -> Path | None:
    """The nearest folder named `results` above `path` (symlinks not resolved): as part of `path` where it is one,
    else absolute; None outside one."""
    path = Path(os.path.normpath(path))
    folders = [*path.parents, *Path(os.path.abspath(path)).parents]
    return next((folder for folder in folders if folder.name == RESULTS), None)


def artifact_name(path: Path) -> str:
    """The name a record gives `path`: its path under its nearest `results` folder, else its file name."""
    folder = results_folder(path)
    absolute = Path(os.path.abspath(path))
    return absolute.relative_to(os.path.abspath(folder)).as_posix() if folder else absolute.name


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's content, cached for as long as its size and modification time stay the same."""
    path = Path(path)
    status = path.stat()
    key = (str(path.resolve()), status.st_size, status.st_mtime_ns)
    if key not in _known:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(BLOCK), b""):
                digest.update(block)
        _known[key] = digest.hexdigest()
    return _known[key]


def read_record(path: Path) -> dict:
    """The record of `path`; IntegrityError when it is missing or unreadable. Deleting `path` is advised only under a
    `results` folder: elsewhere it may be anyone's file."""
    record = record_path(path)
    ours = results_folder(path) is not None
    try:
        content = json.loads(record.read_text())
        content["sha256"], content["file"]
    except FileNotFoundError:
        if not ours:
            raise IntegrityError(
                f"{path} is not a bgbias artifact (no checksum record {record.name}): bgbias reads only the files it "
                "wrote", "unrecorded",
            ) from None
        raise IntegrityError(
            f"{path} has no checksum record ({record.name}): bgbias did not write it, or the record was lost; "
            f"delete {path} and rerun", "unrecorded",
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        advice = "delete both and rerun" if ours else f"{path} is not a bgbias artifact, or its record was damaged"
        raise IntegrityError(
            f"the checksum record {record} of {path} is unreadable ({error}); {advice}", "unrecorded"
        ) from None
    return content


def verify(path: Path) -> str:
    """The SHA-256 of `path` after checking it against its record; IntegrityError naming the file otherwise."""
    path = Path(path)
    if path.is_dir():
        raise IntegrityError(f"{path} is a folder, not a file", "missing")
    if not path.is_file():
        raise IntegrityError(f"{path} does not exist; rerun the workflow (or the command) that makes it", "missing")
    record = read_record(path)
    if record["file"] not in (artifact_name(path), path.name):  # the file name alone: records written before names
        raise IntegrityError(
            f"{path} holds the artifact recorded as {record['file']}: an artifact copied or linked into another's "
            f"place; delete it and its {SUFFIX} and rerun", "misplaced",
        )
    actual = sha256_file(path)
    if actual != record["sha256"]:
        raise IntegrityError(
            f"{path} is corrupt or was edited: its SHA-256 is {actual[:16]}..., its record says "
            f"{record['sha256'][:16]}...; delete it and rerun", "corrupt",
        )
    return actual


def checksum(path: Path) -> str:
    """The SHA-256 of an input: verified against its record when it has one (bgbias artifacts), else computed
    (the MNIST files, which are verified by their MD5s)."""
    return verify(path) if record_path(path).is_file() else sha256_file(path)


def write_record(path: Path, content: Path, inputs: Iterable[Path] = ()) -> None:
    """Write the record of `path`, whose content is the finished file `content` (its temporary name), made from
    `inputs`; the record itself is written under a temporary name and renamed."""
    record = record_path(path)
    payload = {
        "file": artifact_name(path),
        "sha256": sha256_file(content),
        "size": Path(content).stat().st_size,
        "inputs": {str(source): checksum(source) for source in inputs},
        "bgbias_version": __version__,
    }
    temporary = partial_name(record)
    try:
        temporary.write_text(json.dumps(payload, indent=1, sort_keys=True))
        os.replace(temporary, record)
    finally:
        temporary.unlink(missing_ok=True)


def files_under(folder: Path) -> Iterator[Path]:
    """Every file under `folder` but those in hidden folders (.git, .snakemake) and in logs and benchmarks folders."""
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith(".") and name not in SKIPPED_FOLDERS)
        yield from (Path(root) / name for name in sorted(files))


def is_artifact(path: Path) -> bool:
    """Whether `path` is a file with a checksum record (neither a record nor a temporary file itself)."""
    return not path.name.endswith(SUFFIX) and not path.name.startswith(".") and record_path(path).is_file()


def artifact_problems(path: Path) -> list[str]:
    """What is wrong with one artifact: content changed, in another's place, an input missing or changed since."""
    try:
        verify(path)
    except IntegrityError as error:
        return [f"{error.problem}: {error}"]
    problems = []
    for source, recorded in read_record(path).get("inputs", {}).items():
        if not Path(source).is_file():
            problems.append(f"stale: {path} was made from {source}, which no longer exists")
        elif (current := checksum_or_none(Path(source))) is None:
            problems.append(f"stale: {path} was made from {source}, which fails its own check")
        elif current != recorded:
            problems.append(f"stale: {path} was made from {source}, which has changed since")
    return problems


def checksum_or_none(path: Path) -> str | None:
    try:
        return checksum(path)
    except IntegrityError:
        return None


def inside(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or lies below it (symlinks not resolved)."""
    folder = os.path.abspath(folder)
    return os.path.commonpath([folder, os.path.abspath(path)]) == folder


def manifests_above(folder: Path) -> list[Path]:
    """The manifests in `folder` and in the folders above it, up to its `results` folder."""
    folder = Path(os.path.normpath(folder))
    results = results_folder(folder / MANIFEST)
    if results is None:
        return []
    if not folder.is_relative_to(results):  # the `results` folder lies above the path as given
        folder = Path(os.path.abspath(folder))
    folders = [folder, *folder.parents]
    return [path / MANIFEST for path in folders[: folders.index(results) + 1] if (path / MANIFEST).is_file()]


def listed_outputs(manifest: Path) -> list[tuple[str, Path]]:
    """Each output a manifest lists: as listed (relative to the workflow's folder), and where it is now."""
    lines = manifest.read_text(errors="replace").splitlines()
    entries = [line.split("\t", 1)[1] for line in lines if "\t" in line]
    results = results_folder(manifest)
    return [(entry, results / entry.removeprefix(f"{RESULTS}/")) for entry in entries]


def manifest_problems(manifests: Iterable[Path], within: Path) -> tuple[int, list[str]]:
    """The outputs under `within` (a file or folder) that `manifests` list, and those of them that are missing or
    have no record."""
    listed, problems = 0, []
    for manifest in manifests:
        for entry, path in listed_outputs(manifest):
            if not inside(path, within):
                continue
            listed += 1
            if not path.is_file():
                problems.append(f"missing: {entry} (listed in {manifest})")
            elif not record_path(path).is_file():
                problems.append(
                    f"unrecorded: {entry} (listed in {manifest}) has no checksum record; delete it and rerun"
                )
    return listed, problems


def run_of(path: Path) -> tuple[Path, str] | None:
    """The `results` folder and the run folder (`initial`, `later-code/notes`) of an output of a run, or None."""
    results = results_folder(path)
    folders = artifact_name(path).split("/")[:-1] if results else []
    first = next((i for i, part in enumerate(folders) if RUN_CONTENT.fullmatch(part)), 0)
    return (results, "/".join(folders[:first])) if first else None


def unfinished_runs(artifacts: Iterable[Path]) -> list[str]:
    """A line for each run folder holding some of `artifacts` that no manifest lists: a run that did not finish."""
    runs = sorted({run for run in map(run_of, artifacts) if run is not None})
    problems = []
    for results, run in runs:
        listed = [path for manifest in manifests_above(results / run) for _, path in listed_outputs(manifest)]
        if any(inside(path, results / run) for path in listed):
            continue
        target = f"{RESULTS}/{MANIFEST}" if run == DEFAULT_RUN else pattern("manifest", root=root_of(run))
        manifest = results.parent / target
        problems.append(
            f"unfinished: {results / run} is a run that did not finish (stopped, or still running): its manifest "
            f"{manifest} is missing; finish it with `snakemake --cores all {target}` (with the --configfile and "
            f"--config it was started with), then verify again"
        )
    return problems


def verify_run(paths: Iterable[Path]) -> tuple[int, list[str]]:
    """Check files and folders: every bgbias artifact against its record and inputs, the outputs their runs' manifests
    list, whether the runs in a folder finished, and the temporary files of killed jobs. Returns the number of
    artifacts checked and every problem, one line each."""
    checked, problems = 0, []
    for path in map(Path, paths):
        if not path.exists():
            problems.append(f"missing: {path} does not exist")
            continue
        folder = path.is_dir()
        files = list(files_under(path)) if folder else [path]
        artifacts = [p for p in files if is_artifact(p)]
        found = [p for p in artifacts if p.name == MANIFEST and results_folder(p)]
        manifests = {os.path.abspath(m): m for m in [*manifests_above(path if folder else path.parent), *found]}
        listed, listed_problems = manifest_problems(manifests.values(), path)
        leftovers = [p for p in files if is_partial(p)]
        problems += [
            f"leftover: {p} is a killed job's temporary file, safe to delete once no job is running: "
            f"rm {shlex.quote(str(p))}" for p in leftovers
        ]
        problems += listed_problems
        for artifact in artifacts:
            problems += artifact_problems(artifact)
        problems += unfinished_runs(artifacts) if folder else []  # a file asked about: only its own check
        if not artifacts and not listed and not leftovers:
            problems.append(
                f"{path} holds no bgbias artifacts (no file with a checksum record): nothing to verify" if folder
                else f"{path} is not a bgbias artifact (no checksum record): nothing to verify"
            )
        checked += len(artifacts)
    return checked, problems
