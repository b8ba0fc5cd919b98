"""The console's healthcheck: no login, no session, nothing but whether the database answers."""

from __future__ import annotations

import pytest

from infra.db.session import reset_engine
from infra.settings import get_settings
from tests.console_client import console


def test_healthz_answers_without_a_login_and_sets_no_cookie(env: dict[str, str]) -> None:
    with console() as visitor:
        answer = visitor.get("/healthz")
    assert (answer.status_code, answer.text) == (200, "ok")
    assert "set-cookie" not in answer.headers
    assert "content-security-policy" in answer.headers


def test_healthz_is_503_when_the_database_does_not_answer(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with console() as visitor:
        # Nothing listens on port 1: the connection is refused at once.
        unreachable = "postgresql+psycopg://bulkguard:secret@127.0.0.1:1/bulkguard"
        monkeypatch.setenv("DATABASE_URL", unreachable)
        get_settings.cache_clear()
        reset_engine()
        answer = visitor.get("/healthz")
    assert (answer.status_code, answer.text) == (503, "database unavailable")
    assert "127.0.0.1" not in answer.text
    assert "secret" not in answer.text
