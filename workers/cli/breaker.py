"""``bulkguard breaker``: the ban-storm breaker, looked at and closed by people."""

from __future__ import annotations

import json
from typing import Any

import click

from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.settings import get_settings
from infra.users import Actor, NotAllowedError
from workers.cli.acting import acting


@click.group()
def breaker() -> None:
    """The ban-storm breaker: automatic bans held for review while it is open."""


def _limits() -> Any:
    from tasks.enforcement.safeguards import from_settings

    return from_settings(get_settings()).breaker


@breaker.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
def breaker_status(as_json: bool) -> None:
    """Open or closed, why, and the ban rate against its baseline."""
    from tasks.enforcement.breaker import status

    limits = _limits()
    with session_scope() as session:
        state = status(session, limits, utcnow())
    shown = {
        "open": state.open,
        "reason": state.reason,
        "changed_at": state.changed_at.isoformat() if state.changed_at else None,
        "changed_by": state.changed_by,
        "window_minutes": int(limits.window.total_seconds() // 60),
        "window_bans": state.window_bans,
        "expected_bans": round(state.expected_bans, 1),
        "limit": round(max(limits.min_bans, limits.multiple * state.expected_bans)),
    }
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    click.echo(
        f"breaker {'OPEN' if state.open else 'closed'}; {shown['window_bans']} automatic bans "
        f"in the last {shown['window_minutes']} min, {shown['expected_bans']} expected, "
        f"limit {shown['limit']}"
    )
    if state.reason:
        click.echo(f"last change {shown['changed_at']} by {state.changed_by}: {state.reason}")


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
