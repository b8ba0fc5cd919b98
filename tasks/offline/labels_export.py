"""The labels bulkguard earned itself, as labelled history to train on.

Each label is a person's finding on a scored record: a review decision, or an appeal's outcome
(an overturned ban is a benign label). The record is the one the model scored at the time, read
back from its snapshot, in the format ``bulkguard train --data`` reads. A score with both a
review and an appeal label is exported once, with the appeal's: it came later and looked closer.

The evidence reader earns labels too: a person's verdict on how it read an off-platform document
(``tasks.evidence.verdicts``). :func:`evidence_labels` writes them in the format a trained claim
reader will read: the document's text as the reader reads it, the reading, the verdict.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Document, Evidence, EvidenceVerdict, Label, Score
from tasks.accounts.signals import as_json
from tasks.evidence.documents import document_bytes
from tasks.evidence.reading.analysis import MAX_ANALYSED_CHARS
from tasks.evidence.reading.html_text import to_text
from tasks.scoring.snapshot import records_at

# Later sources overrule earlier ones for the same score.
PRECEDENCE = {"review": 0, "appeal": 1}
CHUNK = 1000


def export(session: Session) -> Iterator[dict[str, Any]]:
    """One labelled record per labelled score, oldest decision first."""
    chosen: dict[int, Label] = {}
    for label in session.scalars(select(Label).order_by(Label.created_at, Label.id)):
        held = chosen.get(label.score_id)
        if held is None or PRECEDENCE[label.source] >= PRECEDENCE[held.source]:
            chosen[label.score_id] = label
    ids = sorted(chosen)
    for start in range(0, len(ids), CHUNK):
        scores = session.scalars(select(Score).where(Score.id.in_(ids[start : start + CHUNK])))
        by_snapshot: dict[int, dict[int, int]] = {}
        stage: dict[int, str] = {}
        for score in scores:
            by_snapshot.setdefault(score.snapshot_id, {})[score.id] = score.position
            stage[score.id] = score.stage
        for snapshot_id, positions in by_snapshot.items():
            for score_id, record in records_at(session, snapshot_id, positions).items():
                label = chosen[score_id]
                yield {
                    **as_json(record),
                    "stage": stage[score_id],
                    "label": label.abusive,
                    "label_source": label.source,
                    "decided_at": label.created_at.isoformat(),
                }


def evidence_labels(session: Session) -> Iterator[dict[str, Any]]:
    """One line per verdict on a reading, oldest first: the document (its text as the reader
    reads it, with its SHA-256 to fetch the bytes), what the reader made of it when it came in,
    and the person's verdict: ``label`` true when it is an offer of bulk or automated sending."""
    rows = session.execute(
        select(EvidenceVerdict, Evidence, Document.sha256, Document.content_type)
        .join(Evidence, Evidence.id == EvidenceVerdict.evidence_id)
        .join(Document, Document.id == Evidence.document_id)
        .order_by(EvidenceVerdict.decided_at, EvidenceVerdict.id)
    )
    for verdict, item, sha256, content_type in rows:
        body = (document_bytes(session, sha256) or b"").decode("utf-8", errors="replace")
        yield {
            "evidence_id": item.id,
            "document_sha256": sha256,
            "content_type": content_type,
            "url": item.url,
            "observed_at": item.observed_at.isoformat(),
            "text": to_text(body[:MAX_ANALYSED_CHARS]),
            "excerpt": item.excerpt,
            "reading": {"claims_bulk": item.claims_bulk, "indicators": item.indicators},
            "label": verdict.verdict == "confirmed",
            "verdict": verdict.verdict,
            "reason": verdict.reason,
            "decided_by": verdict.decided_by,
            "decided_at": verdict.decided_at.isoformat(),
        }
