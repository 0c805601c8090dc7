import re
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)

from bgbias.attacks import attack_names
from bgbias.config import ConfigError, validate_config
from bgbias.mnist import MNIST_MD5

try:
    config.update(validate_config(config))
except ConfigError as error:
    raise WorkflowError(str(error)) from None


SEEDS = config.get("seeds", [config["seed"]])
MNIST_RAW = "resources/mnist/MNIST/raw"
MNIST_FILES = [f"{MNIST_RAW}/{name}" for name in MNIST_MD5]


def slug(mode):
    """A file-name-safe form of a mode name (solid:1,2,3 -> solid-1_2_3)."""
    return mode.replace(":", "-").replace(",", "_")


TEST_SETS = {slug(mode): mode for mode in [*config["test_modes"], *config["colour_tests"]]}
MODELS = ["base"]


def library(*modules):
    """The bgbias source files a rule runs, as inputs, so that editing them reruns the rule."""
    return [str(Path(workflow.basedir) / "bgbias" / f"{module}.py") for module in modules]


def test_mode(wildcards):
    return TEST_SETS[wildcards.test_set]


def dataset_params():
    """The config slice every coloured dataset depends on."""
    return {
        "mnist": {k: v for k, v in config["mnist"].items() if k != "mirror"},
        "color_pool": config["color_pool"],
        "foreground": config["foreground"],
        "modes": config["modes"],
    }


def gpu_count():
    """GPUs a training job asks for: one when the config asks for CUDA."""
    return 1 if config["device"] == "cuda" else 0


ATTACKS = attack_names(config["adversarial"])
ADVERSARIAL_MODELS = ["grey", *ATTACKS]
ADVERSARIAL_TARGETS = [
    "results/tables/forgetting.csv",
    "results/tables/forgetting.md",
    "results/tables/attacks.csv",
    "results/tables/attacks.md",
    "results/figures/forgetting.png",
]


def one_of(names):
    """A wildcard pattern matching exactly one of `names`."""
    return "|".join(re.escape(name) for name in names)


def grey_params():
    """The config slice the grey MNIST dataset depends on."""
    return {"mnist": {k: v for k, v in config["mnist"].items() if k != "mirror"}}


def attack_params():
    """The config slice an adversarial set depends on (not the lists of strengths, not the training)."""
    return {
        k: v
        for k, v in config["adversarial"].items()
        if k not in ("fgsm_epsilons", "cw_c", "train", "fine_tune")
    }


def all_targets():
    return [
        *ADVERSARIAL_TARGETS,
        *expand("results/s{seed}/models/{model}.pt", seed=SEEDS, model=MODELS),
        *expand("results/s{seed}/figures/training/{model}.png", seed=SEEDS, model=MODELS),
        *expand(
            "results/s{seed}/figures/confusion/{model}/{test_set}.png",
            seed=SEEDS,
            model=MODELS,
            test_set=TEST_SETS,
        ),
    ]
