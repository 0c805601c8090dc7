"""Logging for workflow jobs and the command line."""

from __future__ import annotations

import logging
import resource
import sys
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator

from bgbias.errors import UserError

log = logging.getLogger("bgbias")
FORMAT = "%(asctime)s %(levelname)s %(message)s"
USER_ERRORS = (UserError, FileNotFoundError)  # bad input the user can fix: one line, no traceback
PROCESS_CPU = "process CPU"  # the last line of a finished job's log; benchmarks/grid.py reads it


def process_usage() -> str:
    """This process's CPU seconds since it started (Python start and imports included, its children too) and its
    peak memory: exact, where Snakemake's benchmark samples CPU only every 30 s after a job's first 15."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return f"{PROCESS_CPU}: {cpu:.2f} s, peak memory {own.ru_maxrss / 1024:.0f} MB"


@contextmanager
def log_to(path: str | Path | None, *, exit_on_user_error: bool = True) -> Iterator[logging.Logger]:
    """Log to `path` (and stderr) for the block.

    A user error (bad input the user can fix, USER_ERRORS) is logged as one line, without a traceback, and ends
    the process with status 1 (a workflow job) or, with `exit_on_user_error` False, is re-raised for the caller to
    report (the command line). Any other exception is a bug: logged with its traceback, then re-raised.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, mode="w"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield log
    except USER_ERRORS as error:
        if not exit_on_user_error:
            record = log.makeRecord(log.name, logging.ERROR, __file__, 0, "%s", (error,), None)
            for handler in handlers[1:]:
                handler.handle(record)
            raise
        log.error("%s", error)
        raise SystemExit(1) from None
    except Exception:
        log.exception("failed")
        raise
    else:
        log.info("%s", process_usage())
    finally:
        for handler in handlers:
            log.removeHandler(handler)
            handler.close()
