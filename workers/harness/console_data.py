"""What the console's pages show, written in bulk: accounts, open review cases with the records
they were scored from, and notices waiting for counsel with the evidence they cite.

For the console's bench (many rows, fast) and its screenshots (a few). The rows are the ones
the pipeline writes, in the same shapes: a review case is a pending ``review`` action on a
score whose snapshot holds the account's record; a notice's letter is rendered from the legal
templates and kept as its first revision, with the events of its submission; its company holds
the keys the evidence linker keeps (its domain, and the e-mail address the letter goes to).
Nothing here decides anything: no outbox messages, no audit events of people.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from infra.db.models import (
    Account,
    Company,
    CompanyIndicator,
    EnforcementAction,
    Evidence,
    EvidenceLink,
    LegalEvaluation,
    LegalNotice,
    Score,
    SignalSnapshot,
)
from infra.number_hash import NumberKeys, number_keys
from infra.settings import get_settings
from tasks.accounts.phones import account_number
from tasks.accounts.signals import AccountSignals, DetectionPoint, parse_record
from tasks.legal import history, notice_status
from tasks.legal.history import SYSTEM
from tasks.legal.letter import CitedEvidence, Letter, render
from tasks.legal.policy import BASIS_OFF_PLATFORM, load_policy
from tasks.neighbourhoods.rules import NEIGHBOUR_FEATURES
from tasks.scoring.features import FEATURES, signal_matrix
from tasks.scoring.snapshot import compress_records

# Rows per INSERT: large enough that executemany's round trips do not dominate, small enough
# for SQLite's variable limit on multi-row inserts.
CHUNK = 5000
MODEL_VERSION = "console-bench"
EVIDENCE_PER_NOTICE = 3
# Features a messaging-stage model leans on for the bursts these records show: the reasons a
# seeded case gives are drawn from them, with the values its feature row holds.
REASON_FEATURES = (
    "peak_msgs_15s",
    "msgs_last_hour",
    "unique_recipients_day",
    "non_contact_ratio",
    "identical_content_ratio",
    "send_interval_cv",
    "block_ban_rate",
    "device_regs_1h",
)


@dataclass(frozen=True)
class Seeded:
    """The ids of what was written, for the pages that show one of them."""

    reviews: list[int]
    notices: list[int]


def seed_console_data(
    session: Session,
    *,
    accounts: int,
    reviews: int,
    notices: int,
    now: dt.datetime,
    seed: int = 7,
) -> Seeded:
    """``accounts`` accounts (``reviews`` of them with an open review case, the oldest waiting
    ``reviews`` minutes) and ``notices`` notices waiting for counsel, each to its own company."""
    from workers.harness.bench import simulated  # noqa: PLC0415 - the bench's heavy imports

    if reviews > accounts:
        raise ValueError("every review case is of one of the accounts: reviews <= accounts")
    records = simulated(reviews, seed, DetectionPoint.MESSAGING)
    _insert(session, Account, _accounts(records, accounts, now))
    review_ids = _review_cases(session, records, now) if records else []
    notice_ids = [_notice(session, i, now) for i in range(notices)]
    session.flush()
    return Seeded(review_ids, notice_ids)


def _insert(session: Session, model: Any, rows: Iterator[dict[str, Any]]) -> None:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            session.execute(insert(model), chunk)
            chunk = []
    if chunk:
        session.execute(insert(model), chunk)


def _accounts(
    records: Sequence[dict[str, Any]], total: int, now: dt.datetime
) -> Iterator[dict[str, Any]]:
    """The reviewed accounts as their records say, then plain ones up to ``total``."""
    keys = number_keys()
    for record in records:
        yield _account(record["account_id"], record["phone"], keys, now)
    for i in range(total - len(records)):
        yield _account(f"acc-console-{i:07d}", f"+4219{i:08d}", keys, now)


def _account(account_id: str, phone: str, keys: NumberKeys, now: dt.datetime) -> dict[str, Any]:
    # As scoring keeps an account: its number's hash, country and block, not the number.
    return {
        "account_id": account_id,
        **account_number(phone, keys),
        "status": "active",
        "first_seen_at": now - dt.timedelta(days=30),
    }


def _review_cases(session: Session, records: list[dict[str, Any]], now: dt.datetime) -> list[int]:
    """One snapshot holding the records, a score of each, and a pending review on each score."""
    raw = orjson.dumps(records)
    snapshot = SignalSnapshot(
        content_hash=hashlib.sha256(raw).hexdigest(),
        stage=DetectionPoint.MESSAGING.value,
        task_id=None,
        record_count=len(records),
        records=compress_records(raw),
        received_at=now - dt.timedelta(minutes=len(records)),
    )
    session.add(snapshot)
    session.flush()
    draw = random.Random(len(records))
    scores = [draw.uniform(0.5, 0.95) for _ in records]
    rows = _feature_rows(records, draw)
    reasons = [_reasons(row, draw) for row in rows]
    _insert(
        session,
        Score,
        (
            {
                "snapshot_id": snapshot.id,
                "position": i,
                "account_id": record["account_id"],
                "stage": DetectionPoint.MESSAGING.value,
                "observed_at": dt.datetime.fromisoformat(record["observed_at"]),
                "model_version": MODEL_VERSION,
                "shadow": False,
                "score": scores[i],
                "decision": "review",
                "features": rows[i],
                "reasons": reasons[i],
                "created_at": now,
            }
            for i, record in enumerate(records)
        ),
    )
    positions = select(Score.position, Score.id).where(Score.snapshot_id == snapshot.id)
    score_ids: dict[int, int] = dict(session.execute(positions).all())
    policy_version = get_settings().policy_version
    _insert(
        session,
        EnforcementAction,
        (
            {
                "account_id": record["account_id"],
                "score_id": score_ids[i],
                "action": "review",
                "status": "pending",
                "model_version": MODEL_VERSION,
                "score": scores[i],
                "reasons": reasons[i],
                "policy_version": policy_version,
                "rule": "messaging_review",
                "actor": "classifier",
                # The first record's case has waited longest.
                "created_at": now - dt.timedelta(minutes=len(records) - i),
            }
            for i, record in enumerate(records)
        ),
    )
    return list(
        session.scalars(
            select(EnforcementAction.id)
            .where(EnforcementAction.score_id.in_(score_ids.values()))
            .order_by(EnforcementAction.id)
        )
    )


def _feature_rows(
    records: Sequence[dict[str, Any]], draw: random.Random
) -> list[list[float | None]]:
    """The rows the model saw, as scoring stores them (missing values null): the records' own
    signals, and their neighbourhoods as the counters could have read them (none are kept here:
    rates drawn up to 0.3, recent registrations up to 20)."""
    parsed = [parse_record(record, AccountSignals, now=None) for record in records]
    signals = signal_matrix(parsed, DetectionPoint.MESSAGING)
    rows = []
    for row in signals.tolist():
        around = [
            round(draw.uniform(0, 0.3), 4) if name.endswith("_rate") else float(draw.randint(0, 20))
            for name in NEIGHBOUR_FEATURES
        ]
        rows.append([None if math.isnan(v) else round(v, 4) for v in row] + around)
    return rows


def _reasons(row: list[float | None], draw: random.Random) -> list[dict[str, Any]]:
    """Three of the features a messaging model leans on, the largest push first, with the
    values of the case's own row."""
    picked = draw.sample(REASON_FEATURES, 3)
    pushes = sorted((round(draw.uniform(0.2, 2.0), 4) for _ in picked), reverse=True)
    return [
        {"feature": name, "value": row[FEATURES.index(name)], "contribution": push}
        for name, push in zip(picked, pushes, strict=True)
    ]


