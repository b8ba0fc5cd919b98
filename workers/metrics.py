"""``bulkguard metrics serve``: the system's own metrics for Prometheus, behind basic auth.

One exporter process reads the database and the broker when Prometheus scrapes it, at most once
per ``REFRESH_SECONDS`` (scrapes in between get the same figures), so the cost does not grow with
the number of workers. Totals that only grow (scores, evidence, dead letters) are exposed as
counters; states (backlogs, queue depths, the breaker) as gauges. Workers online and task
failures come from Flower's own metrics (docs/operating.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from celery import Celery
from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from infra.basic_auth import CHALLENGE, BasicAuth
from infra.db.models import (
    DeadLetter,
    Delivery,
    DriftCheck,
    EnforcementAction,
    Evidence,
    LegalNotice,
    utcnow,
)
from infra.db.session import session_scope
from infra.redaction import redact
from infra.redis_client import get_redis
from tasks.scoring.decisions import decision_counts
from workers import http_metrics
from workers.queue_age import QueueAges
from workers.status import database_status, queue_depths

REFRESH_SECONDS = 30.0
# Dead letters are labelled by the kind of reason (the text before its first colon), at most
# this many kinds, so free text cannot explode the series.
REASON_KINDS = 20


class BulkguardCollector(Collector):
    def __init__(self, app: Celery, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.app = app
        self.refresh_seconds = refresh_seconds
        self._cached: list[Metric] = []
        self._at = -float("inf")
        self._lock = threading.Lock()
        self.queue_ages = QueueAges()

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if time.monotonic() - self._at >= self.refresh_seconds:
                self._cached = list(self._read())
                self._at = time.monotonic()
            yield from self._cached

    def _read(self) -> Iterator[Metric]:
        now = utcnow()
        with session_scope() as session:
            status = database_status(session, now)

            def grouped(*columns: Any) -> list[tuple[Any, ...]]:
                model = columns[0].class_
                query = select(*columns, func.count()).select_from(model).group_by(*columns)
                return [tuple(row) for row in session.execute(query)]

            scores = list(decision_counts(session))
            actions = grouped(EnforcementAction.action, EnforcementAction.status)
            deliveries = grouped(Delivery.kind, Delivery.status)
            notices = grouped(LegalNotice.status)
            evidence = grouped(Evidence.source, Evidence.claims_bulk)
            reasons = session.execute(select(DeadLetter.task_name, DeadLetter.reason)).all()
            latest = (
                select(DriftCheck.stage, func.max(DriftCheck.id).label("id"))
                .group_by(DriftCheck.stage)
                .subquery()
            )
            drifts = session.execute(
                select(DriftCheck.stage, DriftCheck.score_psi, DriftCheck.worst_psi).join(
                    latest, latest.c.id == DriftCheck.id
                )
            ).all()
        yield _family(
            CounterMetricFamily,
            "bulkguard_scores",
            "Decisions of the acting models, by detection point and decision",
            ["stage", "decision"],
            scores,
        )
        yield _family(
            GaugeMetricFamily,
            "bulkguard_actions",
            "Enforcement actions by kind and status",
            ["action", "status"],
            actions,
        )
        yield _family(
            GaugeMetricFamily,
            "bulkguard_deliveries",
            "Deliveries to outside receivers by kind and state",
            ["kind", "status"],
            deliveries,
        )
        yield _family(
            GaugeMetricFamily, "bulkguard_notices", "Legal notices by status", ["status"], notices
        )
        yield _family(
            CounterMetricFamily,
            "bulkguard_evidence",
            "Evidence ingested, by source and whether a bulk-sending claim was found",
            ["source", "claims_bulk"],
            [(source, str(bool(claims)).lower(), n) for source, claims, n in evidence],
        )
        yield _family(
            CounterMetricFamily,
            "bulkguard_dead_letters",
            "Input kept as dead letters, by task and kind of reason",
            ["task", "reason"],
            _reason_kinds(reasons),
        )
        yield _gauge(
            "bulkguard_breaker_open",
            "1 while the ban-storm breaker holds bans",
            status["breaker"]["open"],
        )
        reviews, outbox = status["reviews"], status["outbox"]
        yield _gauge(
            "bulkguard_review_backlog", "Review cases waiting for a person", reviews["pending"]
        )
        yield _gauge(
            "bulkguard_review_oldest_seconds",
            "Age of the oldest review case waiting",
            reviews["oldest_seconds"] or 0,
        )
        yield _gauge(
            "bulkguard_outbox_unpublished", "Follow-ups not yet published", outbox["unpublished"]
        )
        yield _gauge(
            "bulkguard_outbox_unfinished",
            "Follow-ups whose consumer has not committed",
            outbox["unfinished"],
        )
        yield _gauge(
            "bulkguard_outbox_lag_seconds",
            "Age of the oldest follow-up not finished",
            outbox["oldest_unfinished_seconds"] or 0,
        )
        drifted = GaugeMetricFamily(
            "bulkguard_drift_psi",
            "Latest drift check per stage: the larger PSI of the score and of a signal feature",
            labels=["stage"],
        )
        for stage, score_psi, worst_psi in drifts:
            drifted.add_metric([stage], max(score_psi, worst_psi))
        yield drifted
        models = GaugeMetricFamily(
            "bulkguard_model",
            "The serving model versions (1 per stage and role): scoring's account model, "
            "evidence's claim reader",
            labels=["stage", "role", "version"],
        )
        for stage, roles in status["models_by_stage"].items():
            for role, version in roles.items():
                models.add_metric([stage, role, version], 1)
        yield models
        depths = GaugeMetricFamily(
            "bulkguard_queue_depth", "Messages waiting in each queue", labels=["queue"]
        )
        for queue, waiting in queue_depths(self.app).items():
            depths.add_metric([queue], waiting)
        yield depths
        oldest = GaugeMetricFamily(
            "bulkguard_queue_oldest_message_age_seconds",
            "How long the oldest waiting message of each queue has waited (Redis broker only)",
            labels=["queue"],
        )
        for queue, age in self.queue_ages.read(self.app).items():
            if age is not None:
                oldest.add_metric([queue], age)
        yield oldest
        yield from http_metrics.read(get_redis())


def _family(
    kind: Callable[..., Any],
    name: str,
    doc: str,
    labels: list[str],
    rows: Iterable[tuple[Any, ...]],
) -> Metric:
    family = kind(name, doc, labels=labels)
    for *values, n in rows:
        family.add_metric([str(v) for v in values], n)
    metric: Metric = family
    return metric


def _gauge(name: str, doc: str, value: float) -> Metric:
    return GaugeMetricFamily(name, doc, value=float(value))


def _reason_kinds(rows: Iterable[Any]) -> list[tuple[str, str, int]]:
    counts: dict[tuple[str, str], int] = {}
    for task, reason in rows:
        # Masked: a label value is shown wherever the series is, so no number or address in it.
        kind = redact(reason.split(":", 1)[0].strip()[:60]) if ":" in reason else "other"
        counts[(task, kind)] = counts.get((task, kind), 0) + 1
    top = sorted(counts.items(), key=lambda item: -item[1])
    kept = top[:REASON_KINDS]
    rest = sum(n for _, n in top[REASON_KINDS:])
    out = [(task, kind, n) for (task, kind), n in kept]
    if rest:
        out.append(("*", "other", rest))
    return out


def authenticated(app: Any, auth: BasicAuth) -> Any:
    """Answer 401 to a request without ``auth``'s credentials, on every path."""

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not auth.accepts(environ.get("HTTP_AUTHORIZATION")):
            start_response("401 Unauthorized", [CHALLENGE, ("Content-Type", "text/plain")])
            return [b"authentication required\n"]
        result: Iterable[bytes] = app(environ, start_response)
        return result

    return guarded


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # scrapes every few seconds would drown the log


def make_metrics_server(app: Celery, host: str, port: int, auth: BasicAuth) -> WSGIServer:
    """A server for ``/metrics`` (and any path) behind basic auth, not yet serving."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BulkguardCollector(app))
    return make_server(
        host,
        port,
        authenticated(make_wsgi_app(registry), auth),
        handler_class=_QuietHandler,
    )
