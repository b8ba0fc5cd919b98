"""Unit tests need no service: a test here that asks for Redis or a database fails, saying where
it belongs."""

from __future__ import annotations

import pytest

SERVICE_FIXTURES = frozenset(
    {
        "redis_url",
        "rabbitmq_url",
        "rabbitmq_queues",
        "broker_url",
        "env",
        "database_url",
        "postgres_database",
        "postgres_session_database",
        "migrated_postgres_template",
        "migrated_sqlite_template",
        "session_engine",
        "session",
        "active_model",
    }
)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture is set up; a parametrized argument of the same name is no service.
    callspec = getattr(item, "callspec", None)
    arguments = set(callspec.params) if callspec is not None else set()
    wanted = SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())) - arguments
    if wanted:
        pytest.fail(
            f"{item.nodeid} uses {sorted(wanted)}: tests that need services belong in "
            "tests/stores, tests/stages or tests/integration",
            pytrace=False,
        )
