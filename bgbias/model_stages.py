"""One function per model stage (training, paired training, evaluation): what the scripts and the CLI call."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from bgbias import __version__
from bgbias.adversarial import Attack, CWSpec, set_attack
from bgbias.attacks import make_adversarial_set
from bgbias.evaluation import evaluate_model
from bgbias.forgetting import evaluate_on_sets, fine_tune_on_set
from bgbias.grey import read_grey_split
from bgbias.models import load_checkpoint, save_checkpoint
from bgbias.paired_training import PairedSpec, paired_fine_tune
from bgbias.pairs import read_paired_split
from bgbias.stages import write_json
from bgbias.storage import SPLITS, ColoredSplit, read_attributes, read_split
from bgbias.training import TrainSpec, resolve_device, train_classifier, write_history

log = logging.getLogger("bgbias")


def train_base(data: Path, model: Path, history: Path, train: dict, device: str, seed: int, threads: int = 1) -> None:
    """Train a LeNet on the train split of the colour dataset `data`, early stopping on its dev split."""
    train_and_save(read_split, data, model, history, train, device, seed, threads)


def train_and_save(
    read: Callable[[Path, str], ColoredSplit],
    data: Path, model: Path, history: Path, train: dict, device: str, seed: int, threads: int,
) -> None:
    """Train a LeNet on the splits `read` gets from `data`; write the history and the checkpoint with its metadata."""
    torch.set_num_threads(threads)
    train_split, dev_split = read(data, "train"), read(data, "dev")
    where = resolve_device(device)
    log.info("training on %d images (%d dev) on %s", len(train_split), len(dev_split), where)
    net, epochs = train_classifier(
        train_split.images, train_split.labels, dev_split.images, dev_split.labels, TrainSpec(**train), seed, where
    )
    write_history(Path(history), epochs)
    config = {"train": train, "data": read_attributes(data)["config"]}
    save_checkpoint(Path(model), net.cpu(), {"config": config, "seed": seed, "data": str(data), "device": str(where)})


def paired_spec(paired: dict) -> PairedSpec:
    """The paired-training settings of a `paired` config slice."""
    train = TrainSpec(**{key: paired[key] for key in TrainSpec.__dataclass_fields__})
    return PairedSpec(train, paired["method"], paired["target"], paired["reg"], paired["pick"])


def paired_train(
    base: Path, data: Path, model: Path, history: Path, paired: dict, device: str, seed: int, threads: int = 1
) -> None:
    """Fine-tune the base model on the (x, x') pairs of a paired dataset."""
    torch.set_num_threads(threads)
    spec = paired_spec(paired)
    net, meta = load_checkpoint(Path(base), in_channels=3)
    train_split, dev_split = read_paired_split(data, "train"), read_paired_split(data, "dev")
    where = resolve_device(device)
    log.info(
        "paired fine-tuning of %s on %s: %d pairs (%d augmented, K=%d), %s on %s",
        base, data, len(train_split), int((train_split.alt_index >= 0).sum()), train_split.copies, spec, where,
    )
    epochs = paired_fine_tune(net, train_split, dev_split, spec, seed, where)
    write_history(Path(history), epochs)
    save_checkpoint(
        Path(model), net.cpu(), {"config": {"paired": paired, "base": meta.get("config")}, "seed": seed, "data": str(data)}
    )


def evaluate(model: Path, data: Path, output: Path, color_pool: list, device: str, threads: int = 1) -> None:
    """All metrics of a model on the test split of `data`, as JSON."""
    torch.set_num_threads(threads)
    net, meta = load_checkpoint(Path(model), in_channels=3)
    split = read_split(data, "test")
    result = evaluate_model(net, split, np.asarray(color_pool), resolve_device(device))
    log.info("%s on %s: accuracy %.4f", model, data, result["accuracy"])
    config = {"model": meta.get("config"), "test_set": read_attributes(data)["config"], "color_pool": color_pool}
    write_json(
        Path(output),
        {
            **result,
            "model": str(model),
            "model_name": Path(model).stem,
            "test_set": str(data),
            "test_set_name": Path(data).stem,
            "seed": meta.get("seed"),
            "config": config,
            "bgbias_version": __version__,
        },
    )


def train_grey(data: Path, model: Path, history: Path, train: dict, device: str, seed: int, threads: int = 1) -> None:
    """Train the grey LeNet (1 channel) on the train split of the grey dataset `data`, early stopping on its dev split."""
    train_and_save(read_grey_split, data, model, history, train, device, seed, threads)


def attack(
    model: Path, grey: Path, output: Path, name: str, adversarial: dict, device: str, seed: int, threads: int = 1
) -> None:
    """The adversarial set `name` (e.g. fgsm-0.1, cw-5) of the grey model on the grey dataset.

    `adversarial` holds the attacked subset sizes and batch size, and for CW `cw_steps`, `cw_lr`,
    `cw_kappa` and `cw_abort_early`.
    """
    torch.set_num_threads(threads)
    net, _ = load_checkpoint(Path(model), in_channels=1)
    chosen = Attack.parse(name)
    cw = (
        CWSpec(adversarial["cw_steps"], adversarial["cw_lr"], adversarial["cw_kappa"], adversarial["cw_abort_early"])
        if chosen.kind == "cw"
        else CWSpec()
    )
    sizes = {split: adversarial[f"{split}_size"] for split in SPLITS}
    where = resolve_device(device)
    log.info("attack %s on %s, attacked images per split %s, on %s", name, grey, sizes, where)
    make_adversarial_set(
        Path(output), net, Path(grey), chosen, cw, sizes, adversarial["batch_size"], seed, where,
        {"adversarial": adversarial, "attack": name},
    )


def fine_tune_adversarial(
    base: Path, data: Path, model: Path, history: Path, fine_tune: dict, device: str, seed: int, threads: int = 1
) -> None:
    """Fine-tune the grey model `base` on the training split of the adversarial set `data`."""
    torch.set_num_threads(threads)
    net, _ = load_checkpoint(Path(base), in_channels=1)
    where = resolve_device(device)
    log.info("fine-tuning %s on %s on %s", base, data, where)
    epochs = fine_tune_on_set(net, Path(data), TrainSpec(**fine_tune), seed, where)
    write_history(Path(history), epochs)
    save_checkpoint(
        Path(model), net.cpu(), {"config": {"fine_tune": fine_tune}, "seed": seed, "data": str(data), "base": str(base)}
    )


def evaluate_adversarial(
    model: Path, clean: Path, sets: list[Path], output: Path, name: str, device: str, seed: int, threads: int = 1
) -> None:
    """Accuracy of a grey model on the clean test split and on every adversarial test set, as JSON."""
    torch.set_num_threads(threads)
    net, _ = load_checkpoint(Path(model), in_channels=1)
    accuracy = evaluate_on_sets(net, Path(clean), {set_attack(path).name: Path(path) for path in sets}, resolve_device(device))
    log.info("%s: %s", name, ", ".join(f"{k} {v:.4f}" for k, v in accuracy.items()))
    write_json(Path(output), {"model": name, "seed": seed, "accuracy": accuracy, "bgbias_version": __version__})
