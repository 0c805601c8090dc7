"""The `bgbias` command line: every workflow stage without Snakemake.

Each subcommand calls the same stage function as the workflow's rule. Settings are read as
Snakemake reads them: ./config.yaml when present, then `--configfile` files, then `--config KEY=VALUE`
values, validated against the schema.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bgbias import __version__
from bgbias.grid import ERM, PAIRED, RESULTS
from bgbias.methods import METHODS

DEFAULT_CONFIG = Path("config.yaml")
CHECKPOINT = "a model checkpoint (.pt)"


def parse_overrides(entries: list[str]) -> dict:
    """`KEY=VALUE` pairs as given to `snakemake --config` (values are parsed by the schema's types)."""
    from bgbias.config import ConfigError

    overrides = {}
    for entry in entries:
        key, separator, value = entry.partition("=")
        if not separator or not key:
            raise ConfigError(f"config: {entry!r} is not allowed; allowed: KEY=VALUE, as for snakemake --config")
        overrides[key] = value
    return overrides


def config_from(args: argparse.Namespace) -> dict:
    """The validated config: config.yaml (when present), then --configfile files, then --config values."""
    from bgbias.config import ConfigError, load_config

    missing = [str(path) for path in args.configfile if not Path(path).is_file()]
    if missing:
        raise ConfigError(f"config file {', '.join(missing)} does not exist")
    paths = [DEFAULT_CONFIG] if DEFAULT_CONFIG.is_file() else []
    return load_config([*paths, *args.configfile], parse_overrides(args.config))


def path_argument(text: str) -> Path:
    """A path option's value (argparse type): any but the empty one."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path is not allowed")
    return Path(text)


def at_least_one(text: str) -> int:
    """An integer option of at least 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed; allowed: an integer >= 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed; allowed: an integer >= 1")
    return value


def expect(path: Path, kinds: tuple[str, ...], expected: str) -> None:
    """Refuse an input file of another kind than `kinds` (storage.KINDS) before any work."""
    from bgbias.storage import expect_kind

    expect_kind(path, kinds, expected)


def written(args: argparse.Namespace) -> list[Path]:
    """The files a subcommand writes: named by its options, or beside --out (the history, the confusion CSV)."""
    beside = args.command in ("train", "paired-train") and args.history is None or (
        args.command == "plot" and args.kind == "confusion"
    )
    named = [getattr(args, option, None) for option in ("out", "history", "log")]
    return [Path(path) for path in [*named, Path(args.out).with_suffix(".csv") if beside else None] if path]


# Each subcommand imports what it runs when it runs, so that `bgbias --help` and `bgbias plan` start fast.


def run_plan(args: argparse.Namespace) -> None:
    from bgbias.plan import format_plan, plan

    print(format_plan(plan(config_from(args))))


def run_fetch(args: argparse.Namespace) -> None:
    from bgbias.mnist import fetch

    config = config_from(args)
    fetch(args.raw, args.mirror or config["mnist"]["mirror"], config["mnist"]["md5"])


def call_stage(name: str, config: dict, args: argparse.Namespace, *files, choices: dict | None = None, **named) -> None:
    """Run stage `name` of the stage table (as its workflow rule does) with the config's settings and seed."""
    from bgbias.stages import STAGES

    STAGES[name].call(config, *files, seed=config["seed"], threads=getattr(args, "threads", 1), choices=choices, **named)


def run_generate(args: argparse.Namespace) -> None:
    from bgbias.config import ConfigError, check_value

    config = config_from(args)
    if args.kind in ("test", "paired"):
        check_value("test_modes[]", args.mode, given_as="--mode")
    if args.kind == "paired":
        expect(args.biased, ("biased",), "a biased dataset (bgbias generate biased)")
        check_value("paired.augment_fractions[]", args.fraction, given_as="--fraction")
        check_value("paired.selections[]", args.selection, given_as="--selection")
        if (args.selection == "random") != (args.ranking is None):
            raise ConfigError("--ranking is needed with a --selection other than random, and only then")
    choice = {
        "test": dict(mode=args.mode),
        "paired": dict(biased=args.biased, mode=args.mode, fraction=args.fraction, selection=args.selection,
                       ranking=args.ranking),
    }.get(args.kind, {})
    call_stage(f"{args.kind}_dataset", config, args, args.out, raw_dir=args.raw, **choice)


def run_train(args: argparse.Namespace) -> None:
    config = config_from(args)
    history = args.history or Path(args.out).with_suffix(".csv")
    if args.grey:
        expect(args.data, ("grey",), "a grey dataset (bgbias generate grey)")
        call_stage("train_grey", config, args, args.data, model=args.out, history=history)
        return
    expect(args.data, ("biased",), "a biased dataset with train and dev splits (bgbias generate biased)")
    if args.method in (None, ERM):
        call_stage("train_base", config, args, args.data, model=args.out, history=history)
    else:
        call_stage("train_method", config, args, args.data, model=args.out, history=history,
                   choices={"method": args.method})


def run_attack(args: argparse.Namespace) -> None:
    from bgbias.attacks import Attack
    from bgbias.config import ConfigError, check_value

    config = config_from(args)
    expect(args.model, ("checkpoint",), CHECKPOINT)
    expect(args.grey, ("grey",), "a grey dataset (bgbias generate grey)")
    try:
        kind = Attack.parse(args.attack).kind
    except ValueError as error:
        raise ConfigError(f"--attack {error}") from None
    check_value(f"adversarial.{kind.strengths_key}[]", Attack.parse(args.attack).strength, given_as=f"--attack {args.attack}")
    call_stage("attack", config, args, args.model, args.grey, output=args.out, choices={"attack": args.attack})


def run_paired_train(args: argparse.Namespace) -> None:
    config = config_from(args)
    expect(args.base, ("checkpoint",), CHECKPOINT)
    expect(args.data, ("paired",), "a paired dataset (bgbias generate paired)")
    history = args.history or Path(args.out).with_suffix(".csv")
    call_stage("paired_train", config, args, args.base, args.data, model=args.out, history=history)


def run_evaluate(args: argparse.Namespace) -> None:
    config = config_from(args)
    expect(args.model, ("checkpoint",), CHECKPOINT)
    expect(args.data, ("test",), "a test set (bgbias generate test)")
    call_stage("evaluate", config, args, args.model, [args.data], outputs=[args.out])


def run_verify(args: argparse.Namespace) -> None:
    from bgbias.provenance import verify_run

    checked, problems = verify_run(args.paths)
    for line in problems:
        print(line)
    print(f"{checked} files checked, {len(problems)} problem(s)" if problems else f"{checked} files checked: all verified")
    if problems:
        raise SystemExit(1)


def run_plot(args: argparse.Namespace) -> None:
    kinds, expected = {
        "confusion": (("json",), "a metrics JSON (bgbias evaluate)"),
        "training": (("text",), "a per-epoch CSV log (bgbias train)"),
        "samples": (("biased", "test", "paired"), "a coloured dataset (biased, test or paired)"),
    }[args.kind]
    expect(args.input, kinds, expected)
    title = args.title or Path(args.input).stem
    if args.kind == "confusion":
        from bgbias.colour.plots import plot_confusion

        plot_confusion(args.input, png=args.out, csv=Path(args.out).with_suffix(".csv"), title=title)
    elif args.kind == "training":
        from bgbias.figures import plot_training

        plot_training(args.input, args.out, title)
    else:
        from bgbias.colour.plots import plot_samples

        plot_samples(args.input, args.out)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--configfile", nargs="+", type=path_argument, default=[], metavar="FILE",
        help="config files merged over ./config.yaml, in order (as for snakemake)",
    )
    parser.add_argument(
        "--config", nargs="+", default=[], metavar="KEY=VALUE",
        help="values merged over the config files, e.g. seed=1 'train={epochs: 3}' (as for snakemake)",
    )


