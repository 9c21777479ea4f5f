"""The packages import one way (issue 28): language, tasks, sketch search, environment, agents,
training, no arrow back up and no modules that import one another in a circle.

The graph comes from benchmarks/import_graph.py (the one builder; `python
benchmarks/import_graph.py` prints it): every import statement of `progrefine_env`, `agents` and
`train`, read with `ast`, function-level (lazy) imports included, relative ones resolved. Nothing
is imported to build it, so this test needs neither torch nor the environment.
"""

from __future__ import annotations

import pytest
from benchmark_scripts import benchmark_module

graph_module = benchmark_module("import_graph")


@pytest.fixture(scope="module")
def graph() -> dict[str, dict[str, int]]:
    return graph_module.module_graph()


def test_the_walk_sees_every_package(graph):
    for package in ("progrefine_env", "progrefine_env.lang", "progrefine_env.tasks", "agents", "train"):
        assert package in graph, package
    # A relative import resolved to its module: syntax.py's `from .program import ...`.
    assert "progrefine_env.lang.program" in graph["progrefine_env.lang.syntax"]


def test_no_module_imports_itself_back(graph):
    cycle = graph_module.find_cycle(graph)
    assert cycle is None, "import cycle (importer:line -> ...): " + graph_module.cycle_text(graph, cycle)


def test_no_arrow_points_up_the_layers(graph):
    # The layers, lowest first (benchmarks/import_graph.py's LAYERS): language, tasks, sketch
    # search, environment, agents, training. The sketch search sits between the tasks and the
    # environment because that is what it imports today: the language and the tasks (a task's
    # tests), nothing of the environment; the environment does not import it either, and the
    # agents do. Issue 28 names the chain Language -> Tasks -> Env -> Agents -> Train.
    rank = graph_module.LAYERS.index
    assert rank("progrefine_env.lang") < rank("progrefine_env.tasks") < rank("progrefine_env")
    assert rank("progrefine_env") < rank("agents") < rank("train")
    assert rank("progrefine_env.tasks") < rank("progrefine_env.search") < rank("progrefine_env")
    assert len(graph_module.LAYERS) == 6
    up = graph_module.upward_arrows(graph)
    assert not up, "imports against the layer order (importer -> imported):\n" + "\n".join(up)


AGENT_FOLDERS = ("agents.nn", "agents.acting", "agents.training", "agents.integrations")
"""agents/ by role, lowest first (issue 28, item 4): the network, acting (a policy, the decodings, the
rollout and refinement loops), training, the adapters to other libraries."""


def _agent_folder(module: str) -> str | None:
    return next((f for f in AGENT_FOLDERS if module == f or module.startswith(f + ".")), None)


def test_the_agents_folders_import_one_way(graph):
    """A folder of agents/ imports its own modules and those of the folders before it, never a later
    one; every module lives in a folder but the package's `__init__` and `agents.sb3_policy` (a
    re-export kept where Stable-Baselines3's saved models look for their policy class)."""
    rank = {folder: k for k, folder in enumerate(AGENT_FOLDERS)}
    up = [
        f"{a} -> {b} (line {line})"
        for a, targets in sorted(graph.items())
        for b, line in sorted(targets.items())
        if _agent_folder(a) and _agent_folder(b) and rank[_agent_folder(b)] > rank[_agent_folder(a)]
    ]
    assert not up, "imports against the order of agents/'s folders (importer -> imported):\n" + "\n".join(up)
    flat = sorted(m for m in graph if (m == "agents" or m.startswith("agents.")) and _agent_folder(m) is None)
    assert flat == ["agents", "agents.sb3_policy"]

def _write(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_builder_finds_lazy_and_relative_imports_and_their_cycle(tmp_path):
    """The builder itself, on a made-up package: a cycle closed by an import inside a function,
    relative imports of each level, `from package import module`, and other distributions left
    out."""
    _write(tmp_path, {
        "pkg/__init__.py": "from .a import f\n",
        "pkg/a.py": "import os\nfrom . import b\n\ndef f():\n    return b\n",
        "pkg/b.py": "def g():\n    from .sub.c import h\n    return h\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/c.py": "import numpy\n\ndef h():\n    from ..a import f\n    return f\n",
    })  # fmt: skip
    graph = graph_module.module_graph(tmp_path, ("pkg",))
    assert graph == {
        "pkg": {"pkg.a": 1},
        "pkg.a": {"pkg.b": 2},
        "pkg.b": {"pkg.sub.c": 2},
        "pkg.sub": {},
        "pkg.sub.c": {"pkg.a": 4},
    }
    cycle = graph_module.find_cycle(graph)
    assert cycle == ["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]
    assert graph_module.cycle_text(graph, cycle) == "pkg.a:2 -> pkg.b:2 -> pkg.sub.c:4 -> pkg.a"
    del graph["pkg.sub.c"]["pkg.a"]
    assert graph_module.find_cycle(graph) is None


def test_an_upward_arrow_is_named_with_its_line():
    graph = {"progrefine_env.lang.vocab": {"agents.network": 7}, "agents.network": {"progrefine_env.lang.vocab": 3}}
    assert graph_module.upward_arrows(graph) == ["progrefine_env.lang.vocab -> agents.network (line 7)"]
