"""Periodic housekeeping run by beat."""

from __future__ import annotations

import datetime as dt

from infra.settings import get_settings
from tasks import outbox
from tasks.messages import SweepOutbox
from tasks.outcome import Outcome
from tasks.pipeline import TaskRun, pipeline_task


@pipeline_task(SweepOutbox, soft_time_limit=60, time_limit=90)
def sweep_outbox(run: TaskRun, _request: SweepOutbox) -> Outcome:
    """Publish follow-up tasks whose publisher died between commit and publish."""
    grace = dt.timedelta(seconds=get_settings().outbox_grace_seconds)
    return Outcome({"published": outbox.sweep(run.app, run.session, older_than=grace)})
