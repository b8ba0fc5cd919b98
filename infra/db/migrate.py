"""Schema migrations, run programmatically so every entry point shares one code path."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.exc import OperationalError

from infra.db.partitions import ensure_partitions, is_partitioned
from infra.db.session import make_engine
from infra.settings import get_settings

log = logging.getLogger(__name__)

INI = Path(__file__).resolve().parent.parent / "migrations" / "alembic.ini"


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(INI))
    config.attributes["url"] = url or get_settings().resolved_database_url
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate to ``revision``; at the head, make PostgreSQL's coming months' partitions too
    (as the daily retention run does): every deploy and every service start that migrates."""
    command.upgrade(alembic_config(url), revision)
    if revision != "head":
        return
    engine = make_engine(url or get_settings().resolved_database_url, pooled=False)
    try:
        with engine.begin() as connection:
            if is_partitioned(connection):
                ensure_partitions(connection, dt.datetime.now(dt.UTC))
    except OperationalError as exc:
        # A lock that did not come in time: the daily retention run makes them, months ahead.
        log.warning("the coming months' partitions were not made: %s", type(exc.orig).__name__)
    finally:
        engine.dispose()


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
