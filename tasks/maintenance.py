"""Periodic housekeeping run by beat."""

from __future__ import annotations

import datetime as dt

from infra import deliveries
from infra.settings import get_settings
from infra.sinks import platform_sink
from tasks import outbox
from tasks.enforcement.deliver import PLATFORM_KINDS
from tasks.messages import SweepOutbox
from tasks.outcome import Outcome
from tasks.pipeline import TaskRun, pipeline_task


@pipeline_task(SweepOutbox, soft_time_limit=60, time_limit=90)
def sweep_outbox(run: TaskRun, _request: SweepOutbox) -> Outcome:
    """Publish follow-up tasks whose publisher died between commit and publish, and again those
    whose consumer never committed an effect (those that never do end as dead letters). Send
    again the deliveries recorded but never confirmed."""
    settings = get_settings()
    swept = outbox.sweep(
        run.app,
        run.session,
        older_than=dt.timedelta(seconds=settings.outbox_grace_seconds),
        redelivery=outbox.Redelivery(
            after=dt.timedelta(seconds=settings.outbox_redeliver_seconds),
            max_publications=settings.outbox_max_publications,
        ),
    )
    resent = deliveries.sweep(
        run.session,
        platform_sink(settings),
        PLATFORM_KINDS,
        retry_after=dt.timedelta(seconds=settings.delivery_retry_seconds),
        max_attempts=settings.delivery_max_attempts,
    )
    return Outcome(
        {
            "deliveries_sent": resent,
            "published": swept.published,
            "republished": swept.republished,
            "abandoned": swept.abandoned,
        }
    )
