"""The house's layering, read from the source: ``infra`` ← ``tasks`` ← ``workers``, stage bodies
free of Celery, no stage reaching into another stage's task module, the stages in one direction
(scoring → enforcement → evidence → legal) over the vocabulary they share, no import cycle
between files, and the evidence readers free of everything but text."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {"infra": 0, "tasks": 1, "workers": 2}
# In pipeline order: a stage may import an earlier one, never a later one; a stage that needs a
# later one to act sends it a message (``tasks.messages``).
STAGES = ("scoring", "enforcement", "evidence", "legal")
# What every stage shares, below all of them: it imports none of them.
SHARED = ("tasks/accounts", "tasks/neighbourhoods", "tasks/messages.py")
# Only the task shells and the one decorator they share know of Celery.
CELERY_ALLOWED = {"tasks/pipeline.py", "tasks/maintenance.py"} | {
    f"tasks/{stage}/task.py" for stage in STAGES
}
# The evidence readers take text and return values: no database, broker or client reaches them.
READING = "tasks.evidence.reading"
NOT_FOR_READERS = {"sqlalchemy", "alembic", "psycopg", "redis", "celery", "kombu", "httpx"}


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (lazy imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def imported_names(path: Path) -> set[str]:
    """:func:`imports`, plus each name a ``from`` import takes as a candidate module:
    ``from tasks import legal`` imports ``tasks.legal``."""
    found = imports(path)
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def sources(package: str) -> list[Path]:
    """The Python files of a package (a folder), or the one file a ``.py`` path names."""
    path = ROOT / package
    return [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))


def is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def stages_imported(path: Path) -> set[str]:
    return {
        f"{path.relative_to(ROOT)} imports {module}"
        for module in imported_names(path)
        for stage in STAGES
        if is_within(module, f"tasks.{stage}")
    }


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_nothing_imports_upward(package: str) -> None:
    upward = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sources(package)
        for module in imports(path)
        if LAYERS.get(module.split(".")[0], -1) > LAYERS[package]
    }
    assert upward == set()


def test_no_stage_imports_a_task_module() -> None:
    found = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sources("tasks") + sources("workers")
        for module in imports(path)
        if module in {f"tasks.{stage}.task" for stage in STAGES}
    }
    assert found == set()


def test_stage_bodies_import_no_celery() -> None:
    found = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sources("tasks")
        for module in imports(path)
        if module.split(".")[0] in {"celery", "kombu"}
        and str(path.relative_to(ROOT)) not in CELERY_ALLOWED
    }
    assert found == set()


# Inside workers/: the runtime (the modules at its top, which ``celery -A workers`` loads) and,
# each in its own package beside it, the operator CLI, the harness and whatever else serves
# people or programs (a console, an api). Those packages use the runtime, the stages and infra;
# the runtime uses none of them, and none uses another, but for the CLI's commands that run the
# harness (demo, bench, chaos) and serve the console and the api.
WORKERS = ROOT / "workers"
BESIDE_RUNTIME = sorted(p.parent.name for p in WORKERS.glob("*/__init__.py"))
MAY_IMPORT = {("cli", "harness"), ("cli", "console"), ("cli", "api")}


def packages_beside_the_runtime(path: Path) -> set[str]:
    """The packages beside the runtime that ``path`` imports, as ``workers.cli...`` or as
    ``from workers import cli``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "workers" and len(parts) > 1 and parts[1] in BESIDE_RUNTIME:
                found.add(parts[1])
    return found


def test_the_packages_beside_the_runtime_are_there() -> None:
    assert {"cli", "harness"} <= set(BESIDE_RUNTIME)


def test_the_runtime_imports_no_package_beside_it() -> None:
    found = {
        f"{path.relative_to(ROOT)} imports workers.{package}"
        for path in sorted(WORKERS.glob("*.py"))
        for package in packages_beside_the_runtime(path)
    }
    assert found == set()


@pytest.mark.parametrize("package", BESIDE_RUNTIME)
def test_packages_beside_the_runtime_import_not_each_other(package: str) -> None:
    found = {
        f"{path.relative_to(ROOT)} imports workers.{other}"
        for path in sources(f"workers/{package}")
        for other in packages_beside_the_runtime(path)
        if other != package and (package, other) not in MAY_IMPORT
    }
    assert found == set()


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_imports_a_later_stage(stage: str) -> None:
    later = STAGES[STAGES.index(stage) + 1 :]
    found = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sources(f"tasks/{stage}")
        for module in imported_names(path)
        if any(is_within(module, f"tasks.{other}") for other in later)
    }
    assert found == set()


@pytest.mark.parametrize("shared", SHARED)
def test_what_the_stages_share_imports_no_stage(shared: str) -> None:
    # The account vocabulary, the neighbourhood counters and the messages between stages.
    paths = sources(shared)
    assert paths, f"{shared} holds no module"
    assert {found for path in paths for found in stages_imported(path)} == set()


def module_graph() -> dict[str, set[str]]:
    """Every module of infra, tasks and workers, and the modules of the three it imports at any
    depth of the file (lazy and type-checking imports included). ``from a import b`` is an edge
    to ``a.b`` where that is a module and to ``a`` otherwise; importing ``a.b`` is no edge to
    ``a``'s ``__init__``, which counts only through the imports it makes itself."""
    modules: dict[str, Path] = {}
    for package in sorted(LAYERS):
        for path in sources(package):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                edges.update(filter(None, (known(alias.name) for alias in node.names)))
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    name = f"{node.module}.{alias.name}"
                    edges.update(filter(None, [name if name in modules else known(node.module)]))
        graph[module] = edges - {module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_files() -> None:
    graph = module_graph()
    assert "tasks.messages" in graph["tasks.outbox"]  # the graph reads the tree's imports
    assert cycles(graph) == []


def test_evidence_readers_read_text_only() -> None:
    """Nothing under ``tasks/evidence/reading`` imports a database, Redis or Celery, nor any of
    the project's modules outside it (``infra``, the stage bodies, other stages)."""
    readers = sources(READING.replace(".", "/"))
    assert readers
    found = set()
    for path in readers:
        tree = ast.parse(path.read_text(), filename=str(path))
        relative = any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(tree))
        if relative:
            found.add(f"{path.relative_to(ROOT)} imports relatively")
        for module in imports(path):
            top = module.split(".")[0]
            outside = top in LAYERS and not (module == READING or module.startswith(f"{READING}."))
            if top in NOT_FOR_READERS or outside:
                found.add(f"{path.relative_to(ROOT)} imports {module}")
    assert found == set()
