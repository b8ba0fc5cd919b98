"""The house's layering, read from the source: ``infra`` ← ``tasks`` ← ``workers``, stage bodies
free of Celery, and no stage reaching into another stage's task module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {"infra": 0, "tasks": 1, "workers": 2}
STAGES = ("scoring", "enforcement", "evidence", "legal")
# Only the task shells and the one decorator they share know of Celery.
CELERY_ALLOWED = {"tasks/pipeline.py", "tasks/maintenance.py"} | {
    f"tasks/{stage}/task.py" for stage in STAGES
}


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (lazy imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


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
# harness (demo, bench, chaos).
WORKERS = ROOT / "workers"
BESIDE_RUNTIME = sorted(p.parent.name for p in WORKERS.glob("*/__init__.py"))
MAY_IMPORT = {("cli", "harness")}


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
