"""``maintenance.check_drift``'s body (beat): the recent traffic of each detection point against
the active model's training data.

The sample is the stage's most recent snapshots within the window, up to ``SAMPLE`` records: their
signal features are rebuilt from the records as received (the neighbourhood features depend on
live counters and are left out), and their scores are the ones the active model stored for them.
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import DriftCheck, SignalSnapshot
from infra.registry import serving_versions
from tasks.accounts.signals import AccountSignals, DetectionPoint
from tasks.outcome import Outcome
from tasks.scoring import stability
from tasks.scoring.decisions import decisions_at
from tasks.scoring.features import signal_matrix
from tasks.scoring.snapshot import records_at

log = logging.getLogger(__name__)

SAMPLE = 5000
WINDOW = dt.timedelta(hours=24)


def check_drift(session: Session, *, now: dt.datetime, sample: int = SAMPLE) -> Outcome:
    active = serving_versions(session).get("active")
    reference = active.card.get("reference") if active is not None else None
    if active is None or not reference:
        return Outcome({"checked": 0, "note": "no active model with a training reference"})
    checked: dict[str, str] = {}
    for point in DetectionPoint:
        if point.value not in reference:
            continue
        records, scores = _recent(session, point, active.version, now, sample)
        if not records:
            continue
        found = stability.measure(
            reference[point.value], signal_matrix(records, point), np.asarray(scores, np.float32)
        )
        worst, worst_psi = found.worst_feature
        session.add(
            DriftCheck(
                checked_at=now,
                model_version=active.version,
                stage=point.value,
                records=found.records,
                score_psi=found.score_psi,
                worst_feature=worst,
                worst_psi=worst_psi,
                level=found.level,
                features=found.features,
            )
        )
        if found.level == "alert":
            log.warning(
                "drift alert at %s: score PSI %.3f, %s PSI %.3f on %d records against %s",
                point.value,
                found.score_psi,
                worst,
                worst_psi,
                found.records,
                active.version,
            )
        checked[point.value] = found.level
    return Outcome({"checked": len(checked), "levels": checked})


def _recent(
    session: Session, point: DetectionPoint, version: str, now: dt.datetime, sample: int
) -> tuple[list[AccountSignals], list[float]]:
    """Up to ``sample`` recent records of ``point`` with the scores ``version`` gave them."""
    records: list[AccountSignals] = []
    scores: list[float] = []
    snapshots = session.scalars(
        select(SignalSnapshot.id)
        .where(SignalSnapshot.stage == point.value, SignalSnapshot.received_at >= now - WINDOW)
        .order_by(SignalSnapshot.id.desc())
        .limit(200)
    ).all()
    for snapshot_id in snapshots:
        scored = decisions_at(session, snapshot_id, version)
        for position, record in records_at(session, snapshot_id, {p: p for p in scored}).items():
            records.append(record)
            scores.append(scored[position].score)
        if len(records) >= sample:
            break
    return records[:sample], scores[:sample]
