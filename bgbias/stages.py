"""One function per workflow stage: what the Snakemake scripts and the `bgbias` CLI call."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from bgbias import __version__
from bgbias.datasets import BiasSpec, ColorSpec, MnistSpec, make_biased_dataset, make_test_dataset
from bgbias.evaluation import evaluate_model
from bgbias.mnist import fetch_mnist
from bgbias.models import load_checkpoint, save_checkpoint
from bgbias.plots import confusion_figure, save_figure, training_figure
from bgbias.storage import atomic_path, read_attributes, read_split
from bgbias.training import TrainSpec, resolve_device, train_classifier, write_history

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


def build_biased(output: Path, raw_dir: Path, data: dict, bias: dict, seed: int) -> None:
    """The biased train/dev dataset of the initial setup."""
    spec = BiasSpec(bias["mode"], tuple(bias["biased_digits"]), bias["unbiased_mode"], bias["correlation"])
    make_biased_dataset(Path(output), mnist_spec(raw_dir, data), spec, color_spec(data), seed, {**data, "bias": bias})
    log.info("wrote %s", output)


def build_test(output: Path, raw_dir: Path, data: dict, mode: str, seed: int) -> None:
    """A test set on backgrounds of `mode`."""
    make_test_dataset(Path(output), mnist_spec(raw_dir, data), mode, color_spec(data), seed, {**data, "mode": mode})
    log.info("wrote %s", output)


def train_base(data: Path, model: Path, history: Path, train: dict, device: str, seed: int) -> None:
    """Train a LeNet on the train split of `data`, early stopping on its dev split."""
    train_split, dev_split = read_split(data, "train"), read_split(data, "dev")
    where = resolve_device(device)
    log.info("training on %d images (%d dev) on %s", len(train_split), len(dev_split), where)
    net, epochs = train_classifier(
        train_split.images, train_split.labels, dev_split.images, dev_split.labels, TrainSpec(**train), seed, where
    )
    write_history(Path(history), epochs)
    config = {"train": train, "data": read_attributes(data)["config"]}
    save_checkpoint(Path(model), net.cpu(), {"config": config, "seed": seed, "data": str(data), "device": str(where)})


def evaluate(model: Path, data: Path, output: Path, color_pool: list, device: str) -> None:
    """All metrics of a model on the test split of `data`, as JSON."""
    net, meta = load_checkpoint(Path(model), in_channels=3)
    split = read_split(data, "test")
    result = evaluate_model(net, split, np.asarray(color_pool), resolve_device(device))
    log.info("%s on %s: accuracy %.4f", model, data, result["accuracy"])
    config = {"model": meta.get("config"), "test_set": read_attributes(data)["config"], "color_pool": color_pool}
    write_json(
        Path(output),
        {
            **result, "model": str(model), "test_set": str(data), "seed": meta.get("seed"), "config": config,
            "bgbias_version": __version__,
        },
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


def write_manifest(output: Path, inputs: list[str]) -> None:
    """The list of outputs of a run, one path per line with its size in bytes."""
    lines = [f"{Path(p).stat().st_size}\t{p}" for p in sorted(map(str, inputs)) if not p.endswith(".py")]
    with atomic_path(Path(output)) as partial:
        partial.write_text("\n".join(lines) + "\n")
    log.info("%d outputs listed in %s", len(lines), output)
