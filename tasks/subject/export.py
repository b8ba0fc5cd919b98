"""A subject's export: everything bulkguard holds about one person, as one JSON document.

Accounts, every decision on them (allow included) with the record the model was sent, the
actioned scores with their reasons, actions with their reviews, appeals and deliveries, labels,
evidence and preserved documents that name them, companies' numbers that are theirs, refused
input that names them, audit events about their actions, legal holds, and the Redis sets that
hold their account ids. Read as an admin (``bulkguard subject export``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import redis
from redis.cluster import RedisCluster
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import (
    Account,
    Appeal,
    AppealRequest,
    AuditEvent,
    Delivery,
    Label,
    RetentionHold,
    SignalSnapshot,
)
from infra.users import Actor, authorize
from tasks.enforcement.deliver import PLATFORM_KINDS
from tasks.neighbourhoods.redis_store import sets_naming
from tasks.scoring.decisions import decisions_of
from tasks.scoring.snapshot import SCORE_COLUMNS, raw_records_at
from tasks.subject import find
from tasks.subject.find import Subject


def _row(obj: Any, *columns: str) -> dict[str, Any]:
    out = {}
    for column in columns:
        value = getattr(obj, column)
        out[column] = value.isoformat() if isinstance(value, dt.datetime) else value
    return out


def export(
    session: Session, who: Subject, *, actor: Actor, counters: redis.Redis | RedisCluster
) -> dict[str, Any]:
    authorize(session, actor, "admin")
    ids = list(who.account_ids)
    accounts = session.scalars(select(Account).where(Account.account_id.in_(ids))).all()
    actions = find.actions_of(session, who)
    action_ids = [a.id for a in actions]
    records: list[dict[str, Any]] = []
    for snapshot_id, positions in sorted(find.positions_of(session, who).items()):
        snapshot = session.get(SignalSnapshot, snapshot_id)
        for position, record in sorted(
            raw_records_at(session, snapshot_id, sorted(positions)).items()
        ):
            records.append(
                {
                    "snapshot_id": snapshot_id,
                    "position": position,
                    "received_at": snapshot.received_at.isoformat() if snapshot else None,
                    "record": record,
                }
            )
    evidence = find.evidence_naming(session, who)
    return {
        "subject": {"account_ids": ids, "phones": list(who.phones)},
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "accounts": [
            # The number is held as its keyed hash: shown as held, the number itself is in the
            # records below and in the subject's "phones".
            _row(
                a,
                "account_id",
                "phone_hash",
                "phone_key",
                "country",
                "phone_block",
                "status",
                "first_seen_at",
            )
            for a in accounts
        ],
        "decisions": [
            {
                "account_id": account_id,
                **_row(
                    d,
                    "snapshot_id",
                    "received_at",
                    "stage",
                    "model_version",
                    "shadow",
                    "score",
                    "decision",
                ),
            }
            for account_id in ids
            for d in decisions_of(session, account_id)
        ],
        "records_as_received": records,
        "scores": [_row(s, "id", *SCORE_COLUMNS) for s in find.scores_of(session, who)],
        "actions": [
            _row(
                a,
                "id",
                "account_id",
                "score_id",
                "action",
                "status",
                "model_version",
                "score",
                "reasons",
                "policy_version",
                "rule",
                "statement",  # the statement of reasons as the account holder was given it
                "actor",
                "origin_id",
                "created_at",
                "release_at",
                "expires_at",
                "reversed_at",
                "reversed_by",
                "reversal_reason",
            )
            for a in actions
        ],
        "appeals": [
            _row(a, "id", "action_id", "outcome", "decided_by", "reason", "decided_at")
            for a in session.scalars(select(Appeal).where(Appeal.action_id.in_(action_ids)))
        ],
        "appeal_requests": [
            _row(r, "id", "action_id", "statement", "filed_by", "filed_at", "appeal_id")
            for r in session.scalars(
                select(AppealRequest).where(AppealRequest.action_id.in_(action_ids))
            )
        ],
        "labels": [
            _row(
                label,
                "id",
                "account_id",
                "score_id",
                "abusive",
                "source",
                "action_id",
                "decided_by",
                "created_at",
            )
            for label in session.scalars(select(Label).where(Label.account_id.in_(ids)))
        ],
        "deliveries": [
            _row(d, "id", "kind", "ref_id", "sink", "item", "recorded_at", "delivered_at", "status")
            for d in session.scalars(
                select(Delivery).where(
                    Delivery.kind.in_(PLATFORM_KINDS), Delivery.ref_id.in_(action_ids)
                )
            )
        ],
        "audit_events": [
            _row(e, "id", "entity", "entity_id", "event", "actor", "details", "at")
            for e in session.scalars(
                select(AuditEvent).where(
                    AuditEvent.entity == "enforcement_action", AuditEvent.entity_id.in_(action_ids)
                )
            )
        ],
        "evidence": [
            _row(
                e,
                "id",
                "source",
                "kind",
                "observed_at",
                "url",
                "account_id",
                "excerpt",
                "indicators",
                "document_id",
                "action_id",
                "received_at",
            )
            for e in evidence
        ],
        "documents_naming": [
            _row(d, "id", "sha256", "content_type", "size", "created_at")
            for d in find.documents_naming(session, who)
        ],
        "company_phone_numbers": [
            _row(i, "company_id", "kind", "value") for i in find.indicators_naming(session, who)
        ],
        "refused_input": [
            _row(d, "id", "task_name", "account_id", "reason", "payload", "created_at")
            for d in find.dead_letters_naming(session, who)
        ],
        "api_answers": [
            _row(a, "id", "idempotency_key", "status", "answer", "created_at")
            for a in find.api_answers_naming(session, who)
        ],
        "legal_holds": [
            _row(h, "id", "kind", "ref", "reason", "held_at", "released_at")
            for h in session.scalars(
                select(RetentionHold).where(
                    (RetentionHold.kind == "account") & RetentionHold.ref.in_(ids)
                    | (RetentionHold.kind == "action")
                    & RetentionHold.ref.in_([str(i) for i in action_ids])
                )
            )
        ],
        "redis_registration_sets": sum(
            len(sets_naming(counters, account_id)) for account_id in ids
        ),
    }