def _notice(session: Session, index: int, now: dt.datetime) -> int:
    """A company, the public claims it made, and a notice citing them, pending counsel's
    review, with its letter rendered as the legal task renders it."""
    policy = load_policy(get_settings().policy_version)
    name = f"Bulk Reach {index + 1} s.r.o."
    domain = f"bulk-reach-{index + 1}.example"
    company = Company(name=name, normalized_name=name.lower(), origin_key=f"console-{index}")
    session.add(company)
    session.flush()
    for kind, value in (("domain", domain), ("email", f"legal@{domain}")):
        session.add(CompanyIndicator(company_id=company.id, kind=kind, value=value))
    cited = []
    for n in range(EVIDENCE_PER_NOTICE):
        observed = policy.off_platform_cutoff + dt.timedelta(days=10 + n)
        excerpt = f"{name} sends your offer to 50,000 numbers a day on the platform."
        url = f"https://{domain}/offer-{n}"
        evidence = Evidence(
            content_hash=hashlib.sha256(f"{url}|{excerpt}".encode()).hexdigest(),
            source="off_platform",
            kind="public_claim",
            observed_at=observed,
            url=url,
            claims_bulk=True,
            excerpt=excerpt,
            indicators={
                "domains": [domain],
                "emails": [],
                "phones": [],
                "claims": ["bulk"],
                "names": [name],
                "voice": None,
            },
        )
        session.add(evidence)
        session.flush()
        session.add(
            EvidenceLink(
                evidence_id=evidence.id, company_id=company.id, method="name", confidence=1
            )
        )
        cited.append(
            CitedEvidence(
                evidence.id, "off_platform", observed, url, evidence.content_hash, excerpt
            )
        )
    first, last = cited[0].observed_at, cited[-1].observed_at
    ids = [c.evidence_id for c in cited]
    evaluation = LegalEvaluation(
        fingerprint=hashlib.sha256(f"console-{index}".encode()).hexdigest(),
        company_id=company.id,
        policy_version=policy.version,
        eligible=True,
        basis=BASIS_OFF_PLATFORM,
        reason="public claims of bulk messaging after the cut-off",
        relied_on=ids,
    )
    session.add(evaluation)
    session.flush()
    notice = LegalNotice(
        reference=f"console-{index}",
        company_id=company.id,
        policy_version=policy.version,
        evaluation_id=evaluation.id,
        basis=BASIS_OFF_PLATFORM,
        status="draft",
        activity_first=first,
        activity_last=last,
        body="",
        body_sha256="",
        created_at=now - dt.timedelta(hours=index + 1),
    )
    session.add(notice)
    session.flush()
    notice.reference = notice_status.reference(notice.id, now.year)
    body = render(
        Letter(
            reference=notice.reference,
            language="en",
            kind="notice",
            company_name=name,
            basis=BASIS_OFF_PLATFORM,
            cutoff=policy.off_platform_cutoff,
            activity_first=first,
            activity_last=last,
            evidence=tuple(cited),
            response_days=policy.response_days,
            domains=(domain,),
        )
    )
    notice_status.add_revision(session, notice, body, ids, first=True)
    history.record(session, notice, "drafted from public claims of bulk messaging")
    notice_status.move(session, notice, "pending_review", "submitted for review", actor=SYSTEM)
    return notice.id
