"""The enforcement tasks: thin shells around their bodies."""

from __future__ import annotations

import functools
import logging

from infra.db.models import EnforcementAction, utcnow
from infra.dead_letters import Rejection
from infra.json_logs import ACCOUNT_ATTRIBUTE
from infra.redis_client import get_counters_redis
from infra.settings import get_settings
from infra.sinks import platform_sink
from infra.users import Actor, NotAllowedError, authenticate_service
from tasks.enforcement.appeal_requests import file_appeal
from tasks.enforcement.appeals import AppealError, decide_appeal
from tasks.enforcement.apply import apply_actions
from tasks.enforcement.deliver import deliver_actions, retry_deliveries
from tasks.enforcement.expiry import expire
from tasks.enforcement.policy import Policy, PolicyError
from tasks.enforcement.policy_file import policy_in_force
from tasks.enforcement.release import release_due
from tasks.enforcement.reviews import ReviewError, decide_review
from tasks.enforcement.safeguards import from_settings
from tasks.messages import (
    AppealAction,
    ApplyEnforcement,
    DecideReview,
    DeliverActions,
    ExpireActions,
    FileAppeal,
    ReleaseActions,
    RetryDeliveries,
)
from tasks.neighbourhoods.redis_store import RedisNeighbourStore
from tasks.outcome import Outcome
from tasks.pipeline import TaskRun, pipeline_task
from tasks.scoring.serving import scorer_for

log = logging.getLogger(__name__)


@pipeline_task(ApplyEnforcement, soft_time_limit=120, time_limit=150)
def apply(run: TaskRun, request: ApplyEnforcement) -> Outcome:
    settings = get_settings()
    return apply_actions(
        run.session,
        request,
        mode=settings.enforcement_mode,
        policy=policy_in_force(settings.policy_file),
        scorer_for=functools.partial(scorer_for, run.session),
        neighbours=RedisNeighbourStore(get_counters_redis()),
        now=utcnow(),
        safeguards=from_settings(settings),
    )


@pipeline_task(ReleaseActions, soft_time_limit=60, time_limit=90)
def release(run: TaskRun, _request: ReleaseActions) -> Outcome:
    """Put in force the actions whose random release time has come."""
    neighbours = RedisNeighbourStore(get_counters_redis())
    return release_due(run.session, neighbours=neighbours, now=utcnow())


@pipeline_task(DeliverActions, soft_time_limit=60, time_limit=90)
def deliver(run: TaskRun, request: DeliverActions) -> Outcome:
    """Tell the platform which accounts to ban, restrict or lift, once per action and event."""
    settings = get_settings()
    return deliver_actions(
        run.session,
        request,
        sink=platform_sink(settings),
        max_attempts=settings.delivery_max_attempts,
        now=utcnow(),
    )


@pipeline_task(RetryDeliveries, soft_time_limit=60, time_limit=90)
def retry(run: TaskRun, request: RetryDeliveries) -> Outcome:
    """Send failed deliveries again, as an operator asked, each through the sink it failed on."""
    settings = get_settings()
    return retry_deliveries(
        run.session,
        request,
        sink=lambda: platform_sink(settings),
        max_attempts=settings.delivery_max_attempts,
    )


@pipeline_task(AppealAction, soft_time_limit=60, time_limit=90)
def appeal(run: TaskRun, request: AppealAction) -> Outcome:
    """Uphold or overturn an action; an appeal that cannot be decided, or is not signed by the
    service it names, is kept with its reason."""
    try:
        decided = decide_appeal(
            run.session,
            request.action_id,
            outcome=request.outcome,
            actor=_signed_by(run, request, request.decided_by),
            reason=request.reason,
            neighbours=RedisNeighbourStore(get_counters_redis()),
            now=utcnow(),
        )
        return _logged(run, decided, "appeal", request.action_id)
    except (AppealError, NotAllowedError) as exc:
        return _refused(str(exc), request.kwargs())


@pipeline_task(FileAppeal, soft_time_limit=60, time_limit=90)
def file(run: TaskRun, request: FileAppeal) -> Outcome:
    """An account holder's appeal, filed by the appeal service, to wait for a reviewer; one
    against an action that cannot be appealed, or not signed by the service it names, is kept
    with its reason."""
    try:
        return file_appeal(
            run.session,
            request.action_id,
            statement=request.statement,
            actor=_signed_by(run, request, request.filed_by),
            now=utcnow(),
        )
    except (AppealError, NotAllowedError) as exc:
        return _refused(str(exc), request.kwargs())


@pipeline_task(DecideReview, soft_time_limit=60, time_limit=90)
def decide(run: TaskRun, request: DecideReview) -> Outcome:
    """A person's decision on a review case, enforced like an automatic action."""
    try:
        decided = decide_review(
            run.session,
            request.review_id,
            outcome=request.outcome,
            actor=_signed_by(run, request, request.decided_by),
            note=request.note,
            policy=policy_in_force(get_settings().policy_file),
            neighbours=RedisNeighbourStore(get_counters_redis()),
            now=utcnow(),
        )
        return _logged(run, decided, "review", request.review_id)
    except (ReviewError, NotAllowedError) as exc:
        return _refused(str(exc), request.kwargs())


def _signed_by(
    run: TaskRun, request: AppealAction | DecideReview | FileAppeal, service: str
) -> Actor:
    """The ``service`` that signed this message, as it names itself in it; the body then
    checks the role it holds."""
    return authenticate_service(
        run.session, service, request.TASK, request.kwargs(), request.signature
    )


def _logged(run: TaskRun, outcome: Outcome, kind: str, action_id: int) -> Outcome:
    """A person's decision, logged once it has committed, with the account it is about (JSON
    logs show a hash of it: infra.json_logs)."""
    if outcome.summary.get("already_decided"):
        return outcome
    account_id = run.session.get_one(EnforcementAction, action_id).account_id
    decision = outcome.summary.get("outcome")
    outcome.after_commit.append(
        lambda: log.info(
            "%s %s decided: %s", kind, action_id, decision, extra={ACCOUNT_ATTRIBUTE: account_id}
        )
    )
    return outcome


@pipeline_task(ExpireActions, soft_time_limit=60, time_limit=90)
def expire_actions(run: TaskRun, _request: ExpireActions) -> Outcome:
    """Lift restrictions whose term ended (no policy needed) and dismiss stale review cases
    (after the policy's time, so not while no valid policy can be read)."""
    try:
        policy: Policy | None = policy_in_force(get_settings().policy_file)
    except PolicyError:
        log.exception("no enforcement policy: restrictions are lifted, reviews wait")
        policy = None
    return expire(run.session, policy=policy, now=utcnow())


def _refused(reason: str, kwargs: dict[str, object]) -> Outcome:
    # Kept as a dead letter, replayable once the cause is fixed; nothing else changes.
    return Outcome(
        {"status": "rejected", "reason": reason},
        rejected=[Rejection(reason, kwargs, replay=kwargs)],
    )
