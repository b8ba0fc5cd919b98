"""Periodic housekeeping run by beat."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from infra import deliveries
from infra.broker_memory import BrokerMemory
from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.settings import Settings, get_settings
from infra.sink_contract import Sink
from infra.sinks import platform_sink
from tasks import outbox
from tasks.enforcement.deliver import PLATFORM_KINDS, owed_lifts
from tasks.messages import ApplyRetention, CheckDrift, SweepOutbox
from tasks.outcome import Outcome
from tasks.pipeline import TaskRun, pipeline_task
from tasks.retention import policy as retention_policy
from tasks.retention.run import run as run_retention
from tasks.scoring.drift_check import check_drift

log = logging.getLogger(__name__)


# Of the sweep's 60 s soft limit, what publishing everything again after a broker loss may
# take; what is left then is published by the next sweep, which sees the loss again.
REPUBLISH_BUDGET_SECONDS = 30.0


@pipeline_task(SweepOutbox, soft_time_limit=60, time_limit=90)
def sweep_outbox(run: TaskRun, _request: SweepOutbox) -> Outcome:
    """Publish follow-up tasks whose publisher died between commit and publish, and again those
    whose consumer never committed an effect (those that never do end as dead letters), all of
    them at once if the broker lost its memory; record the lifts owed to the platform; then, in
    a transaction of its own, send again the deliveries recorded but never confirmed."""
    settings = get_settings()
    # Built first: a sink that cannot be built (a webhook without its secret) fails the run
    # before anything is published, rather than rolling back what was.
    sink = platform_sink(settings)
    after_loss = _republish_after_broker_loss(run, settings)
    swept = outbox.sweep(
        run.app,
        run.session,
        older_than=dt.timedelta(seconds=settings.outbox_grace_seconds),
        redelivery=outbox.Redelivery(
            after=dt.timedelta(seconds=settings.outbox_redeliver_seconds),
            max_publications=settings.outbox_max_publications,
        ),
        now=utcnow(),
    )
    outcome = owed_lifts(run.session)
    outcome.summary.update(
        published=swept.published,
        republished=swept.republished + after_loss.republished,
        abandoned=swept.abandoned,
    )
    if after_loss.remember is not None:
        outcome.after_commit.append(after_loss.remember)
    # After the commit: a slow receiver never holds the outbox's transaction (or SQLite's
    # write lock) open.
    outcome.after_commit.append(lambda: _resend(sink, settings))
    return outcome


@dataclass(frozen=True)
class _AfterLoss:
    republished: int = 0
    # Records the broker's present run once the republication committed (None: nothing to
    # record, or not everything was published yet).
    remember: Callable[[], None] | None = None


def _republish_after_broker_loss(run: TaskRun, settings: Settings) -> _AfterLoss:
    memory = BrokerMemory.of(settings.resolved_broker_url)
    if memory is None:
        return _AfterLoss()
    observation = memory.observe()
    if observation.loss is None:
        return _AfterLoss()
    republished, complete = outbox.republish_unfinished(
        run.app,
        run.session,
        now=utcnow(),
        deadline=time.monotonic() + REPUBLISH_BUDGET_SECONDS,
    )
    log.warning(
        "%s: published %d unfinished follow-up(s) again%s",
        observation.loss,
        republished,
        "" if complete else "; the rest next sweep",
    )
    if not complete:
        return _AfterLoss(republished)
    return _AfterLoss(republished, functools.partial(memory.remember, observation))


def _resend(sink: Sink, settings: Settings) -> None:
    with session_scope() as session:
        sent = deliveries.sweep(
            session,
            sink,
            PLATFORM_KINDS,
            retry_after=dt.timedelta(seconds=settings.delivery_retry_seconds),
            max_attempts=settings.delivery_max_attempts,
        )
    if sent:
        log.info("sent again %d deliveries to %s", sent, sink)


@pipeline_task(CheckDrift, soft_time_limit=120, time_limit=150)
def check_model_drift(run: TaskRun, _request: CheckDrift) -> Outcome:
    """Record how far each stage's recent traffic has moved from the active model's training
    data (``bulkguard model drift`` shows it)."""
    return check_drift(run.session, now=utcnow())


# Of the retention run's 110 s soft limit, what its chunks may take; the rest is the next run's.
RETENTION_BUDGET_SECONDS = 80.0


@pipeline_task(ApplyRetention, soft_time_limit=110, time_limit=140)
def apply_retention(run: TaskRun, _request: ApplyRetention) -> Outcome:
    """Delete what has outlived its retention period and is not on hold, in chunks that commit
    on their own: a run stopped by its time limit is resumed by the next one."""
    report = run_retention(
        run.session,
        retention_policy.load(),
        now=utcnow(),
        until=time.monotonic() + RETENTION_BUDGET_SECONDS,
    )
    return Outcome(summary={"run_id": report.run_id, "deleted": report.deleted})
