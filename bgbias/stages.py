"""The table of stages: for every stage of the workflow, the function that runs it and the settings it takes from a
run's config. The rules pass a stage's settings through `params: settings=` (`rules/common.smk: stage_settings`), the
adapters in workflow_scripts/ call `run_stage`, and the `bgbias` CLI calls `Stage.call`: one wiring for both front
doors. Loads without torch (the Snakefile reads it); a stage's function is imported when it runs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

from bgbias.attacks import attack_config_slice
from bgbias.colour.datasets import BiasSpec
from bgbias.config import dataset_slice, paired_train_slice, recorded, selection_slice

Settings = Callable[[dict, dict], dict]  # (validated run config, the job's choices such as its attack) -> keywords


@dataclass(frozen=True)
class Stage:
    """One stage: `function` ("module:name") called with its files, `settings(config, choices)`, and the job's seed
    and torch threads when it takes them."""

    function: str
    settings: Settings
    seeded: bool = True
    threaded: bool = True

    @property
    def source(self) -> str:
        """The file of the function's module, relative to the workflow folder (a code input of the stage's jobs)."""
        return self.function.partition(":")[0].replace(".", "/") + ".py"

    def run_function(self) -> Callable[..., None]:
        module, _, name = self.function.partition(":")
        return getattr(importlib.import_module(module), name)

    def run(self, *files: Any, settings: dict, seed: int, threads: int, **named: Any) -> None:
        """Run the stage on `files` and `named` arguments with `settings`, and the seed and threads it takes."""
        extra = {**({"seed": seed} if self.seeded else {}), **({"threads": threads} if self.threaded else {})}
        self.run_function()(*files, **named, **settings, **extra)

    def call(self, config: dict, *files: Any, seed: int, threads: int, choices: dict | None = None, **named: Any) -> None:
        """Run the stage with the settings it takes from `config` (the CLI's way)."""
        self.run(*files, settings=self.settings(config, choices or {}), seed=seed, threads=threads, **named)


def with_device(settings: Callable[[dict, dict], dict]) -> Settings:
    """`settings` plus the run's device (for the stages that run torch)."""
    return lambda config, choices: {**settings(config, choices), "device": config["device"]}


def training(config: dict) -> dict:
    return {"model_name": config["model"], "train_config": recorded(config["train"], "train")}


STAGES: dict[str, Stage] = {
    "biased_dataset": Stage(
        "bgbias.colour.datasets:build_biased",
        lambda config, _: {"dataset_config": dataset_slice(config), "bias_config": recorded(config["bias"], "bias")},
    ),
    "test_dataset": Stage("bgbias.colour.datasets:build_test", lambda config, _: {"dataset_config": dataset_slice(config)}),
    "paired_dataset": Stage(
        "bgbias.colour.pairs:build_paired",
        lambda config, _: {
            "dataset_config": dataset_slice(config), "copies": config["paired"]["copies"],
            "unbiased_pairs": config["paired"]["unbiased_pairs"],
        },
    ),
    "grey_dataset": Stage(
        "bgbias.adversarial.grey:build_grey", lambda config, _: {"dataset_config": {"mnist": dataset_slice(config)["mnist"]}},
        threaded=False,
    ),
    "train_base": Stage("bgbias.colour.base_model:train_base", with_device(lambda config, _: training(config))),
    "train_method": Stage(
        "bgbias.methods.stage:train_method",
        with_device(lambda config, choices: {
            **training(config), "method": choices["method"],
            "settings": recorded(config[choices["method"]], choices["method"]),
        }),
    ),
    "paired_train": Stage(
        "bgbias.colour.paired_training:paired_train",
        with_device(lambda config, _: {"paired_config": paired_train_slice(config)}),
    ),
    "rank_images": Stage(
        "bgbias.colour.selection:rank_images",
        with_device(lambda config, _: {"selection_config": selection_slice(config)}),
    ),
    "evaluate": Stage(
        "bgbias.colour.evaluation:evaluate",
        with_device(lambda config, _: {
            "color_pool": config["color_pool"], "biased_digits": list(BiasSpec.of(config["bias"]).digits()),
        }),
        seeded=False,
    ),
    "train_grey": Stage(
        "bgbias.adversarial.forgetting:train_grey",
        with_device(lambda config, _: {"train_config": recorded(config["adversarial"]["train"], "adversarial.train")}),
    ),
    "attack": Stage(
        "bgbias.adversarial.sets:attack",
        with_device(lambda config, choices: {
            "name": choices["attack"], "attack_config": attack_config_slice(config["adversarial"], choices["attack"]),
        }),
    ),
    "adversarial_finetune": Stage(
        "bgbias.adversarial.forgetting:fine_tune_adversarial",
        with_device(lambda config, _: {
            "fine_tune_config": recorded(config["adversarial"]["fine_tune"], "adversarial.fine_tune"),
        }),
    ),
    "evaluate_adversarial": Stage(
        "bgbias.adversarial.forgetting:evaluate_adversarial", with_device(lambda config, choices: {"name": choices["model"]}),
    ),
}


def run_stage(name: str, job: Any, *files: Any, **named: Any) -> None:
    """Run stage `name` from a Snakemake job (`snakemake` in an adapter): its files, the settings its rule passes
    (`params.settings`), the seed of its `{seed}` wildcard and its threads."""
    STAGES[name].run(*files, settings=job.params.settings, seed=int(job.wildcards.seed), threads=job.threads, **named)
