"""``bulkguard db``: the database schema."""

from __future__ import annotations

import click

from infra.db.migrate import upgrade
from infra.redaction import display_url
from infra.settings import get_settings
from workers.cli.common import console


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to DATABASE_URL (or the embedded SQLite file)."""
    upgrade()
    console.print(f"schema at head on {display_url(get_settings().resolved_database_url)}")
