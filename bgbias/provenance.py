"""Checksummed artifacts: every file bgbias writes gets a record beside it, and every reader verifies it first.

The record of `x` is `x.sha256`, a small JSON file: the SHA-256 and size of `x`, the SHA-256 of each input `x`
was made from (by path, as the job saw it), and the bgbias version. It is written before `x` takes its final
name, so that a finished file always has its record. `verify(path)` refuses a file whose content no longer
matches its record, or that has none, in one line naming it; `bgbias verify` checks a whole run, inputs included.
A file's SHA-256 is computed once per process and cached (by path, size and modification time).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from collections.abc import Iterable

from bgbias import __version__
from bgbias.errors import UserError

SUFFIX = ".sha256"
BLOCK = 1 << 20
_known: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> SHA-256 of files verified or hashed


class IntegrityError(UserError):
    """A file whose content does not match its record, or that has none."""


def record_path(path: Path) -> Path:
    """Where the record of `path` is: `path` with `.sha256` appended."""
    path = Path(path)
    return path.with_name(path.name + SUFFIX)


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
    """The record of `path`; IntegrityError when it is missing or unreadable."""
    record = record_path(path)
    try:
        content = json.loads(record.read_text())
        content["sha256"]
    except FileNotFoundError:
        raise IntegrityError(
            f"{path} has no checksum record ({record.name}): bgbias did not write it, or the record was lost; "
            f"delete {path} and rerun"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise IntegrityError(f"the checksum record {record} of {path} is unreadable ({error}); delete both and rerun") from None
    return content


def verify(path: Path) -> str:
    """The SHA-256 of `path` after checking it against its record; IntegrityError naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise IntegrityError(f"{path} does not exist; rerun the workflow (or the command) that makes it")
    expected = read_record(path)["sha256"]
    actual = sha256_file(path)
    if actual != expected:
        raise IntegrityError(
            f"{path} is corrupt or was edited: its SHA-256 is {actual[:16]}..., its record says {expected[:16]}...; "
            f"delete it and rerun"
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
        "file": Path(path).name,
        "sha256": sha256_file(content),
        "size": Path(content).stat().st_size,
        "inputs": {str(source): checksum(source) for source in inputs},
        "bgbias_version": __version__,
    }
    temporary = record.with_name(f".{record.name}.{os.getpid()}.partial")
    try:
        temporary.write_text(json.dumps(payload, indent=1, sort_keys=True))
        os.replace(temporary, record)
    finally:
        temporary.unlink(missing_ok=True)


SKIPPED_FOLDERS = ("logs", "benchmarks")  # job logs and Snakemake benchmarks: not artifacts


def artifacts_under(path: Path) -> list[Path]:
    """The artifacts under `path` (itself if a file): every file but records, temporary files, logs and benchmarks."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(
        p for p in path.rglob("*")
        if p.is_file() and not p.name.endswith(SUFFIX) and not p.name.startswith(".")
        and not set(p.relative_to(path).parts[:-1]) & set(SKIPPED_FOLDERS)
    )


def artifact_problems(path: Path) -> list[str]:
    """What is wrong with one artifact: no record, content changed, an input missing or changed since."""
    try:
        record = read_record(path)
        verify(path)
    except IntegrityError as error:
        return [f"corrupt: {error}" if "SHA-256" in str(error) else f"unrecorded: {error}"]
    problems = []
    for source, recorded in record.get("inputs", {}).items():
        current = checksum_or_none(Path(source)) if Path(source).is_file() else None
        if not Path(source).is_file():
            problems.append(f"stale: {path} was made from {source}, which no longer exists")
        elif current is None:
            problems.append(f"stale: {path} was made from {source}, which fails its own check")
        elif current != recorded:
            problems.append(f"stale: {path} was made from {source}, which has changed since")
    return problems


def checksum_or_none(path: Path) -> str | None:
    try:
        return checksum(path)
    except IntegrityError:
        return None


def manifest_problems(folder: Path) -> list[str]:
    """The outputs that the manifest (`all`) of a run folder lists but that are missing."""
    manifest = Path(folder) / "all"
    if not manifest.is_file():
        return []
    listed = [line.split("\t", 1)[1] for line in manifest.read_text().splitlines() if "\t" in line]
    return [f"missing: {path} (listed in {manifest})" for path in listed if not Path(path).is_file()]


def verify_run(paths: list[Path]) -> list[str]:
    """Every problem under `paths` (files or run folders): missing, corrupt, unrecorded or stale artifacts, and the
    temporary files that killed writers left behind."""
    problems = []
    for path in map(Path, paths):
        if not path.exists():
            problems.append(f"missing: {path}")
            continue
        if path.is_dir():
            problems += manifest_problems(path)
            problems += [f"leftover: {p} (a killed writer's temporary file)" for p in sorted(path.rglob(".*.partial"))]
        for artifact in artifacts_under(path):
            problems += artifact_problems(artifact)
    return problems
