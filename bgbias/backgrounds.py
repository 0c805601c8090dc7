"""Background modes: one registry maps a mode name to a vectorized generator.

A generator takes the background mask (N, 28, 28) bool (True where the pixel is
background), a numpy Generator and a `ModeContext`, and returns a `Background`:
the full (N, 28, 28, 3) uint8 background layer plus, per image, the single
background colour or -1, -1, -1 when the background is not one colour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

DEFAULT_POOL = np.array(
    [
        [255, 0, 0], [0, 255, 0], [0, 0, 255], [225, 225, 0], [225, 0, 225],
        [0, 255, 255], [255, 0, 195], [195, 0, 255], [195, 195, 195], [255, 195, 0],
    ],
    dtype=np.uint8,
)
NAMED_SOLIDS = {
    "black": (0, 0, 0),
    "1": (225, 0, 0), "2": (0, 225, 0), "3": (0, 0, 225),
    "12": (225, 225, 0), "13": (225, 0, 225), "23": (0, 225, 225), "123": (225, 225, 225),
    "special": (0, 168, 225),
    "half_1": (128, 0, 0), "half_2": (0, 128, 0), "half_3": (0, 0, 128),
    "half_12": (128, 128, 0), "half_13": (128, 0, 128), "half_23": (0, 128, 128),
    "half_123": (128, 128, 128),
}
NOT_ONE_COLOUR = -1


@dataclass(frozen=True)
class ModeContext:
    """What a mode may need besides the mask: the colour pool and mode options."""

    pool: np.ndarray = field(default_factory=lambda: DEFAULT_POOL.copy())
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Background:
    """Background layer (N, 28, 28, 3) uint8 and per-image colour (N, 3) int16 (-1 if not one colour)."""

    pixels: np.ndarray
    colors: np.ndarray


ModeFn = Callable[[np.ndarray, np.random.Generator, ModeContext], Background]
MODES: dict[str, ModeFn] = {}
ALIASES: dict[str, str] = {}


def register(name: str, *aliases: str) -> Callable[[ModeFn], ModeFn]:
    """Decorator: register `fn` as background mode `name` (and its aliases)."""

    def add(fn: ModeFn) -> ModeFn:
        MODES[name] = fn
        ALIASES.update({alias: name for alias in aliases})
        return fn

    return add


def parse_solid(spec: str) -> tuple[int, int, int]:
    """The RGB colour of `solid:<name>` or `solid:r,g,b`."""
    value = spec.split(":", 1)[1]
    if value in NAMED_SOLIDS:
        return NAMED_SOLIDS[value]
    parts = value.split(",")
    if len(parts) == 3 and all(p.strip().isdigit() and int(p) <= 255 for p in parts):
        return tuple(int(p) for p in parts)  # type: ignore[return-value]
    raise ValueError(
        f"unknown solid colour {spec!r}: use solid:<name> with name in "
        f"{sorted(NAMED_SOLIDS)} or solid:r,g,b with channels 0..255"
    )


def canonical_mode(mode: str) -> str:
    """The registry name of `mode` (aliases resolved); raise ValueError naming the allowed modes."""
    if mode.startswith("solid:"):
        parse_solid(mode)
        return mode
    name = ALIASES.get(mode, mode)
    if name not in MODES:
        allowed = sorted([*MODES, *ALIASES, "solid:<name>", "solid:r,g,b"])
        raise ValueError(f"unknown background mode {mode!r}; allowed: {', '.join(allowed)}")
    return name


def generate(mode: str, mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Background:
    """Backgrounds of `mode` for every image of `mask`."""
    name = canonical_mode(mode)
    if name.startswith("solid:"):
        return fill_colors(mask.shape[0], np.tile(np.array(parse_solid(name), np.uint8), (mask.shape[0], 1)))
    return MODES[name](mask, rng, context)


def fill_colors(count: int, colors: np.ndarray) -> Background:
    """One flat colour per image: `colors` (N, 3) uint8."""
    pixels = np.broadcast_to(colors[:, None, None, :], (count, 28, 28, 3)).copy()
    return Background(pixels, colors.astype(np.int16))


@register("pool", "basic", "pure")
def pool_background(mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Background:
    """One colour drawn uniformly from the pool per image."""
    choice = rng.integers(0, len(context.pool), size=mask.shape[0])
    return fill_colors(mask.shape[0], context.pool[choice])
