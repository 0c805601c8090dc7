"""Training throughput of bgbias's loops against a plain in-memory PyTorch loop.

Builds a biased dataset and a paired dataset (pool, K=10) from real MNIST into a temporary folder,
then times, per repeat, one epoch of
  - base training: `bgbias.training.fine_tune` versus a plain loop over a uint8 tensor in memory;
  - paired training: `bgbias.colour.paired_training.paired_fine_tune` versus a plain loop over in-memory
    (x, x') tensors with the same loss,
with the same LeNet, batch size and thread count. Prints images per second (median of --repeats)
and the ratio bgbias / plain (goal >= 0.9).

    python benchmarks/train.py --raw ../shared/data/mnist/raw --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from bgbias.colour.datasets import build_biased
from bgbias.colour.paired_training import PairedSpec, paired_fine_tune, paired_loss
from bgbias.colour.pairs import build_paired, read_paired_split
from bgbias.config import dataset_slice, validate_config
from bgbias.models import LeNet
from bgbias.seeding import rng_for
from bgbias.storage import read_split
from bgbias.training import TrainSpec, fine_tune

CONFIG = validate_config({})
ONE_EPOCH = TrainSpec.of({**CONFIG["train"], "epochs": 1, "patience": 1})
DEVICE = torch.device("cpu")


def plain_epoch(model: LeNet, images: torch.Tensor, labels: torch.Tensor, pairs: torch.Tensor | None, spec: PairedSpec) -> float:
    """One epoch of the textbook loop; returns seconds."""
    optimiser = torch.optim.SGD(model.parameters(), lr=ONE_EPOCH.lr, momentum=ONE_EPOCH.momentum)
    model.train()
    started = time.perf_counter()
    for index in torch.randperm(len(labels)).split(ONE_EPOCH.batch_size):
        x = images[index].float() / 255
        if pairs is None:
            loss = F.cross_entropy(model(x), labels[index])
        else:
            loss, _ = paired_loss(model, x, pairs[index].float() / 255, labels[index], spec)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return time.perf_counter() - started


def bgbias_base_epoch(model: LeNet, train, dev) -> float:
    """Seconds of the training part of one epoch of bgbias's base loop (its own clock, dev evaluation excluded)."""
    history = fine_tune(model, train, dev, spec=ONE_EPOCH, seed=0, device=DEVICE)
    return float(history["train_seconds"].iloc[0])


def bgbias_paired_epoch(model: LeNet, train, dev, spec: PairedSpec) -> float:
    """Seconds of the training part of one epoch of bgbias's paired loop."""
    history = paired_fine_tune(model, train, dev, spec=spec, seed=0, device=DEVICE)
    return float(history["train_seconds"].iloc[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", type=Path, default=Path("../shared/data/mnist/raw"), help="folder with the MNIST .gz files")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train-size", type=int, default=None, help="use only the first N training images")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    mnist = {**CONFIG["mnist"], "train_size": args.train_size}
    if args.train_size is not None:
        mnist["dev_size"] = args.train_size // 6
    data = {**dataset_slice(CONFIG), "mnist": mnist}
    with tempfile.TemporaryDirectory() as tmp:
        biased, paired = Path(tmp) / "biased.h5", Path(tmp) / "paired.h5"
        common = {"raw_dir": args.raw, "dataset_config": data, "seed": 0, "threads": args.threads}
        build_biased(biased, bias_config=CONFIG["bias"], **common)
        build_paired(paired, biased=biased, mode="pool", fraction=1.0, copies=10, selection="random", unbiased_pairs="self", ranking=None,
                     **common)
        started = time.perf_counter()
        train, dev = read_split(biased, "train"), read_split(biased, "dev")
        pairs_train, pairs_dev = read_paired_split(paired, "train"), read_paired_split(paired, "dev")
        load_seconds = time.perf_counter() - started
    spec = PairedSpec.of({**CONFIG["paired"], "train": {**CONFIG["paired"]["train"], "epochs": 1, "patience": 1}})
    images = torch.from_numpy(train.images).permute(0, 3, 1, 2).contiguous()
    labels = torch.as_tensor(train.labels)
    picks = rng_for(0, "bench").integers(0, pairs_train.copies, size=len(pairs_train))
    pair_images = torch.from_numpy(pairs_train.versions(picks)).permute(0, 3, 1, 2).contiguous()
    seconds: dict[str, list[float]] = {k: [] for k in ("base bgbias", "base plain", "paired bgbias", "paired plain")}
    for repeat in range(args.repeats):
        torch.manual_seed(repeat)
        seconds["base plain"].append(plain_epoch(LeNet(), images, labels, None, spec))
        seconds["base bgbias"].append(bgbias_base_epoch(LeNet(), train, dev))
        seconds["paired plain"].append(plain_epoch(LeNet(), images, labels, pair_images, spec))
        seconds["paired bgbias"].append(bgbias_paired_epoch(LeNet(), pairs_train, pairs_dev, spec))
    count = len(labels)
    rate = {name: count / statistics.median(values) for name, values in seconds.items()}
    print(f"{count} training images, {args.threads} thread(s), median of {args.repeats}; HDF5 load {load_seconds:.1f} s\n")
    print("| loop | bgbias images/s | plain images/s | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for kind in ("base", "paired"):
        ours, plain = rate[f"{kind} bgbias"], rate[f"{kind} plain"]
        print(f"| {kind} | {ours:,.0f} | {plain:,.0f} | {ours / plain:.2f} |")
    print("\nTimes cover the training batches of an epoch (bgbias's own `train_seconds`); the dev evaluation")
    print("that bgbias runs after each epoch and the one-off HDF5 load are excluded from both sides.")


if __name__ == "__main__":
    main()