def add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=at_least_one, default=1, help="CPU threads for torch (default 1)")


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="bgbias", description=__doc__)
    main_parser.add_argument("--version", action="version", version=f"bgbias {__version__}")
    main_parser.add_argument("--log", type=path_argument, help="also write the log to this file")
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
    fetch.add_argument("--raw", type=path_argument, required=True, help="destination folder (e.g. resources/mnist/MNIST/raw)")
    fetch.add_argument("--mirror", type=path_argument, help="copy from this folder instead of downloading")

    generate = command("generate", "Generate a coloured dataset as HDF5.", run_generate)
    generate.add_argument(
        "kind", choices=["biased", "test", "paired", "grey"],
        help="biased: train/dev of the bias config; test: one test set; paired: the K versions of a biased set; "
        "grey: plain grey MNIST (train/dev/test) for the adversarial experiment",
    )
    generate.add_argument("--raw", type=path_argument, required=True, help="folder with the four MNIST .gz files")
    generate.add_argument("--out", type=path_argument, required=True, help="HDF5 file to write")
    generate.add_argument("--mode", default="pool", help="background mode of a test or paired set (default pool)")
    generate.add_argument("--biased", type=path_argument, help="paired: the biased dataset file to augment")
    generate.add_argument("--fraction", type=float, default=1.0, help="paired: share of biased images augmented")
    generate.add_argument(
        "--selection", default="random",
        help="paired: which biased images are augmented when --fraction < 1 (random, or the strategy of --ranking)",
    )
    generate.add_argument("--ranking", type=path_argument, help="paired: the ranking CSV of the selection (bgbias rank)")
    add_threads(generate)

    for name, help_text, run in (
        ("train", "Train a model on the train split of a dataset with a method (default erm), selecting it as the "
         "method does (early stopping on the dev split; lff: the last epoch of a fixed budget).", run_train),
        ("paired-train", "Fine-tune a model on the (x, x') pairs of a paired dataset.", run_paired_train),
    ):
        sub = command(name, help_text, run)
        if name == "paired-train":
            sub.add_argument("--base", type=path_argument, required=True, help="checkpoint of the model to fine-tune")
        sub.add_argument("--data", type=path_argument, required=True, help="HDF5 dataset with train and dev splits")
        sub.add_argument("--out", type=path_argument, required=True, help="checkpoint to write (.pt)")
        sub.add_argument("--history", type=path_argument, help="per-epoch CSV log (default: next to --out)")
        if name == "train":
            trained = [method for method in METHODS if method != PAIRED]
            what = sub.add_mutually_exclusive_group()
            what.add_argument("--method", choices=trained, metavar="METHOD",
                              help=f"training method, with its settings block of the config: {', '.join(trained)} "
                              f"(default {ERM}: the base model); {PAIRED} is `bgbias paired-train`")
            what.add_argument("--grey", action="store_true", help="train the 1-channel LeNet on a grey dataset (adversarial.train settings)")
        add_threads(sub)

    attack = command("attack", "Write an adversarial set (FGSM or CW-L2) of the grey model on a grey dataset.", run_attack)
    attack.add_argument("--model", type=path_argument, required=True, help="grey LeNet checkpoint (bgbias train --grey)")
    attack.add_argument("--grey", type=path_argument, required=True, help="grey dataset (bgbias generate grey)")
    attack.add_argument("--attack", required=True, help="fgsm-<epsilon> or cw-<c>, e.g. fgsm-0.1, cw-5")
    attack.add_argument("--out", type=path_argument, required=True, help="HDF5 file to write")
    add_threads(attack)

    evaluate = command("evaluate", "Accuracy, per-digit, per-colour accuracy and confusion matrix as JSON.", run_evaluate)
    evaluate.add_argument("--model", type=path_argument, required=True, help="checkpoint (.pt)")
    evaluate.add_argument("--data", type=path_argument, required=True, help="HDF5 dataset with a test split")
    evaluate.add_argument("--out", type=path_argument, required=True, help="metrics JSON to write")
    add_threads(evaluate)

    verify = command(
        "verify", "Check a finished run: every artifact against its checksum record and its inputs; missing outputs.",
        run_verify, config=False,
    )
    verify.add_argument("paths", nargs="*", type=path_argument, default=[Path(RESULTS)],
                        help=f"run folders or files (default {RESULTS})")

    plot = command(
        "plot", "Draw a confusion matrix (metrics JSON), a training curve (CSV log) or a sample grid (dataset HDF5).",
        run_plot, config=False,
    )
    plot.add_argument("kind", choices=["confusion", "training", "samples"])
    plot.add_argument("--input", type=path_argument, required=True, help="metrics JSON, per-epoch CSV or dataset HDF5")
    plot.add_argument("--out", type=path_argument, required=True, help="PNG to write")
    plot.add_argument("--title", help="figure title (confusion, training)")
    return main_parser


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; a bad config or input prints one line and exits with status 2."""
    from bgbias.logs import USER_ERRORS, log_to

    args = parser().parse_args(argv)
    if args.command == "generate" and args.kind == "paired" and args.biased is None:
        parser().error("generate paired needs --biased (the biased dataset file)")
    try:
        if outputs := written(args):
            from bgbias.storage import check_output

            for path in outputs:
                check_output(path)
        with log_to(args.log, exit_on_user_error=False):
            args.run(args)
    except USER_ERRORS as error:
        print(f"bgbias {args.command}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
