"""The import graph of our packages: which module imports which, and the package-level summary.

    python benchmarks/import_graph.py            # package-level edges with counts, then any cycle

Every `import` statement counts, at module level or inside a function (lazy imports), relative
ones resolved; imports of other distributions (numpy, torch, ...) are left out. A module is named
by its dotted path (`progrefine_env.tasks.corpus`); a package by its `__init__`
(`progrefine_env.tasks`). The layers, lowest first, are the language, the tasks, the sketch search,
the environment, the agents and the training scripts (`LAYERS`); tests/project/test_import_layout.py
checks that no arrow points up and that no modules import one another in a circle, with this
module's graph (one builder, here, for both).
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("progrefine_env", "agents", "train")
"""The top-level packages of the repository whose imports are walked."""

LAYERS = (
    "progrefine_env.lang",
    "progrefine_env.tasks",
    "progrefine_env.search",
    "progrefine_env",
    "agents",
    "train",
)
"""Layers, lowest first: a module may import its own layer and the ones before it, never a later
one. `progrefine_env` stands for the environment's own modules (env, wrappers, graph, ...), those
directly in the package; the sketch search (`progrefine_env.search`) uses the language and the
tasks, and nothing of the environment."""


def module_files(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Every module of `packages` (dotted name -> file), packages named by their `__init__.py`."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _base_of(module: str, is_package: bool, level: int) -> str:
    """The package a relative import of `level` dots in `module` starts from."""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    return ".".join(parts[: len(parts) - (level - 1)])


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ours that importing `name` runs last: `name` itself or its nearest parent."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, modules: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported module of ours, line) for every import statement of `module`, lazy ones included."""
    path = modules[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                start = _base_of(module, path.name == "__init__.py", node.level)
                base = f"{start}.{base}" if base else start
            # `from package import name` imports the submodule `name` when there is one.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for name in names:
            target = _known(name, modules)
            if target is not None and target != module:
                found.append((target, node.lineno))
    return found


def module_graph(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, dict[str, int]]:
    """module -> {imported module: line of its first import}, for every module of `packages`."""
    modules = module_files(root, packages)
    graph: dict[str, dict[str, int]] = {}
    for module in modules:
        edges: dict[str, int] = {}
        for target, line in imports_of(module, modules):
            edges.setdefault(target, line)
        graph[module] = edges
    return graph


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One cycle of `graph` as a path that ends where it starts (`[a, b, a]`), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def cycle_text(graph: dict[str, dict[str, int]], cycle: list[str]) -> str:
    """A cycle as `a:LINE -> b:LINE -> a`, each importer with the line of its import of the next."""
    return " -> ".join(f"{a}:{graph[a][b]}" for a, b in zip(cycle, cycle[1:])) + f" -> {cycle[-1]}"


def layer_of(module: str) -> str:
    """The entry of `LAYERS` that `module` belongs to (the longest one that is a prefix of it)."""
    matches = [layer for layer in LAYERS if module == layer or module.startswith(layer + ".")]
    return max(matches, key=len)


def package_edges(graph: dict[str, dict[str, int]]) -> Counter:
    """(layer, imported layer) -> how many module-level arrows go that way (within a layer too)."""
    return Counter((layer_of(a), layer_of(b)) for a, targets in graph.items() for b in targets)


def upward_arrows(graph: dict[str, dict[str, int]]) -> list[str]:
    """`a -> b (line n)` for every import of a later layer's module `b` by module `a`."""
    order = {layer: k for k, layer in enumerate(LAYERS)}
    return [
        f"{a} -> {b} (line {line})"
        for a, targets in sorted(graph.items())
        for b, line in sorted(targets.items())
        if order[layer_of(b)] > order[layer_of(a)]
    ]


def main() -> int:
    graph = module_graph()
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} import arrows between them")
    print("package-level arrows (importer -> imported: module arrows):")
    for (a, b), count in sorted(package_edges(graph).items(), key=lambda e: tuple(map(LAYERS.index, e[0]))):
        print(f"  {a:22} -> {b:22} {count:4}")
    up = upward_arrows(graph)
    print("arrows against the layer order:", *(up or ["none"]), sep="\n  ")
    cycle = find_cycle(graph)
    print("cycle:", cycle_text(graph, cycle) if cycle else "none")
    return 1 if up or cycle else 0


if __name__ == "__main__":
    sys.exit(main())
