"""``enforcement.apply`` and ``enforcement.deliver``: task shells around their bodies."""

from __future__ import annotations

import functools

from infra.redis_client import get_redis
from infra.settings import get_settings
from infra.sinks import platform_sink
from tasks.enforcement.apply import apply_actions
from tasks.enforcement.deliver import deliver_actions
from tasks.messages import ApplyEnforcement, DeliverActions
from tasks.outcome import Outcome
from tasks.pipeline import TaskRun, pipeline_task
from tasks.scoring.neighbourhoods.redis_store import RedisNeighbourStore
from tasks.scoring.serving import scorer_for


@pipeline_task(ApplyEnforcement, soft_time_limit=120, time_limit=150)
def apply(run: TaskRun, request: ApplyEnforcement) -> Outcome:
    settings = get_settings()
    return apply_actions(
        run.session,
        request,
        mode=settings.enforcement_mode,
        policy_version=settings.policy_version,
        scorer_for=functools.partial(scorer_for, run.session),
        neighbours=RedisNeighbourStore(get_redis()),
    )


@pipeline_task(DeliverActions, soft_time_limit=60, time_limit=90)
def deliver(run: TaskRun, request: DeliverActions) -> Outcome:
    """Tell the platform which accounts to ban or restrict, once per action."""
    return deliver_actions(run.session, request, sink=platform_sink(get_settings()))
