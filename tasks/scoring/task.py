"""``scoring.score_accounts``: the task shell around ``tasks.scoring.score_batch``."""

from __future__ import annotations

import functools

from infra.db.models import utcnow
from infra.redis_client import get_counters_redis
from tasks.messages import ScoreAccounts
from tasks.neighbourhoods.redis_store import RedisNeighbourStore
from tasks.outcome import Outcome
from tasks.pipeline import TaskRun, pipeline_task
from tasks.scoring.score_batch import score_batch
from tasks.scoring.serving import current_scorers


@pipeline_task(ScoreAccounts, soft_time_limit=120, time_limit=150)
def score_accounts(run: TaskRun, request: ScoreAccounts) -> Outcome:
    return score_batch(
        run.session,
        request,
        serving=functools.partial(current_scorers, run.session),
        neighbours=RedisNeighbourStore(get_counters_redis()),
        task_id=run.task_id,
        now=utcnow(),
    )
