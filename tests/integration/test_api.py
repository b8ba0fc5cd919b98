"""The HTTP api as upstream services meet it: a real ``bulkguard api serve`` process on loopback,
real Redis, the test's SQLite or PostgreSQL, and real workers. Accepted records are scored and
enforced, refused ones come back by index; keys and scopes are checked; an idempotent retry
enqueues nothing; a 202 given while the broker was down is scored once it is back."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from sqlalchemy import select

from infra.db.models import OutboxMessage, utcnow
from infra.db.session import session_scope
from infra.settings import get_settings
from tasks import outbox
from tests.api_client import api_key, bearer
from tests.integration.waiting import wait_for
from tests.stores.test_api import registrations
from workers.celery_app import make_app
from workers.harness.chaos.services import RedisServer
from workers.harness.processes import (
    ConsoleProcess,
    WorkerProcess,
    start_api,
    start_workers,
    stop_console,
    stop_workers,
    wait_until_ready,
)


@pytest.fixture
def api_server(env: Mapping[str, str], tmp_path: Path) -> Iterator[ConsoleProcess]:
    server = start_api(
        {**env, "BULKGUARD_API_MAX_BODY_BYTES": "65536", "BULKGUARD_API_CLIENT_BURST": "50"},
        tmp_path / "api.log",
    )
    try:
        yield server
    finally:
        stop_console(server)


def batch_state(client: httpx.Client, key: str, batch_id: int) -> dict[str, Any]:
    answer = client.get(f"/v1/batches/{batch_id}", headers=bearer(key))
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_upstream_work_is_scored_enforced_and_refused_by_index(
    api_server: ConsoleProcess, start: Any, active_model: str
) -> None:
    workers = start({"scoring": 1, "enforcement": 1, "evidence": 1, "maintenance": 1})
    key = api_key("crm", "scoring", "read")
    evidence_only = api_key("crawler", "evidence")
    records = registrations(40, seed=11)
    records[7] = {**records[7], "observed_at": "yesterday"}
    headers = {**bearer(key), "Idempotency-Key": "crm-batch-1"}
    with httpx.Client(base_url=api_server.url, timeout=30) as client:
        assert (
            client.post("/v1/scoring/registration", json={"accounts": records}).status_code == 401
        )
        forbidden = client.post(
            "/v1/scoring/registration", json={"accounts": records}, headers=bearer(evidence_only)
        )
        assert forbidden.status_code == 403
        too_big = client.post(
            "/v1/scoring/registration",
            content=b'{"accounts": [' + b'{"a": 1},' * 10_000 + b"{}]}",
            headers={**headers, "Content-Type": "application/json"},
        )
        assert too_big.status_code == 413, too_big.text
        answer = client.post(
            "/v1/scoring/registration", json={"accounts": records}, headers=headers
        )
        again = client.post("/v1/scoring/registration", json={"accounts": records}, headers=headers)
        assert answer.status_code == again.status_code == 202, answer.text
        assert answer.json() == again.json()
        body = answer.json()
        assert body["accepted"] == 39
        assert [(r["index"], r["account_id"]) for r in body["rejected"]] == [
            (7, records[7]["account_id"])
        ]
        workers.wait_for(
            lambda: batch_state(client, key, body["batch_id"])["state"] == "enforced",
            timeout=120,
            what="the batch scored and enforced",
        )
        state = batch_state(client, key, body["batch_id"])
        assert sum(state["decisions"].values()) == 39
        standing = client.get(f"/v1/accounts/{records[0]['account_id']}", headers=bearer(key))
        assert standing.status_code == 200, standing.text
        assert "registration" in standing.json()["decisions"]
        assert client.get("/readyz").status_code == 200
        document = client.get("/openapi.json").json()
        validate(document)
        assert "AccountSignals" in document["components"]["schemas"]
    with session_scope() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.task_name == "scoring.score_accounts")
        ).all()
    assert len(rows) == 1  # the retry enqueued nothing
    assert workers.alive()


def test_a_202_given_with_the_broker_down_is_scored_once_it_is_back(
    env: dict[str, str], tmp_path: Path, active_model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = RedisServer(tmp_path / "broker")
    broker.start()
    on_broker = {**env, "BROKER_URL": broker.url}
    server = start_api(on_broker, tmp_path / "api.log")
    workers: list[WorkerProcess] = []
    try:
        key = api_key("crm", "scoring", "read")
        records = registrations(10, seed=5)
        broker.stop()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            answer = client.post(
                "/v1/scoring/registration", json={"accounts": records}, headers=bearer(key)
            )
            assert answer.status_code == 202, answer.text
            batch_id = answer.json()["batch_id"]
            assert client.get("/readyz").status_code == 503
            assert batch_state(client, key, batch_id)["state"] == "accepted"

            broker.start()
            monkeypatch.setenv("BROKER_URL", broker.url)
            get_settings.cache_clear()
            app = make_app(get_settings(), current=False)
            workers = start_workers(
                {"scoring": 1, "enforcement": 1}, on_broker, tmp_path / "logs", "outage"
            )
            wait_until_ready(app, workers)
            # What beat's outbox sweep does: publish what was committed and never published.
            with session_scope() as session:
                swept = outbox.sweep(
                    app,
                    session,
                    older_than=dt.timedelta(0),
                    redelivery=outbox.Redelivery(dt.timedelta(hours=1), 5),
                    now=utcnow(),
                )
            app.close()
            assert swept.published == 1
            wait_for(
                lambda: batch_state(client, key, batch_id)["state"] in {"scored", "enforced"},
                120,
                "the batch accepted during the outage scored",
            )
            assert sum(batch_state(client, key, batch_id)["decisions"].values()) == 10
    finally:
        stop_workers(workers)
        stop_console(server)
        broker.stop()


def test_slow_clients_are_cut_off_and_the_server_goes_on(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Slowloris: headers never finished are cut after the header timeout; a body that stalls
    is answered 408 after the body timeout; meanwhile and afterwards others are served."""
    server = start_api(
        {
            **env,
            "BULKGUARD_API_HEADER_TIMEOUT_SECONDS": "1",
            "BULKGUARD_API_BODY_TIMEOUT_SECONDS": "1",
        },
        tmp_path / "api.log",
    )
    try:
        key = api_key("crm", "scoring")
        address = httpx.URL(server.url)
        with socket.create_connection((address.host, address.port), timeout=10) as slow:
            slow.sendall(b"POST /v1/scoring/registration HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            assert slow.recv(1024) == b""  # closed by the server
            assert 0.5 < time.monotonic() - started < 8
        with socket.create_connection((address.host, address.port), timeout=10) as stalled:
            stalled.sendall(
                b"POST /v1/scoring/registration HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100\r\n"
                + f"Authorization: Bearer {key}\r\n\r\n".encode()
                + b'{"accounts": ['
            )
            # The body was not read whole: the server answers, then closes the connection.
            answer = b"".join(iter(lambda: stalled.recv(4096), b""))
            assert answer.startswith(b"HTTP/1.1 408"), answer
            assert b"did not arrive within 1 seconds" in answer
        with httpx.Client(base_url=server.url, timeout=10) as client:
            assert client.get("/healthz").status_code == 200
    finally:
        stop_console(server)
