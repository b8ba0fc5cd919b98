"""The scoring stage's body: validate a batch, score it, store it, and hand actions on.

Each record is validated on its own, so a bad one is rejected with its reason and the rest are
scored. The acting model's actionable decisions become one ``enforcement.apply`` follow-up for
the snapshot; a shadow model's scores are stored beside them and never acted on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from infra.dead_letters import Rejection
from tasks.accounts.signals import ScoringRequest, validate_records
from tasks.messages import ApplyEnforcement, FollowUp
from tasks.neighbourhoods.rules import NeighbourStore
from tasks.outcome import Outcome
from tasks.scoring.inference import score_records
from tasks.scoring.laps import Lap, no_lap
from tasks.scoring.model import ACTIONED, Scorer
from tasks.scoring.snapshot import encode_records, store_batch

# The models that serve, active and shadow; asked only once a batch has records to score.
Serving = Callable[[], tuple[Scorer, Scorer | None]]


def score_batch(
    session: Session,
    request: ScoringRequest,
    *,
    serving: Serving,
    neighbours: NeighbourStore,
    task_id: str | None,
    now: dt.datetime,
    lap: Lap = no_lap,
) -> Outcome:
    """Score ``request``'s records, received at ``now``."""
    records, positions, invalid = validate_records(request.stage, request.accounts, now=now)
    encoded, unencodable = encode_records(request.accounts, positions)
    if unencodable:
        refused = {position for position, _ in unencodable}
        kept = [(p, r) for p, r in zip(positions, records, strict=True) if p not in refused]
        positions, records = [p for p, _ in kept], [r for _, r in kept]
        invalid = [*invalid, *((p, request.accounts[p], why) for p, why in unencodable)]
        invalid.sort(key=lambda rejected: rejected[0])
    rejected = [
        Rejection(
            reason,
            item,
            index,
            account_id_of(item),
            replay={"stage": request.stage.value, "accounts": [item]},
        )
        for index, item, reason in invalid
    ]
    lap("validate")
    if not records:
        return Outcome({"scored": 0, "rejected": len(rejected)}, rejected=rejected)

    active, shadow = serving()
    batch = score_records(
        request.stage, records, active, shadow, neighbours, explain=False, lap=lap
    )
    snapshot_id = store_batch(
        session,
        batch,
        encoded=encoded,
        record_count=len(request.accounts),
        task_id=task_id,
        now=now,
    )
    lap("store")

    acting = batch.acting
    actioned = sum(1 for d in acting.decisions if d in ACTIONED)
    follow_ups = []
    if actioned:
        follow_ups.append(
            FollowUp(
                ApplyEnforcement(snapshot_id=snapshot_id, model_version=acting.version),
                dedupe_key=f"enforcement.apply:{snapshot_id}:{acting.version}",
            )
        )
    summary: dict[str, Any] = {
        "scored": len(records),
        "rejected": len(rejected),
        "actioned": actioned,
        "snapshot_id": snapshot_id,
    }
    return Outcome(summary, follow_ups=follow_ups, rejected=rejected)


def account_id_of(item: Any) -> str | None:
    """A refused record's account id, when it has one that can be shown (cut to 64)."""
    value = item.get("account_id") if isinstance(item, dict) else None
    return value[:64] if isinstance(value, str) else None
