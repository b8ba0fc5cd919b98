"""``bulkguard status`` and ``log-ref``: the running system at a glance, and the name an
account goes by in the JSON logs."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console

from infra.db.session import session_scope
from infra.settings import get_settings


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> None:
    """Queue depths, workers online per queue and the settings they run with, beat, model
    versions, breaker, dead letters, outbox, review backlog, deliveries and notices awaiting
    approval."""
    from rich.table import Table

    from infra.redis_client import get_redis
    from workers.celery_app import app
    from workers.status import collect

    with session_scope() as session:
        found = collect(app, session, get_redis())
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    out = Console()
    table = Table(title=f"bulkguard at {found['at']}")
    for column in ("queue", "waiting", "oldest (s)", "workers", "mode"):
        table.add_column(column, justify="right" if column in ("waiting", "oldest (s)") else "left")
    for queue, waiting in found["queues"].items():
        oldest = found["oldest_message_seconds"].get(queue)
        table.add_row(
            queue,
            str(waiting),
            "?" if oldest is None else f"{oldest:g}",
            ", ".join(found["workers"].get(queue, [])) or "NONE",
            _mode(found["worker_settings"].get(queue)),
        )
    out.print(table)
    if found["workers_from"] != "remote control":
        out.print(
            "workers: as their published settings say (this broker user may not send remote "
            "control; the operators' may: docs/operating.md, \"The broker's users\")",
            highlight=False,
        )
    out.print("settings the workers run with (as they published them):", highlight=False)
    for queue, published in found["worker_settings"].items():
        for line in _settings_lines(queue, published):
            out.print(f"  {line}", highlight=False, markup=False)
    within_queues = {n for q in found["worker_settings"].values() for n in q["disagreements"]}
    for name, values in found["disagreements"].items():
        if name not in within_queues:
            out.print(f"  DISAGREEMENT across queues: {_values(name, values)}", markup=False)
    out.print(_beat(found["beat"]), highlight=False)
    models = "; ".join(
        f"{stage}: " + (", ".join(f"{role} {v}" for role, v in roles.items()) or "NONE ACTIVE")
        for stage, roles in found["models_by_stage"].items()
    )
    breaker = "OPEN: " + found["breaker"]["reason"] if found["breaker"]["open"] else "closed"
    reviews, outbox = found["reviews"], found["outbox"]
    out.print(f"models: {models}")
    out.print(f"breaker: {breaker}")
    out.print(
        f"reviews pending: {reviews['pending']} (oldest {reviews['oldest_seconds']} s); "
        f"notices awaiting approval: {found['notices_awaiting_approval']}"
    )
    out.print(
        f"outbox: {outbox['unpublished']} unpublished, {outbox['unfinished']} unfinished "
        f"(oldest {outbox['oldest_unfinished_seconds']} s); dead letters: "
        f"{found['dead_letters']['total']} ({found['dead_letters']['last_24h']} in 24 h); "
        f"deliveries: {found['deliveries']}"
    )


def _mode(published: dict[str, Any] | None) -> str:
    if not published or not published["workers"]:
        return "?"
    if "enforcement_mode" in published["disagreements"]:
        return "DISAGREE"
    return str(published["settings"].get("enforcement_mode", "?"))


def _settings_lines(queue: str, published: dict[str, Any]) -> list[str]:
    if not published["workers"]:
        return []
    shown = " ".join(
        f"{name}={_short(name, value)}"
        for name, value in published["settings"].items()
        if not (name.endswith("_error") and value is None)
    )
    lines = [f"{queue}: {shown}"]
    lines += [
        f"{queue}: DISAGREEMENT: {_values(name, values)}"
        for name, values in published["disagreements"].items()
    ]
    if published["not_reported"]:
        lines.append(f"{queue}: no settings published by {', '.join(published['not_reported'])}")
    return lines


def _values(name: str, values: list[dict[str, Any]]) -> str:
    return f"{name} " + "; ".join(
        f"{_short(name, v['value'])} on {', '.join(v['workers'])}" for v in values
    )


def _short(name: str, value: Any) -> str:
    # A digest's first 12 characters tell files apart on a screen; --json has all of it.
    return str(value)[:12] if name.endswith("_sha256") and value else str(value)


def _beat(beat: dict[str, Any]) -> str:
    if beat["alive"]:
        return f"beat: alive, last tick {beat['seconds_ago']:.0f} s ago ({beat['host']})"
    if beat["last_tick"] is None:
        return "beat: NEVER SEEN (not running, or never reached this Redis)"
    return f"beat: NOT SEEN since {beat['last_tick']} ({beat['seconds_ago']:.0f} s ago)"


@click.command("log-ref")
@click.argument("account_id")
def log_ref(account_id: str) -> None:
    """The hash JSON logs show for ACCOUNT_ID (under BULKGUARD_LOG_HASH_KEY); then, while a key
    is being rotated out, the hash of the logs written before (BULKGUARD_LOG_HASH_PREVIOUS_KEY)."""
    from infra.json_logs import account_ref

    settings = get_settings()
    click.echo(account_ref(account_id, settings.log_hash_key.get_secret_value()))
    if settings.log_hash_previous_key is not None:
        previous = account_ref(account_id, settings.log_hash_previous_key.get_secret_value())
        click.echo(f"{previous}\tunder the previous key: logs written before the rotation")
