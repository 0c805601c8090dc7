"""Configuration: every bad value refused with one line naming key, value and what is allowed."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from bgbias.attacks import ATTACKS
from bgbias.attacks.fgsm import LOSSES
from bgbias.colour.backgrounds import ALIASES, MODES, NAMED_SOLIDS, NOT_MIXABLE
from bgbias.colour.paired_training import DEV_LOSSES, DISTANCES, REDUCTIONS, TARGETS
from bgbias.colour.selection import STRATEGIES
from bgbias.methods import METHODS
from bgbias.mnist import SPLITS
from bgbias.models import MODELS
from bgbias.training import OPTIMIZERS
from bgbias.config import ConfigError, deep_merge, load_config, load_schema, resolve, validate_config
from conftest import DEFAULTS, run_snakemake

MODE_TEXT = (
    "one of pool, basic, pure, random_pure, strips, strips_black, noise, noise_weak, noise_minor, gaussian, salt_pepper, "
    "crossover, mixture or solid:<name> with name black, 1, 2, 3, 12, 13, 23, 123, special, half_1, half_2, "
    "half_3, half_12, half_13, half_23, half_123 or solid:r,g,b with channels 0..255 or mixture:<mode>,<mode>,... "
    "with two or more of pool, basic, pure, random_pure, strips, strips_black, noise, noise_weak, noise_minor, gaussian, salt_pepper"
)
RGB_TEXT = "an integer from 0 to 255"
POOL = DEFAULTS["color_pool"]

# (override merged into the tiny config, the first line of the error)
BAD_CONFIGS = {
    "negative seed": ({"seed": -1}, "config key seed: -1 is not allowed; allowed: an integer from 0 to 4294967295"),
    "fractional seed": ({"seed": 1.5}, "config key seed: 1.5 is not allowed; allowed: an integer from 0 to 4294967295"),
    "word seed": ({"seed": "abc"}, "config key seed: 'abc' is not allowed; allowed: an integer from 0 to 4294967295"),
    "empty seeds": (
        {"seeds": []},
        "config key seeds: [] is not allowed (too few items); "
        "allowed: a list of at least 1 item, each an integer from 0 to 4294967295, without repeats",
    ),
    "repeated seeds": (
        {"seeds": [1, 1]},
        "config key seeds: [1, 1] is not allowed (items repeat); "
        "allowed: a list of at least 1 item, each an integer from 0 to 4294967295, without repeats",
    ),
    "device": ({"device": "gpu"}, "config key device: 'gpu' is not allowed; allowed: one of auto, cpu, cuda"),
    "partition with a space": (
        {"slurm": {"partition": "gpu a100"}},
        "config key slurm.partition: 'gpu a100' is not allowed; allowed: null or a partition name (letters, digits, _ . , -)",
    ),
    "quoted gpu model": (
        {"slurm": {"gpu_model": "'a100'"}},
        "config key slurm.gpu_model: \"'a100'\" is not allowed; "
        "allowed: null or a GPU type as gres.conf names it (letters, digits, _ .)",
    ),
    "gres of no gpu": (
        {"slurm": {"gres": "tmpdisk:10G"}},
        "config key slurm.gres: 'tmpdisk:10G' is not allowed; allowed: null or gpu, gpu:<count>, gpu:<type> or "
        "gpu:<type>:<count>",
    ),
    "no cpu per gpu": (
        {"slurm": {"cpus_per_gpu": 0}}, "config key slurm.cpus_per_gpu: 0 is not allowed; allowed: an integer >= 1"
    ),
    "unknown slurm key": (
        {"slurm": {"qos": "high"}},
        "config: unknown key 'qos' in slurm; allowed keys: partition, gpu_partition, account, gpu_model, gres, cpus_per_gpu",
    ),
    "dev_size 0": (
        {"mnist": {"dev_size": 0}}, "config key mnist.dev_size: 0 is not allowed; allowed: an integer > 0 and < 60000"
    ),
    "dev_size 60000": (
        {"mnist": {"dev_size": 60000}},
        "config key mnist.dev_size: 60000 is not allowed; allowed: an integer > 0 and < 60000",
    ),
    "dev_size >= train_size": (
        {"mnist": {"train_size": 500, "dev_size": 500}},
        "config key mnist.dev_size: 500 is not allowed with mnist.train_size 500; "
        "allowed: an integer from 1 to 499 (images must remain for training)",
    ),
    "train_size 1": (
        {"mnist": {"train_size": 1}},
        "config key mnist.train_size: 1 is not allowed; allowed: null or an integer from 2 to 60000",
    ),
    "test_size 0": (
        {"mnist": {"test_size": 0}},
        "config key mnist.test_size: 0 is not allowed; allowed: null or an integer from 1 to 10000",
    ),
    "mirror number": (
        {"mnist": {"mirror": 3}}, "config key mnist.mirror: 3 is not allowed; allowed: null or a string"
    ),
    "bad md5": (
        {"mnist": {"md5": {"train-images-idx3-ubyte.gz": "xyz"}}},
        "config key mnist.md5.train-images-idx3-ubyte.gz: 'xyz' is not allowed; "
        "allowed: an MD5 checksum (32 hexadecimal digits)",
    ),
    "pool of 1": (
        {"color_pool": [[1, 2, 3]]},
        "config key color_pool: [[1, 2, 3]] is not allowed (too few items); allowed: a list of exactly 10 items, "
        "each [r, g, b] with each channel an integer from 0 to 255, without repeats",
    ),
    "channel 256": (
        {"color_pool": [[256, 0, 0], *([i, 0, 0] for i in range(9))]},
        f"config key color_pool[0][0]: 256 is not allowed; allowed: {RGB_TEXT}",
    ),
    "negative foreground": (
        {"foreground": [0, 0, -1]}, f"config key foreground[2]: -1 is not allowed; allowed: {RGB_TEXT}"
    ),
    "foreground name": (
        {"foreground": "white"},
        "config key foreground: 'white' is not allowed; allowed: [r, g, b] with each channel an integer from 0 to 255",
    ),
    "foreground in pool": (
        {"foreground": [255, 0, 0]},
        "config key foreground: [255, 0, 0] is not allowed as it equals color_pool[0] (digits would vanish on it); "
        "allowed: an RGB colour that is not in color_pool",
    ),
    "bias mode": (
        {"bias": {"mode": "some"}}, "config key bias.mode: 'some' is not allowed; allowed: one of none, partial, all"
    ),
    "digit 10": (
        {"bias": {"biased_digits": [5, 10]}},
        "config key bias.biased_digits[1]: 10 is not allowed; allowed: an integer from 0 to 9",
    ),
    "no biased digit": (
        {"bias": {"mode": "partial", "biased_digits": []}},
        "config key bias.biased_digits: [] is not allowed with bias.mode partial; "
        "allowed: at least one digit from 0 to 9 (or bias.mode none)",
    ),
    "correlation 0": (
        {"bias": {"correlation": 0}},
        "config key bias.correlation: 0 is not allowed; allowed: a number > 0 and <= 1",
    ),
    "correlation 1.5": (
        {"bias": {"correlation": 1.5}},
        "config key bias.correlation: 1.5 is not allowed; allowed: a number > 0 and <= 1",
    ),
    "unknown mode": (
        {"bias": {"unbiased_mode": "nois"}},
        f"config key bias.unbiased_mode: 'nois' is not allowed; allowed: {MODE_TEXT}",
    ),
    "solid channel 300": (
        {"test_modes": ["pool", "solid:300,0,0"]},
        f"config key test_modes[1]: 'solid:300,0,0' is not allowed; allowed: {MODE_TEXT}",
    ),
    "colour test not solid": (
        {"colour_tests": ["pool"]},
        "config key colour_tests[0]: 'pool' is not allowed; allowed: solid:<name> with name black, 1, 2, 3, 12, 13, "
        "23, 123, special, half_1, half_2, half_3, half_12, half_13, half_23, half_123 or solid:r,g,b with channels "
        "0..255",
    ),
    "unknown solid": (
        {"colour_tests": ["solid:pink"]},
        "config key colour_tests[0]: 'solid:pink' is not allowed; allowed: solid:<name> with name black, 1, 2, 3, 12, "
        "13, 23, 123, special, half_1, half_2, half_3, half_12, half_13, half_23, half_123 or solid:r,g,b with "
        "channels 0..255",
    ),
    "gaussian std 0": (
        {"modes": {"gaussian_std": 0}}, "config key modes.gaussian_std: 0 is not allowed; allowed: a number > 0"
    ),
    "salt_pepper block 29": (
        {"modes": {"salt_pepper_block": 29}},
        "config key modes.salt_pepper_block: 29 is not allowed; allowed: an integer from 1 to 28",
    ),
    "epochs 0": ({"train": {"epochs": 0}}, "config key train.epochs: 0 is not allowed; allowed: an integer >= 1"),
    "lr 0": ({"train": {"lr": 0}}, "config key train.lr: 0 is not allowed; allowed: a number > 0"),
    "lr nan": ({"train": {"lr": math.nan}}, "config key train.lr: nan is not allowed; allowed: a finite number"),
    "momentum 2": (
        {"train": {"momentum": 2}}, "config key train.momentum: 2 is not allowed; allowed: a number from 0 to 1"
    ),
    "dropout maybe": (
        {"train": {"dropout": "maybe"}}, "config key train.dropout: 'maybe' is not allowed; allowed: true or false"
    ),
    "train not a mapping": (
        {"train": 5},
        "config key train: 5 is not allowed; allowed: a mapping with keys epochs, patience, batch_size, optimizer, "
        "lr, momentum, weight_decay, lr_step, lr_gamma, dropout, reshuffle",
    ),
    "copies 0": ({"paired": {"copies": 0}}, "config key paired.copies: 0 is not allowed; allowed: an integer >= 1"),
    "pick >= copies": (
        {"paired": {"copies": 10, "pick": 10}},
        "config key paired.pick: 10 is not allowed with paired.copies 10; allowed: first, random or an integer "
        "from 0 to 9",
    ),
    "pick word": (
        {"paired": {"pick": "last"}},
        "config key paired.pick: 'last' is not allowed; allowed: one of first, random or an integer >= 0",
    ),
    "pairing method": (
        {"paired": {"method": "cosine"}},
        "config key paired.method: 'cosine' is not allowed; allowed: one of none, l2, l1, kl",
    ),
    "fraction 0": (
        {"paired": {"augment_fractions": [0]}},
        "config key paired.augment_fractions[0]: 0 is not allowed; allowed: a number > 0 and <= 1",
    ),
    "fraction 1.5": (
        {"paired": {"augment_fractions": [0.5, 1.5]}},
        "config key paired.augment_fractions[1]: 1.5 is not allowed; allowed: a number > 0 and <= 1",
    ),
    "augment mode": (
        {"paired": {"augment_modes": ["pool", "stripes"]}},
        f"config key paired.augment_modes[1]: 'stripes' is not allowed; allowed: {MODE_TEXT}",
    ),
    "fgsm epsilon 2": (
        {"adversarial": {"fgsm_epsilons": [0.1, 2]}},
        "config key adversarial.fgsm_epsilons[1]: 2 is not allowed; allowed: a number from 0 to 1",
    ),
    "cw c 0": (
        {"adversarial": {"cw_c": [0]}}, "config key adversarial.cw_c[0]: 0 is not allowed; allowed: a number > 0"
    ),
    "unparsable section": (
        {"train": "{epochs: 3"},
        "config key train: '{epochs: 3' is not allowed; allowed: a mapping with keys epochs, patience, batch_size, "
        "optimizer, lr, momentum, weight_decay, lr_step, lr_gamma, dropout, reshuffle",
    ),
    "unknown top-level key": (
        {"epochs": 3},
        "config: unknown key 'epochs' at the top level; allowed keys: seed, seeds, threads, memory_gb, model, device, "
        "slurm, mnist, color_pool, foreground, bias, test_modes, colour_tests, modes, methods, train, groupdro, lff, jtt, rubi, learned_mixin, paired, adversarial",
    ),
    "unknown nested key": (
        {"train": {"epoch": 3}},
        "config: unknown key 'epoch' in train; allowed keys: epochs, patience, batch_size, optimizer, lr, momentum, "
        "weight_decay, lr_step, lr_gamma, dropout, reshuffle",
    ),
}


@pytest.mark.parametrize("override, message", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_bad_config_is_refused_with_one_line(tiny_config: dict, override: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config(deep_merge(tiny_config, override))
    assert str(caught.value).splitlines() == [message]


def test_md5_of_every_file_is_required() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config({"mnist": {"md5": {"train-images-idx3-ubyte.gz": "0" * 32}}})
    assert str(caught.value) == (
        "config key mnist.md5: missing key(s) 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', "
        "'t10k-labels-idx1-ubyte.gz'; required keys: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz"
    )


def test_every_problem_is_listed_one_per_line(tiny_config: dict) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config(deep_merge(tiny_config, {"seed": -1, "train": {"epochs": 0, "lr": 0}}))
    assert str(caught.value).splitlines() == [
        "config key seed: -1 is not allowed; allowed: an integer from 0 to 4294967295",
        "config key train.epochs: 0 is not allowed; allowed: an integer >= 1",
        "config key train.lr: 0 is not allowed; allowed: a number > 0",
    ]


def schema_nodes(node: dict, root: dict, path: str = "") -> list[tuple[str, dict]]:
    """Every key of the schema with its (resolved) node."""
    node = resolve(node, root)
    found = [(path, node)] if path else []
    for key, sub in node.get("properties", {}).items():
        found += schema_nodes(sub, root, f"{path}.{key}" if path else key)
    return found


def test_schema_constrains_every_key() -> None:
    """Objects refuse unknown keys; every leaf has a type or enum; every number has a lower bound."""
    schema = load_schema()
    assert schema["additionalProperties"] is False
    for path, node in schema_nodes(schema, schema):
        assert any(word in node for word in ("type", "enum", "anyOf")), path
        kinds = node.get("type", [])
        if "object" in kinds:
            assert node.get("additionalProperties") is False, path
        if "integer" in kinds or "number" in kinds:
            assert "minimum" in node or "exclusiveMinimum" in node, path
        if kinds == "array":
            assert "items" in node, path


def test_defaults_fill_every_key() -> None:
    """Every key but `seeds` (absent = the single `seed`) has a default, and an empty config gets them all."""
    config = validate_config({})
    schema = load_schema()
    for path, node in schema_nodes(schema, schema):
        *parents, last = path.split(".")
        section = config
        for part in parents:
            section = section[part]
        if path == "seeds":
            assert "default" not in node and "seeds" not in config
        else:
            assert "default" in node and last in section, path
    assert config["train"] == {
        "epochs": 100, "patience": 5, "batch_size": 50, "optimizer": "sgd", "lr": 0.001, "momentum": 0.8,
        "weight_decay": 0, "lr_step": None, "lr_gamma": 0.1, "dropout": True, "reshuffle": True,
    }
    assert config["adversarial"]["train"]["lr"] == 0.05 and config["adversarial"]["fine_tune"]["lr"] == 0.01


def test_schema_accepts_every_registered_mode() -> None:
    names = [*MODES, *ALIASES, *(f"solid:{name}" for name in NAMED_SOLIDS), "solid:0,168,225", "solid:255,255,255"]
    config = validate_config({"test_modes": names})
    assert config["test_modes"] == names


def test_command_line_strings_are_coerced_to_schema_types(tiny_config: dict) -> None:
    """What Snakemake 9 makes of `--config 'train={epochs: 3, ...}' 'seeds=[1, 2]' ...`: nested strings."""
    from_command_line = {
        "train": {"epochs": "3", "lr": "1e-3", "dropout": "false", "momentum": ".5", "lr_step": "~", "optimizer": "adam"},
        "seeds": ["1", "2"],
        "paired": {"pick": "3", "copies": "5", "augment_fractions": ["0.25", "1"], "reg": "0"},
        "mnist": {"mirror": "null", "train_size": "~", "dev_size": "100"},
        "bias": {"biased_digits": ["5", "6"], "correlation": "0.9"},
        "color_pool": [[str(c) for c in colour] for colour in POOL],
        "device": "cpu",
    }
    config = validate_config(deep_merge(tiny_config, from_command_line))
    assert config["train"] == {
        "epochs": 3, "lr": 0.001, "dropout": False, "momentum": 0.5, "patience": 1, "batch_size": 50,
        "optimizer": "adam", "weight_decay": 0, "lr_step": None, "lr_gamma": 0.1, "reshuffle": True,
    }
    assert config["seeds"] == [1, 2]
    assert config["paired"]["pick"] == 3 and config["paired"]["copies"] == 5 and config["paired"]["reg"] == 0
    assert config["paired"]["augment_fractions"] == [0.25, 1.0]
    assert config["mnist"]["mirror"] is None and config["mnist"]["train_size"] is None
    assert config["mnist"]["dev_size"] == 100
    assert config["bias"]["biased_digits"] == [5, 6] and config["bias"]["correlation"] == 0.9
    assert config["color_pool"] == POOL
    assert all(type(v) is int for v in (config["train"]["epochs"], *config["seeds"], config["paired"]["pick"]))


def test_whole_section_as_one_string_and_integral_floats() -> None:
    config = validate_config({"train": "{epochs: 3, lr: 0.01}", "seed": 2.0})
    assert config["train"]["epochs"] == 3 and config["train"]["lr"] == 0.01
    assert config["seed"] == 2 and type(config["seed"]) is int


def test_load_config_merges_files_and_overrides(tmp_path: Path) -> None:
    base = tmp_path / "a.yaml"
    base.write_text(yaml.safe_dump({"train": {"epochs": 7, "patience": 2}, "seed": 1}))
    config = load_config([base], {"train": "{epochs: 3}", "seeds": "[4, 5]"})
    assert config["train"]["epochs"] == 3 and config["train"]["patience"] == 2
    assert config["seed"] == 1 and config["seeds"] == [4, 5]


WORKFLOW_BAD = {
    "epochs 0": ("train={epochs: 0}", "config key train.epochs: 0 is not allowed; allowed: an integer >= 1"),
    "correlation 0": (
        "bias={correlation: 0}", "config key bias.correlation: 0 is not allowed; allowed: a number > 0 and <= 1"
    ),
    "pick >= copies": (
        "paired={pick: 4, copies: 4}",
        "config key paired.pick: 4 is not allowed with paired.copies 4; "
        "allowed: first, random or an integer from 0 to 3",
    ),
    "unknown key": ("trian={epochs: 3}", "config: unknown key 'trian' at the top level"),
}


def error_line(output: str) -> str:
    """The line after Snakemake's `WorkflowError in file ...` header: the validation message."""
    lines = output.splitlines()
    header = next(number for number, line in enumerate(lines) if line.startswith("WorkflowError"))
    return lines[header + 1]


