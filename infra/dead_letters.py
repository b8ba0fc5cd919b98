"""The dead-letter store: bad input kept with a reason an operator can read."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore
from infra.db.models import DeadLetter
from infra.db.session import make_engine
from infra.settings import get_settings

log = logging.getLogger(__name__)
MAX_PAYLOAD_CHARS = 64_000


@dataclass(frozen=True)
class Rejection:
    reason: str
    payload: Any
    record_index: int | None = None
    account_id: str | None = None


def as_text(payload: Any) -> str:
    """What arrived, as faithfully as text allows, bounded so one huge message cannot bloat
    the store."""
    if isinstance(payload, bytes | bytearray | memoryview):
        text = bytes(payload).decode("utf-8", errors="backslashreplace")
    elif isinstance(payload, str):
        text = payload
    else:
        try:
            text = orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            text = repr(payload)
    # PostgreSQL text cannot hold NUL, which binary (e.g. pickled) bodies are full of.
    text = text.replace("\x00", "\\x00")
    if len(text) > MAX_PAYLOAD_CHARS:
        text = text[:MAX_PAYLOAD_CHARS] + f"... [{len(text) - MAX_PAYLOAD_CHARS} more characters]"
    return text


def store(
    session: Session, task_name: str, task_id: str | None, rejections: Iterable[Rejection]
) -> None:
    """Insert rejections; a redelivered message's rejections are recognised and stored once."""
    rows: list[dict[str, Any]] = []
    for r in rejections:
        payload = as_text(r.payload)
        fingerprint = hashlib.sha256(
            f"{task_name}\0{task_id}\0{r.record_index}\0{payload}".encode()
        ).hexdigest()
        rows.append(
            {
                "fingerprint": fingerprint,
                "task_name": task_name,
                "task_id": task_id,
                "record_index": r.record_index,
                "account_id": r.account_id,
                "reason": r.reason[:4000],
                "payload": payload,
            }
        )
        log.warning(
            "dead letter: %s [%s] record=%s: %s", task_name, task_id, r.record_index, r.reason
        )
    if rows:
        session.execute(insert_ignore(session, DeadLetter), rows)


_standalone: tuple[int, str, Engine] | None = None


def store_standalone(task_name: str, task_id: str | None, rejection: Rejection) -> None:
    """Store one dead letter from a process that must not hold pooled connections: the prefork
    parent (refused messages, hard time limits). A connection-less (NullPool) engine opens and
    closes a connection per use, so nothing it opens is inherited by the pool's children."""
    global _standalone  # noqa: PLW0603 - one engine per process
    url = get_settings().resolved_database_url
    if _standalone is None or _standalone[:2] != (os.getpid(), url):
        _standalone = (os.getpid(), url, make_engine(url, pooled=False))
    with Session(_standalone[2]) as session, session.begin():
        store(session, task_name, task_id, [rejection])
