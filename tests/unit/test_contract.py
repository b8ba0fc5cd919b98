"""The public contract: task names and queues are an API that upstream services call by name."""

from __future__ import annotations

import pytest

from tasks.messages import (
    MESSAGES,
    ApplyEnforcement,
    FileAppeal,
    LinkEvidence,
    RetryDeliveries,
    ScoreAccounts,
    SendNotice,
)
from workers.celery_app import app
from workers.config import LONGEST_HARD_LIMIT_SECONDS, VISIBILITY_TIMEOUT_SECONDS

EXPECTED = {
    "scoring.score_accounts": "scoring",
    "enforcement.apply": "enforcement",
    "enforcement.deliver": "enforcement",
    "enforcement.retry_deliveries": "enforcement",
    "enforcement.appeal": "enforcement",
    "enforcement.file_appeal": "enforcement",
    "enforcement.decide_review": "enforcement",
    "enforcement.expire": "enforcement",
    "enforcement.release": "enforcement",
    "evidence.ingest": "evidence",
    "evidence.link": "evidence",
    "evidence.record_bans": "evidence",
    "legal.evaluate": "legal",
    "legal.withdraw_drafts": "legal",
    "legal.send": "legal",
    "legal.escalate": "legal",
    "maintenance.sweep_outbox": "maintenance",
    "maintenance.check_drift": "maintenance",
    "maintenance.retention": "maintenance",
}


def test_task_names_and_queues_are_pinned():
    registered = {name for name in app.tasks if not name.startswith("celery.")}
    assert registered == set(EXPECTED)
    routes = app.conf.task_routes
    assert {name: routes[name]["queue"] for name in registered} == EXPECTED


def test_every_message_names_its_task_once() -> None:
    # The one registry the queue map derives from, and the tasks that consume each message.
    assert {m.TASK: m.QUEUE for m in MESSAGES} == EXPECTED
    assert len(MESSAGES) == len(EXPECTED)


def test_internal_messages_keep_their_json() -> None:
    # Producers build typed messages; the JSON on the wire is the fields, as it always was.
    assert ApplyEnforcement(snapshot_id=3, model_version="m").kwargs() == {
        "snapshot_id": 3,
        "model_version": "m",
    }
    assert LinkEvidence(evidence_ids=[1, 2]).kwargs() == {"evidence_ids": [1, 2]}
    assert SendNotice(notice_id=4).kwargs() == {"notice_id": 4}
    assert RetryDeliveries(delivery_ids=[5], requested_by="oncall", requested_by_id=2).kwargs() == {
        "delivery_ids": [5],
        "requested_by": "oncall",
        "requested_by_id": 2,
    }
    raw = [{"account_id": "a", "observed_at": "2020-01-10T12:00:00+00:00", "x": [1.5, None]}]
    assert ScoreAccounts(stage="messaging", accounts=raw).kwargs() == {
        "stage": "messaging",
        "accounts": raw,
    }


def test_an_appeal_filed_by_a_service_keeps_its_json() -> None:
    # The platform's appeal service sends it by name: its fields are what it signs.
    filed = {
        "action_id": 7,
        "statement": "my shop",
        "filed_by": "appeal-service",
        "signature": "c2ln",
    }
    assert FileAppeal.model_validate(filed).kwargs() == filed


def test_every_queue_is_declared_and_none_is_created_implicitly():
    declared = {q.name for q in app.conf.task_queues}
    assert declared == set(EXPECTED.values())
    assert app.conf.task_create_missing_queues is False
    assert app.conf.task_default_queue in declared


def test_json_only():
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.result_accept_content == ["json"]


def test_delivery_guarantees():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_connection_retry_on_startup is True
    assert conf.worker_send_task_events is True
    assert conf.broker_transport_options["visibility_timeout"] == VISIBILITY_TIMEOUT_SECONDS


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_task_has_time_limits_below_the_visibility_timeout(name):
    task = app.tasks[name]
    assert task.soft_time_limit
    assert task.time_limit
    assert task.soft_time_limit < task.time_limit <= LONGEST_HARD_LIMIT_SECONDS
    assert LONGEST_HARD_LIMIT_SECONDS < VISIBILITY_TIMEOUT_SECONDS
    assert task.acks_late is True


def test_beat_schedules_only_known_tasks():
    assert {entry["task"] for entry in app.conf.beat_schedule.values()} <= set(EXPECTED)


def test_internal_messages_refuse_coercion_and_unknown_fields() -> None:
    import pydantic
    import pytest

    from tasks.messages import EvaluateCompany, RecordBanEvidence

    for kwargs in (
        {"company_id": "+421905777888"},  # a phone number is not a company id
        {"company_id": "12"},
        {"company_id": 12.0},
        {"company_id": True},
        {"company_id": 12, "extra": 1},
    ):
        with pytest.raises(pydantic.ValidationError):
            EvaluateCompany.model_validate(kwargs)
    with pytest.raises(pydantic.ValidationError):
        RecordBanEvidence.model_validate({"action_ids": ["1"]})
    assert EvaluateCompany.model_validate({"company_id": 12}).company_id == 12
