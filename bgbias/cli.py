"""The `bgbias` command line: every workflow stage without Snakemake.

Each subcommand calls the same `bgbias.stages` function as the workflow's rule. Settings are read as
Snakemake reads them: ./config.yaml when present, then `--configfile` files, then `--config KEY=VALUE`
values, validated against the schema.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bgbias import __version__, model_stages, stages
from bgbias.config import ConfigError, attack_slice, data_slice, load_config, paired_train_slice
from bgbias.logs import log_to
from bgbias.mnist import MnistError
from bgbias.models import CheckpointError
from bgbias.plan import format_plan, plan
from bgbias.storage import DatasetFileError

DEFAULT_CONFIG = Path("config.yaml")
USER_ERRORS = (ConfigError, MnistError, DatasetFileError, CheckpointError, FileNotFoundError)


def parse_overrides(entries: list[str]) -> dict:
    """`KEY=VALUE` pairs as given to `snakemake --config` (values are parsed by the schema's types)."""
    overrides = {}
    for entry in entries:
        key, separator, value = entry.partition("=")
        if not separator or not key:
            raise ConfigError(f"config: {entry!r} is not allowed; allowed: KEY=VALUE, as for snakemake --config")
        overrides[key] = value
    return overrides


def config_from(args: argparse.Namespace) -> dict:
    """The validated config: config.yaml (when present), then --configfile files, then --config values."""
    missing = [str(path) for path in args.configfile if not Path(path).is_file()]
    if missing:
        raise ConfigError(f"config file {', '.join(missing)} does not exist")
    paths = [DEFAULT_CONFIG] if DEFAULT_CONFIG.is_file() else []
    return load_config([*paths, *args.configfile], parse_overrides(args.config))


def run_plan(args: argparse.Namespace) -> None:
    print(format_plan(plan(config_from(args))))


def run_fetch(args: argparse.Namespace) -> None:
    config = config_from(args)
    stages.fetch(args.raw, args.mirror or config["mnist"]["mirror"], config["mnist"]["md5"])


def run_generate(args: argparse.Namespace) -> None:
    config = config_from(args)
    data, seed = data_slice(config), config["seed"]
    if args.kind == "biased":
        stages.build_biased(args.out, args.raw, data, config["bias"], seed)
    elif args.kind == "grey":
        stages.build_grey(args.out, args.raw, data, seed)
    elif args.kind == "test":
        stages.build_test(args.out, args.raw, data, args.mode, seed)
    else:
        stages.build_paired(
            args.out, args.biased, args.raw, data, args.mode, args.fraction, config["paired"]["copies"], seed, args.threads
        )


def run_train(args: argparse.Namespace) -> None:
    config = config_from(args)
    history = args.history or Path(args.out).with_suffix(".csv")
    if args.grey:
        train, stage = config["adversarial"]["train"], model_stages.train_grey
    else:
        train, stage = config["train"], model_stages.train_base
    stage(args.data, args.out, history, train, config["device"], config["seed"], args.threads)


def run_attack(args: argparse.Namespace) -> None:
    config = config_from(args)
    model_stages.attack(
        args.model, args.grey, args.out, args.attack, attack_slice(config, args.attack), config["device"],
        config["seed"], args.threads,
    )


def run_paired_train(args: argparse.Namespace) -> None:
    config = config_from(args)
    history = args.history or Path(args.out).with_suffix(".csv")
    model_stages.paired_train(
        args.base, args.data, args.out, history, paired_train_slice(config), config["device"], config["seed"], args.threads
    )


def run_evaluate(args: argparse.Namespace) -> None:
    config = config_from(args)
    model_stages.evaluate(args.model, args.data, args.out, config["color_pool"], config["device"], args.threads)


def run_plot(args: argparse.Namespace) -> None:
    title = args.title or Path(args.input).stem
    if args.kind == "confusion":
        stages.plot_confusion(args.input, args.out, Path(args.out).with_suffix(".csv"), title)
    elif args.kind == "training":
        stages.plot_training(args.input, args.out, title)
    else:
        stages.plot_samples(args.input, args.out)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--configfile", nargs="+", type=Path, default=[], metavar="FILE",
        help="config files merged over ./config.yaml, in order (as for snakemake)",
    )
    parser.add_argument(
        "--config", nargs="+", default=[], metavar="KEY=VALUE",
        help="values merged over the config files, e.g. seed=1 'train={epochs: 3}' (as for snakemake)",
    )


