"""Logging for workflow jobs and the command line."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

log = logging.getLogger("bgbias")
FORMAT = "%(asctime)s %(levelname)s %(message)s"


@contextmanager
def log_to(path: str | Path | None) -> Iterator[logging.Logger]:
    """Log to `path` (and stderr) for the block; an exception is logged with its traceback, then re-raised."""
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
    except Exception:
        log.exception("failed")
        raise
    finally:
        for handler in handlers:
            log.removeHandler(handler)
            handler.close()
