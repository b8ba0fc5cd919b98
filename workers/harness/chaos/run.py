"""``bulkguard chaos``: set up a cluster on loopback, run the chosen scenarios (or the soak),
print the table and keep it as JSON."""

from __future__ import annotations

import contextlib
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from celery import Celery
from rich.console import Console
from rich.table import Table

from infra.db.models import utcnow
from infra.db.scratch import scratch_database
from infra.db.session import reset_engine, session_scope
from infra.redis_client import reset_redis
from infra.settings import get_settings
from tasks.accounts.signals import batches_by_stage
from tasks.messages import ScoreAccounts
from tasks.scoring.decisions import decided_count
from workers.harness.chaos.cluster import Cluster
from workers.harness.chaos.services import RedisServer
from workers.harness.chaos.trials import (
    BATCH,
    Result,
    Scenario,
    Sent,
    population,
    run_scenario,
    wait_settled,
)
from workers.harness.report import broker_backlog


@contextlib.contextmanager
def cluster_on_loopback(
    workdir: Path | None,
    *,
    broker_url: str | None,
    postgres_url: str | None,
    model_dir: Path | None = None,
    production_timeouts: bool = False,
) -> Iterator[tuple[Cluster, Celery]]:
    """A started cluster in ``workdir`` (a temporary directory if None), stopped afterwards;
    this process's settings point at it meanwhile."""
    saved = dict(os.environ)
    with contextlib.ExitStack() as stack:
        stack.callback(_restore_environment, saved)
        root = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chaos-")))
        root.mkdir(parents=True, exist_ok=True)
        if postgres_url is not None:
            database_url = stack.enter_context(scratch_database(postgres_url, "bulkguard_chaos"))
        else:
            database_url = f"sqlite:///{root / 'bulkguard.sqlite3'}"
        cluster = Cluster(
            root,
            RedisServer(root / "redis"),
            database_url,
            broker_url=broker_url,
            postgres_admin_url=postgres_url,
            model_dir=model_dir,
            production_timeouts=production_timeouts,
        )
        try:
            app = cluster.start()
            yield cluster, app
        finally:
            cluster.stop()


def _restore_environment(saved: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()
    reset_engine()
    reset_redis()


def run_trials(
    cluster: Cluster,
    app: Celery,
    scenarios: Sequence[Scenario],
    *,
    trials: int,
    accounts: int,
    seed: int,
    patience: float,
    console: Console,
) -> list[Result]:
    rng = random.Random(seed)
    results = []
    first = 0
    for scenario in scenarios:
        if scenario.needs_postgres and cluster.postgres_admin_url is None:
            skipped = Result(scenario.name)
            skipped.notes.append("skipped: needs --database postgresql")
            results.append(skipped)
            continue
        with console.status(f"{scenario.name}: {scenario.what}") as status:

            def progress(r: Result, status: Any = status, name: str = scenario.name) -> None:
                status.update(
                    f"{name}: trial {r.trials}/{trials}, lost {r.lost}, doubled {r.duplicated}"
                )

            result = run_scenario(
                cluster,
                app,
                scenario,
                trials=trials,
                accounts=accounts,
                rng=rng,
                patience=patience,
                first_trial=first,
                on_trial=progress,
            )
        first += trials
        results.append(result)
    return results


def soak(
    cluster: Cluster, app: Celery, *, accounts: int, seed: int, interval: float, console: Console
) -> dict[str, Any]:
    """Send ``accounts`` through the whole chain as fast as the workers take them (at most a
    bounded backlog ahead), recording throughput per interval and the workers' memory."""
    since = utcnow()
    expected: list[str] = []
    windows: list[dict[str, float]] = []
    started = time.monotonic()
    memory_start: int | None = None
    last_t, last_scored = started, 0
    chunk = 20_000
    for first in range(0, accounts, chunk):
        records = population(1_000_000 + first // chunk, min(chunk, accounts - first), seed + first)
        expected += [r["account_id"] for r in records]
        for stage, batch in batches_by_stage(records, BATCH * 2):
            while broker_backlog(app) > 40:  # stay a few seconds of work ahead
                time.sleep(0.2)
            app.send_task(ScoreAccounts.TASK, kwargs={"stage": stage, "accounts": batch})
            now = time.monotonic()
            if now - last_t >= interval:
                scored = _scored()
                windows.append(
                    {
                        "t_s": round(now - started, 1),
                        "accounts_per_s": round((scored - last_scored) / (now - last_t), 1),
                        "worker_rss_mib": round(cluster.memory_kib() / 1024, 1),
                    }
                )
                if memory_start is None:
                    memory_start = cluster.memory_kib()  # after the first window's warm-up
                console.log(windows[-1])
                last_t, last_scored = now, scored
    final = wait_settled(cluster, app, Sent(accounts, expected), since=since, patience=600)
    elapsed = time.monotonic() - started
    memory_end = cluster.memory_kib()
    start_kib = memory_start or memory_end
    return {
        "accounts": accounts,
        "scored": final.scored,
        "effects_lost": final.lost,
        "effects_duplicated": final.duplicated,
        "deliveries_resent": final.resent,
        "seconds": round(elapsed, 1),
        "accounts_per_s": round(final.scored / elapsed, 1),
        "worker_rss_mib_start": round(start_kib / 1024, 1),
        "worker_rss_mib_end": round(memory_end / 1024, 1),
        "memory_growth_pct": round(100 * (memory_end - start_kib) / start_kib, 1),
        "windows": windows,
    }


def _scored() -> int:
    with session_scope() as session:
        return decided_count(session)


def print_table(
    console: Console, results: Sequence[Result], broker: str, database: str, timeouts: str
) -> None:
    table = Table(title=f"fault trials on {broker} with {database}, {timeouts} timeouts")
    columns = [
        "scenario",
        "trials",
        "accounts_sent",
        "scored",
        "effects_lost",
        "effects_duplicated",
        "deliveries_resent",
        "worker_deaths",
        "dead_letters",
        "recovery_s_median",
        "recovery_s_max",
    ]
    for column in columns:
        table.add_column(
            column.replace("_", " "), justify="left" if column == "scenario" else "right"
        )
    for result in results:
        row = result.row()
        table.add_row(*(str(row[c]) if row[c] is not None else "-" for c in columns))
    console.print(table)
    for result in results:
        for note in result.notes:
            console.print(f"[yellow]{result.scenario}[/]: {note}")


def write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
