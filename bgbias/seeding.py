"""Deterministic, order-independent random streams derived from one seed."""

from __future__ import annotations

import hashlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable 64-bit integer for a stream name (independent of PYTHONHASHSEED)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def rng_for(seed: int, *names: str) -> np.random.Generator:
    """A generator for the stream `names` under `seed`; the same inputs give the same stream."""
    return np.random.default_rng(np.random.SeedSequence([seed, *(stream_key(n) for n in names)]))