def add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1)")


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="bgbias", description=__doc__)
    main_parser.add_argument("--version", action="version", version=f"bgbias {__version__}")
    main_parser.add_argument("--log", type=Path, help="also write the log to this file")
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, run, config: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(run=run)
        if config:
            add_config_arguments(sub)
        return sub

    command(
        "plan", "Before running anything: every dataset and model the grid creates, its estimated size, the total.",
        run_plan,
    )

    fetch = command("fetch-mnist", "Place the four MNIST .gz files in a folder and verify their MD5s.", run_fetch)
    fetch.add_argument("--raw", type=Path, required=True, help="destination folder (e.g. resources/mnist/MNIST/raw)")
    fetch.add_argument("--mirror", type=Path, help="copy from this folder instead of downloading")

    generate = command("generate", "Generate a coloured dataset as HDF5.", run_generate)
    generate.add_argument(
        "kind", choices=["biased", "test", "paired", "grey"],
        help="biased: train/dev of the bias config; test: one test set; paired: the K versions of a biased set; "
        "grey: plain grey MNIST (train/dev/test) for the adversarial experiment",
    )
    generate.add_argument("--raw", type=Path, required=True, help="folder with the four MNIST .gz files")
    generate.add_argument("--out", type=Path, required=True, help="HDF5 file to write")
    generate.add_argument("--mode", default="pool", help="background mode of a test or paired set (default pool)")
    generate.add_argument("--biased", type=Path, help="paired: the biased dataset file to augment")
    generate.add_argument("--fraction", type=float, default=1.0, help="paired: share of biased images augmented")
    add_threads(generate)

    for name, help_text, run in (
        ("train", "Train a LeNet on the train split of a dataset, early stopping on its dev split.", run_train),
        ("paired-train", "Fine-tune a model on the (x, x') pairs of a paired dataset.", run_paired_train),
    ):
        sub = command(name, help_text, run)
        if name == "paired-train":
            sub.add_argument("--base", type=Path, required=True, help="checkpoint of the model to fine-tune")
        sub.add_argument("--data", type=Path, required=True, help="HDF5 dataset with train and dev splits")
        sub.add_argument("--out", type=Path, required=True, help="checkpoint to write (.pt)")
        sub.add_argument("--history", type=Path, help="per-epoch CSV log (default: next to --out)")
        if name == "train":
            sub.add_argument("--grey", action="store_true", help="train the 1-channel LeNet on a grey dataset (adversarial.train settings)")
        add_threads(sub)

    attack = command("attack", "Write an adversarial set (FGSM or CW-L2) of the grey model on a grey dataset.", run_attack)
    attack.add_argument("--model", type=Path, required=True, help="grey LeNet checkpoint (bgbias train --grey)")
    attack.add_argument("--grey", type=Path, required=True, help="grey dataset (bgbias generate grey)")
    attack.add_argument("--attack", required=True, help="fgsm-<epsilon> or cw-<c>, e.g. fgsm-0.1, cw-5")
    attack.add_argument("--out", type=Path, required=True, help="HDF5 file to write")
    add_threads(attack)

    evaluate = command("evaluate", "Accuracy, per-digit, per-colour accuracy and confusion matrix as JSON.", run_evaluate)
    evaluate.add_argument("--model", type=Path, required=True, help="checkpoint (.pt)")
    evaluate.add_argument("--data", type=Path, required=True, help="HDF5 dataset with a test split")
    evaluate.add_argument("--out", type=Path, required=True, help="metrics JSON to write")
    add_threads(evaluate)

    plot = command(
        "plot", "Draw a confusion matrix (metrics JSON), a training curve (CSV log) or a sample grid (dataset HDF5).",
        run_plot, config=False,
    )
    plot.add_argument("kind", choices=["confusion", "training", "samples"])
    plot.add_argument("--input", type=Path, required=True, help="metrics JSON, per-epoch CSV or dataset HDF5")
    plot.add_argument("--out", type=Path, required=True, help="PNG to write")
    plot.add_argument("--title", help="figure title (confusion, training)")
    return main_parser


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; a bad config or input prints one line and exits with status 2."""
    args = parser().parse_args(argv)
    if args.command == "generate" and args.kind == "paired" and args.biased is None:
        parser().error("generate paired needs --biased (the biased dataset file)")
    try:
        with log_to(args.log, quiet_errors=USER_ERRORS):
            args.run(args)
    except USER_ERRORS as error:
        print(f"bgbias {args.command}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
