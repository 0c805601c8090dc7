"""Disk plan: every dataset and model a configured grid creates, with its estimated size.

The estimates come from a model of compressed bytes per image, measured by
`benchmarks/disk_model.py` on 10,000 real MNIST training images stored as bgbias stores
them (HDF5 1.10 format, gzip level 1 with shuffle, coloured images in chunks of 1024,
paired versions one image's K versions per chunk):

| background | bytes / coloured image | bytes / paired version | why |
| --- | ---: | ---: | --- |
| one colour (`pool`, `random_pure`, `solid:*`, `crossover`) | 110 | 110 | only the digit's shape costs |
| `strips` | 151 | 151 | two colours |
| `salt_pepper` | 178 | 178 | one colour and a few blocks |
| `mixture` | 624 | 620 | a quarter of the images are noise |
| `noise_minor` / `noise_weak` | 1306 / 1576 | 1307 / 1557 | 21 / 65 values per channel |
| `gaussian` | 1960 | 1960 | clipped normal, about 8 bits per channel |
| `noise` | 2003 | 2003 | uniform: incompressible, 3 bytes per background pixel |

`crossover` is counted as a one-colour background and an unknown mode as `noise` (an upper
bound). Adversarial images are float32 grey: FGSM about 1083 bytes (pixels take few values),
Carlini-Wagner about 2133 (dense small perturbations barely compress); every attack setting is
counted on the attacked subset of the train, dev and test splits (`adversarial.train_size`, ...). A LeNet checkpoint holds its float32 weights
and about 5 KB of metadata. Each (model, test set) adds a metrics JSON and a confusion matrix
(about 38 KB), each model a training curve (about 50 KB).
"""

from __future__ import annotations

from dataclasses import dataclass

from tabulate import tabulate

from bgbias.attacks import Attack
from bgbias.colour.backgrounds import ALIASES
from bgbias.colour.datasets import BiasSpec
from bgbias.grid import Grid

MNIST_TRAIN, MNIST_TEST = 60000, 10000
MNIST_RAW_BYTES = 11_594_722
# share of each digit in the official MNIST training split
DIGIT_SHARE = [n / MNIST_TRAIN for n in (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)]
ONE_COLOUR = 110
# compressed bytes per coloured image and per paired version, by background mode
MODE_BYTES = {
    "pool": (ONE_COLOUR, ONE_COLOUR),
    "random_pure": (ONE_COLOUR, ONE_COLOUR),
    "crossover": (ONE_COLOUR, ONE_COLOUR),
    "solid": (ONE_COLOUR, ONE_COLOUR),
    "strips": (151, 151),
    "salt_pepper": (178, 178),
    "mixture": (624, 620),
    "noise_minor": (1306, 1307),
    "noise_weak": (1576, 1557),
    "gaussian": (1960, 1960),
    "noise": (2003, 2003),
}
CHECKPOINT_METADATA = 5_000
EVALUATION_BYTES = 38_000
CURVE_BYTES = 50_000


@dataclass(frozen=True)
class Planned:
    """One output of the grid: what it is, for which seed, how many images, its estimated size."""

    kind: str
    seed: int | None
    name: str
    images: int
    bytes: int


def mode_bytes(mode: str, paired: bool = False) -> int:
    """Estimated compressed bytes of one image (or one paired version) on a `mode` background."""
    name = "solid" if mode.startswith("solid:") else ALIASES.get(mode, mode)
    return MODE_BYTES.get(name, MODE_BYTES["noise"])[int(paired)]


def lenet_bytes(in_channels: int) -> int:
    """Size of a LeNet checkpoint: float32 weights and buffers, plus metadata."""
    weights = (
        (6 * in_channels * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
    )
    return 4 * (weights + 2 * in_channels) + CHECKPOINT_METADATA


def biased_share(bias: dict) -> float:
    """Share of training images whose digit is biased."""
    return sum(DIGIT_SHARE[d] for d in BiasSpec.of(bias).digits())


def split_sizes(config: dict) -> tuple[int, int, int]:
    """Images in train, dev and test."""
    mnist = config["mnist"]
    official = mnist["train_size"] or MNIST_TRAIN
    return official - mnist["dev_size"], mnist["dev_size"], mnist["test_size"] or MNIST_TEST


def seed_plan(grid: Grid, seed: int) -> list[Planned]:
    """Datasets, models and evaluation outputs of one seed of `grid`."""
    config = grid.config
    train, dev, test = split_sizes(config)
    coloured = train + dev
    share = biased_share(config["bias"])
    unbiased_mode = config["bias"]["unbiased_mode"]
    base_bytes = round(coloured * (share * mode_bytes("pool") + (1 - share) * mode_bytes(unbiased_mode)))
    paired, adversarial = config["paired"], config["adversarial"]
    items = [Planned("dataset", seed, "biased", coloured, base_bytes)]
    items += [Planned("dataset", seed, f"test/{name}", test, test * mode_bytes(mode)) for name, mode in grid.test_sets.items()]
    for name, cell in grid.paired.items():
        versions = round(coloured * share * cell.fraction) * paired["copies"]
        items.append(
            Planned("dataset", seed, f"paired/{name}", coloured + versions,
                    base_bytes + versions * mode_bytes(cell.augment_mode, paired=True))
        )
    sizes = (adversarial["train_size"], adversarial["dev_size"], adversarial["test_size"])
    grey = sum(count if size is None else min(count, size) for count, size in zip((train, dev, test), sizes))
    items += [
        Planned("dataset", seed, f"adversarial/{name}", grey, grey * Attack.parse(name).kind.stored_bytes)
        for name in grid.attacks
    ]
    grey_models = grid.adversarial_models if grid.attacks else []
    items += [Planned("model", seed, f"model {name}", 0, lenet_bytes(3)) for name in grid.models]
    items += [Planned("model", seed, f"model adversarial/{name}", 0, lenet_bytes(1)) for name in grey_models]
    evaluations = len(grid.models) * len(grid.test_sets) + len(grey_models) * (1 + len(grid.attacks))
    models = len(grid.models) + len(grey_models)
    items.append(
        Planned("other", seed, f"metrics and figures ({evaluations} evaluations)", 0,
                evaluations * EVALUATION_BYTES + models * CURVE_BYTES)
    )
    return items


def plan(config: dict) -> list[Planned]:
    """Every output of the grid of a validated `config`, with its estimated size."""
    grid = Grid(config)
    items = [Planned("mnist", None, "MNIST raw files", MNIST_TRAIN + MNIST_TEST, MNIST_RAW_BYTES)]
    for seed in grid.seeds:
        items += seed_plan(grid, seed)
    return items


def human(size: float) -> str:
    """`1.2 GB`: decimal units, as disk sizes are sold."""
    units = ["B", "KB", "MB", "GB", "TB"]
    power = 0
    while size >= 1000 and power < len(units) - 1:
        size /= 1000
        power += 1
    return f"{size:.0f} B" if power == 0 else f"{size:.1f} {units[power]}"


def format_plan(items: list[Planned]) -> str:
    """The plan as a table, one row per output, with the total."""
    rows = [
        [item.kind, "" if item.seed is None else item.seed, item.name, item.images or "", human(item.bytes)]
        for item in items
    ]
    rows.append(["total", "", f"{len(items)} outputs", "", human(sum(item.bytes for item in items))])
    return tabulate(
        rows, headers=["kind", "seed", "output", "images", "estimated size"],
        colalign=("left", "right", "left", "right", "right"),
    )
