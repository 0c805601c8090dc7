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
def log_to(
    path: str | Path | None, quiet_errors: tuple[type[Exception], ...] = ()
) -> Iterator[logging.Logger]:
    """Log to `path` (and stderr) for the block; an exception is logged, then re-raised.

    Exceptions of the `quiet_errors` types (bad input the user can fix, reported by the caller)
    go to the log file only, as one line; others are logged everywhere with their traceback.
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
    except quiet_errors as error:
        record = log.makeRecord(log.name, logging.ERROR, __file__, 0, "%s", (error,), None)
        for handler in handlers[1:]:
            handler.handle(record)
        raise
    except Exception:
        log.exception("failed")
        raise
    finally:
        for handler in handlers:
            log.removeHandler(handler)
            handler.close()
