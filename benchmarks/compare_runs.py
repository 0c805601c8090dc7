"""Compare two finished runs file by file: which outputs are byte-identical, which differ and where.

    python benchmarks/compare_runs.py RUN_A RUN_B [--map OLD=NEW ...]

Every file under RUN_A/results is compared with the file of the same
relative path under RUN_B (after the `--map` prefix renames, e.g. `results/s0=results/initial/s0`).
Files that are not byte-identical are compared by content: HDF5 arrays and attributes, checkpoint
weights and metadata, JSON values; the fields that differ are listed. Logs, benchmarks and
`.snakemake` are skipped (they hold times).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import h5py
import numpy as np

from bgbias.grid import RESULTS

SKIPPED = ("logs", "benchmarks")


def flatten(value, prefix: str = "") -> dict:
    """Nested dicts as {dotted.key: leaf}."""
    if isinstance(value, dict):
        items: dict = {}
        for key, item in value.items():
            items.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return items
    return {prefix: value}


def h5_fields(path: Path) -> dict:
    fields: dict = {}
    with h5py.File(path, "r") as handle:
        for key, value in handle.attrs.items():
            text = value.decode() if isinstance(value, bytes) else value
            if key == "config":
                fields.update({f"@config.{k}": v for k, v in flatten(json.loads(text)).items()})
            else:
                fields[f"@{key}"] = text
        handle.visititems(lambda name, item: fields.update({name: item[()]}) if isinstance(item, h5py.Dataset) else None)
    return fields


def checkpoint_fields(path: Path) -> dict:
    import torch

    payload = torch.load(path, map_location="cpu", weights_only=True)
    fields = {f"weights.{k}": v.numpy() for k, v in payload.pop("state_dict").items()}
    fields.update(flatten(payload))
    return fields


def equal(x, y) -> bool:
    """Equality of field values: arrays and tensors element-wise, lists and dicts item by item."""
    if hasattr(x, "numpy") and hasattr(y, "numpy"):
        x, y = x.numpy(), y.numpy()
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return np.array_equal(x, y)
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return len(x) == len(y) and all(equal(a, b) for a, b in zip(x, y))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(equal(x[k], y[k]) for k in x)
    return x == y


def differing(a: dict, b: dict) -> list[str]:
    names = []
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            names.append(f"{key} (only in {'B' if key not in a else 'A'})")
            continue
        x, y = a[key], b[key]
        if not equal(x, y):
            names.append(key)
    return names


def compare(a: Path, b: Path) -> list[str]:
    """The fields that differ between two files (empty when identical by content)."""
    if a.read_bytes() == b.read_bytes():
        return []
    if a.suffix == ".h5":
        return differing(h5_fields(a), h5_fields(b))
    if a.suffix == ".pt":
        return differing(checkpoint_fields(a), checkpoint_fields(b))
    if a.suffix == ".json":
        return differing(flatten(json.loads(a.read_text())), flatten(json.loads(b.read_text())))
    if a.suffix == ".csv":
        import pandas as pd

        return [] if pd.read_csv(a).equals(pd.read_csv(b)) else ["values"]
    return ["bytes"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    parser.add_argument("--map", nargs="*", default=[], metavar="OLD=NEW", help="path prefix renames from A to B")
    args = parser.parse_args()
    renames = [entry.split("=", 1) for entry in args.map]
    files = [p for p in sorted((args.run_a / RESULTS).rglob("*")) if p.is_file()]
    identical, differ, missing = 0, {}, []
    for path in files:
        relative = str(path.relative_to(args.run_a))
        if any(part in SKIPPED for part in Path(relative).parts) or path.name.startswith("."):
            continue
        for old, new in renames:
            relative = new + relative[len(old):] if relative.startswith(old) else relative
        other = args.run_b / relative
        if not other.is_file():
            missing.append(relative)
            continue
        fields = compare(path, other)
        if fields:
            differ[relative] = fields
        else:
            identical += 1
    print(f"{identical} identical, {len(differ)} different, {len(missing)} missing in B")
    for relative, fields in differ.items():
        shown = ", ".join(fields[:8]) + (f", ... ({len(fields)} fields)" if len(fields) > 8 else "")
        print(f"  differs: {relative}: {shown}")
    for relative in missing:
        print(f"  missing: {relative}")


if __name__ == "__main__":
    main()
