"""The dead-letter store: bad input kept with a reason an operator can read."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from infra import lenient_json
from infra.db.inserts import insert_ignore
from infra.db.models import DeadLetter
from infra.db.session import make_engine
from infra.settings import get_settings

log = logging.getLogger(__name__)
MAX_PAYLOAD_CHARS = 64_000


# The largest message kept whole for replay (as JSON text, before compression). Bigger than any
# scoring batch the contract allows (10,000 records); an evidence message can exceed it, and is
# then kept for reading only.
MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Rejection:
    """Input refused with ``reason``. ``payload`` is what an operator reads; ``replay`` is what
    ``bulkguard dead-letters replay`` may send to the task again: its keyword arguments for this
    item alone (a dict), or a Celery JSON message body as it arrived (bytes)."""

    reason: str
    payload: Any
    record_index: int | None = None
    account_id: str | None = None
    replay: dict[str, Any] | bytes | None = None


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
    text = _storable(text)
    if len(text) > MAX_PAYLOAD_CHARS:
        text = text[:MAX_PAYLOAD_CHARS] + f"... [{len(text) - MAX_PAYLOAD_CHARS} more characters]"
    return text


def _storable(text: str) -> str:
    """``text`` as a database can store it: PostgreSQL text cannot hold NUL (binary bodies are
    full of it) and no encoder accepts a lone surrogate; both are written as escapes."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def replay_body(replay: dict[str, Any] | bytes | None) -> tuple[bytes | None, str | None]:
    """The stored form of a rejection's ``replay``: compressed bytes and their format, or
    (None, None) when it cannot be kept whole."""
    if replay is None:
        return None, None
    if isinstance(replay, bytes):
        raw, body_format = replay, "celery-json"
    else:
        try:
            # The standard library's encoder, escaping to ASCII, keeps what orjson cannot:
            # NaN, infinities and lone surrogates, exactly as the client sent them.
            raw, body_format = json.dumps(replay, ensure_ascii=True).encode(), "kwargs"
        except (TypeError, ValueError, RecursionError):
            return None, None
    if len(raw) > MAX_BODY_BYTES:
        return None, None
    return zlib.compress(raw, 6), body_format


def read_replay(body: bytes, body_format: str) -> Any:
    """What :func:`replay_body` kept: the kwargs, or the decoded Celery message body (``ValueError``
    when it still cannot be decoded)."""
    if body_format not in ("kwargs", "celery-json"):
        raise ValueError(f"unknown dead-letter body format {body_format!r}")
    return lenient_json.loads(zlib.decompress(body))


def store(
    session: Session, task_name: str, task_id: str | None, rejections: Iterable[Rejection]
) -> None:
    """Insert rejections; a redelivered message's rejections are recognised and stored once."""
    rows: list[dict[str, Any]] = []
    for r in rejections:
        payload = as_text(r.payload)
        fingerprint = hashlib.sha256(
            f"{task_name}\0{task_id}\0{r.record_index}\0{payload}".encode("utf-8", "surrogatepass")
        ).hexdigest()
        body, body_format = replay_body(r.replay)
        rows.append(
            {
                "fingerprint": fingerprint,
                "task_name": _storable(task_name)[:128],
                "task_id": _storable(task_id)[:64] if task_id is not None else None,
                "record_index": r.record_index,
                # Refused input may carry anything in this field: keep it storable.
                "account_id": _storable(r.account_id)[:64] if r.account_id is not None else None,
                "reason": _storable(r.reason)[:4000],
                "payload": payload,
                "body": body,
                "body_format": body_format,
            }
        )
        log.warning(
            "dead letter: %s [%s] record=%s: %s", task_name, task_id, r.record_index, r.reason
        )
    if rows:
        session.execute(insert_ignore(session, DeadLetter), rows)


def kept_with_reason(
    session: Session, task_name: str, task_id: str | None, reason_start: str
) -> bool:
    """Whether a dead letter of this task run begins with ``reason_start``."""
    if task_id is None:
        return False
    # By task id alone in SQL: a task name matches thousands of rows, and a planner with
    # statistics (or without) may otherwise pick its index. The name is checked on the few rows.
    names = session.scalars(
        select(DeadLetter.task_name)
        .where(
            DeadLetter.task_id == task_id,
            DeadLetter.reason.startswith(reason_start, autoescape=True),
        )
        .limit(10)
    )
    return task_name in names


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


# Seconds to wait before each new try of a standalone store: a database that is briefly locked,
# failing over or restarting gets about three and a half seconds before the caller must put the
# message back on its queue.
STANDALONE_RETRY_WAITS: tuple[float, ...] = (0.5, 1.0, 2.0)


def keep_standalone(task_name: str, task_id: str | None, rejection: Rejection) -> bool:
    """:func:`store_standalone` with retries: True once the dead letter is stored, False when
    every try failed. A False means the message is not kept anywhere yet, so the caller must not
    let the broker forget it (requeue it, or push the item back) rather than drop it."""
    waits = iter(STANDALONE_RETRY_WAITS)
    attempt = 1
    while True:
        try:
            store_standalone(task_name, task_id, rejection)
        except Exception:
            log.exception(
                "could not store a dead letter for %s [%s] (try %d)", task_name, task_id, attempt
            )
            wait = next(waits, None)
            if wait is None:
                return False
            time.sleep(wait)
            attempt += 1
        else:
            return True
