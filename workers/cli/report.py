"""``bulkguard report``: reports for operators."""

from __future__ import annotations

import datetime as dt
import json

import click
from rich.console import Console

from infra.db.models import utcnow
from infra.db.session import session_scope


@click.group()
def report() -> None:
    """Reports for operators."""


@report.command("shadow")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    default=None,
    help="Scores recorded since (UTC); default: the last 7 days.",
)
@click.option("--sample", default=20, show_default=True, type=click.IntRange(0, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def report_shadow(since: dt.datetime | None, sample: int, as_json: bool) -> None:
    """Shadow against live decisions on the same records: counts by decision, and the accounts
    the two models decided differently on."""
    from rich.table import Table

    from tasks.enforcement.shadow_report import compare

    start = since.replace(tzinfo=dt.UTC) if since else utcnow() - dt.timedelta(days=7)
    with session_scope() as session:
        found = compare(session, since=start, sample=sample).as_json()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    out = Console()
    if not found["compared"]:
        out.print(
            f"no record scored by both a live and a shadow model since {start:%Y-%m-%d %H:%M}"
        )
    else:
        versions = ", ".join(f"{v['role']} {v['version']}" for v in found["versions"])
        table = Table(title=f"live vs shadow since {start:%Y-%m-%d %H:%M} ({versions})")
        for column in ("live", "shadow", "accounts"):
            table.add_column(column, justify="right" if column == "accounts" else "left")
        for pair in found["pairs"]:
            table.add_row(pair["live"], pair["shadow"], str(pair["accounts"]))
        out.print(table)
        out.print(f"agreed on {found['agreed']} of {found['compared']}")
        for row in found["differing"]:
            out.print(
                f"  {row['account_id']} {row['stage']} {row['observed_at'][:16]}: "
                f"live {row['live']['decision']} ({row['live']['score']}) vs "
                f"shadow {row['shadow']['decision']} ({row['shadow']['score']})"
            )
    if found["shadow_actions"]:
        out.print(f"actions recorded in shadow mode: {found['shadow_actions']}")


@report.command("transparency")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    required=True,
    help="Actions taken and appeals filed or decided since (UTC).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def report_transparency(since: dt.datetime, as_json: bool) -> None:
    """What enforcement did since a date: bans and restrictions by ground (the policy rule),
    detection point and who decided (automated or a person), and appeals by outcome."""
    from tasks.enforcement.transparency import transparency

    start, now = since.replace(tzinfo=dt.UTC), utcnow()
    if start >= now:
        raise click.BadParameter(f"{start:%Y-%m-%d %H:%M} is not in the past", param_hint="--since")
    with session_scope() as session:
        found = transparency(session, since=start, until=now)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    actions, appeals = found["actions"], found["appeals"]
    click.echo(f"Enforcement from {start:%Y-%m-%d %H:%M} to {now:%Y-%m-%d %H:%M} UTC")
    click.echo(f"bans and restrictions: {actions['total']}")
    for title, key in (
        ("by action", "by_action"),
        ("by ground (policy rule)", "by_ground"),
        ("by detection point", "by_detection_point"),
        ("decided by", "by_decider"),
        ("standing now", "by_status"),
    ):
        click.echo(f"  {title}:")
        for name, n in actions[key].items():
            click.echo(f"    {name:<32} {n:>8}")
    click.echo(f"  recorded in shadow mode (never enforced): {actions['recorded_in_shadow']}")
    click.echo(
        f"appeals: {appeals['filed']} filed, {appeals['decided']['uphold']} upheld, "
        f"{appeals['decided']['overturn']} overturned, {appeals['waiting']} waiting"
    )
