"""The metrics exporter over real HTTP on loopback, against a real database and Redis: every
request needs the credentials, the series match the database, and the alert rules in
docs/alerts.md use only series that exist."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from infra.basic_auth import BasicAuth
from infra.db.models import DeadLetter, DecisionBatch, ModelVersion, SignalSnapshot
from infra.db.session import session_scope
from infra.dead_letters import Rejection, store
from infra.redis_client import get_redis
from tests.seed import enforced
from workers.http_metrics import HttpMeter
from workers.metrics import make_metrics_server

ALERTS = Path(__file__).parents[2] / "docs" / "alerts.md"
USER, PASSWORD = "prometheus", "scrape-secret"


@pytest.fixture
def metrics_url(env: dict[str, str]) -> Iterator[str]:
    from infra.settings import get_settings
    from workers.celery_app import make_app

    app = make_app(get_settings(), current=False)
    server = make_metrics_server(app, "127.0.0.1", 0, BasicAuth(USER, PASSWORD))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        app.close()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_every_request_needs_the_credentials(metrics_url: str) -> None:
    for path in ("/metrics", "/", "/anything"):
        assert httpx.get(metrics_url + path).status_code == 401
    assert httpx.get(metrics_url + "/metrics", auth=(USER, "wrong")).status_code == 401
    assert httpx.get(metrics_url + "/metrics", auth=(USER, PASSWORD)).status_code == 200


def test_the_series_describe_the_database(metrics_url: str) -> None:
    enforced("banned", [("restrict", "expired"), ("ban", "active"), ("review", "pending")])
    with session_scope() as session:
        store(session, "scoring.score_accounts", "t1", [Rejection("invalid payload: stage", {})])
        snapshot_id, received_at = session.execute(
            select(SignalSnapshot.id, SignalSnapshot.received_at)
        ).one()
        for version, shadow, banned in (("m-a", False, 1), ("m-b", True, 3)):
            session.add(
                DecisionBatch(
                    snapshot_id=snapshot_id,
                    model_version=version,
                    shadow=shadow,
                    stage="messaging",
                    allowed=2,
                    reviewed=0,
                    restricted=0,
                    banned=banned,
                    scores=b"",
                    decisions=b"",
                    received_at=received_at,
                )
            )
        for version, kind, role in (
            ("m-a", "account", "active"),
            ("m-b", "account", "shadow"),
            ("r-1", "evidence", "active"),
        ):
            session.add(ModelVersion(version=version, kind=kind, role=role, path="", card={}))
    text = httpx.get(metrics_url + "/metrics", auth=(USER, PASSWORD)).text
    found = samples(text)

    assert found[("bulkguard_actions", (("action", "ban"), ("status", "active")))] == 1
    assert found[("bulkguard_actions", (("action", "restrict"), ("status", "expired")))] == 1
    assert found[("bulkguard_review_backlog", ())] == 1
    assert found[("bulkguard_breaker_open", ())] == 0
    # The acting models' decisions only: a shadow model's decide nothing.
    assert found[("bulkguard_scores_total", (("decision", "ban"), ("stage", "messaging")))] == 1
    assert found[("bulkguard_scores_total", (("decision", "allow"), ("stage", "messaging")))] == 2
    assert ("bulkguard_scores_total", (("decision", "review"), ("stage", "messaging"))) not in found
    key = (
        "bulkguard_dead_letters_total",
        (("reason", "invalid payload"), ("task", "scoring.score_accounts")),
    )
    with session_scope() as session:
        assert found[key] == session.query(DeadLetter).count() == 1
    assert found[("bulkguard_queue_depth", (("queue", "scoring"),))] == 0
    # The serving version of each stage: scoring's account model, evidence's claim reader.
    served = {labels for name, labels in found if name == "bulkguard_model"}
    assert served == {
        (("role", "active"), ("stage", "scoring"), ("version", "m-a")),
        (("role", "shadow"), ("stage", "scoring"), ("version", "m-b")),
        (("role", "active"), ("stage", "evidence"), ("version", "r-1")),
    }
    assert found[("bulkguard_queue_oldest_message_age_seconds", (("queue", "scoring"),))] == 0


def rule_expressions() -> list[str]:
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", ALERTS.read_text(), re.S)]
    (groups,) = [b["groups"] for b in blocks if "groups" in b]
    rules = groups[0]["rules"]
    assert {r["alert"] for r in rules} >= {
        "BulkguardWorkerOffline",
        "BulkguardQueueGrowing",
        "BulkguardTaskFailureRatio",
        "BulkguardBreakerOpen",
        "BulkguardOutboxLag",
        "BulkguardReviewBacklogOld",
    }
    return [str(r["expr"]) for r in rules]


def test_the_alert_rules_use_series_the_exporter_serves(metrics_url: str) -> None:
    text = httpx.get(metrics_url + "/metrics", auth=(USER, PASSWORD)).text
    served = {family.name for family in text_string_to_metric_families(text)}
    served |= {name + "_total" for name in served}
    used = {
        name for expr in rule_expressions() for name in re.findall(r"\b(bulkguard_[a-z_]+)", expr)
    }
    assert used
    assert used <= served, used - served


def test_the_api_figures_every_api_process_keeps_are_served(metrics_url: str) -> None:
    meter = HttpMeter(get_redis())
    meter.request("/v1/scoring/{stage}", "crm", 202, 0.03, accepted=99, refused=1)
    meter.request("/v1/scoring/{stage}", "crm", 429, 0.002, refused_by="backpressure")
    answer = httpx.get(metrics_url + "/metrics", auth=(USER, PASSWORD))
    found = samples(answer.text)
    route = ("route", "/v1/scoring/{stage}")
    crm = ("client", "crm")
    assert found[("bulkguard_api_requests_total", (crm, route, ("status", "202")))] == 1
    assert found[("bulkguard_api_records_total", (crm, ("outcome", "accepted")))] == 99
    assert found[("bulkguard_api_throttled_total", (("cause", "backpressure"), crm))] == 1
    assert found[("bulkguard_api_request_seconds_count", (route,))] == 2
    assert found[("bulkguard_api_request_seconds_bucket", (("le", "0.005"), route))] == 1
