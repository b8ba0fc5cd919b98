"""Schema migrations, run programmatically so every entry point shares one code path."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from infra.settings import get_settings

INI = Path(__file__).resolve().parent.parent / "migrations" / "alembic.ini"


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(INI))
    config.attributes["url"] = url or get_settings().resolved_database_url
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
