"""What a checksum record names its artifact by, and temporary names that fit beside any legal file name."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from bgbias.provenance import record_path, verify_run
from bgbias.storage import atomic_path, read_json, stale_partials, write_json

KILLED_WRITER = """
import os, signal, sys
from bgbias.storage import atomic_path
with atomic_path(sys.argv[1]) as partial:
    partial.write_bytes(b"half")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_record_names_its_artifact_under_results_or_by_its_file_name(tmp_path: Path) -> None:
    inside = tmp_path / "checkout/results/initial/s0/eval/base/pool.json"
    outside = tmp_path / "cli/metrics.json"
    for path in (inside, outside):
        write_json(path, {"accuracy": 0.5})
    assert json.loads(record_path(inside).read_text())["file"] == "initial/s0/eval/base/pool.json"
    assert json.loads(record_path(outside).read_text())["file"] == "metrics.json"
    # reached through a link of another name, the folder named results is still the one in the path as given
    (tmp_path / "link").symlink_to(tmp_path / "checkout")
    assert read_json(tmp_path / "link/results/initial/s0/eval/base/pool.json") == {"accuracy": 0.5}


def test_any_name_that_leaves_room_for_its_record_is_written_and_its_leftovers_found(tmp_path: Path) -> None:
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    target = tmp_path / ("d" * (limit - len(".sha256")))
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target)], timeout=60)
    assert killed.returncode == -signal.SIGKILL
    (left,) = stale_partials(target)
    assert left.read_bytes() == b"half" and len(left.name) < 100
    checked, problems = verify_run([tmp_path])
    assert problems == [
        f"leftover: {left} is a killed job's temporary file, safe to delete once no job is running: rm {left}"
    ]
    with atomic_path(target) as partial:
        partial.write_bytes(b"complete")
    assert target.read_bytes() == b"complete" and stale_partials(target) == []
    assert verify_run([tmp_path]) == (1, [])
