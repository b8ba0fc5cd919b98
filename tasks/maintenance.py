"""Periodic housekeeping run by beat."""

from __future__ import annotations

import datetime as dt
from typing import Any

from infra.settings import get_settings
from tasks import outbox
from tasks.base import Payload, Run, stage_task


class SweepOutbox(Payload):
    pass


@stage_task("maintenance.sweep_outbox", SweepOutbox, soft_time_limit=60, time_limit=90)
def sweep_outbox(_run: Run, _request: SweepOutbox) -> dict[str, Any]:
    """Publish follow-up tasks whose publisher died between commit and publish."""
    grace = dt.timedelta(seconds=get_settings().outbox_grace_seconds)
    return {"published": outbox.sweep(older_than=grace)}
