"""``bulkguard breaker``: the ban-storm breaker, looked at and closed by people."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.settings import get_settings
from infra.users import Actor, NotAllowedError
from workers.cli.acting import acting

if TYPE_CHECKING:
    from tasks.enforcement.breaker import BreakerLimits


@click.group()
def breaker() -> None:
    """The ban-storm breaker: automatic bans held for review while it is open."""


def _limits_of(settings: Mapping[str, Any]) -> BreakerLimits:
    """The breaker limits of a worker's published settings (workers.published_settings)."""
    from tasks.enforcement.breaker import BreakerLimits

    return BreakerLimits(
        window=dt.timedelta(minutes=settings["breaker_window_minutes"]),
        baseline=dt.timedelta(hours=settings["breaker_baseline_hours"]),
        multiple=float(settings["breaker_multiple"]),
        min_bans=int(settings["breaker_min_bans"]),
    )


def _enforcement_limits() -> tuple[dict[BreakerLimits, list[str]], str | None]:
    """The limits the enforcement workers published, each with its workers, and why there are
    none when there are none."""
    import redis

    from infra.redis_client import get_redis
    from workers.published_settings import published

    try:
        _, reports = published(get_redis())
    except redis.RedisError as exc:
        return {}, f"the workers' settings could not be read from Redis ({exc})"
    by_limits: dict[BreakerLimits, list[str]] = {}
    for report in reports:
        if "enforcement" in report.queues:
            by_limits.setdefault(_limits_of(report.settings), []).append(report.node)
    if not by_limits:
        return {}, "no enforcement worker has published its settings (none runs, or reaches Redis)"
    return by_limits, None


@breaker.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
def breaker_status(as_json: bool) -> None:
    """Open or closed, why, and the ban rate against its baseline under the limits the
    enforcement workers run with."""
    from tasks.enforcement.breaker import status
    from tasks.enforcement.safeguards import from_settings

    by_limits, missing = _enforcement_limits()
    if missing is not None:
        # Labelled as this command's own: the workers' may differ, which is why they publish.
        by_limits = {from_settings(get_settings()).breaker: []}
    now = utcnow()
    with session_scope() as session:
        states = [
            (limits, nodes, status(session, limits, now)) for limits, nodes in by_limits.items()
        ]
    state = states[0][2]
    shown: dict[str, Any] = {
        "open": state.open,
        "reason": state.reason,
        "changed_at": state.changed_at.isoformat() if state.changed_at else None,
        "changed_by": state.changed_by,
        "limits_from": "cli" if missing else "workers",
        "note": missing,
        "disagreement": len(states) > 1,
        "limits": [
            {
                "workers": nodes,
                "window_minutes": int(limits.window.total_seconds() // 60),
                "baseline_hours": int(limits.baseline.total_seconds() // 3600),
                "multiple": limits.multiple,
                "min_bans": limits.min_bans,
                "window_bans": rates.window_bans,
                "expected_bans": round(rates.expected_bans, 1),
                "limit": round(max(limits.min_bans, limits.multiple * rates.expected_bans)),
            }
            for limits, nodes, rates in states
        ],
    }
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    click.echo(f"breaker {'OPEN' if state.open else 'closed'}")
    if state.reason:
        click.echo(f"last change {shown['changed_at']} by {state.changed_by}: {state.reason}")
    if missing:
        click.echo(f"{missing}: the limits below are this command's own settings")
    if shown["disagreement"]:
        click.echo("DISAGREEMENT: the enforcement workers run with different breaker limits")
    for limits in shown["limits"]:
        whose = ", ".join(limits["workers"]) or "this command"
        click.echo(
            f"limits of {whose}: {limits['window_bans']} automatic bans in the last "
            f"{limits['window_minutes']} min, {limits['expected_bans']} expected from the "
            f"trailing {limits['baseline_hours']} h, limit {limits['limit']} (at least "
            f"{limits['min_bans']}, {limits['multiple']:g}x the baseline)"
        )


@breaker.command("reset")
@click.option("--note", default="", help="Why (recorded).")
@acting("admin")
def breaker_reset(note: str, actor: Actor) -> None:
    """Close the breaker: automatic bans go ahead again (a storm that goes on trips it again)."""
    from tasks.enforcement.breaker import reset

    try:
        with session_scope() as session:
            was_open = reset(session, actor=actor, note=note, now=utcnow())
    except NotAllowedError as exc:
        raise click.ClickException(f"refused: {exc}") from None
    click.echo("breaker closed" if was_open else "breaker was not open: nothing to reset")
