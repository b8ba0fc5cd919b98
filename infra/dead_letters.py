"""The dead-letter store: bad input kept with a reason an operator can read."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.orm import Session

from infra.db.models import DeadLetter
from infra.db.session import insert_ignore

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
) -> int:
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
    return len(rows)
