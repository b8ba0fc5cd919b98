"""How a shadow model would have decided, against the live model on the same records.

Both models score every record of a batch (each model's decisions are one ``DecisionBatch`` row,
``shadow`` marking the shadow model's), so each record has a live and a shadow decision to
compare. The shadow model's decisions never become actions; this report is how an operator
judges it before activating it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from infra.db.models import DecisionBatch, EnforcementAction
from tasks.scoring.decisions import Decided, unpack
from tasks.scoring.snapshot import records_at


@dataclass
class ShadowComparison:
    # (live decision, shadow decision) -> accounts scored so by both.
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Per model version, how many records it scored in the comparison.
    versions: Counter[tuple[str, str]] = field(default_factory=Counter)
    # A sample of the accounts the two models decided differently on.
    differing: list[dict[str, object]] = field(default_factory=list)
    # Actions recorded in shadow enforcement mode (never put in force), by action.
    shadow_actions: Counter[str] = field(default_factory=Counter)

    @property
    def compared(self) -> int:
        return sum(self.pairs.values())

    @property
    def agreed(self) -> int:
        return sum(n for (live, shadow), n in self.pairs.items() if live == shadow)

    def as_json(self) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "agreed": self.agreed,
            "pairs": [
                {"live": live, "shadow": shadow, "accounts": n}
                for (live, shadow), n in sorted(self.pairs.items())
            ],
            "versions": [
                {"role": role, "version": version, "scores": n}
                for (role, version), n in sorted(self.versions.items())
            ],
            "differing": self.differing,
            "shadow_actions": dict(sorted(self.shadow_actions.items())),
        }


def compare(session: Session, *, since: dt.datetime, sample: int = 50) -> ShadowComparison:
    """Live against shadow decisions on the records of the batches decided since ``since``."""
    live, shadow = aliased(DecisionBatch), aliased(DecisionBatch)
    rows = session.execute(
        select(
            live.snapshot_id,
            live.stage,
            live.model_version,
            live.scores,
            live.decisions,
            shadow.model_version,
            shadow.scores,
            shadow.decisions,
        )
        .join(shadow, and_(shadow.snapshot_id == live.snapshot_id, shadow.shadow.is_(True)))
        .where(live.shadow.is_(False), live.created_at >= since)
        .order_by(live.id, shadow.id)
    )
    report = ShadowComparison()
    for snapshot_id, stage, live_v, live_s, live_d, shadow_v, shadow_s, shadow_d in rows:
        by_live, by_shadow = unpack(live_s, live_d), unpack(shadow_s, shadow_d)
        both = [position for position in by_live if position in by_shadow]
        differing = []
        for position in both:
            pair = (by_live[position].decision, by_shadow[position].decision)
            report.pairs[pair] += 1
            if pair[0] != pair[1]:
                differing.append(position)
        report.versions[("live", live_v)] += len(both)
        report.versions[("shadow", shadow_v)] += len(both)
        room = sample - len(report.differing)
        if differing and room > 0:
            # Only the sampled records are read back from the snapshot, for who and when.
            chosen = {position: position for position in differing[:room]}
            for position, record in records_at(session, snapshot_id, chosen).items():
                report.differing.append(
                    {
                        "account_id": record.account_id,
                        "stage": stage,
                        "observed_at": record.observed_at.isoformat(),
                        "live": _shown(by_live[position]),
                        "shadow": _shown(by_shadow[position]),
                    }
                )
    report.shadow_actions.update(
        session.scalars(
            select(EnforcementAction.action).where(
                EnforcementAction.status == "shadow", EnforcementAction.created_at >= since
            )
        )
    )
    return report


def _shown(decided: Decided) -> dict[str, object]:
    return {"decision": decided.decision, "score": round(decided.score, 4)}
