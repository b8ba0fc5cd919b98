"""The labels bulkguard earned itself, as labelled history to train on.

Each label is a person's finding on a scored record: a review decision, or an appeal's outcome
(an overturned ban is a benign label). The record is the one the model scored at the time, read
back from its snapshot, in the format ``bulkguard train --data`` reads. A score with both a
review and an appeal label is exported once, with the appeal's: it came later and looked closer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Label, Score
from tasks.accounts.signals import as_json
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
