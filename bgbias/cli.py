"""The `bgbias` command line: every workflow stage without Snakemake.

Each subcommand calls the same `bgbias.stages` function as the workflow's rule. Settings come from
a config file (`--config`, default: the schema defaults) validated like the workflow's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bgbias import __version__, stages
from bgbias.config import ConfigError, data_slice, load_config, paired_train_slice
from bgbias.logs import log_to
from bgbias.mnist import MnistError
from bgbias.models import CheckpointError
from bgbias.storage import DatasetFileError

USER_ERRORS = (ConfigError, MnistError, DatasetFileError, CheckpointError, FileNotFoundError)


def config_of(args: argparse.Namespace) -> dict:
    """The validated config of `--config` (schema defaults without it), with --seed / --device applied."""
    overrides = {key: getattr(args, key) for key in ("seed", "device") if getattr(args, key, None) is not None}
    if args.config and not Path(args.config).is_file():
        raise ConfigError(f"config file {args.config} does not exist")
    return load_config([args.config] if args.config else [], overrides)


def run_fetch(args: argparse.Namespace) -> None:
    config = config_of(args)
    stages.fetch(args.raw, args.mirror or config["mnist"]["mirror"], config["mnist"]["md5"])


def run_generate(args: argparse.Namespace) -> None:
    config = config_of(args)
    if args.kind == "biased":
        stages.build_biased(args.out, args.raw, data_slice(config), config["bias"], config["seed"])
    else:
        if not args.mode:
            raise SystemExit("bgbias generate test needs --mode (e.g. pool, noise, solid:black)")
        stages.build_test(args.out, args.raw, data_slice(config), args.mode, config["seed"])


def run_train(args: argparse.Namespace) -> None:
    config = config_of(args)
    history = args.history or Path(args.out).with_suffix(".csv")
    stages.train_base(args.data, args.out, history, config["train"], config["device"], config["seed"], args.threads)


def run_paired_train(args: argparse.Namespace) -> None:
    config = config_of(args)
    history = args.history or Path(args.out).with_suffix(".csv")
    stages.paired_train(
        args.base, args.data, args.out, history, paired_train_slice(config), config["device"], config["seed"], args.threads
    )


def run_evaluate(args: argparse.Namespace) -> None:
    config = config_of(args)
    stages.evaluate(args.model, args.data, args.out, config["color_pool"], config["device"], args.threads)


def run_plot(args: argparse.Namespace) -> None:
    title = args.title or Path(args.input).stem
    if args.kind == "confusion":
        stages.plot_confusion(args.input, args.out, Path(args.out).with_suffix(".csv"), title)
    else:
        stages.plot_training(args.input, args.out, title)


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="bgbias",
        description="Background-bias experiments on coloured MNIST: each workflow stage as a command.",
    )
    main_parser.add_argument("--version", action="version", version=f"bgbias {__version__}")
    main_parser.add_argument("--log", type=Path, help="also write the log to this file")
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, handler, config: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        if config:
            sub.add_argument("--config", type=Path, help="YAML config (keys of schemas/config.schema.yaml); default: the schema defaults")
            sub.add_argument("--seed", type=int, help="override the config's seed")
            sub.add_argument("--device", choices=["auto", "cpu", "cuda"], help="override the config's device")
        return sub

    fetch = command("fetch-mnist", "Place the four MNIST .gz files in a folder and verify their MD5s.", run_fetch)
    fetch.add_argument("--raw", type=Path, required=True, help="destination folder (e.g. resources/mnist/MNIST/raw)")
    fetch.add_argument("--mirror", type=Path, help="copy from this folder instead of downloading")

    generate = command("generate", "Generate a coloured dataset as HDF5.", run_generate)
    generate.add_argument("kind", choices=["biased", "test"], help="biased: train/dev of the bias config; test: one test set")
    generate.add_argument("--raw", type=Path, required=True, help="folder with the four MNIST .gz files")
    generate.add_argument("--out", type=Path, required=True, help="HDF5 file to write")
    generate.add_argument("--mode", help="background mode of a test set (pool, noise, strips, solid:black, ...)")

    for name, help_text, handler in (
        ("train", "Train a LeNet on the train split of a dataset, early stopping on its dev split.", run_train),
        ("paired-train", "Fine-tune a model on the (x, x') pairs of a paired dataset.", run_paired_train),
    ):
        sub = command(name, help_text, handler)
        if name == "paired-train":
            sub.add_argument("--base", type=Path, required=True, help="checkpoint of the model to fine-tune")
        sub.add_argument("--data", type=Path, required=True, help="HDF5 dataset with train and dev splits")
        sub.add_argument("--out", type=Path, required=True, help="checkpoint to write (.pt)")
        sub.add_argument("--history", type=Path, help="per-epoch CSV log (default: next to --out)")
        sub.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1)")

    evaluate = command("evaluate", "Accuracy, per-digit, per-colour accuracy and confusion matrix as JSON.", run_evaluate)
    evaluate.add_argument("--model", type=Path, required=True, help="checkpoint (.pt)")
    evaluate.add_argument("--data", type=Path, required=True, help="HDF5 dataset with a test split")
    evaluate.add_argument("--out", type=Path, required=True, help="metrics JSON to write")
    evaluate.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1)")

    plot = command("plot", "Draw a confusion matrix (from metrics JSON) or a training curve (from the CSV log).", run_plot, config=False)
    plot.add_argument("kind", choices=["confusion", "training"])
    plot.add_argument("--input", type=Path, required=True, help="metrics JSON (confusion) or per-epoch CSV (training)")
    plot.add_argument("--out", type=Path, required=True, help="PNG to write")
    plot.add_argument("--title", help="figure title")
    return main_parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        with log_to(args.log):
            args.handler(args)
    except USER_ERRORS as error:
        raise SystemExit(f"bgbias: {error}") from None
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
