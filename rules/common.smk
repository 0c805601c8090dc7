import re
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)

from bgbias.adversarial import attack_names
from bgbias.config import ConfigError, attack_slice, data_slice, paired_train_slice, validate_config
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


def fraction_tag(fraction):
    """An augment fraction as it appears in file names (1.0 -> 1, 0.25 -> 0.25)."""
    return f"{fraction:g}"


TEST_SETS = {slug(mode): mode for mode in [*config["test_modes"], *config["colour_tests"]]}
COLOUR_TESTS = [slug(mode) for mode in config["colour_tests"]]
POOL_TEST_SET = "pool" if "pool" in TEST_SETS else None
AUGMENTS = {slug(mode): mode for mode in config["paired"]["augment_modes"]}
FRACTIONS = {fraction_tag(fraction): fraction for fraction in config["paired"]["augment_fractions"]}
if len(FRACTIONS) < len(config["paired"]["augment_fractions"]):
    raise WorkflowError(
        f"paired.augment_fractions {config['paired']['augment_fractions']} has values equal to 6 significant digits"
    )
PAIRED_SETS = [f"{augment}-f{fraction}" for augment in AUGMENTS for fraction in FRACTIONS]
DATASETS = ["biased", *(f"test/{name}" for name in TEST_SETS), *(f"paired/{name}" for name in PAIRED_SETS)]
MODELS = ["base", *(f"paired-{name}" for name in PAIRED_SETS)]


wildcard_constraints:
    seed=r"\d+",
    augment="|".join(AUGMENTS) or "none",
    fraction="|".join(map(re.escape, FRACTIONS)) or "none",
    test_set="|".join(TEST_SETS) or "none",


def library(*modules):
    """The bgbias source files a rule runs, as inputs, so that editing them reruns the rule."""
    return [str(Path(workflow.basedir) / "bgbias" / f"{module}.py") for module in modules]


def test_mode(wildcards):
    return TEST_SETS[wildcards.test_set]


def augment_mode(wildcards):
    return AUGMENTS[wildcards.augment]


def augment_fraction(wildcards):
    return FRACTIONS[wildcards.fraction]


def dataset_params():
    """The config slice every coloured dataset depends on."""
    return data_slice(config)


def paired_train_params():
    """The paired config slice that paired training depends on (not the grid lists or K)."""
    return paired_train_slice(config)


def eval_metrics(test_sets=None):
    """Metrics JSONs of every (seed, model, test set), or only of `test_sets`."""
    return expand(
        "results/s{seed}/eval/{model}/{test_set}.json", seed=SEEDS, model=MODELS, test_set=test_sets or TEST_SETS
    )


def generation_mem_mb(split):
    """Memory (MB) of a job that colours the official `split`: the images in RGB a few times over, plus Python."""
    count = config["mnist"][f"{split}_size"] or {"train": 60000, "test": 10000}[split]
    return 300 + count * 28 * 28 * 3 * 4 // 1_000_000


def gpu_count():
    """GPUs a training or attack job asks for: one, unless the config says `device: cpu`."""
    return 0 if config["device"] == "cpu" else 1


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
    return {"mnist": data_slice(config)["mnist"]}


def attack_params(wildcards):
    """The config slice an adversarial set depends on: the attacked subset sizes, and CW's settings for CW."""
    return attack_slice(config, wildcards.attack)


def all_targets():
    return [
        "results/tables/accuracy.md",
        "results/tables/per_colour.md",
        "results/tables/fractions.md",
        "docs/reproduction.md",
        *ADVERSARIAL_TARGETS,
        *expand("results/s{seed}/figures/samples/{dataset}.png", seed=SEEDS, dataset=DATASETS),
        *expand("results/s{seed}/models/{model}.pt", seed=SEEDS, model=MODELS),
        *expand("results/s{seed}/figures/training/{model}.png", seed=SEEDS, model=MODELS),
        *expand(
            "results/s{seed}/figures/confusion/{model}/{test_set}.png",
            seed=SEEDS,
            model=MODELS,
            test_set=TEST_SETS,
        ),
    ]
