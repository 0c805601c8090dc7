"""Configuration: schema defaults, command-line coercion and validation with clear messages.

Every message is one line per problem: the key, the bad value and what is allowed.
Schema nodes may carry an `allowed` text that replaces the generated description.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bgbias.errors import UserError

SCHEMA_FILE = "config.schema.yaml"
NULL_WORDS = ("null", "none", "~", "")


class ConfigError(UserError, ValueError):
    """A configuration value that the schema does not allow."""


@lru_cache(maxsize=1)
def load_schema() -> dict:
    return yaml.safe_load(resources.files("bgbias").joinpath(SCHEMA_FILE).read_text())


def resolve(schema: dict, root: dict) -> dict:
    """Follow a local `$ref`."""
    while "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def accepted_types(schema: dict, root: dict) -> set[str]:
    """The JSON types named by `type` in a schema node or its `anyOf` options (enums aside)."""
    schema = resolve(schema, root)
    kinds = schema.get("type", [])
    types = {kinds} if isinstance(kinds, str) else set(kinds)
    for option in schema.get("anyOf", []):
        types |= accepted_types(option, root)
    return types


def enum_values(schema: dict, root: dict) -> list:
    """The values listed by `enum` in a schema node or its `anyOf` options."""
    schema = resolve(schema, root)
    return [*schema.get("enum", []), *(v for option in schema.get("anyOf", []) for v in enum_values(option, root))]


def parse_string(value: str, schema: dict, root: dict) -> Any:
    """A command-line string as the type the schema wants (Snakemake passes nested values as strings)."""
    schema = resolve(schema, root)
    types = accepted_types(schema, root)
    if not types or value in enum_values(schema, root):
        return value
    text = value.strip()
    if "null" in types and text.lower() in NULL_WORDS:
        return None
    if "string" in types:
        return value
    if "integer" in types or "number" in types:
        try:
            return int(text)
        except ValueError:
            pass
    if "number" in types:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            return number
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return value  # validation then names the key and what it allows


def coerce(value: Any, schema: dict, root: dict) -> Any:
    """`value` with command-line strings (`--config 'train={epochs: 3}'`) turned into the schema's types."""
    schema = resolve(schema, root)
    if isinstance(value, str):
        value = parse_string(value, schema, root)
    types = accepted_types(schema, root)
    if isinstance(value, float) and value.is_integer() and "integer" in types and "number" not in types:
        value = int(value)
    if isinstance(value, dict) and "properties" in schema:
        return {k: coerce(v, schema["properties"].get(k, {}), root) for k, v in value.items()}
    if isinstance(value, list) and "items" in schema:
        return [coerce(v, schema["items"], root) for v in value]
    return value


def with_defaults(value: Any, schema: dict, root: dict) -> Any:
    """Fill in every missing key that has a default in the schema: first from the node's own `default`
    mapping (a block's defaults where it is used), then from each property's `default`."""
    schema = resolve(schema, root)
    if not isinstance(value, dict) or "properties" not in schema:
        return value
    block_default = schema.get("default")
    filled = {**copy.deepcopy(block_default), **value} if isinstance(block_default, dict) else dict(value)
    for key, sub in schema["properties"].items():
        sub = resolve(sub, root)
        if key not in filled and "default" in sub:
            filled[key] = copy.deepcopy(sub["default"])
        if key in filled:
            filled[key] = with_defaults(filled[key], sub, root)
    return filled


def deep_merge(base: dict, override: dict) -> dict:
    """`base` with `override` merged in, nested dictionaries key by key."""
    merged = dict(base)
    for key, value in override.items():
        merged[key] = deep_merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def number_range(schema: dict, kind: str) -> str:
    """`an integer from 0 to 9`, `a number > 0 and <= 1`, `an integer >= 1`, ..."""
    noun = "an integer" if kind == "integer" else "a number"
    if "minimum" in schema and "maximum" in schema:
        return f"{noun} from {schema['minimum']} to {schema['maximum']}"
    bounds = [
        f"{word} {schema[key]}"
        for key, word in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"))
        if key in schema
    ]
    return " and ".join([f"{noun} {bounds[0]}", *bounds[1:]]) if bounds else noun


