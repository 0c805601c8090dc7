"""Configuration: schema defaults, command-line coercion and validation with clear messages."""

from __future__ import annotations

import copy
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_FILE = "config.schema.yaml"


class ConfigError(ValueError):
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


def coerce(value: Any, schema: dict, root: dict) -> Any:
    """Parse strings given on the command line (`--config 'train={epochs: 3}'`) where the schema wants no string."""
    schema = resolve(schema, root)
    if isinstance(value, str) and schema.get("type") != "string" and "string" not in (schema.get("type") or []):
        if "enum" not in schema or value not in schema["enum"]:
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError as error:
                raise ConfigError(f"cannot parse {value!r}: {error}") from error
    if isinstance(value, dict) and "properties" in schema:
        return {k: coerce(v, schema["properties"].get(k, {}), root) for k, v in value.items()}
    if isinstance(value, list) and "items" in schema:
        return [coerce(v, schema["items"], root) for v in value]
    return value


def with_defaults(value: Any, schema: dict, root: dict) -> Any:
    """Fill in every missing key that has a default in the schema."""
    schema = resolve(schema, root)
    if not isinstance(value, dict) or "properties" not in schema:
        return value
    filled = dict(value)
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
    bounds = [
        f"{word} {schema[key]}"
        for key, word in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"))
        if key in schema
    ]
    kind = schema.get("type", "a value")
    kind = " or ".join(kind) if isinstance(kind, list) else kind
    if kind == "object" and schema.get("additionalProperties") is False:
        return "an object with keys " + ", ".join(schema.get("properties", {}))
    return " ".join([kind, *bounds]) if bounds else kind


def explain(error: jsonschema.ValidationError, root: dict) -> str:
    """One line: the key, the bad value and what is allowed."""
    key = ".".join(str(p) for p in error.absolute_path) or "<top level>"
    if error.validator == "additionalProperties":
        known = ", ".join(resolve(error.schema, root).get("properties", {}))
        extra = sorted(set(error.instance) - set(resolve(error.schema, root).get("properties", {})))
        where = f"in {key}" if error.absolute_path else "at the top level"
        return f"config: unknown key {', '.join(map(repr, extra))} {where}; allowed keys: {known}"
    if error.validator in ("minItems", "maxItems", "uniqueItems"):
        return f"config key {key}: {error.instance!r} is not allowed ({error.message})"
    return f"config key {key}: {error.instance!r} is not allowed; allowed: {allowed(error.schema, root)}"


def validate_config(raw: dict) -> dict:
    """Coerce, fill defaults and validate `raw`; raise ConfigError naming the key, value and what is allowed."""
    schema = load_schema()
    config = with_defaults(coerce(raw, schema, schema), schema, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        deepest = max(errors, key=lambda e: len(e.absolute_path))
        raise ConfigError(explain(deepest, schema))
    return config


def load_config(paths: list[Path], overrides: dict | None = None) -> dict:
    """Read YAML config files in order, merge `overrides` (strings parsed as YAML), validate."""
    merged: dict = {}
    for path in paths:
        with open(path) as handle:
            merged = deep_merge(merged, yaml.safe_load(handle) or {})
    schema = load_schema()
    for key, value in (overrides or {}).items():
        merged = deep_merge(merged, {key: coerce(value, schema["properties"].get(key, {}), schema)})
    return validate_config(merged)


def data_slice(config: dict) -> dict:
    """The config slice every coloured dataset depends on (where MNIST comes from is left out)."""
    return {
        "mnist": {k: v for k, v in config["mnist"].items() if k not in ("mirror", "md5")},
        "color_pool": config["color_pool"],
        "foreground": config["foreground"],
        "modes": config["modes"],
    }


def paired_train_slice(config: dict) -> dict:
    """The paired config slice that paired training depends on (not the grid lists or K)."""
    grid = ("augment_modes", "augment_fractions", "copies")
    return {key: value for key, value in config["paired"].items() if key not in grid}
