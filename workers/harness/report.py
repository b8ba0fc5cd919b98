"""Counts that describe what the pipeline did, read from the database and the broker."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import redis
from celery import Celery
from kombu.common import ignore_errors
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from infra.db.models import (
    Account,
    DeadLetter,
    EnforcementAction,
    EvidenceLink,
    LegalNotice,
    OutboxMessage,
    Score,
)
from infra.db.session import session_scope
from tasks.scoring.decisions import scored_accounts
from workers.queues import QUEUES

CHUNK = 5000


def _count_in(session: Session, query: Any, column: Any, ids: Sequence[str]) -> int:
    total = 0
    for start in range(0, len(ids), CHUNK):
        total += session.scalar(query.where(column.in_(ids[start : start + CHUNK]))) or 0
    return total


def pipeline_counts(
    session: Session, account_ids: Sequence[str], model_version: str
) -> dict[str, int]:
    """Account-level counts for the given population; company-level counts for the database."""
    return {
        "accounts": _count_in(
            session, select(func.count()).select_from(Account), Account.account_id, account_ids
        ),
        "scored": scored_accounts(session, account_ids, model_version),
        "banned": _count_in(
            session,
            select(func.count())
            .select_from(EnforcementAction)
            .where(
                EnforcementAction.action == "ban",
                EnforcementAction.status.in_(("active", "shadow")),
            ),
            EnforcementAction.account_id,
            account_ids,
        ),
        "restricted": _count_in(
            session,
            select(func.count())
            .select_from(EnforcementAction)
            .where(
                EnforcementAction.action == "restrict",
                EnforcementAction.status.in_(("active", "shadow")),
            ),
            EnforcementAction.account_id,
            account_ids,
        ),
        "review": _count_in(
            session,
            select(func.count())
            .select_from(EnforcementAction)
            .where(EnforcementAction.action == "review"),
            EnforcementAction.account_id,
            account_ids,
        ),
        "evidence_linked": session.scalar(select(func.count(distinct(EvidenceLink.evidence_id))))
        or 0,
        "companies_linked": session.scalar(select(func.count(distinct(EvidenceLink.company_id))))
        or 0,
        "notices_drafted": session.scalar(select(func.count()).select_from(LegalNotice)) or 0,
        "dead_letters": session.scalar(select(func.count()).select_from(DeadLetter)) or 0,
    }


def waiting_for_people(session: Session, account_ids: Sequence[str]) -> dict[str, Any]:
    """What the pipeline left for people to decide: the population's pending review cases, by
    detection point and the policy rule that sent them, and the notices awaiting counsel's
    approval (company level, for the database)."""
    cases: Counter[tuple[str, str]] = Counter()
    query = (
        select(Score.stage, EnforcementAction.rule, func.count())
        .join(Score, Score.id == EnforcementAction.score_id)
        .where(EnforcementAction.action == "review", EnforcementAction.status == "pending")
        .group_by(Score.stage, EnforcementAction.rule)
    )
    for start in range(0, len(account_ids), CHUNK):
        chunk = account_ids[start : start + CHUNK]
        for stage, rule, n in session.execute(query.where(EnforcementAction.account_id.in_(chunk))):
            cases[(stage, rule or "(no rule)")] += n
    by_stage: dict[str, dict[str, int]] = {}
    for (stage, rule), n in sorted(cases.items()):
        by_stage.setdefault(stage, {})[rule] = n
    notices = session.scalar(
        select(func.count()).select_from(LegalNotice).where(LegalNotice.status == "pending_review")
    )
    return {
        "review_pending": sum(cases.values()),
        "review_pending_by_stage": by_stage,
        "notices_pending_review": notices or 0,
    }


def pending_outbox(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.published_at.is_(None))
        )
        or 0
    )


def broker_backlog(app: Celery) -> int:
    """Messages waiting in any queue plus messages delivered but not yet acknowledged, on the
    app's broker."""
    with app.connection_for_read() as conn:
        if conn.transport.driver_type == "redis":
            # Kombu's own keys: one list per queue, and the table of unacknowledged messages.
            with redis.Redis.from_url(app.conf.broker_url) as client:
                pipe = client.pipeline(transaction=False)
                for queue in QUEUES:
                    pipe.llen(queue)
                pipe.hlen("unacked")
                return sum(int(n) for n in pipe.execute())
        waiting, consumers = 0, 0
        for queue in QUEUES:
            # AMQP says how many messages are ready, not how many consumers hold. (kombu's
            # stubs leave AMQP's methods off the channel type.)
            channel: Any = conn.channel()
            try:
                declared = channel.queue_declare(queue=queue, passive=True)
            except conn.channel_errors:
                continue  # not declared yet: nothing waits in it
            finally:
                ignore_errors(conn, channel.close)
            waiting += declared.message_count
            consumers += declared.consumer_count
    if waiting or not consumers:
        return waiting
    return held_by_workers(app, consumers)


def held_by_workers(app: Celery, workers: int) -> int:
    """Tasks the running workers hold: executing, prefetched and waiting for an ETA."""
    inspect = app.control.inspect(timeout=1.0, limit=workers)
    held = 0
    for query in (inspect.active, inspect.reserved, inspect.scheduled):
        replies = query() or {}
        held += sum(len(tasks) for tasks in replies.values())
    return held


def wait_until_drained(
    app: Celery,
    *,
    account_ids: Sequence[str],
    model_version: str,
    timeout: float,
    on_poll: Callable[[dict[str, int]], None] | None = None,
    interval: float = 1.0,
) -> dict[str, int]:
    """Block until the pipeline is idle: no message queued or unacknowledged, the outbox
    published, and no count changed between two polls. Returns the final counts."""
    deadline = time.monotonic() + timeout
    previous: dict[str, int] | None = None
    while time.monotonic() < deadline:
        with session_scope() as session:
            counts = pipeline_counts(session, account_ids, model_version)
            outbox = pending_outbox(session)
        if on_poll is not None:
            on_poll(counts)
        if broker_backlog(app) == 0 and outbox == 0 and counts == previous:
            return counts
        previous = counts
        time.sleep(interval)
    raise TimeoutError(f"the pipeline did not drain within {timeout:.0f}s; last counts {previous}")
