"""Taking work in: each record validated by the same code the task validates it with, the bad
ones refused by index with the reason, the rest committed as one outbox row (the message the
task consumes) beside the batch that answers for it and the client's audit record. After the
commit the row is published; if the broker is down then, the outbox sweep publishes it later."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session

from infra.api_keys import Client
from infra.db.models import ApiBatch, AuditEvent
from tasks import outbox
from tasks.accounts.signals import ScoringRequest, validate_records
from tasks.evidence.ingest import parse_document
from tasks.messages import FollowUp, IngestEvidence, ScoreAccounts
from tasks.payload import Payload, describe_validation_error
from tasks.scoring.score_batch import account_id_of
from tasks.scoring.snapshot import encode_records, snapshot_hash
from workers.api.errors import ApiError

P = TypeVar("P", bound=Payload)


def envelope(model: type[P], body: Any, **fields: Any) -> P:
    """``body`` (decoded JSON) checked as ``model``'s envelope, the records not yet one by one:
    :class:`ApiError` 400 with every problem named."""
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    try:
        return model.model_validate({**body, **fields})
    except ValidationError as exc:
        raise ApiError(400, describe_validation_error(exc)) from None


def accept_accounts(
    session: Session, client: Client, request: ScoringRequest, *, now: dt.datetime
) -> tuple[dict[str, Any], list[str]]:
    """The answer to a scoring request and the outbox keys to publish after commit."""
    raw = request.accounts
    _, positions, invalid = validate_records(request.stage, raw, now=now)
    encoded, unencodable = encode_records(raw, positions)
    refused = [(i, why) for i, _, why in invalid] + unencodable
    kept = sorted(set(positions) - {i for i, _ in unencodable})
    rejected = [
        {"index": i, "account_id": account_id_of(raw[i]), "reason": why}
        for i, why in sorted(refused)
    ]
    if not kept:
        return {"batch_id": None, "accepted": 0, "rejected": rejected}, []
    accounts = [raw[i] for i in kept]
    # The bytes the scoring task will encode the same records to: all valid there too.
    same = (
        encoded.raw if len(kept) == len(raw) else encode_records(accounts, range(len(kept)))[0].raw
    )
    message = ScoreAccounts(stage=request.stage, accounts=accounts)
    batch = _batch(
        session,
        client,
        "scoring",
        stage=request.stage.value,
        snapshot=snapshot_hash(request.stage.value, same),
        accepted=len(accounts),
        rejected=len(rejected),
        now=now,
    )
    keys = outbox.add(session, [FollowUp(message, batch.dedupe_key)])
    return {"batch_id": batch.id, "accepted": len(accounts), "rejected": rejected}, keys


def accept_documents(
    session: Session, client: Client, request: IngestEvidence, *, now: dt.datetime
) -> tuple[dict[str, Any], list[str]]:
    """The answer to a documents request and the outbox keys to publish after commit."""
    accepted, rejected = [], []
    for index, raw in enumerate(request.documents):
        try:
            parse_document(raw, now=now)
        except ValidationError as exc:
            rejected.append({"index": index, "reason": describe_validation_error(exc)})
            continue
        accepted.append(raw)
    if not accepted:
        return {"batch_id": None, "accepted": 0, "rejected": rejected}, []
    batch = _batch(
        session,
        client,
        "documents",
        stage=None,
        snapshot=None,
        accepted=len(accepted),
        rejected=len(rejected),
        now=now,
    )
    keys = outbox.add(session, [FollowUp(IngestEvidence(documents=accepted), batch.dedupe_key)])
    return {"batch_id": batch.id, "accepted": len(accepted), "rejected": rejected}, keys


def _batch(
    session: Session,
    client: Client,
    kind: str,
    *,
    stage: str | None,
    snapshot: str | None,
    accepted: int,
    rejected: int,
    now: dt.datetime,
) -> ApiBatch:
    batch = ApiBatch(
        user_id=client.actor.user_id,
        kind=kind,
        stage=stage,
        dedupe_key="",
        snapshot_hash=snapshot,
        accepted=accepted,
        rejected=rejected,
        created_at=now,
    )
    session.add(batch)
    session.flush()
    # The outbox row is named after the batch, whose id the flush has just given it.
    batch.dedupe_key = f"api.{kind}:{batch.id}"
    session.add(
        AuditEvent(
            entity="api_batch",
            entity_id=batch.id,
            event="accepted",
            at=now,
            details={
                "kind": kind,
                "stage": stage,
                "accepted": accepted,
                "rejected": rejected,
                "key_id": client.key_id,
            },
            **client.actor.recorded(),
        )
    )
    return batch
