"""``bulkguard policy``: the enforcement policy file the workers and reviewers work under."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from infra.settings import get_settings


@click.group()
def policy() -> None:
    """The enforcement policy file."""


@policy.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def policy_check(path: Path) -> None:
    """Validate a policy file before rolling it out; print its rules."""
    from tasks.enforcement.policy import PolicyError, parse

    try:
        checked = parse(path.read_text(encoding="utf-8"), str(path))
    except (PolicyError, UnicodeDecodeError) as exc:
        raise click.ClickException(str(exc)) from exc
    _print_policy(checked)


@policy.command("show")
def policy_show() -> None:
    """The policy the workers apply (BULKGUARD_POLICY_FILE, or the shipped default)."""
    from tasks.enforcement.policy import PolicyError
    from tasks.enforcement.policy_file import DEFAULT_POLICY, policy_in_force

    path = get_settings().policy_file
    try:
        shown = policy_in_force(path)
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"# {path or DEFAULT_POLICY}")
    _print_policy(shown)


def _print_policy(shown: Any) -> None:
    click.echo(f"policy {shown.version}")
    for rule in shown.rules:
        stages = ",".join(rule.stages) or "any stage"
        signals = f" with {'+'.join(rule.signals)}" if rule.signals else ""
        click.echo(
            f"  {rule.name}: {stages}, band {'|'.join(rule.bands)}{signals} -> {rule.action}"
        )
    ladder = ", ".join(f"{d}d" for d in shown.restrictions.ladder_days)
    click.echo(
        f"  restrictions: {ladder}, then ban (repeats within "
        f"{shown.restrictions.lookback_days} days)"
    )
    click.echo(f"  reviews dismissed after {shown.reviews.expire_after_days:g} days undecided")
