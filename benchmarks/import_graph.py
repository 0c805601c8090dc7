"""The import graph of the bgbias package: modules, arrows between them, cycles.

    python benchmarks/import_graph.py [--package bgbias] [--edges]

An arrow A -> B means module A imports module B (at module level or inside a function; the
`lazy` count gives the latter). Cycles are the strongly connected components of more than one
module. Folder-level cycles are those of the graph in which each sub-package (bgbias.colour,
bgbias.adversarial, ...) is one node and each top-level module its own. Also prints, per module,
what it imports, with --edges.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, package: str, known: set[str]) -> dict[str, bool]:
    """Modules of `package` that `path` imports -> whether only lazily (inside a function)."""
    tree = ast.parse(path.read_text())
    found: dict[str, bool] = {}

    def add(name: str, lazy: bool) -> None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name:
            found[name] = found.get(name, True) and lazy

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == package:
                        add(alias.name, lazy)
            elif isinstance(child, ast.ImportFrom) and child.module and child.module.split(".")[0] == package:
                for alias in child.names:
                    full = f"{child.module}.{alias.name}"
                    add(full if full in known else child.module, lazy)
            visit(child, inner)

    visit(tree, False)
    return found


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the strongly connected components of `graph`."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return components


def folder_of(name: str, package: str) -> str:
    """The node of module `name` in the folder-level graph: its first-level sub-package, or itself."""
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 or name == package else name


def folder_graph(graph: dict[str, set[str]], package: str) -> dict[str, set[str]]:
    """`graph` with every sub-package collapsed into one node (arrows inside a node dropped)."""
    folders: dict[str, set[str]] = {}
    for name, targets in graph.items():
        node = folder_of(name, package)
        folders.setdefault(node, set()).update(folder_of(t, package) for t in targets)
    for node, targets in folders.items():
        targets.discard(node)
        for target in targets:
            folders.setdefault(target, set())
    return folders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--package", default="bgbias")
    parser.add_argument("--edges", action="store_true", help="print each module's imports")
    args = parser.parse_args()
    root = REPO / args.package
    paths = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    known = set(paths)
    graph: dict[str, set[str]] = {}
    lazy = 0
    for name, path in paths.items():
        found = imports(path, args.package, known)
        found.pop(name, None)
        graph[name] = set(found)
        lazy += sum(found.values())
    arrows = sum(len(targets) for targets in graph.values())
    cycles = [c for c in strongly_connected(graph) if len(c) > 1]
    print(f"modules {len(graph)}, arrows {arrows} ({lazy} lazy), cycles {len(cycles)}")
    for cycle in cycles:
        print("  cycle:", " <-> ".join(cycle))
    folder_cycles = [c for c in strongly_connected(folder_graph(graph, args.package)) if len(c) > 1]
    print(f"folder-level cycles {len(folder_cycles)}")
    for cycle in folder_cycles:
        print("  folder cycle:", " <-> ".join(cycle))
    if args.edges:
        for name in sorted(graph):
            print(f"{name} -> {', '.join(sorted(graph[name])) or '-'}")


if __name__ == "__main__":
    main()
