"""``bulkguard demo``: the whole job, end to end, on one machine.

It starts what is missing (a local Redis, the schema, a first model), starts one worker per
queue as separate processes, Flower (with credentials made for this run) and the console (where
the people printed log in with their one-time passwords), enqueues a
simulated population by task name as an upstream service would, waits for the four stages to
drain, and reports what happened.
"""

from __future__ import annotations

import json
import secrets
import signal
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from infra.basic_auth import BasicAuth
from infra.db.migrate import upgrade
from infra.db.session import session_scope
from infra.local_redis import ensure_redis
from infra.redaction import display_url
from infra.registry import register, serving_versions, set_role
from infra.settings import get_settings
from tasks.accounts.signals import batches_by_stage
from tasks.messages import IngestEvidence, ScoreAccounts
from tasks.offline.simulate_accounts import simulate
from tasks.offline.simulate_documents import documents
from tasks.offline.training import TrainingConfig, train
from workers.harness.demo_people import Login, demo_logins
from workers.harness.processes import (
    DEMO_ENFORCEMENT,
    ConsoleProcess,
    FlowerProcess,
    start_console,
    start_flower,
    start_workers,
    stop_console,
    stop_flower,
    stop_workers,
    wait_until_ready,
)
from workers.harness.report import pipeline_counts, wait_until_drained, waiting_for_people

BATCH = 500
# Scoring is CPU-bound: one child per core, one XGBoost thread each. The other queues do small
# database transactions and share what is left.
DEMO_CONCURRENCY = {"scoring": 2, "enforcement": 1, "evidence": 1, "legal": 1, "maintenance": 1}
# As many as `bulkguard train` uses by default: fewer leave too few validation abusers to certify
# the 99.5% ban precision, and the model would then never ban.
DEMO_TRAINING_ACCOUNTS = TrainingConfig().accounts


@dataclass
class DemoResult:
    summary: dict[str, Any]


def run_demo(
    accounts: int,
    seed: int,
    report: Path,
    console: Console,
    *,
    drain_timeout: float = 1800.0,
    keep_running: bool = False,
) -> DemoResult:
    settings = get_settings()
    started = time.monotonic()
    with ensure_redis(settings.redis_url) as started_redis:
        if started_redis:
            console.print(
                f"[yellow]No Redis answered at {display_url(settings.redis_url)}: "
                "started a local redis-server for this run.[/]"
            )
        with console.status("Migrating the database"):
            upgrade()
        version = _ensure_model(console, seed)
        logins = demo_logins()

        records = list(simulate(accounts, seed))
        docs = documents(accounts, seed)
        account_ids = [r["account_id"] for r in records]

        from workers.celery_app import app  # noqa: PLC0415 - import after Redis is up

        tag = uuid.uuid4().hex[:8]
        env = {
            "BULKGUARD_DATA_DIR": str(settings.data_dir.resolve()),
            "REDIS_URL": settings.redis_url,
            # The same broker as this process publishes to, whatever the environment says.
            "BROKER_URL": settings.resolved_broker_url,
            **DEMO_ENFORCEMENT,
        }
        if settings.database_url:
            env["DATABASE_URL"] = settings.database_url
        log_dir = settings.data_dir / "logs"
        workers = start_workers(DEMO_CONCURRENCY, env, log_dir, tag)
        dashboards = None
        try:
            with console.status("Starting one worker per queue, Flower and the console"):
                dashboards = _Dashboards.start(env, log_dir)
                wait_until_ready(app, workers)
            console.print(f"Workers up: {', '.join(DEMO_CONCURRENCY)} (logs in {log_dir})")
            dashboards.print(console)
            _print_logins(console, logins)
            with _progress(console) as progress:
                sent = progress.add_task("enqueued", total=len(records))
                # Sent by task name with plain JSON, as upstream services send them.
                for stage, batch in batches_by_stage(records, BATCH):
                    app.send_task(ScoreAccounts.TASK, kwargs={"stage": stage, "accounts": batch})
                    progress.advance(sent, len(batch))
                app.send_task(IngestEvidence.TASK, kwargs={"documents": docs})
                scored = progress.add_task("scored", total=len(records))
                wait_until_drained(
                    app,
                    account_ids=account_ids,
                    model_version=version,
                    timeout=drain_timeout,
                    on_poll=lambda counts: progress.update(scored, completed=counts["scored"]),
                )
            if keep_running:
                _hold(console)
        finally:
            with console.status("Stopping workers"):
                stop_workers(workers)
                if dashboards is not None:
                    dashboards.stop()

        with session_scope() as session:
            counts = pipeline_counts(session, account_ids, version)
            waiting = waiting_for_people(session, account_ids)
    summary: dict[str, Any] = {
        **counts,
        **waiting,
        "seconds": round(time.monotonic() - started, 1),
        "model_version": version,
        "seed": seed,
        "documents": len(docs),
    }
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(summary, indent=2) + "\n")
    _print_summary(console, summary, report)
    return DemoResult(summary)


