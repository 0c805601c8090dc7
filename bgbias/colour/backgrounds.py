"""Background modes: one registry maps a mode name to a vectorized generator.

A generator takes the background mask (N, 28, 28) bool (True where the pixel is
background), a numpy Generator and a `ModeContext`, and returns a `Background`:
the full (N, 28, 28, 3) uint8 background layer plus, per image, the single
background colour or -1, -1, -1 when the background is not one colour.

Mode options come from `ModeContext.options` (the config's `modes` block):
`gaussian_std`, `salt_pepper_fraction`, `salt_pepper_block`, `salt_pepper_base` and
`crossover_source`. `crossover` takes its backgrounds from `ModeContext.donors`:
coloured images of the same split with their background masks and colours, and
for every image being generated its own row among the donors (so that no image
gets its own background back). The paired-dataset writer passes the split's
stored images as donors; without donors, `crossover` first paints the split's own
backgrounds with the `crossover_source` mode (default `pool`) and uses those.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable

import numpy as np

from bgbias.storage import MODE_DTYPE

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
SIZE = 28
RANDOM_MAX = 224  # random colours stay at or below this per channel, so never white
STRIP_PERIOD, STRIP_A_ROWS = 5, 2  # strips: rows with row % 5 < 2 get colour A, the others B
NOISE_CENTRE = 128
NOISE_HALF_WIDTH = {"noise_weak": 32, "noise_minor": 10}
GAUSSIAN_LEVELS = 1 << 16
MIXTURE = ("pool", "random_pure", "strips", "noise")  # `mixture`: the notes' components; `mixture:a,b,...` chooses
NOT_MIXABLE = ("mixture", "crossover")  # modes a `mixture:` list may not hold


@dataclass(frozen=True)
class Donors:
    """Images whose backgrounds `crossover` pastes, and where the images being generated sit among them."""

    images: np.ndarray  # (D, 28, 28, 3) uint8 coloured images of the split
    masks: np.ndarray  # (D, 28, 28) bool, True on their background
    colors: np.ndarray  # (D, 3) int16, their single background colour or -1
    own: np.ndarray  # (N,) int64: the row among the donors of each image being generated


@dataclass(frozen=True)
class ModeContext:
    """What a mode may need besides the mask: the colour pool (10, 3) uint8, the mode options (the
    config's validated `modes` block) and, for `crossover`, donors (None: paint its own)."""

    pool: np.ndarray
    options: dict
    donors: Donors | None = None

    def option(self, name: str):
        """The value of mode option `name`."""
        return self.options[name]


@dataclass(frozen=True)
class Background:
    """Background layer (N, 28, 28, 3) uint8, per-image colour (N, 3) int16 (-1 if not one colour)
    and, for modes that combine others, the mode that made each image's background (N,) bytes."""

    pixels: np.ndarray
    colors: np.ndarray
    modes: np.ndarray | None = None


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


def parse_mixture(spec: str) -> tuple[str, ...]:
    """The components of `mixture:<mode>,<mode>,...` (two or more modes, none a mixture or crossover)."""
    components = tuple(spec.split(":", 1)[1].split(","))
    if len(components) < 2 or any(ALIASES.get(c, c) not in MODES or ALIASES.get(c, c) in NOT_MIXABLE for c in components):
        mixable = sorted(name for name in [*MODES, *ALIASES] if ALIASES.get(name, name) not in NOT_MIXABLE)
        raise ValueError(
            f"unknown mixture {spec!r}: use mixture:<mode>,<mode>,... with two or more of {', '.join(mixable)}"
        )
    return components


def canonical_mode(mode: str) -> str:
    """The registry name of `mode` (aliases resolved); raise ValueError naming the allowed modes."""
    if mode.startswith("solid:"):
        parse_solid(mode)
        return mode
    if mode.startswith("mixture:"):
        parse_mixture(mode)
        return mode
    name = ALIASES.get(mode, mode)
    if name not in MODES:
        allowed = sorted([*MODES, *ALIASES, "solid:<name>", "solid:r,g,b", "mixture:<mode>,<mode>,..."])
        raise ValueError(f"unknown background mode {mode!r}; allowed: {', '.join(allowed)}")
    return name


def generate(mode: str, mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Background:
    """Backgrounds of `mode` for every image of `mask`."""
    name = canonical_mode(mode)
    if name.startswith("solid:"):
        return fill_colors(mask.shape[0], np.tile(np.array(parse_solid(name), np.uint8), (mask.shape[0], 1)))
    if name.startswith("mixture:"):
        return mixture_of(parse_mixture(name))(mask, rng, context)
    return MODES[name](mask, rng, context)


def fill_colors(count: int, colors: np.ndarray) -> Background:
    """One flat colour per image: `colors` (N, 3) uint8."""
    pixels = row_layer(np.asarray(colors, np.uint8).reshape(count, 1, 3), np.zeros(SIZE, np.intp))
    return Background(pixels, colors.astype(np.int16))


def row_layer(colors: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """(N, 28, 28, 3) images whose row r has colour colors[:, pattern[r]] (colors (N, C, 3) uint8); built
    from one 28-pixel line per colour, which copies 84 bytes at a time instead of one pixel."""
    lines = np.repeat(colors[:, :, None, :], SIZE, axis=2)
    return np.take(lines, pattern, axis=1)


def pixel_view(images: np.ndarray) -> np.ndarray:
    """A flat view of (..., 3) uint8 images with one 3-byte element per pixel: numpy gathers and scatters
    whole pixels through it 2-4x faster than through (pixels, 3) rows."""
    return np.reshape(images, (-1, 3), copy=False).view("V3")[:, 0]


def set_pixels(images: np.ndarray, where: np.ndarray, color) -> None:
    """Set the pixels `where` (N, 28, 28) of `images` (N, 28, 28, 3), in place, to `color` (3,)."""
    np.put(pixel_view(images), np.flatnonzero(where), pixel_view(np.asarray(color, np.uint8)))


def random_colors(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Uniform random RGB colours (shape..., 3), each channel 0..RANDOM_MAX."""
    return rng.integers(0, RANDOM_MAX + 1, size=(*shape, 3), dtype=np.uint8)


def not_one_colour(count: int) -> np.ndarray:
    return np.full((count, 3), NOT_ONE_COLOUR, np.int16)


@register("pool", "basic", "pure")
def pool_background(mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Background:
    """One colour drawn uniformly from the pool per image."""
    choice = rng.integers(0, len(context.pool), size=mask.shape[0])
    return fill_colors(mask.shape[0], context.pool[choice])


@register("random_pure")
def random_pure_background(mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Background:
    """One uniform random colour per image, each channel 0..224."""
    return fill_colors(mask.shape[0], random_colors(rng, mask.shape[0]))


def strips_of(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> Background:
    """Horizontal strips: rows with row % 5 < 2 get colour a[i], the other rows b[i] ((N, 3) uint8 each)."""
    a_rows = np.arange(SIZE) % STRIP_PERIOD < STRIP_A_ROWS
    pixels = row_layer(np.stack([a, b], axis=1), (~a_rows).astype(np.intp))
    has_a, has_b = mask[:, a_rows].any((1, 2)), mask[:, ~a_rows].any((1, 2))
    one_colour = (a == b).all(-1) | ~has_a | ~has_b
    single = np.where(has_a[:, None], a, b).astype(np.int16)
    return Background(pixels, np.where(one_colour[:, None], single, np.int16(NOT_ONE_COLOUR)))


@register("strips")
def strips_background(mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Background:
    """Horizontal strips: rows with row % 5 < 2 get random colour A, the other rows random colour B."""
    a, b = random_colors(rng, 2, mask.shape[0])
    return strips_of(a, b, mask)


@register("strips_black")
def strips_black_background(mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Background:
    """The original code's strips: rows with row % 5 < 2 get one random colour, the other rows are black."""
    colour = random_colors(rng, mask.shape[0])
    return strips_of(colour, np.zeros_like(colour), mask)


@register("noise")
def noise_background(mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Background:
    """Every pixel uniform random RGB 0..255."""
    pixels = rng.integers(0, 256, size=(*mask.shape, 3), dtype=np.uint8)
    return Background(pixels, not_one_colour(mask.shape[0]))


def uniform_noise(mask: np.ndarray, rng: np.random.Generator, half_width: int) -> Background:
    """Every pixel uniform in 128 +- half_width per channel."""
    low, high = NOISE_CENTRE - half_width, NOISE_CENTRE + half_width
    pixels = rng.integers(low, high + 1, size=(*mask.shape, 3), dtype=np.uint16).astype(np.uint8)  # 2x uint8's speed
    return Background(pixels, not_one_colour(mask.shape[0]))


@register("noise_weak")
def noise_weak_background(mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Background:
    """Uniform noise around 128 with half-width 32."""
    return uniform_noise(mask, rng, NOISE_HALF_WIDTH["noise_weak"])


@register("noise_minor")
def noise_minor_background(mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Background:
    """Uniform noise around 128 with half-width 10."""
    return uniform_noise(mask, rng, NOISE_HALF_WIDTH["noise_minor"])


def gaussian_table(std: float) -> np.ndarray:
    """Inverse CDF of round(clip(N(128, std), 0, 255)) on GAUSSIAN_LEVELS equiprobable uniform levels (uint8)."""
    upper = (np.arange(256) + 0.5 - NOISE_CENTRE) / std
    cdf = np.array([0.5 * (1 + math.erf(x / math.sqrt(2))) for x in upper])
    cdf[-1] = 1.0
    levels = (np.arange(GAUSSIAN_LEVELS) + 0.5) / GAUSSIAN_LEVELS
    return np.searchsorted(cdf, levels, side="right").astype(np.uint8)


@register("gaussian")
def gaussian_background(mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Background:
    """Gaussian noise, mean 128 and std `gaussian_std`, rounded and clipped to 0..255: sampled by table
    look-up of 16-bit uniform numbers (each value's probability exact to 1/65536, 3x faster than floats)."""
    uniform = rng.integers(0, GAUSSIAN_LEVELS, size=(*mask.shape, 3), dtype=np.uint16)
    pixels = np.take(gaussian_table(float(context.option("gaussian_std"))), uniform)
    return Background(pixels, not_one_colour(mask.shape[0]))


@register("salt_pepper")
def salt_pepper_background(mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Background:
    """A `salt_pepper_base` (pool or random_pure) background with square blocks of `salt_pepper_block`
    pixels, each hit with probability `salt_pepper_fraction`, set to black or white (equally likely)."""
    base_mode = context.option("salt_pepper_base")
    if base_mode not in ("pool", "random_pure"):
        raise ValueError(f"modes.salt_pepper_base={base_mode!r} is not allowed; allowed: pool, random_pure")
    base = MODES[base_mode](mask, rng, context)
    block = int(context.option("salt_pepper_block"))
    cells = -(-SIZE // block)
    hit = rng.random((mask.shape[0], cells, cells)) < context.option("salt_pepper_fraction")
    white = rng.integers(0, 2, size=hit.shape, dtype=np.uint8).astype(bool)
    hit, white = blocks_to_pixels(hit, block), blocks_to_pixels(white, block)
    set_pixels(base.pixels, hit & white, (255, 255, 255))
    set_pixels(base.pixels, hit & ~white, (0, 0, 0))
    one_colour = ~(hit & mask).any((1, 2))
    return Background(base.pixels, np.where(one_colour[:, None], base.colors, np.int16(NOT_ONE_COLOUR)))


def blocks_to_pixels(cells: np.ndarray, block: int) -> np.ndarray:
    """(N, c, c) per-block values as (N, 28, 28) per-pixel values, each block `block` x `block` pixels."""
    return np.repeat(np.repeat(cells, block, 1), block, 2)[:, :SIZE, :SIZE]


def nearest_background_column(masks: np.ndarray, reverse: bool) -> np.ndarray:
    """Per pixel, the column of the nearest background pixel (`masks` True) at or left of it in its row
    (right of it if `reverse`); -1 (28 if `reverse`) when there is none. int8 (N, 28, 28)."""
    columns = np.arange(SIZE, dtype=np.int8)
    if reverse:
        flipped = masks[:, :, ::-1].view(np.int8) * (columns + 1)
        return SIZE - np.maximum.accumulate(flipped, axis=2)[:, :, ::-1]
    marked = masks.view(np.int8) * (columns + 1)
    return np.maximum.accumulate(marked, axis=2) - 1


def fill_covered(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """`images` with every pixel outside `masks` (where the digit covered the background) replaced by the
    nearest background pixel to its left in the same row, else to its right; black if the row has none."""
    covered = np.flatnonzero(~masks)
    source = nearest_background_column(masks, reverse=False).reshape(-1)[covered].astype(np.intp)
    missing = source < 0
    if missing.any():  # rare in MNIST (digits keep a margin): only then look to the right
        source[missing] = nearest_background_column(masks, reverse=True).reshape(-1)[covered[missing]]
    filled = images.copy()
    origin = covered - covered % SIZE + np.minimum(source, SIZE - 1)
    np.put(pixel_view(filled), covered, np.take(pixel_view(images), origin))
    np.put(pixel_view(filled), covered[source == SIZE], pixel_view(np.zeros(3, np.uint8)))
    return filled


def own_donors(mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Donors:
    """The images' own backgrounds painted with the `crossover_source` mode, as crossover donors."""
    source = canonical_mode(context.option("crossover_source"))
    if source == "crossover":
        raise ValueError(
            "modes.crossover_source='crossover' is not allowed: crossover needs another mode as its source"
        )
    painted = generate(source, mask, rng, context)
    return Donors(painted.pixels, mask, painted.colors, np.arange(mask.shape[0]))


@register("crossover")
def crossover_background(mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Background:
    """The background of another randomly chosen image of the split (a donor, never the image itself);
    where the donor's digit covered its background, the nearest donor background pixel in that row."""
    donors = context.donors if context.donors is not None else own_donors(mask, rng, context)
    count = len(donors.images)
    if count < 2:
        raise ValueError(f"crossover needs at least 2 images to take backgrounds from, got {count}")
    donor = (donors.own + rng.integers(1, count, size=mask.shape[0])) % count
    images, masks = np.take(donors.images, donor, axis=0), np.take(donors.masks, donor, axis=0)
    return Background(fill_covered(images, masks), donors.colors[donor])


def mixture_of(components: tuple[str, ...]) -> ModeFn:
    """A mode that gives each image the background of one of `components`, chosen uniformly."""

    def mixture(mask: np.ndarray, rng: np.random.Generator, context: ModeContext) -> Background:
        count = mask.shape[0]
        component = rng.integers(0, len(components), size=count)
        pixels = np.empty((count, SIZE, SIZE, 3), np.uint8)
        colors = np.empty((count, 3), np.int16)
        modes = np.asarray(components, dtype=MODE_DTYPE)[component]
        for index, name in enumerate(components):
            rows = np.flatnonzero(component == index)
            part = MODES[ALIASES.get(name, name)](mask[rows], rng, context)
            pixels[rows], colors[rows] = part.pixels, part.colors
        return Background(pixels, colors, modes)

    return mixture


register("mixture")(mixture_of(MIXTURE))