def list_description(schema: dict, root: dict) -> str:
    """`a list of exactly 3 items, each an integer from 0 to 255`, ..."""
    low, high = schema.get("minItems"), schema.get("maxItems")
    count = (
        f"exactly {low}" if low is not None and low == high
        else f"{low} to {high}" if low is not None and high is not None
        else f"at least {low}" if low
        else f"at most {high}" if high is not None
        else ""
    )
    count = f"{count} item{'' if count.endswith(' 1') else 's'}" if count else "items"
    each = f", each {allowed(schema['items'], root)}" if "items" in schema else ""
    return f"a list of {count}{each}" + (", without repeats" if schema.get("uniqueItems") else "")


def allowed(schema: dict, root: dict) -> str:
    """A short description of what a schema node accepts."""
    schema = resolve(schema, root)
    if "allowed" in schema:
        return schema["allowed"]
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if "anyOf" in schema:
        return " or ".join(allowed(option, root) for option in schema["anyOf"])
    if "pattern" in schema:
        return f"a string matching {schema['pattern']}"
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    words = []
    for kind in kinds:
        if kind in ("integer", "number"):
            words.append(number_range(schema, kind))
        elif kind == "array":
            words.append(list_description(schema, root))
        elif kind == "object":
            words.append("a mapping with keys " + ", ".join(schema.get("properties", {}) or schema.get("required", [])))
        else:
            words.append({"string": "a string", "boolean": "true or false", "null": "null"}[kind])
    return " or ".join(sorted(words, key=lambda word: word != "null")) or "a value"


def key_name(path: Any) -> str:
    """`color_pool[3][1]` for the path ('color_pool', 3, 1)."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else str(part)
    return name or "<top level>"


PROBLEMS = {"minItems": " (too few items)", "maxItems": " (too many items)", "uniqueItems": " (items repeat)"}


def explain(error: jsonschema.ValidationError, root: dict) -> str:
    """One line: the key, the bad value and what is allowed."""
    key = key_name(error.absolute_path)
    node = resolve(error.schema, root)
    known = list(node.get("properties", {})) or node.get("required", [])
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(known))
        where = f"in {key}" if error.absolute_path else "at the top level"
        return f"config: unknown key {', '.join(map(repr, extra))} {where}; allowed keys: {', '.join(known)}"
    if error.validator == "required":
        missing = [name for name in node["required"] if name not in error.instance]
        return f"config key {key}: missing key(s) {', '.join(map(repr, missing))}; required keys: {', '.join(known)}"
    reason = PROBLEMS.get(error.validator, "")
    return f"config key {key}: {error.instance!r} is not allowed{reason}; allowed: {allowed(node, root)}"


def problem(key: str, value: Any, why: str, what: str) -> str:
    """A cross-key problem in the same one-line style as the schema's."""
    return f"config key {key}: {value!r} is not allowed{' ' + why if why else ''}; allowed: {what}"


