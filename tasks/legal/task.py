"""``legal.evaluate``, ``legal.withdraw_drafts``, ``legal.send`` and ``legal.escalate``: task
shells around their bodies.

Nothing is ever sent without a recorded approval of the exact text (``tasks.legal.approvals``):
``send`` re-checks the status and the pinned revision under the transaction.
"""

from __future__ import annotations

from infra.db.models import utcnow
from infra.mail import mailer_from
from infra.settings import get_settings
from tasks.legal.escalate import escalate_overdue
from tasks.legal.evaluate import evaluate_company
from tasks.legal.policy import load_policy
from tasks.legal.send import send_notice
from tasks.legal.withdraw_drafts import withdraw_drafts
from tasks.messages import Escalate, EvaluateCompany, SendNotice, WithdrawDrafts
from tasks.outcome import Outcome
from tasks.pipeline import TaskRun, pipeline_task


@pipeline_task(EvaluateCompany, soft_time_limit=60, time_limit=90)
def evaluate(run: TaskRun, request: EvaluateCompany) -> Outcome:
    policy = load_policy(get_settings().policy_version)
    return evaluate_company(run.session, request, policy=policy, now=utcnow())


@pipeline_task(WithdrawDrafts, soft_time_limit=60, time_limit=90)
def withdraw(run: TaskRun, request: WithdrawDrafts) -> Outcome:
    """Notices to a company that was merged or split are withdrawn; it is evaluated afresh."""
    policy = load_policy(get_settings().policy_version)
    return withdraw_drafts(run.session, request, policy=policy, now=utcnow())


@pipeline_task(SendNotice, soft_time_limit=90, time_limit=120)
def send(run: TaskRun, request: SendNotice) -> Outcome:
    settings = get_settings()
    return send_notice(
        run.session,
        request,
        mailer=mailer_from(settings),
        sender=settings.notice_sender,
        now=utcnow(),
    )


@pipeline_task(Escalate, soft_time_limit=60, time_limit=90)
def escalate(run: TaskRun, _request: Escalate) -> Outcome:
    """Beat: escalate sent notices left unanswered while the activity continues."""
    return escalate_overdue(run.session, now=utcnow())
