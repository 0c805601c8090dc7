"""One function per data, figure and table stage: what the Snakemake scripts and the `bgbias` CLI call.

The stages that train or run models live in `bgbias.model_stages`, so that these jobs start without torch.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from bgbias import __version__
from bgbias.adversarial import attack_summary
from bgbias.adversarial_tables import (
    attack_markdown,
    attack_table,
    forgetting_figure,
    forgetting_markdown,
    forgetting_table,
)
from bgbias.datasets import BiasSpec, ColorSpec, MnistSpec, make_biased_dataset, make_test_dataset
from bgbias.grey import make_grey_dataset
from bgbias.mnist import fetch_mnist, load_split
from bgbias.pairs import PairSpec, make_paired_dataset, read_alt_index, read_versions
from bgbias.plots import (
    SamplePanel, confusion_figure, fraction_figure, sample_grid_figure, save_figure, table_heatmap, training_figure,
)
from bgbias.storage import SPLITS, atomic_path, open_dataset, read_attributes, read_split
from bgbias.tables import (
    accuracy_table, fraction_table, load_metrics, per_colour_table, to_csv_with_std, to_markdown,
)

log = logging.getLogger("bgbias")


def mnist_spec(raw_dir: Path, data: dict) -> MnistSpec:
    mnist = data["mnist"]
    return MnistSpec(Path(raw_dir), mnist["dev_size"], mnist.get("train_size"), mnist.get("test_size"))


def color_spec(data: dict) -> ColorSpec:
    return ColorSpec(
        pool=np.asarray(data["color_pool"], np.uint8),
        foreground=tuple(data["foreground"]),
        options=dict(data.get("modes", {})),
    )


def write_json(path: Path, payload: dict) -> None:
    """JSON with NaN written as null, atomically."""

    def clean(value):
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    with atomic_path(path) as partial:
        partial.write_text(json.dumps(clean(payload), indent=1, sort_keys=True))


def fetch(raw_dir: Path, mirror: str | None, md5: dict[str, str]) -> None:
    """Place and verify the four MNIST files."""
    log.info("MNIST: %s", f"copying from mirror {mirror}" if mirror else "downloading with torchvision")
    for path in fetch_mnist(Path(raw_dir), Path(mirror) if mirror else None, md5):
        log.info("verified %s", path)


def build_biased(output: Path, raw_dir: Path, data: dict, bias: dict, seed: int, threads: int = 1) -> None:
    """The biased train/dev dataset of the initial setup."""
    spec = BiasSpec(bias["mode"], tuple(bias["biased_digits"]), bias["unbiased_mode"], bias["correlation"])
    make_biased_dataset(
        Path(output), mnist_spec(raw_dir, data), spec, color_spec(data), seed, {**data, "bias": bias}, threads
    )
    log.info("wrote %s", output)


def build_test(output: Path, raw_dir: Path, data: dict, mode: str, seed: int, threads: int = 1) -> None:
    """A test set on backgrounds of `mode`."""
    make_test_dataset(
        Path(output), mnist_spec(raw_dir, data), mode, color_spec(data), seed, {**data, "mode": mode}, threads
    )
    log.info("wrote %s", output)


def build_paired(
    output: Path,
    biased: Path,
    raw_dir: Path,
    data: dict,
    mode: str,
    fraction: float,
    copies: int,
    seed: int,
    threads: int = 1,
) -> None:
    """The paired dataset of a biased dataset: `copies` versions of `fraction` of the biased images, on `mode`."""
    spec = PairSpec(mode, fraction, copies)
    grey = load_split(Path(raw_dir), "train", data["mnist"].get("train_size"))
    make_paired_dataset(Path(output), Path(biased), grey, spec, color_spec(data), seed, data, threads)
    log.info("wrote %s", output)


def describe_dataset(config: dict) -> str:
    """A one-line caption of a dataset file's recorded config slice."""
    if "paired" in config:
        paired = config["paired"]
        return (
            f"paired: {paired['copies']} versions on {paired['augment_mode']} for "
            f"{100 * paired['augment_fraction']:g}% of the biased digits' images"
        )
    if "bias" in config:
        bias = config["bias"]
        digits = {"none": "none", "all": "all", "partial": ",".join(map(str, bias["biased_digits"]))}[bias["mode"]]
        return (
            f"biased digits {digits} on their pool colour (rho {bias['correlation']:g}), "
            f"others {bias['unbiased_mode']}"
        )
    return f"test set on {config['mode']}"


def plot_samples(data: Path, png: Path, per_digit: int = 4, versions: int = 6) -> None:
    """Sample grid of a dataset file: the first `per_digit` images of each digit per split, captioned with
    their background mode; for a paired file also one augmented training image per digit with its first
    `versions` versions."""
    data = Path(data)
    attributes = read_attributes(data)
    with open_dataset(data) as handle:
        splits = [name for name in SPLITS if name in handle]
        paired = "alt_index" in handle.get("train", {})
    panels = []
    for name in splits:
        split = read_split(data, name)
        rows = [np.flatnonzero(split.labels == digit)[:per_digit] for digit in range(10)]
        captions = [[mode.decode() for mode in split.bg_mode[r]] for r in rows]
        panels.append(SamplePanel(name, [f"digit {d}" for d in range(10)], [split.images[r] for r in rows], captions))
    if paired:
        panels.append(pairs_panel(data, versions))
    title = f"{data.parent.name}/{data.stem} (seed {attributes['seed']}): {describe_dataset(attributes['config'])}"
    save_figure(sample_grid_figure(panels, title), Path(png))


