"""The HTTP api's figures, kept in Redis so that every api process adds to the same totals and
the one exporter (``workers.metrics``) reports them: requests by route, client and status, their
latency as a histogram by route, records accepted and refused by client, and work refused by
backpressure or rate limits. Labels are a route's template and a client's name, never a value
from a request, so a caller cannot make series of its own."""

from __future__ import annotations

from collections.abc import Iterator

import redis
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

PREFIX = "bulkguard:api:metrics"
# Seconds: from a cached GET to a 10,000-record batch on a busy database.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SEP = "\t"


class HttpMeter:
    """Writes one request's figures in one round trip."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def request(
        self,
        route: str,
        client: str,
        status: int,
        seconds: float,
        *,
        accepted: int = 0,
        refused: int = 0,
        refused_by: str | None = None,
    ) -> None:
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hincrby(f"{PREFIX}:requests", _SEP.join((route, client, str(status))), 1)
            bucket = next((str(b) for b in BUCKETS if seconds <= b), "+Inf")
            pipe.hincrby(f"{PREFIX}:latency", _SEP.join((route, bucket)), 1)
            pipe.hincrbyfloat(f"{PREFIX}:latency_sum", route, seconds)
            if accepted:
                pipe.hincrby(f"{PREFIX}:records", _SEP.join((client, "accepted")), accepted)
            if refused:
                pipe.hincrby(f"{PREFIX}:records", _SEP.join((client, "refused")), refused)
            if refused_by:
                pipe.hincrby(f"{PREFIX}:throttled", _SEP.join((client, refused_by)), 1)
            pipe.execute()


def read(client: redis.Redis) -> Iterator[Metric]:
    """The api's figures as Prometheus metric families."""
    requests = CounterMetricFamily(
        "bulkguard_api_requests",
        "HTTP api requests by route, client and status",
        labels=["route", "client", "status"],
    )
    for field, n in _fields(client, "requests"):
        requests.add_metric(field.split(_SEP), float(n))
    yield requests
    records = CounterMetricFamily(
        "bulkguard_api_records",
        "Records (accounts, documents) the api accepted or refused, by client",
        labels=["client", "outcome"],
    )
    for field, n in _fields(client, "records"):
        records.add_metric(field.split(_SEP), float(n))
    yield records
    throttled = CounterMetricFamily(
        "bulkguard_api_throttled",
        "Requests refused with 429, by client and cause (backpressure, rate_limit)",
        labels=["client", "cause"],
    )
    for field, n in _fields(client, "throttled"):
        throttled.add_metric(field.split(_SEP), float(n))
    yield throttled
    yield _latency(client)


def _latency(client: redis.Redis) -> Metric:
    counts: dict[str, dict[str, float]] = {}
    for field, n in _fields(client, "latency"):
        route, bucket = field.split(_SEP)
        counts.setdefault(route, {})[bucket] = float(n)
    sums = dict(_fields(client, "latency_sum"))
    family = HistogramMetricFamily(
        "bulkguard_api_request_seconds", "HTTP api request latency by route", labels=["route"]
    )
    for route, by_bucket in sorted(counts.items()):
        cumulative, buckets = 0.0, []
        for bound in [*map(str, BUCKETS), "+Inf"]:
            cumulative += by_bucket.get(bound, 0.0)
            buckets.append((bound, cumulative))
        family.add_metric([route], buckets, sum_value=float(sums.get(route, 0.0)))
    metric: Metric = family
    return metric


def _fields(client: redis.Redis, name: str) -> list[tuple[str, str]]:
    raw: dict[bytes, bytes] = client.hgetall(f"{PREFIX}:{name}")  # type: ignore[assignment]
    return [(k.decode(), v.decode()) for k, v in raw.items()]