@dataclass
class _Dashboards:
    """Flower, for operators, and the console, for the people who decide."""

    flower: FlowerProcess
    auth: BasicAuth
    console: ConsoleProcess

    @classmethod
    def start(cls, env: dict[str, str], log_dir: Path) -> _Dashboards:
        settings = get_settings()
        # One-time credentials: Flower never runs without authentication.
        auth = BasicAuth("demo", secrets.token_urlsafe(12))
        flower = start_flower(
            env, auth, log_dir / "flower.log", port=_free_or_any(settings.flower_port)
        )
        try:
            web = start_console(
                # The overview's link to Flower: wherever this run's Flower listens.
                {**env, "BULKGUARD_CONSOLE_FLOWER_URL": flower.url},
                log_dir / "console.log",
                port=_free_or_any(settings.console_port),
            )
        except BaseException:
            stop_flower(flower)
            raise
        return cls(flower, auth, web)

    def print(self, console: Console) -> None:
        console.print(
            f"Flower: {self.flower.url} (user [bold]{self.auth.user}[/], "
            f"password [bold]{self.auth.password}[/], for this run only)"
        )
        console.print(f"Console: {self.console.url} (log in as one of the people below)")

    def stop(self) -> None:
        stop_console(self.console)
        stop_flower(self.flower)


def _print_logins(console: Console, logins: list[Login]) -> None:
    console.print("People who decide (one-time passwords: replace each before its first use):")
    for login in logins:
        console.print(
            f"  {login.role:<9} [bold]{login.name}[/]  password [bold]{login.password}[/]"
        )
    console.print(
        "  then: bulkguard users password NAME; bulkguard users token NAME; "
        "BULKGUARD_TOKEN=… bulkguard review decide ID --outcome … --as NAME"
    )


def _free_or_any(port: int) -> int:
    """``port`` when nothing listens there, else 0 (any free port)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


def _hold(console: Console) -> None:
    console.print("Workers, Flower and the console keep running: press Ctrl-C to stop them.")
    # SIGTERM (a service manager, `kill`) stops them the same way, through the caller's finally.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print()


def _ensure_model(console: Console, seed: int) -> str:
    settings = get_settings()
    with session_scope() as session:
        active = serving_versions(session).get("active")
        if active is not None:
            return active.version
    with console.status(
        f"No active model: training one on {DEMO_TRAINING_ACCOUNTS} simulated accounts"
    ):
        model_dir = train(
            TrainingConfig(accounts=DEMO_TRAINING_ACCOUNTS, seed=seed + 1000), settings.models_dir
        )
    with session_scope() as session:
        row = register(session, model_dir)
        set_role(session, row.version, "active")
        console.print(f"Trained and activated {row.version} (card: {model_dir / 'card.md'})")
        return row.version


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:>9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _print_summary(console: Console, summary: dict[str, Any], report: Path) -> None:
    table = Table(title="bulkguard demo")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if not isinstance(value, dict):
            table.add_row(key, str(value))
    console.print(table)
    _print_waiting(console, summary)
    console.print(f"Report written to {report}")


def _print_waiting(console: Console, summary: dict[str, Any]) -> None:
    """The human part of the loop: what is left for a reviewer and for counsel, and how."""
    cases = Table(title=f"{summary['review_pending']} review cases waiting for a person")
    cases.add_column("stage")
    cases.add_column("policy rule")
    cases.add_column("cases", justify="right")
    for stage, rules in summary["review_pending_by_stage"].items():
        for rule, n in rules.items():
            cases.add_row(stage, rule, str(n))
    console.print(cases)
    console.print(
        "  bulkguard review next    # the oldest case, and how to decide it\n"
        f"{summary['notices_pending_review']} legal notices waiting for counsel's approval:\n"
        "  bulkguard legal list --status pending_review\n"
        "  bulkguard legal show ID    # the letter, its evidence and its SHA-256",
        highlight=False,
    )
