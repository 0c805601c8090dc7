import os
import re
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)

from bgbias.adversarial.attacks import attack_config_slice
from bgbias.code_inputs import import_closure
from bgbias.config import ConfigError, dataset_slice, paired_train_slice, validate_config
from bgbias.grid import BASE_MODEL, GREY_MODEL, MNIST_RAW, Grid
from bgbias.mnist import MNIST_MD5

try:
    config.update(validate_config(config))
    GRID = Grid(config)
except (ConfigError, ValueError) as error:
    raise WorkflowError(str(error)) from None

MNIST_FILES = [f"{MNIST_RAW}/{name}" for name in MNIST_MD5]


def one_of(names):
    """A wildcard pattern matching exactly one of `names`."""
    return "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)) or "(?!)"


wildcard_constraints:
    seed=r"\d+",
    test_set=one_of(GRID.test_sets),
    paired=one_of(GRID.paired),
    model=one_of(GRID.models),


def code(script):
    """The bgbias modules the adapter `workflow_scripts/<script>.py` imports, directly or not, as inputs (paths
    relative to the working directory): editing one reruns exactly the jobs that run it."""
    root = Path(workflow.basedir)
    return [os.path.relpath(root / path) for path in import_closure(f"workflow_scripts/{script}.py", root)]


def test_mode(wildcards):
    return GRID.test_sets[wildcards.test_set]


def paired_cell(wildcards):
    return GRID.paired[wildcards.paired]


def dataset_params():
    """The config slice every coloured dataset depends on."""
    return dataset_slice(config)


def paired_train_params():
    """The paired config slice that paired training depends on (not the grid lists or K)."""
    return paired_train_slice(config)


def generation_mem_mb(split):
    """Memory (MB) of a job that colours the official `split`: the images in RGB a few times over, plus Python."""
    count = config["mnist"][f"{split}_size"] or {"train": 60000, "test": 10000}[split]
    return 300 + count * 28 * 28 * 3 * 4 // 1_000_000


def gpu_count():
    """GPUs a training or attack job asks for: one, unless the config says `device: cpu`."""
    return 0 if config["device"] == "cpu" else 1


def grey_params():
    """The config slice the grey MNIST dataset depends on."""
    return {"mnist": dataset_slice(config)["mnist"]}


def attack_params(wildcards):
    """The config slice an adversarial set depends on: the attacked subset sizes, and its kind's settings."""
    return attack_config_slice(config["adversarial"], wildcards.attack)
