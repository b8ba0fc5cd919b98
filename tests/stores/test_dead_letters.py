"""The dead-letter store on SQLite and PostgreSQL: bad input kept once, with its reason."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from infra.db.models import (
    DeadLetter,
)
from infra.db.session import session_scope
from infra.dead_letters import MAX_PAYLOAD_CHARS, Rejection, as_text, store


def test_dead_letter_stored_once_per_redelivery(env: dict[str, str]) -> None:
    rejections = [
        Rejection("messaging.reply_ratio: too high", {"account_id": "a", "x": 1.5}, 0, "a")
    ]
    for _ in range(2):  # the same message delivered twice
        with session_scope() as session:
            store(session, "scoring.score_accounts", "task-1", rejections)
    with session_scope() as session:
        rows = session.scalars(select(DeadLetter)).all()
        assert len(rows) == 1
        (row,) = rows
        assert row.task_name == "scoring.score_accounts"
        assert row.task_id == "task-1"
        assert row.record_index == 0
        assert row.account_id == "a"
        assert row.reason == "messaging.reply_ratio: too high"
        assert json.loads(row.payload) == {"account_id": "a", "x": 1.5}
        assert len(row.fingerprint) == 64


def test_dead_letters_of_other_records_or_tasks_are_kept_apart(env: dict[str, str]) -> None:
    with session_scope() as session:
        store(
            session,
            "scoring.score_accounts",
            "task-1",
            [Rejection("bad", {"a": 1}, 0), Rejection("bad", {"a": 1}, 1)],
        )
        store(session, "scoring.score_accounts", "task-2", [Rejection("bad", {"a": 1}, 0)])
        store(session, "scoring.score_accounts", None, [Rejection("bad", b"\xff\x00raw")])
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(DeadLetter)) == 4
        raw = session.scalars(select(DeadLetter.payload).where(DeadLetter.task_id.is_(None))).one()
        assert raw == "\\xff\\x00raw"


def test_as_text_bounds_huge_payloads() -> None:
    text = as_text("x" * (MAX_PAYLOAD_CHARS + 10))
    assert text == "x" * MAX_PAYLOAD_CHARS + "... [10 more characters]"
    assert as_text({"b": float("nan")}) == '{"b":null}'
    assert as_text({1: object}).startswith("{1: <class")