def pairs_panel(data: Path, versions: int) -> SamplePanel:
    """One augmented training image per digit (where there is one) followed by its first `versions` versions."""
    base = read_split(data, "train")
    alt_index = read_alt_index(data, "train")
    chosen = [np.flatnonzero((base.labels == digit) & (alt_index >= 0))[:1] for digit in range(10)]
    shown = np.concatenate(chosen)
    images, modes = read_versions(data, "train", alt_index[shown], versions)
    return SamplePanel(
        "train pairs: x, then versions x'",
        [f"digit {base.labels[row]}" for row in shown],
        [np.concatenate([base.images[[row]], images[i]]) for i, row in enumerate(shown)],
        [[m.decode() for m in (base.bg_mode[row], *modes[i])] for i, row in enumerate(shown)],
    )


def plot_confusion(metrics: Path, png: Path, csv: Path, title: str) -> None:
    """Confusion matrix of a metrics JSON as PNG and CSV."""
    confusion = np.asarray(json.loads(Path(metrics).read_text())["confusion"])
    table = pd.DataFrame(confusion, index=pd.Index(range(10), name="true"), columns=[f"pred_{d}" for d in range(10)])
    with atomic_path(Path(csv)) as partial:
        table.to_csv(partial)
    save_figure(confusion_figure(confusion, title), Path(png))


def plot_training(history: Path, png: Path, title: str) -> None:
    """Training curve of a per-epoch CSV log."""
    save_figure(training_figure(pd.read_csv(history), title), Path(png))


def write_table(mean: pd.DataFrame, std: pd.DataFrame, csv: Path, markdown: Path) -> None:
    """A table as CSV (with std columns for several seeds) and Markdown (mean ± std)."""
    with atomic_path(Path(csv)) as partial:
        to_csv_with_std(mean, std).to_csv(partial, float_format="%.4f")
    with atomic_path(Path(markdown)) as partial:
        partial.write_text(to_markdown(mean, std))


def accuracy_tables(metrics: list[str], test_sets: list[str], csv: Path, markdown: Path, png: Path) -> None:
    """Models x test sets accuracy table and heatmap."""
    mean, std = accuracy_table(load_metrics(metrics), test_sets)
    write_table(mean, std, csv, markdown)
    save_figure(table_heatmap(mean, "accuracy: models x test sets"), Path(png))


def per_colour_tables(
    metrics: list[str], color_pool: list, pool_test_set: str | None, colour_tests: list[str], csv: Path, markdown: Path, png: Path
) -> None:
    """Models x background colours accuracy table and heatmap."""
    mean, std = per_colour_table(load_metrics(metrics), color_pool, pool_test_set, colour_tests)
    write_table(mean, std, csv, markdown)
    save_figure(table_heatmap(mean, "accuracy per background colour"), Path(png))


def fraction_tables(metrics: list[str], test_sets: list[str], csv: Path, markdown: Path, png: Path) -> None:
    """Accuracy versus augment fraction for each augment mode: table and figure."""
    mean, _ = accuracy_table(load_metrics(metrics), test_sets)
    fractions = fraction_table(mean)
    with atomic_path(Path(csv)) as partial:
        fractions.to_csv(partial, index=False, float_format="%.4f")
    with atomic_path(Path(markdown)) as partial:
        partial.write_text(fractions.to_markdown(index=False, floatfmt=".3f") + "\n")
    save_figure(fraction_figure(fractions, [t for t in test_sets if t in fractions.columns]), Path(png))


def write_manifest(output: Path, inputs: list[str]) -> None:
    """The list of outputs of a run, one path per line with its size in bytes."""
    lines = [f"{Path(p).stat().st_size}\t{p}" for p in sorted(map(str, inputs)) if not p.endswith(".py")]
    with atomic_path(Path(output)) as partial:
        partial.write_text("\n".join(lines) + "\n")
    log.info("%d outputs listed in %s", len(lines), output)


def build_grey(output: Path, raw_dir: Path, data: dict, seed: int) -> None:
    """Grey MNIST (train/dev split as for the coloured data, official test split) for the adversarial experiments."""
    make_grey_dataset(Path(output), mnist_spec(raw_dir, data), seed, data)
    log.info("wrote %s", output)


def write_csv_markdown(table: pd.DataFrame, markdown: str, csv: Path, md: Path) -> None:
    """A table as CSV and its Markdown form, atomically."""
    with atomic_path(Path(csv)) as partial:
        table.to_csv(partial, index=False, float_format="%.4f")
    with atomic_path(Path(md)) as partial:
        partial.write_text(markdown)


def forgetting_tables(evaluations: list[Path], csv: Path, md: Path) -> None:
    """The forgetting table (every grey / fine-tuned model on clean and adversarial test sets) as CSV and Markdown."""
    table = forgetting_table([json.loads(Path(path).read_text()) for path in evaluations])
    write_csv_markdown(table, forgetting_markdown(table), csv, md)
    log.info("forgetting table: %d rows", len(table))


def attack_tables(sets: list[Path], csv: Path, md: Path) -> None:
    """Success rate and perturbation sizes of every adversarial set, per split, as CSV and Markdown."""
    table = attack_table([attack_summary(Path(path)) for path in sets])
    write_csv_markdown(table, attack_markdown(table), csv, md)
    log.info("attack table: %d rows", len(table))


def plot_forgetting(table: Path, png: Path) -> None:
    """Clean accuracy before and after adversarial fine-tuning, per attack strength."""
    save_figure(forgetting_figure(pd.read_csv(table)), Path(png))
