"""The HTTP api on a real database and Redis, in the test process: work is committed with its
outbox row before the 202 (broker up or down), bad records are refused by index, and each kind
of refusal has its status and reason: 401, 403, 400, 413, 422, 429."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from sqlalchemy import select

from infra import api_keys
from infra.db.models import ApiKey, AuditEvent, EnforcementAction, OutboxMessage, utcnow
from infra.db.session import session_scope
from infra.redis_client import get_redis
from infra.settings import get_settings
from infra.users import UserError
from tasks.accounts.signals import json_schema
from tasks.offline.simulate_accounts import simulate
from tests.api_client import api, api_key, bearer
from tests.broker import Broker
from tests.people import ADMIN, person
from tests.seed import account_status, enforced
from workers import http_metrics
from workers.api.app import BAD_KEY_BURST
from workers.api.limits import Backlog

JSON = {"Content-Type": "application/json"}


def registrations(n: int, seed: int = 3) -> list[dict[str, Any]]:
    """``n`` registration records as an upstream service sends them."""
    found = [
        {k: v for k, v in r.items() if k not in {"stage", "truth"}}
        for r in simulate(n * 20 + 40, seed)
        if r["stage"] == "registration"
    ][:n]
    assert len(found) == n
    return found


def outbox_rows() -> list[OutboxMessage]:
    with session_scope() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        session.expunge_all()
        return list(rows)


def test_valid_records_are_committed_and_bad_ones_refused_by_index(env: dict[str, str]) -> None:
    key = api_key("crm", "scoring")
    records = registrations(5)
    records[1] = {**records[1], "phone": "not a number"}
    records[3] = {**records[3], "account_id": "a\x00b"}
    broker = Broker()
    with api(broker) as client:
        answer = client.post(
            "/v1/scoring/registration", json={"accounts": records}, headers=bearer(key)
        )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["accepted"] == 3
    assert [r["index"] for r in body["rejected"]] == [1, 3]
    assert "phone" in body["rejected"][0]["reason"]
    assert "NUL" in body["rejected"][1]["reason"]
    (row,) = outbox_rows()
    assert row.task_name == "scoring.score_accounts"
    assert row.kwargs["accounts"] == [records[0], records[2], records[4]]
    # Published after the answer, with the row's key for the consumer to complete.
    assert [name for name, _ in broker.sent] == ["scoring.score_accounts"]
    assert row.published_at is not None
    with session_scope() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.entity == "api_batch")).one()
        assert (audit.actor, audit.channel, audit.entity_id) == ("crm", "api", body["batch_id"])
    with api(broker) as client:
        state = client.get(f"/v1/batches/{body['batch_id']}", headers=bearer(key)).json()
    assert state["state"] == "accepted"


def test_a_202_is_durable_with_the_broker_down(env: dict[str, str]) -> None:
    key = api_key("crm", "scoring")
    with api(Broker(down=True)) as client:
        answer = client.post(
            "/v1/scoring/registration", json={"accounts": registrations(3)}, headers=bearer(key)
        )
        ready = client.get("/readyz")
    assert answer.status_code == 202, answer.text
    (row,) = outbox_rows()
    assert row.published_at is None  # left to the outbox sweep
    assert ready.status_code == 503
    assert ready.json()["broker"] is False


def test_an_idempotent_retry_gets_the_first_answer_and_enqueues_nothing(
    env: dict[str, str],
) -> None:
    key = api_key("crm", "scoring")
    records = registrations(2)
    headers = {**bearer(key), "Idempotency-Key": "batch-0001"}
    with api() as client:
        first = client.post("/v1/scoring/registration", json={"accounts": records}, headers=headers)
        again = client.post("/v1/scoring/registration", json={"accounts": records}, headers=headers)
        other = client.post(
            "/v1/scoring/registration", json={"accounts": records[:1]}, headers=headers
        )
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert len(outbox_rows()) == 1
    assert other.status_code == 422, other.text
    assert "different request" in other.json()["error"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "reason"),
    [
        (b"{not json", JSON, 400, "not valid JSON"),
        (b'{"accounts": [NaN]}', JSON, 400, "not valid JSON"),
        (b'{"accounts": ["\\ud800"]}', JSON, 400, "not valid JSON"),
        (b"[" * 300 + b"]" * 300, JSON, 400, "nested deeper"),
        (b'{"accounts": []}', {"Content-Type": "text/plain"}, 400, "application/json"),
        (b'{"accounts": []}', JSON, 400, "accounts"),
        (b"[]", JSON, 400, "JSON object"),
        (orjson.dumps({"accounts": [{}] * 10_001}), JSON, 400, "at most 10000"),
    ],
)
def test_a_bad_body_is_refused_whole_with_a_reason(
    env: dict[str, str], body: bytes, headers: dict[str, str], status: int, reason: str
) -> None:
    key = api_key("crm", "scoring")
    with api() as client:
        answer = client.post(
            "/v1/scoring/registration", content=body, headers={**bearer(key), **headers}
        )
    assert answer.status_code == status, answer.text
    assert reason in answer.json()["error"]
    assert outbox_rows() == []


def test_a_body_over_the_limit_is_refused_before_it_is_read(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULKGUARD_API_MAX_BODY_BYTES", "2048")
    get_settings.cache_clear()
    key = api_key("crm", "scoring")
    with api() as client:
        answer = client.post(
            "/v1/scoring/registration",
            content=orjson.dumps({"accounts": registrations(20)}),
            headers={**bearer(key), **JSON},
        )
    assert answer.status_code == 413
    assert "2048 bytes" in answer.json()["error"]


def test_keys_and_scopes(env: dict[str, str]) -> None:
    scoring = api_key("crm", "scoring")
    reader = api_key("dashboard", "read")
    body = {"accounts": registrations(1)}
    with api() as client:
        missing = client.post("/v1/scoring/registration", json=body)
        wrong = client.post("/v1/scoring/registration", json=body, headers=bearer("bgk_wrong"))
        scope = client.post("/v1/scoring/registration", json=body, headers=bearer(reader))
        ok = client.post("/v1/scoring/registration", json=body, headers=bearer(scoring))
        read_it = client.get(f"/v1/batches/{ok.json()['batch_id']}", headers=bearer(reader))
    assert (missing.status_code, wrong.status_code, scope.status_code) == (401, 401, 403)
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert "'scoring' scope" in scope.json()["error"]
    assert read_it.status_code == 404  # another client's batch is not found


def test_rotation_keeps_two_keys_in_force_and_a_revoked_key_stops(env: dict[str, str]) -> None:
    first = api_key("crm", "scoring")
    second = api_key("crm", "scoring")
    with pytest.raises(UserError, match="already holds 2 keys"):
        api_key("crm", "scoring")
    body = {"accounts": registrations(1)}
    with api() as client:
        assert (
            client.post("/v1/scoring/registration", json=body, headers=bearer(first)).status_code
            == 202
        )
        with session_scope() as session:
            admin = person(session, ADMIN, "admin")
            oldest = session.scalars(select(ApiKey).order_by(ApiKey.id)).first()
            assert oldest is not None
            api_keys.revoke_key(session, oldest.id, by=admin, now=utcnow())
        assert (
            client.post("/v1/scoring/registration", json=body, headers=bearer(first)).status_code
            == 401
        )
        assert (
            client.post("/v1/scoring/registration", json=body, headers=bearer(second)).status_code
            == 202
        )


def test_rate_limits_and_backpressure_answer_429_with_retry_after(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULKGUARD_API_CLIENT_BURST", "2")
    monkeypatch.setenv("BULKGUARD_API_CLIENT_RATE", "0.5")
    get_settings.cache_clear()
    key = api_key("crm", "scoring", "read")
    with api() as client:
        answers = [client.get("/v1/batches/1", headers=bearer(key)) for _ in range(3)]
    assert [a.status_code for a in answers] == [404, 404, 429]
    assert int(answers[2].headers["Retry-After"]) >= 1

    get_redis().flushdb()
    behind = api(backlog=lambda: Backlog(50, 900.0))
    with behind as client:
        answer = client.post(
            "/v1/scoring/registration", json={"accounts": registrations(1)}, headers=bearer(key)
        )
    assert answer.status_code == 429
    assert "scoring queue is behind" in answer.json()["error"]
    assert "Retry-After" in answer.headers
    families = {m.name: m for m in http_metrics.read(get_redis())}
    throttled = {
        tuple(s.labels.values()): s.value for s in families["bulkguard_api_throttled"].samples
    }
    assert throttled[("crm", "backpressure")] == 1


def test_metrics_count_requests_records_and_latency(env: dict[str, str]) -> None:
    key = api_key("crm", "scoring")
    records = registrations(3)
    records[0] = {**records[0], "phone": "x"}
    with api() as client:
        client.post("/v1/scoring/registration", json={"accounts": records}, headers=bearer(key))
        client.post("/v1/scoring/registration", json={"accounts": records})
    families = {m.name: m for m in http_metrics.read(get_redis())}
    requests = {
        tuple(s.labels.values()): s.value for s in families["bulkguard_api_requests"].samples
    }
    assert requests[("/v1/scoring/{stage}", "crm", "202")] == 1
    assert requests[("/v1/scoring/{stage}", "-", "401")] == 1
    records_ = {
        tuple(s.labels.values()): s.value for s in families["bulkguard_api_records"].samples
    }
    assert records_ == {("crm", "accepted"): 2, ("crm", "refused"): 1}
    counts = [
        s.value
        for s in families["bulkguard_api_request_seconds"].samples
        if s.name.endswith("_count")
    ]
    assert sum(counts) == 2


def test_the_openapi_document_carries_the_task_payload_schema(env: dict[str, str]) -> None:
    with api() as client:
        document = client.get("/openapi.json").json()
    validate(document)  # the OpenAPI 3.1 specification's own rules
    schemas = document["components"]["schemas"]
    published = orjson.loads(
        orjson.dumps(json_schema()["$defs"]).replace(b"#/$defs/", b"#/components/schemas/")
    )
    for name, schema in published.items():
        assert schemas[name] == schema, name
    body = document["paths"]["/v1/scoring/{stage}"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ScoringBody"
    }
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    # What the task takes, the contract takes; what it refuses, the contract refuses.
    body = OAS31Validator(
        {"$ref": "#/components/schemas/ScoringBody", "components": document["components"]}
    )
    records = registrations(3)
    body.validate({"accounts": records})
    assert not body.is_valid({"accounts": [{**records[0], "phone": "x"}]})
    assert not body.is_valid({"accounts": []})


def test_documents_are_refused_one_by_one_and_the_rest_committed(env: dict[str, str]) -> None:
    key = api_key("crawler", "evidence")
    good = {"observed_at": "2026-11-02T10:00:00+00:00", "text": "We send 1 million messages a day"}
    documents = [good, {"observed_at": "2026-11-02T10:00:00+00:00"}, {**good, "text": "a\x00b"}]
    with api() as client:
        answer = client.post("/v1/documents", json={"documents": documents}, headers=bearer(key))
        state = client.get(f"/v1/batches/{answer.json()['batch_id']}", headers=bearer(key))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["accepted"] == 1
    assert [r["index"] for r in body["rejected"]] == [1, 2]
    assert "text" in body["rejected"][0]["reason"]
    (row,) = outbox_rows()
    assert (row.task_name, row.kwargs) == ("evidence.ingest", {"documents": [good]})
    assert state.json()["state"] == "accepted"


def test_an_appeal_is_decided_by_the_clients_service_user(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])
    reviewer = api_key("appeals-svc", "appeals", roles=("reviewer",))
    not_reviewer = api_key("other-svc", "appeals")
    decision = {"action_id": ban, "outcome": "overturn", "reason": "a bakery's customers"}
    with api() as client:
        refused = client.post("/v1/appeals", json=decision, headers=bearer(not_reviewer))
        missing = client.post(
            "/v1/appeals", json={**decision, "action_id": 999}, headers=bearer(reviewer)
        )
        decided = client.post("/v1/appeals", json=decision, headers=bearer(reviewer))
        again = client.post("/v1/appeals", json=decision, headers=bearer(reviewer))
    assert refused.status_code == 403, refused.text
    assert "reviewer" in refused.json()["error"]
    assert missing.status_code == 409
    assert decided.status_code == 202, decided.text
    assert decided.json() == {
        "action_id": ban,
        "outcome": "overturn",
        "already_decided": False,
        "account_status": "active",
    }
    assert again.json()["already_decided"] is True
    assert account_status() == "active"
    with session_scope() as session:
        action = session.get_one(EnforcementAction, ban)
        assert (action.status, action.reversed_by) == ("reversed", "appeals-svc")
        audit = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "enforcement_action", AuditEvent.entity_id == ban
            )
        ).all()
        assert {(a.actor, a.channel) for a in audit if a.event != "created"} >= {
            ("appeals-svc", "api")
        }


def test_a_flood_of_bad_keys_from_one_address_is_told_to_wait(env: dict[str, str]) -> None:
    good = api_key("crm", "read")
    with api() as client:
        statuses = [
            client.get("/v1/accounts/a-1", headers=bearer(f"bgk_guess{i}")).status_code
            for i in range(BAD_KEY_BURST + 1)
        ]
        after = client.get("/v1/accounts/a-1", headers=bearer(good))
    assert statuses == [401] * BAD_KEY_BURST + [429]
    assert after.status_code == 404  # a good key is still heard
