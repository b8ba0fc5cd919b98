"""The house's layering, read from the source: ``infra`` ← ``tasks`` ← ``workers``, stage bodies
free of Celery, no stage reaching into another stage's task module, and the evidence readers
free of everything but text."""

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