@pytest.mark.workflow
@pytest.mark.parametrize("override, message", WORKFLOW_BAD.values(), ids=WORKFLOW_BAD.keys())
def test_dry_run_fails_before_any_job(workflow_dir: Path, override: str, message: str) -> None:
    process = run_snakemake(workflow_dir, "-n", "--config", override, check=False)
    output = process.stdout + process.stderr
    assert process.returncode != 0
    assert error_line(output).startswith(message)
    assert "Job stats" not in output
    assert not (workflow_dir / "results").exists() and not (workflow_dir / "resources").exists()


@pytest.mark.workflow
def test_dry_run_coerces_command_line_values(workflow_dir: Path) -> None:
    """Nested strings from --config pass validation as numbers; `seeds` multiplies the jobs."""
    process = run_snakemake(
        workflow_dir, "-n", "--config", "train={epochs: 3, lr: 1e-3, dropout: false}", "seeds=[0, 1]",
        "paired={pick: 2, copies: 3}", "mnist={dev_size: 50}",
    )
    output = process.stdout + process.stderr
    assert "results/initial/s0/models/base.pt" in output and "results/initial/s1/models/base.pt" in output


def test_schema_enums_equal_the_registries() -> None:
    """The schema is the one source of allowed values; each list of names in it equals its code registry."""
    schema = load_schema()
    defs = schema["$defs"]
    mode_names, solid_rule = defs["mode"]["anyOf"][0]["enum"], defs["solid"]["anyOf"][0]["pattern"]
    assert set(mode_names) == set(MODES) | set(ALIASES)
    assert solid_rule.removeprefix("^solid:(").removesuffix(")$").split("|") == list(NAMED_SOLIDS)
    paired = schema["properties"]["paired"]["properties"]
    assert paired["method"]["enum"] == list(DISTANCES)
    assert paired["target"]["enum"] == list(TARGETS)
    train = schema["$defs"]["train"]["properties"]
    assert train["optimizer"]["enum"] == list(OPTIMIZERS)
    assert schema["properties"]["model"]["enum"] == list(MODELS)
    assert paired["reg_reduction"]["enum"] == list(REDUCTIONS)
    assert paired["dev_loss"]["enum"] == list(DEV_LOSSES)
    assert set(paired["selections"]["items"]["enum"]) == {"random", *STRATEGIES}
    assert schema["properties"]["mnist"]["properties"]["split"]["enum"] == list(SPLITS)
    methods = schema["properties"]["methods"]["items"]["enum"]
    assert set(methods) <= set(METHODS) and all(method in schema["properties"] for method in methods if method != "erm")
    # the mixture's pattern and allowed text spell the mixable modes: every registered one but mixture and crossover
    mixable = [name for name in mode_names if ALIASES.get(name, name) not in NOT_MIXABLE]
    mixture = defs["mode"]["anyOf"][2]
    assert mixture["allowed"].endswith("with two or more of " + ", ".join(mixable))
    alternatives = "|".join(mixable)
    assert mixture["pattern"] == f"^mixture:({alternatives})(,({alternatives}))+$"
    adversarial = schema["properties"]["adversarial"]["properties"]
    assert adversarial["fgsm_loss"]["enum"] == list(LOSSES)
    attack_keys = {key for kind in ATTACKS.values() for key in (kind.strengths_key, *kind.settings_keys())}
    assert attack_keys <= set(adversarial)
    assert set(adversarial) - attack_keys == {"train_size", "dev_size", "test_size", "batch_size", "train", "fine_tune"}


@pytest.mark.parametrize("override", [{"seed": 2**64}, {"seeds": [10**22]}, {"seeds": [0, -1]}])
def test_seeds_are_bounded_to_32_bits(override: dict) -> None:
    with pytest.raises(ConfigError, match=r"config key seeds?(\[\d\])?: -?\d+ is not allowed; allowed: an integer from 0 to 4294967295"):
        validate_config(override)


def test_config_yaml_holds_only_what_a_user_sets() -> None:
    """Every default comes from the schema: config.yaml sets the device, the SLURM names, the MNIST mirror and seeds,
    and holds no other key that could silently override a default changed in the schema."""
    user = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
    assert set(user) <= {"device", "slurm", "seeds", "mnist"} and set(user.get("mnist", {})) <= {"mirror"}
