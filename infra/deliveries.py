"""Deliveries to receivers outside bulkguard, each recorded once.

A delivery row (kind, reference) is written in the same transaction as the effect it reports;
items already recorded are not sent again. The sink may still see an item twice (the process
can die between the sink's write and the commit): every item carries its idempotency key so the
receiver can drop the duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore
from infra.db.models import Delivery
from infra.sinks import Sink


def deliver_once(
    session: Session, sink: Sink, kind: str, items: Mapping[int, dict[str, Any]]
) -> list[int]:
    """Send the ``items`` (by reference id) not yet delivered as ``kind``; the ids sent."""
    delivered = set(
        session.scalars(
            select(Delivery.ref_id).where(Delivery.kind == kind, Delivery.ref_id.in_(list(items)))
        )
    )
    todo = [ref_id for ref_id in items if ref_id not in delivered]
    if todo:
        sink.deliver([items[ref_id] for ref_id in todo])
        session.execute(
            insert_ignore(session, Delivery),
            [{"kind": kind, "ref_id": ref_id, "sink": str(sink)} for ref_id in todo],
        )
    return todo
