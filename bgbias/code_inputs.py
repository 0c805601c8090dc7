"""The code a workflow job runs: the import closure of its adapter script within the bgbias package.

Rules list these files as inputs, so that editing a module reruns exactly the jobs whose adapter
imports it, directly or through other modules (module-level and function-level imports alike,
with the `__init__.py` of every package on the way). Paths are relative to the workflow folder,
so that a moved or copied checkout names the same inputs.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = "bgbias"


def module_file(root: Path, module: str) -> Path | None:
    """The source file of `module` (a dotted name) under `root`, or None when it is not a module there."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def with_packages(module: str) -> list[str]:
    """`module` and every package above it (importing a.b.c runs a/__init__, a/b/__init__ and a/b/c)."""
    parts = module.split(".")
    return [".".join(parts[: end + 1]) for end in range(len(parts))]


def imported_modules(root: Path, path: Path) -> set[str]:
    """The bgbias modules `path` imports anywhere in its body (dotted names, packages above them included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from a.b import c`: c is a submodule or a name defined in a.b
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        for name in names:
            if name.split(".")[0] == PACKAGE and module_file(root, name) is not None:
                found.update(with_packages(name))
    return found


@cache
def closure_of(root: Path, script: Path) -> tuple[Path, ...]:
    """The bgbias source files that `script` imports, directly or not, sorted, relative to `root`."""
    seen: set[str] = set()
    pending = sorted(imported_modules(root, script))
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        pending.extend(imported_modules(root, module_file(root, module)) - seen)
    return tuple(sorted(module_file(root, module).relative_to(root) for module in seen))


def import_closure(script: str | Path, root: str | Path) -> list[Path]:
    """The bgbias source files the adapter `script` (relative to `root`, the workflow folder) runs."""
    root = Path(root).resolve()
    return list(closure_of(root, root / script))
