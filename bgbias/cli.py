"""The `bgbias` command line: subcommands that run library functions outside Snakemake."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bgbias.config import ConfigError, load_config
from bgbias.plan import format_plan, plan

DEFAULT_CONFIG = Path("config.yaml")


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
    paths = [DEFAULT_CONFIG] if DEFAULT_CONFIG.is_file() else []
    return load_config([*paths, *args.configfile], parse_overrides(args.config))


def run_plan(args: argparse.Namespace) -> None:
    """Print every dataset and model the grid creates, with estimated sizes."""
    print(format_plan(plan(config_from(args))))


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--configfile", nargs="+", type=Path, default=[], metavar="FILE",
        help="config files merged over ./config.yaml, in order (as for snakemake)",
    )
    parser.add_argument(
        "--config", nargs="+", default=[], metavar="KEY=VALUE",
        help="values merged over the config files, e.g. 'paired={copies: 5}' (as for snakemake)",
    )


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="bgbias", description=__doc__)
    commands = main_parser.add_subparsers(dest="command", required=True)
    plan_parser = commands.add_parser(
        "plan", help="list the datasets and models the configured grid creates, with estimated disk sizes",
        description="Before running anything: every dataset and model the grid creates, its estimated size, the total.",
    )
    add_config_arguments(plan_parser)
    plan_parser.set_defaults(run=run_plan)
    return main_parser


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; configuration errors print one line per problem and exit with status 2."""
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except ConfigError as error:
        print(f"bgbias {args.command}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
