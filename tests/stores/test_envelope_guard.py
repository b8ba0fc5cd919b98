"""The Redis boundary on a real Redis and a real database: an item that is not an envelope is
kept as a dead letter, and one the dead-letter store cannot take goes back on its queue instead
of being lost with the pop that took it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import func, select

from infra import dead_letters
from infra.db.models import DeadLetter
from infra.db.session import reset_engine, session_scope
from infra.settings import get_settings
from workers.envelopes import TASK_NAME, guarded_client

SEP = "\x06\x16"  # kombu's Redis channel joins a queue's name and priority with this
QUEUE = "legal"
POISON = b"this is not json at all"
# A database no store can reach: nothing listens on port 1.
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"


@pytest.fixture
def client(env: dict[str, str], redis_url: str) -> Iterator[redis.Redis]:
    made = guarded_client(redis.Redis, SEP).from_url(redis_url)
    made.delete(QUEUE)
    yield made
    made.delete(QUEUE)
    made.close()


def _dead_letters() -> int:
    with session_scope() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(DeadLetter)
                .where(DeadLetter.task_name == TASK_NAME)
            )
            or 0
        )


def _database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    reset_engine()


@pytest.mark.parametrize("pop", ["brpop", "rpop"])
def test_an_item_the_store_cannot_take_goes_back_and_is_kept_once_it_can(
    client: redis.Redis, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, pop: str
) -> None:
    monkeypatch.setattr(dead_letters, "STANDALONE_RETRY_WAITS", (0.0,))
    client.lpush(QUEUE, POISON, b"{}")  # pops take from the right: the poison comes first

    _database(monkeypatch, UNREACHABLE)
    popped = client.brpop([QUEUE], timeout=1) if pop == "brpop" else client.rpop(QUEUE)
    assert popped is None  # the worker's loop goes on, nothing raised
    # Back at the far end of the list: what was queued behind it is popped first.
    assert client.lrange(QUEUE, 0, -1) == [POISON, b"{}"]

    _database(monkeypatch, env["DATABASE_URL"])
    assert _dead_letters() == 0
    for _ in range(2):
        assert (client.brpop([QUEUE], timeout=1) if pop == "brpop" else client.rpop(QUEUE)) is None
    assert client.llen(QUEUE) == 0
    assert _dead_letters() == 2  # "{}" is not an envelope either
