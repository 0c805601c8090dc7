"""Job logs: a finished job ends with its exact process CPU; a user error is one line and no usage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bgbias.errors import UserError
from bgbias.logs import log_to


def test_a_finished_job_logs_its_process_cpu_last(tmp_path: Path) -> None:
    path = tmp_path / "job.log"
    with log_to(path) as log:
        sum(i * i for i in range(2_000_000))  # some CPU of its own
        log.info("work done")
    lines = path.read_text().splitlines()
    assert "work done" in lines[-2]
    cpu, memory = map(float, re.search(r"process CPU: ([\d.]+) s, peak memory (\d+) MB$", lines[-1]).groups())
    assert cpu > 0.05 and memory > 10


def test_a_user_error_is_one_line_without_usage(tmp_path: Path) -> None:
    path = tmp_path / "job.log"
    with pytest.raises(SystemExit), log_to(path):
        raise UserError("bad value 7; allowed: 1-3")
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and lines[0].endswith("ERROR bad value 7; allowed: 1-3")
