"""A subject's erasure: their personal data deleted from every store bulkguard writes, but for
what is on legal hold, which is kept and said why.

Stores: the database (accounts, decisions and the snapshot records behind them, scores,
actions with their reviews, appeals, labels and deliveries, evidence and preserved documents
that name them, companies' numbers that are theirs, refused input), the Redis sets that hold
their account ids, and the outbound sandbox file of platform deliveries under the data
directory. A snapshot record is blanked in place (JSON null), since decision batches are
positional; what is left at that position (a score without an account) names no one.

The request is audited without the data: a reference, who, the reason (with the subject's
ids and numbers masked), and counts per store and what was kept, and why.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import redis
from redis.cluster import RedisCluster
from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from infra.db.models import (
    Account,
    AccountCompanyLink,
    AccountDecision,
    ApiIdempotency,
    AuditEvent,
    Company,
    DeadLetter,
    EnforcementAction,
    Evidence,
    Label,
    LegalNotice,
    RetentionHold,
    Score,
)
from infra.redaction import redact
from infra.users import Actor, authorize
from tasks.neighbourhoods.redis_store import forget_account
from tasks.retention import holds as holding
from tasks.retention.run import (
    delete_actions,
    delete_documents,
    delete_evidence,
    delete_unreferenced_scores,
)
from tasks.scoring.snapshot import blank_records
from tasks.subject import find
from tasks.subject.find import Subject

MASK = "[subject]"


@dataclass
class Erasure:
    reference: str
    erased: dict[str, int] = field(default_factory=dict)
    # What stays, each with why: {"what": "enforcement action 12", "why": "..."}.
    kept: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"reference": self.reference, "erased": self.erased, "kept": self.kept}


def erase(
    session: Session,
    who: Subject,
    *,
    actor: Actor,
    reason: str,
    counters: redis.Redis | RedisCluster,
    outbound: Path,
    now: dt.datetime,
) -> Erasure:
    """Erase ``who`` from the database (in ``session``, committed by the caller), Redis and the
    outbound sandbox ``outbound`` (a folder)."""
    authorize(session, actor, "admin")
    if not reason.strip():
        raise find.SubjectError("an erasure needs a reason (recorded, without the subject's data)")
    holds = holding.current(session)
    done = Erasure(uuid.uuid4().hex[:16])

    kept_actions = _actions(session, who, holds, done)
    kept_evidence = _evidence(session, who, holds, kept_actions, done)
    _records(session, who, done)
    done.erased["dead_letters"] = _delete_rows(session, find.dead_letters_naming(session, who))
    # An idempotent retry after this is answered anew; the batch it names was committed already.
    done.erased["api_answers"] = _delete_rows(session, find.api_answers_naming(session, who))
    _company_numbers(session, who, done)
    _accounts(session, who, kept_evidence, done)
    _hold_reasons(session, who)
    session.execute(
        update(RetentionHold)
        .where(
            RetentionHold.released_at.is_not(None),
            RetentionHold.kind == "account",
            RetentionHold.ref.in_(who.account_ids),
        )
        .values(ref="erased")
    )
    done.erased["redis_sets"] = sum(forget_account(counters, a) for a in who.account_ids)
    done.erased["outbound_lines"] = _outbound(outbound, who, kept_actions)
    session.add(
        AuditEvent(
            entity="subject_request",
            entity_id=0,
            event="erased",
            at=now,
            details={"reference": done.reference, "reason": _masked(reason, who), **done.as_json()},
            **actor.recorded(),
        )
    )
    session.flush()
    return done


def _masked(text: str, who: Subject) -> str:
    for needle in sorted(who.needles, key=len, reverse=True):
        text = text.replace(needle, MASK)
    return redact(text)


def _actions(session: Session, who: Subject, holds: holding.Holds, done: Erasure) -> set[int]:
    """Delete the subject's actions but those on hold (and the reviews those decided); the ids
    kept."""
    actions = find.actions_of(session, who)
    kept: dict[int, str] = {}
    for action in actions:
        why = holding.why_action_held(session, action, holds)
        if why is not None:
            kept[action.id] = why
    for action in actions:
        if action.id in kept and action.origin_id is not None and action.origin_id not in kept:
            kept[action.origin_id] = f"the review that action {action.id} decided"
    for action_id, why in sorted(kept.items()):
        done.kept.append({"what": f"enforcement action {action_id}", "why": why})
    erasable = [a.id for a in actions if a.id not in kept]
    if erasable:
        session.execute(
            delete(AuditEvent).where(
                AuditEvent.entity == "enforcement_action", AuditEvent.entity_id.in_(erasable)
            )
        )
    labels = select(func.count()).select_from(Label).where(Label.account_id.in_(who.account_ids))
    before = session.scalar(labels) or 0
    done.erased["actions"] = delete_actions(session, erasable)
    done.erased["labels"] = before - (session.scalar(labels) or 0)
    return set(kept)


def _evidence(
    session: Session, who: Subject, holds: holding.Holds, kept_actions: set[int], done: Erasure
) -> set[int]:
    """Delete the evidence and documents that name the subject but those on hold; the ids of
    the evidence kept."""
    erasable, kept = [], set()
    for item in find.evidence_naming(session, who):
        why = holding.why_evidence_held(session, item, holds)
        if why is None and item.action_id in kept_actions:
            why = f"evidence of enforcement action {item.action_id}, which is kept"
        if why is None:
            erasable.append(item.id)
        else:
            kept.add(item.id)
            done.kept.append({"what": f"evidence {item.id}", "why": why})
    done.erased["evidence"] = delete_evidence(session, erasable)
    documents = []
    for document in find.documents_naming(session, who):
        held = session.scalars(select(Evidence).where(Evidence.document_id == document.id)).all()
        why = next(
            (w for e in held if (w := holding.why_evidence_held(session, e, holds)) is not None),
            None,
        )
        if why is None:
            documents.append(document.id)
        else:
            done.kept.append({"what": f"preserved document {document.id}", "why": why})
    done.erased["documents"] = delete_documents(session, documents)
    return kept


def _records(session: Session, who: Subject, done: Erasure) -> None:
    """Blank the subject's snapshot records but those of kept scores; drop their index entries,
    scores and labels left without a kept action."""
    scores = [s.id for s in find.scores_of(session, who)]
    done.erased["scores"] = delete_unreferenced_scores(session, scores)
    kept_positions = {(s.snapshot_id, s.position) for s in find.scores_of(session, who)}
    erase_at = {
        snapshot_id: {p for p in positions if (snapshot_id, p) not in kept_positions}
        for snapshot_id, positions in find.positions_of(session, who).items()
    }
    done.erased["snapshot_records"] = blank_records(session, erase_at)
    index = session.execute(
        delete(AccountDecision).where(AccountDecision.account_id.in_(who.account_ids))
    )
    done.erased["decisions"] = int(getattr(index, "rowcount", 0) or 0)
    if kept_positions:
        done.kept.append(
            {
                "what": f"{len(kept_positions)} scoring record(s) and score(s)",
                "why": "what the kept actions are explained from",
            }
        )


def _company_numbers(session: Session, who: Subject, done: Erasure) -> None:
    """A company's number that is the subject's: removed from the company, unless a notice
    that is open or was sent is addressed to it (the letter's file must show whom it reached)."""
    removed = 0
    for indicator in find.indicators_naming(session, who):
        if session.scalar(
            select(LegalNotice.id).where(
                LegalNotice.company_id == indicator.company_id,
                LegalNotice.status.in_(holding.CITING_NOTICE_STATUSES),
            )
        ):
            done.kept.append(
                {
                    "what": f"phone number of company {indicator.company_id}",
                    "why": "a legal notice to the company is open or was sent",
                }
            )
            continue
        session.delete(indicator)
        removed += 1
    keys = [f"phone:{p}" for p in who.phones] + [f"account:{a}" for a in who.account_ids]
    for company in session.scalars(select(Company).where(Company.origin_key.in_(keys))):
        company.origin_key = f"erased:{uuid.uuid4().hex}"
        removed += 1
    done.erased["company_numbers"] = removed


def _accounts(session: Session, who: Subject, kept_evidence: set[int], done: Erasure) -> None:
    """Delete the subject's account rows, but those kept items refer to; the account's links to
    companies go unless they rest on kept evidence."""
    session.execute(
        delete(AccountCompanyLink).where(
            AccountCompanyLink.account_id.in_(who.account_ids),
            AccountCompanyLink.evidence_id.not_in(sorted(kept_evidence)),
        )
    )
    removed = 0
    for account in session.scalars(select(Account).where(Account.account_id.in_(who.account_ids))):
        still = session.scalar(
            select(
                or_(
                    exists().where(EnforcementAction.account_id == account.account_id),
                    exists().where(Score.account_id == account.account_id),
                    exists().where(Evidence.account_id == account.account_id),
                    exists().where(AccountCompanyLink.account_id == account.account_id),
                )
            )
        )
        if still:
            done.kept.append(
                {"what": f"account {account.account_id}", "why": "the kept items above refer to it"}
            )
            continue
        session.delete(account)
        removed += 1
    session.flush()
    done.erased["accounts"] = removed


def _delete_rows(session: Session, rows: Sequence[DeadLetter | ApiIdempotency]) -> int:
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def _outbound(folder: Path, who: Subject, kept_actions: set[int]) -> int:
    """Drop the lines of the outbound sandbox files (JSON lines) that name the subject, but
    those of kept actions; how many. Written to a new file and renamed over the old one."""
    removed = 0
    needles = [n.encode() for n in who.needles]
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        keep: list[bytes] = []
        for line in path.read_bytes().splitlines(keepends=True):
            if any(n in line for n in needles) and _action_of(line) not in kept_actions:
                removed += 1
            else:
                keep.append(line)
        if removed:
            fresh = path.with_suffix(".jsonl.erasing")
            fresh.write_bytes(b"".join(keep))
            fresh.chmod(path.stat().st_mode & 0o777)
            fresh.replace(path)
    return removed


def _action_of(line: bytes) -> int | None:
    try:
        item = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    value = item.get("action_id") if isinstance(item, dict) else None
    return value if isinstance(value, int) else None


def _hold_reasons(session: Session, who: Subject) -> None:
    """Mask the subject in the reasons people gave for holds (rows and audit trail): an admin
    may have named the account or number there."""
    for row in session.scalars(select(RetentionHold)):
        if any(n in row.reason or n in (row.release_reason or "") for n in who.needles):
            row.reason = _masked(row.reason, who)
            row.release_reason = row.release_reason and _masked(row.release_reason, who)
    for event in session.scalars(select(AuditEvent).where(AuditEvent.entity == "retention_hold")):
        reason = str(event.details.get("reason", ""))
        if any(n in reason for n in who.needles):
            event.details = {**event.details, "reason": _masked(reason, who)}
    session.flush()
