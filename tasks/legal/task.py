"""``legal.evaluate``, ``legal.send`` and ``legal.escalate``: task shells around their bodies.

Nothing is ever sent without a recorded approval (``tasks.legal.approvals``): ``send`` re-checks
the status under the transaction and refuses anything not approved.
"""

from __future__ import annotations

from infra.db.models import utcnow
from infra.settings import get_settings
from infra.sinks import JsonlSink
from tasks.legal.escalate import escalate_stale
from tasks.legal.evaluate import evaluate_company
from tasks.legal.send import send_notice
from tasks.messages import Escalate, EvaluateCompany, SendNotice
from tasks.outcome import Outcome
from tasks.pipeline import TaskRun, pipeline_task


@pipeline_task(EvaluateCompany, soft_time_limit=60, time_limit=90)
def evaluate(run: TaskRun, request: EvaluateCompany) -> Outcome:
    return evaluate_company(run.session, request, policy_version=get_settings().policy_version)


@pipeline_task(SendNotice, soft_time_limit=60, time_limit=90)
def send(run: TaskRun, request: SendNotice) -> Outcome:
    return send_notice(run.session, request, sink=JsonlSink(get_settings().legal_sink_path))


@pipeline_task(Escalate, soft_time_limit=60, time_limit=90)
def escalate(run: TaskRun, _request: Escalate) -> Outcome:
    """Beat: flag drafts that have waited too long for a human decision."""
    return escalate_stale(run.session, now=utcnow())