def non_finite(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, float]]:
    """Paths of the NaN and infinite numbers in a nested config."""
    if isinstance(value, float) and not math.isfinite(value):
        yield path, value
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from non_finite(sub, (*path, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from non_finite(sub, (*path, index))


IMAGE_BYTES = 28 * 28 * 3  # one coloured image
OFFICIAL_IMAGES = {"train": 60000, "test": 10000}


def machine_memory_gb() -> float:
    """This machine's physical memory in GB."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9


def biased_digits(bias_mode: str, listed: Iterable[int]) -> tuple[int, ...]:
    """The digits that carry their pool colour under `bias_mode` (none, partial: `listed`, all)."""
    return {"none": (), "partial": tuple(listed), "all": tuple(range(10))}[bias_mode]


def paired_training_gb(config: dict, copies: int) -> float:
    """The images paired training holds in memory (GB): every image of the official training split, plus `copies`
    versions of the images of the biased digits (their share of the split taken as len(digits) / 10), and of the
    others too unless they pair with themselves (`paired.unbiased_pairs`)."""
    mnist, bias = config["mnist"], config["bias"]
    images = mnist["train_size"] or OFFICIAL_IMAGES["train"]
    digits = len(biased_digits(bias["mode"], bias["biased_digits"]))
    with_versions = 10 if config["paired"]["unbiased_pairs"] != "self" else digits
    return images * IMAGE_BYTES * (1 + copies * with_versions / 10) / 1e9


def memory_problems(config: dict) -> list[str]:
    """Settings whose jobs would need more memory than `memory_gb` (this machine's by default)."""
    available = config["memory_gb"] or machine_memory_gb()
    copies = config["paired"]["copies"]
    if not config["paired"]["augment_modes"] or paired_training_gb(config, copies) <= available:
        return []
    most = max((k for k in range(1, copies) if paired_training_gb(config, k) <= available), default=0)
    return [problem(
        "paired.copies", copies,
        f"as paired training would hold about {paired_training_gb(config, copies):,.1f} GB of images in memory, more "
        f"than the {available:,.1f} GB of memory_gb (this machine's when null)",
        f"at most {most}, or memory_gb set to the memory of the machine that runs the jobs",
    )]


def cross_key_problems(config: dict) -> list[str]:
    """Rules between keys that the schema cannot express."""
    problems = [problem(key_name(path), value, "", "a finite number") for path, value in non_finite(config)]
    if "paired" in config["methods"] and "erm" not in config["methods"]:
        problems.append(problem("methods", config["methods"], "", "a list holding erm when it holds paired (paired "
                                                                   "fine-tunes the erm base model)"))
    if not config["test_modes"] and not config["colour_tests"]:
        problems.append(problem("test_modes", [], "with colour_tests []", "at least one test set in either list"))
    mnist, bias, paired = config["mnist"], config["bias"], config["paired"]
    if mnist["train_size"] is not None and mnist["dev_size"] >= mnist["train_size"]:
        problems.append(
            problem(
                "mnist.dev_size", mnist["dev_size"], f"with mnist.train_size {mnist['train_size']}",
                f"an integer from 1 to {mnist['train_size'] - 1} (images must remain for training)",
            )
        )
    if bias["mode"] == "partial" and not bias["biased_digits"]:
        problems.append(
            problem("bias.biased_digits", bias["biased_digits"], "with bias.mode partial",
                    "at least one digit from 0 to 9 (or bias.mode none)")
        )
    if isinstance(paired["pick"], int) and paired["pick"] >= paired["copies"]:
        problems.append(
            problem("paired.pick", paired["pick"], f"with paired.copies {paired['copies']}",
                    f"first, random or an integer from 0 to {paired['copies'] - 1}")
        )
    problems += memory_problems(config)
    if config["foreground"] in config["color_pool"]:
        index = config["color_pool"].index(config["foreground"])
        problems.append(
            problem("foreground", config["foreground"], f"as it equals color_pool[{index}] (digits would vanish on it)",
                    "an RGB colour that is not in color_pool")
        )
    return problems


def validate_config(raw: dict) -> dict:
    """Coerce, fill defaults and validate `raw`; raise ConfigError with one line per problem."""
    schema = load_schema()
    config = with_defaults(coerce(raw, schema, schema), schema, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    lines = list(dict.fromkeys(explain(error, schema) for error in errors)) or cross_key_problems(config)
    if lines:
        raise ConfigError("\n".join(lines))
    return config


def schema_node(key: str) -> dict:
    """The schema node of a dotted config key; `[]` after a name stands for one item of that list
    (e.g. `paired.augment_fractions[]`)."""
    schema = load_schema()
    node = schema
    for part in key.split("."):
        name, items = part.removesuffix("[]"), part.endswith("[]")
        node = resolve(resolve(node, schema)["properties"][name], schema)
        if items:
            node = resolve(node["items"], schema)
    return node


def check_value(key: str, value: Any, given_as: str | None = None) -> Any:
    """`value` (a string from the command line is parsed first) if the schema allows it at `key`, else ConfigError
    in the usual one line, naming `given_as` (e.g. a command-line option) when the value did not come from a file."""
    schema = load_schema()
    node = schema_node(key)
    value = coerce(value, node, schema)
    validator = jsonschema.Draft202012Validator({**node, "$defs": schema["$defs"]})
    if not validator.is_valid(value) or any(True for _ in non_finite(value)):
        raise ConfigError(f"{given_as or 'config key ' + key}: {value!r} is not allowed; allowed: {allowed(node, schema)}")
    return value


MAX_NODES = 100_000  # a config file's YAML values, aliases expanded: far above any real config, far below a bomb


def expanded_nodes(node: yaml.Node, sizes: dict[int, int | None]) -> int:
    """The number of YAML nodes under `node` with every alias expanded (each shared node counted once per use), by
    memoised recursion; stops early past MAX_NODES; ValueError for an alias that contains itself."""
    key = id(node)
    if key in sizes:
        if sizes[key] is None:
            raise ValueError("an alias refers to a node that contains it")
        return sizes[key]
    sizes[key] = None
    children = [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else (
        node.value if isinstance(node, yaml.SequenceNode) else [])
    total = 1
    for child in children:
        total += expanded_nodes(child, sizes)
        if total > MAX_NODES:
            break
    sizes[key] = total
    return total


def read_mapping(path: Path, what: str = "config file") -> dict:
    """A YAML file's mapping (empty for an empty file); ConfigError naming the file when it is not one, or when its
    aliases expand to more than MAX_NODES values (an alias bomb)."""
    try:
        with open(path) as handle:
            loader = yaml.SafeLoader(handle)
            try:
                node = loader.get_single_node()
                size = expanded_nodes(node, {}) if node is not None else 0
                if size > MAX_NODES:
                    raise ConfigError(
                        f"{what} {path}: its YAML aliases expand to more than {MAX_NODES:,} values; allowed: a config "
                        "mapping (an alias bomb is refused before it is expanded)"
                    )
                mapping = (loader.construct_document(node) if node is not None else None) or {}
            finally:
                loader.dispose()
    except OSError as error:
        raise ConfigError(f"{what} {path}: {error.strerror}") from None
    except ValueError as error:
        raise ConfigError(f"{what} {path} is not allowed: {error}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{what} {path} is not valid YAML: {' '.join(str(error).split())}") from None
    if not isinstance(mapping, dict):
        raise ConfigError(f"{what} {path}: {mapping!r} is not allowed; allowed: a mapping of config keys")
    return mapping


def load_config(paths: list[Path], overrides: dict | None = None) -> dict:
    """Read YAML config files in order, merge `overrides` (strings parsed as the schema's types), validate."""
    merged: dict = {}
    for path in paths:
        merged = deep_merge(merged, read_mapping(path))
    schema = load_schema()
    for key, value in (overrides or {}).items():
        merged = deep_merge(merged, {key: coerce(value, schema["properties"].get(key, {}), schema)})
    return validate_config(merged)


# Settings that switch a step from the notes' procedure to the original code's (the claims document). A config slice
# leaves one out while it holds its default, the notes' value, so that what the notes' procedure makes stays byte-identical
# to what it made before the setting existed; `filled` puts it back.
PROCEDURE_SETTINGS = frozenset({"split", "reshuffle", "unbiased_pairs", "reg_reduction", "dev_loss"})


def recorded(block: dict, key: str) -> dict:
    """The config block at dotted `key` as a slice records it: procedure settings at their default left out, at any
    depth."""
    schema = load_schema()

    def prune(value: Any, node: dict) -> Any:
        node = resolve(node, schema)
        if not isinstance(value, dict) or "properties" not in node:
            return value
        kept = {}
        for name, item in value.items():
            sub = resolve(node["properties"].get(name, {}), schema)
            if name in PROCEDURE_SETTINGS and "default" in sub and item == sub["default"]:
                continue
            kept[name] = prune(item, sub)
        return kept

    return prune(block, schema_node(key))


def filled(block: dict, key: str) -> dict:
    """A config block at dotted `key`, as a slice recorded it, with the settings it left out back at their defaults."""
    schema = load_schema()
    return with_defaults(block, schema_node(key), schema)


def dataset_slice(config: dict) -> dict:
    """The config slice every coloured dataset depends on: the MNIST files by their checksums (the folder they come
    from is left out), the split, the colours."""
    return {
        "mnist": recorded({k: v for k, v in config["mnist"].items() if k != "mirror"}, "mnist"),
        "color_pool": config["color_pool"],
        "foreground": config["foreground"],
        "modes": config["modes"],
    }


SELECTION_KEYS = ("influence_heldout",)  # the options of the selection strategies


def paired_train_slice(config: dict) -> dict:
    """The paired config slice that paired training depends on (not the grid lists, K or the selection options)."""
    grid = ("augment_modes", "augment_fractions", "copies", "selections", "unbiased_pairs", *SELECTION_KEYS)
    return recorded({key: value for key, value in config["paired"].items() if key not in grid}, "paired")


def selection_slice(config: dict) -> dict:
    """The options of the selection strategies (a ranking depends on them)."""
    return {key: config["paired"][key] for key in SELECTION_KEYS}
