"""Debiasing methods, one module each, and the registry `METHODS` (DomainBed's ALGORITHMS).

A method module declares `INFO = MethodInfo(...)` (its name, what it does, the supervision it trains with, and where
its loss or trainer lives) with literal arguments, and, when the workflow's generic `train_method` rule trains it,
a function `train` (see `bgbias.methods.stage`). The registry reads each module's INFO from its source without
importing it, so reading the registry imports neither torch nor the data modules, and adding a method touches only
its module and the schema (its name in `methods` and its settings block).
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

Supervision = Literal["none", "bias labels", "group labels", "marked images"]
SUPERVISIONS: tuple[str, ...] = get_args(Supervision)


@dataclass(frozen=True, kw_only=True)
class MethodInfo:
    """A method: its name, what it does, the supervision it trains with, and where its loss (or the class or
    factory that makes it) lives, as `module:attribute`."""

    name: str
    description: str
    supervision: Supervision
    implementation: str

    def __post_init__(self) -> None:
        if self.supervision not in SUPERVISIONS:
            allowed = ", ".join(SUPERVISIONS)
            raise ValueError(f"method {self.name}: supervision {self.supervision!r}; allowed: {allowed}")

    def load(self) -> Any:
        """The loss, class or factory that `implementation` names."""
        module, attribute = self.implementation.split(":")
        return getattr(importlib.import_module(module), attribute)


def declared_info(path: Path) -> MethodInfo | None:
    """The `INFO = MethodInfo(...)` a method module declares, read from its source (literal arguments only)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["INFO"]:
            call = node.value
            if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "MethodInfo"):
                raise ValueError(f"{path}: INFO must be a MethodInfo(...) call with literal keyword arguments")
            return MethodInfo(**{keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords})
    return None


def discover() -> dict[str, MethodInfo]:
    """Every method module of this package that declares its INFO, by method name."""
    folder = Path(__file__).parent
    infos = [declared_info(folder / f"{module.name}.py") for module in pkgutil.iter_modules([str(folder)])]
    return {info.name: info for info in infos if info is not None}


METHODS: dict[str, MethodInfo] = discover()
