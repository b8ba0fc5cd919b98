"""``bulkguard bench api``: the HTTP api driven by many concurrent connections, beside the same
work sent by ``send_task`` in the same run.

Real processes as in production: ``bulkguard api serve`` on a free loopback port, two solo
scoring workers and an enforcement worker, Redis, SQLite (or a scratch PostgreSQL database).
``requests`` scoring batches of ``batch`` messaging records are sent by ``concurrency``
connections at once (httpx on asyncio, each with an ``Idempotency-Key``); every answer's time is
kept. The intake rate is accepted records over the time until the last 202; the end-to-end rate
runs until every accepted record is scored. Then batches of the same size and stage (other
accounts: a snapshot of the same records would be recognised and not scored again) are sent by
``send_task`` and timed the same way: the ratios compare the two paths into the same workers.
Every record answered 202 must be scored by the acting model: ``lost`` is how many were not.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from rich.table import Table

from infra.api_keys import create_key
from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.settings import get_settings
from infra.users import Actor, create_user
from tasks.accounts.signals import DetectionPoint
from tasks.messages import ScoreAccounts
from tasks.scoring.decisions import decided_count, latest_batch_id, scored_accounts
from workers.celery_app import make_app
from workers.harness.bench import (
    BENCH_REDIS_URL,
    activate_copy,
    scratch_bench,
    simulated,
    standard_model,
)
from workers.harness.processes import (
    start_api,
    start_workers,
    stop_console,
    stop_workers,
    wait_until_ready,
)

STAGE = DetectionPoint.MESSAGING
DRAIN_TIMEOUT_SECONDS = 600.0


def bench_api(
    *,
    model_cache: Path,
    requests: int = 200,
    batch: int = 100,
    concurrency: int = 32,
    postgres_url: str | None = None,
    redis_url: str = BENCH_REDIS_URL,
) -> dict[str, Any]:
    model_dir = standard_model(model_cache)
    with ExitStack() as stack:
        tmp, env = stack.enter_context(scratch_bench(redis_url, postgres_url))
        version = activate_copy(model_dir, tmp / "models").name
        key = _key()
        app = make_app(get_settings(), current=False)
        stack.callback(app.close)
        workers = start_workers({"scoring": 2, "enforcement": 1}, env, tmp / "logs", "bench")
        stack.callback(stop_workers, workers)
        wait_until_ready(app, workers)
        server = start_api(env, tmp / "api.log")
        stack.callback(stop_console, server)
        sent = [simulated(batch, seed, STAGE) for seed in range(1000, 1000 + requests)]
        direct = [simulated(batch, seed, STAGE) for seed in range(5000, 5000 + requests)]
        # Warm: the server's first request, the workers' model and connections.
        after = latest_batch_id_now()
        asyncio.run(_drive(server.url, key, [simulated(batch, 999, STAGE)], concurrency))
        _wait_scored(after, batch)

        after = latest_batch_id_now()
        started = time.perf_counter()
        answers = asyncio.run(_drive(server.url, key, sent, concurrency))
        intake = time.perf_counter() - started
        accepted = sum(a.accepted for a in answers)
        _wait_scored(after, accepted)
        api_total = time.perf_counter() - started

        after = latest_batch_id_now()
        started = time.perf_counter()
        for records in direct:
            app.send_task(ScoreAccounts.TASK, kwargs={"stage": STAGE.value, "accounts": records})
        direct_intake = time.perf_counter() - started
        _wait_scored(after, batch * requests)
        direct_total = time.perf_counter() - started

        accepted_ids = [
            r["account_id"]
            for a, records in zip(answers, sent, strict=True)
            if a.status == 202
            for r in records
        ]
        with session_scope() as session:
            scored = scored_accounts(session, accepted_ids, version)
        latencies = [a.seconds for a in answers]
        records_sent = batch * requests
        result: dict[str, Any] = {
            "database": "postgresql" if postgres_url else "sqlite",
            "requests": requests,
            "batch": batch,
            "concurrency": concurrency,
            "statuses": dict(sorted(Counter(a.status for a in answers).items())),
            "accepted": accepted,
            "lost": len(set(accepted_ids)) - scored,
            "api": {
                "accepted_records_per_s": round(accepted / intake, 1),
                "scored_records_per_s": round(accepted / api_total, 1),
                "p50_ms": round(statistics.median(latencies) * 1000, 1),
                "p99_ms": round(_quantile(latencies, 0.99) * 1000, 1),
            },
            "send_task": {
                "sent_records_per_s": round(records_sent / direct_intake, 1),
                "scored_records_per_s": round(records_sent / direct_total, 1),
            },
        }
        result["intake_ratio"] = round(
            result["api"]["accepted_records_per_s"] / result["send_task"]["sent_records_per_s"], 3
        )
        result["end_to_end_ratio"] = round(
            result["api"]["scored_records_per_s"] / result["send_task"]["scored_records_per_s"], 3
        )
    return result


class _Answer:
    __slots__ = ("accepted", "seconds", "status")

    def __init__(self, status: int, accepted: int, seconds: float) -> None:
        self.status, self.accepted, self.seconds = status, accepted, seconds


async def _drive(
    base: str, key: str, batches: Sequence[list[dict[str, Any]]], concurrency: int
) -> list[_Answer]:
    """Send every batch, ``concurrency`` at a time, each on a connection of a shared pool."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=120, trust_env=False, headers=headers
    ) as client:

        async def one(records: list[dict[str, Any]]) -> _Answer:
            async with gate:
                started = time.perf_counter()
                answer = await client.post(
                    f"/v1/scoring/{STAGE.value}",
                    json={"accounts": records},
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                took = time.perf_counter() - started
            accepted = answer.json().get("accepted", 0) if answer.status_code == 202 else 0
            return _Answer(answer.status_code, accepted, took)

        return list(await asyncio.gather(*(one(b) for b in batches)))


def _key() -> str:
    with session_scope() as session:
        admin = create_user(
            session, "bench-admin", roles=["admin"], by=None, now=utcnow(), password=None
        )
        session.flush()
        by = Actor(name=admin.name, user_id=admin.id, channel="cli")
        _, key = create_key(session, "bench-upstream", ("scoring",), by=by, now=utcnow())
        return key


def latest_batch_id_now() -> int:
    with session_scope() as session:
        return latest_batch_id(session)


def _wait_scored(after: int, count: int) -> None:
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with session_scope() as session:
            if decided_count(session, after_id=after) >= count:
                return
        time.sleep(0.05)
    raise TimeoutError(f"{count} records not scored within {DRAIN_TIMEOUT_SECONDS:.0f} s")


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def api_table(result: dict[str, Any]) -> Table:
    """``bench_api``'s result for a person."""
    table = Table(
        title=f"api benchmark ({result['requests']} requests of {result['batch']} records, "
        f"{result['concurrency']} connections, {result['database']})"
    )
    table.add_column("figure")
    table.add_column("api", justify="right")
    table.add_column("send_task", justify="right")
    table.add_column("ratio", justify="right")
    api, direct = result["api"], result["send_task"]
    table.add_row(
        "records/s taken in",
        str(api["accepted_records_per_s"]),
        str(direct["sent_records_per_s"]),
        str(result["intake_ratio"]),
    )
    table.add_row(
        "records/s scored",
        str(api["scored_records_per_s"]),
        str(direct["scored_records_per_s"]),
        str(result["end_to_end_ratio"]),
    )
    table.add_row("p50 / p99 ms", f"{api['p50_ms']} / {api['p99_ms']}", "", "")
    table.add_row("statuses", str(result["statuses"]), "", "")
    table.add_row("accepted, lost", f"{result['accepted']}, {result['lost']}", "", "")
    return table
