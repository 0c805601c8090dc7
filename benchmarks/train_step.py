"""Can the LeNet training step on CPU be made faster: torch.compile and oneDNN layouts against eager PyTorch.

Times one epoch of the plain training loop (SGD, batch 50, the default `train` block) over the
default biased training set of real MNIST, per variant:
  - eager: the loop bgbias runs;
  - channels_last: eager with NHWC tensors and weights (oneDNN's preferred layout);
  - compile: the model under `torch.compile` (inductor, default mode);
  - compile+max-autotune-no-cudagraphs: inductor's slower-to-compile, tuned mode.
For each: compile seconds (first epoch minus the median of the later ones; with inductor's caches
cold, then warm, as a second job on the same machine finds them), the median epoch
seconds of the later epochs, the speed-up against eager, whether two runs from the same seed end
with bit-identical weights (on this machine), and the largest weight difference to eager.
Adoption rule (the throughput issue): >= 1.3x faster, bit-reproducible, compile time repaid within
one training run (about 49 epochs for the base model).

    PYTHONPATH=. python benchmarks/train_step.py --raw ../shared/data/mnist/raw --epochs 4 --threads 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from bgbias.colour.datasets import build_biased
from bgbias.config import dataset_slice, validate_config
from bgbias.models import LeNet, image_tensor
from bgbias.storage import read_split

CONFIG = validate_config({})
BASE_EPOCHS = 49  # the base model's epochs on this machine (seed 0, default config)
VARIANTS = {  # name: (memory format, torch.compile mode or None)
    "eager": (torch.contiguous_format, None),
    "channels_last": (torch.channels_last, None),
    "compile": (torch.contiguous_format, "default"),
    "compile+max-autotune-no-cudagraphs": (torch.contiguous_format, "max-autotune-no-cudagraphs"),
}


def train(images: torch.Tensor, labels: torch.Tensor, *, variant: str, epochs: int, seed: int) -> tuple[list[float], dict]:
    """Epoch seconds and final weights of the plain loop under `variant`."""
    layout, mode = VARIANTS[variant]
    torch.manual_seed(seed)
    model = LeNet(in_channels=3, dropout=CONFIG["train"]["dropout"]).to(memory_format=layout)
    step_model = torch.compile(model, mode=mode) if mode else model
    spec = CONFIG["train"]
    optimiser = torch.optim.SGD(model.parameters(), lr=spec["lr"], momentum=spec["momentum"])
    order = torch.Generator().manual_seed(seed)
    seconds = []
    for _ in range(epochs):
        started = time.perf_counter()
        for index in torch.randperm(len(labels), generator=order).split(spec["batch_size"]):
            x = (images[index].float() / 255).contiguous(memory_format=layout)
            loss = F.cross_entropy(step_model(x), labels[index])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        seconds.append(time.perf_counter() - started)
    return seconds, {name: value.detach().clone() for name, value in model.state_dict().items()}


def largest_difference(first: dict, second: dict) -> float:
    return max(float((first[name].float() - second[name].float()).abs().max()) for name in first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", type=Path, default=Path("../shared/data/mnist/raw"), help="folder with the MNIST .gz files")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run (the first carries the compile time)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the workflow's training jobs use 1)")
    parser.add_argument("--images", type=int, default=None, help="only the first N training images (a smoke run)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error(f"--epochs {args.epochs}: need at least 2 (the first one carries the compile time)")
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        biased = Path(tmp) / "biased.h5"
        build_biased(biased, raw_dir=args.raw, dataset_config=dataset_slice(CONFIG), bias_config=CONFIG["bias"], seed=0)
        train_split = read_split(biased, "train")
    images = image_tensor(train_split.images[: args.images], torch.device("cpu"))
    labels = torch.as_tensor(train_split.labels[: args.images])
    load = os.getloadavg()[0]
    rows, eager_weights, eager_epoch = [], None, None
    for variant in args.variants:
        seconds, weights = train(images, labels, variant=variant, epochs=args.epochs, seed=0)
        again_seconds, again = train(images, labels, variant=variant, epochs=args.epochs, seed=0)
        epoch = statistics.median(seconds[1:])
        if variant == "eager":
            eager_weights, eager_epoch = weights, epoch
        compile_seconds = max(seconds[0] - epoch, 0.0)  # first run: inductor's caches cold (for this variant)
        warm_compile = max(again_seconds[0] - epoch, 0.0)  # the rerun finds them on disk
        speedup = eager_epoch / epoch if eager_epoch else float("nan")
        saved = BASE_EPOCHS * (eager_epoch - epoch) if eager_epoch else float("nan")
        rows.append([
            variant, f"{compile_seconds:.1f} / {warm_compile:.1f}", f"{epoch:.2f}", f"{speedup:.2f}x",
            "yes" if largest_difference(weights, again) == 0 else "no",
            f"{largest_difference(weights, eager_weights):.1e}" if eager_weights else "-",
            "-" if variant == "eager" else "yes" if saved > compile_seconds else "no",
        ])
        print(f"  {variant}: epochs {[round(s, 2) for s in seconds]}", flush=True)
    print(f"\n{len(labels)} images per epoch, batch {CONFIG['train']['batch_size']}, {args.threads} thread(s), "
          f"{args.epochs} epochs per run; load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end\n")
    print("| variant | compile s (cold / warm cache) | epoch s (median after the first) | vs eager | bit-identical rerun "
          "| max weight diff to eager | compile repaid in 49 epochs |")
    print("|---|---:|---:|---:|---|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
