"""``evidence.ingest`` (documents from upstream), ``evidence.link`` (evidence → companies) and
``evidence.record_bans`` (bans in force → on-platform evidence → companies): task shells around
their bodies."""

from __future__ import annotations

from infra.db.models import utcnow
from tasks.evidence.claim_reader import active_model
from tasks.evidence.ingest import ingest_documents
from tasks.evidence.link import link_evidence
from tasks.evidence.on_platform import record_ban_evidence
from tasks.messages import IngestEvidence, LinkEvidence, RecordBanEvidence
from tasks.outcome import Outcome
from tasks.pipeline import TaskRun, pipeline_task


@pipeline_task(IngestEvidence, soft_time_limit=120, time_limit=150)
def ingest(run: TaskRun, request: IngestEvidence) -> Outcome:
    # The active evidence model, loaded in this worker process on its first document.
    return ingest_documents(run.session, request, now=utcnow(), model=active_model(run.session))


@pipeline_task(LinkEvidence, soft_time_limit=120, time_limit=150)
def link(run: TaskRun, request: LinkEvidence) -> Outcome:
    return link_evidence(run.session, request)


@pipeline_task(RecordBanEvidence, soft_time_limit=120, time_limit=150)
def record_bans(run: TaskRun, request: RecordBanEvidence) -> Outcome:
    return record_ban_evidence(run.session, request)
