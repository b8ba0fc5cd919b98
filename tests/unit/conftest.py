"""Unit tests need no service: a test here that asks for Redis or a database fails to collect."""

from __future__ import annotations

from pathlib import Path

import pytest

SERVICE_FIXTURES = frozenset(
    {"redis_url", "env", "database_url", "postgres_database", "session", "active_model"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A collection hook sees every item of the run, not only this directory's.
    here = Path(__file__).parent
    for item in items:
        if here not in item.path.parents:
            continue
        wanted = SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if wanted:
            raise pytest.UsageError(
                f"{item.nodeid} uses {sorted(wanted)}: tests that need services belong in "
                "tests/stores, tests/stages or tests/integration"
            )
