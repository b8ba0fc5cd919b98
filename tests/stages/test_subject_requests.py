"""Subject requests on a real database (SQLite and PostgreSQL) and a real Redis: the export holds
everything about one person, the erasure leaves nothing of them but what is on hold, says why,
and is audited without their data."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import ApiIdempotency, AuditEvent, EnforcementAction, utcnow
from infra.number_hash import number_keys
from infra.users import NotAllowedError
from tasks.neighbourhoods.redis_store import PREFIX
from tasks.scoring.snapshot import raw_records_at
from tasks.subject.erase import erase
from tasks.subject.export import export
from tasks.subject.find import SubjectError, subject
from tests.mentions import rows_mentioning
from tests.people import person as user
from tests.retention_seed import person

PHONE = "+421905123987"
HELD_PHONE = "+421905123988"


@pytest.fixture
def counters(redis_url: str) -> redis.Redis:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    return client


def test_export_then_erase_leaves_only_what_is_held(
    session: Session, counters: redis.Redis, tmp_path: Path
) -> None:
    admin = user(session, "dpo", "admin")
    gone = person(session, "subject-1", PHONE, allowed_neighbour="neighbour-1")
    held = person(session, "subject-2", HELD_PHONE, status="active")
    counters.sadd(f"{PREFIX}:{{regs:device:7:d1}}:seen", "subject-1", "neighbour-1")
    outbound = tmp_path / "outbound"
    outbound.mkdir()
    (outbound / "platform-actions.jsonl").write_bytes(
        orjson.dumps({"action_id": gone.action_id, "account_id": "subject-1"})
        + b"\n"
        + orjson.dumps({"action_id": held.action_id, "account_id": "subject-2"})
        + b"\n"
    )
    # The HTTP api's kept answer to a batch that refused the subject's record, by its id.
    refused = {"rejected": [{"index": 0, "account_id": "subject-1", "reason": "bad phone"}]}
    session.add(
        ApiIdempotency(
            user_id=admin.user_id, idempotency_key="k1", fingerprint="f", status=202, answer=refused
        )
    )
    session.commit()

    who = subject(session, account_id="subject-1")
    document = export(session, who, actor=admin, counters=counters)
    # The account row keeps the number's keyed hash; the number comes from the records.
    assert document["subject"]["phones"] == [PHONE]
    assert document["accounts"][0]["phone_hash"] == number_keys().hash(PHONE)
    assert "phone" not in document["accounts"][0]
    assert [a["id"] for a in document["actions"]] == [gone.action_id]
    assert "statement" in document["actions"][0]  # the statement of reasons, as given
    assert document["records_as_received"][0]["record"] == {
        "account_id": "subject-1",
        "phone": PHONE,
    }
    assert len(document["labels"]) == len(document["deliveries"]) == 1
    assert [e["id"] for e in document["evidence"]] == [gone.evidence_id]
    assert len(document["refused_input"]) == 1
    assert document["redis_registration_sets"] == 1
    assert [a["answer"] for a in document["api_answers"]] == [refused]
    json.dumps(document)  # one JSON document

    done = erase(
        session,
        who,
        actor=admin,
        reason=f"request of {PHONE} by mail",
        counters=counters,
        outbound=outbound,
        now=utcnow(),
    )
    session.commit()
    assert done.kept == []
    assert done.erased["actions"] == 1
    assert done.erased["accounts"] == 1
    assert done.erased["api_answers"] == 1
    assert rows_mentioning(session, ["subject-1", PHONE]) == {}
    # The neighbour in the same batch keeps its record; the subject's is blanked in place.
    assert raw_records_at(session, gone.snapshot_id, [0, 1]) == {
        1: {"account_id": "neighbour-1", "phone": PHONE[:-1] + "0"}
    }
    assert counters.smembers(f"{PREFIX}:{{regs:device:7:d1}}:seen") == {b"neighbour-1"}
    lines = (outbound / "platform-actions.jsonl").read_bytes()
    assert b"subject-1" not in lines
    assert b"subject-2" in lines
    audit = session.scalars(select(AuditEvent).where(AuditEvent.entity == "subject_request")).one()
    assert audit.details["reference"] == done.reference
    assert audit.details["reason"] == "request of [subject] by mail"

    # A ban in force is kept, with the score and record behind it and the account, each said why.
    kept = erase(
        session,
        subject(session, phone=HELD_PHONE),
        actor=admin,
        reason="asked",
        counters=counters,
        outbound=outbound,
        now=utcnow(),
    )
    session.commit()
    whys = {item["what"]: item["why"] for item in kept.kept}
    assert whys[f"enforcement action {held.action_id}"].startswith("ban active")
    assert "account subject-2" in whys
    assert session.get(EnforcementAction, held.action_id) is not None
    assert kept.erased["dead_letters"] == 1


def test_requests_need_an_admin_and_a_subject(session: Session, counters: redis.Redis) -> None:
    reviewer = user(session, "curious", "reviewer")
    person(session, "subject-3", "+421905123989")
    with pytest.raises(NotAllowedError):
        export(session, subject(session, account_id="subject-3"), actor=reviewer, counters=counters)
    with pytest.raises(SubjectError, match=r"E\.164"):
        subject(session, phone="0905 123 989")
    with pytest.raises(SubjectError, match="exactly one"):
        subject(session)
    with pytest.raises(SubjectError, match="no account"):
        subject(session, account_id="nobody")
