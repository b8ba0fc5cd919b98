"""A data directory as a new user's machine has it, for the tests that run the demo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.db.migrate import upgrade
from infra.db.session import reset_engine, session_scope
from infra.registry import register, set_role
from infra.settings import get_settings


def demo_data_dir(
    data: Path, redis_url: str, trained_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point the settings at a new data directory (its SQLite database, the session's model
    registered and active) and a Redis URL for the demo to start a server on, as a new user's
    machine would have them; the demo then spends no time training."""
    monkeypatch.setenv("BULKGUARD_DATA_DIR", str(data))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("BROKER_URL", raising=False)
    get_settings.cache_clear()
    reset_engine()
    upgrade()
    models = data / "models"
    shutil.copytree(trained_model_dir, models / trained_model_dir.name)
    with session_scope() as session:
        set_role(session, register(session, models / trained_model_dir.name).version, "active")
    reset_engine()
    get_settings.cache_clear()
