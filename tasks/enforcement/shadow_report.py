"""How a shadow model would have decided, against the live model on the same records.

Both models score every record of a batch (``Score.shadow`` marks the shadow one's), so each
account observed at a moment has a live and a shadow decision to compare. The shadow model's
decisions never become actions; this report is how an operator judges it before activating it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from infra.db.models import EnforcementAction, Score


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
    """Live against shadow decisions on the records scored since ``since``."""
    live, shadow = aliased(Score), aliased(Score)
    rows = session.execute(
        select(
            live.account_id,
            live.stage,
            live.observed_at,
            live.model_version,
            live.score,
            live.decision,
            shadow.model_version,
            shadow.score,
            shadow.decision,
        )
        .join(
            shadow,
            and_(
                shadow.account_id == live.account_id,
                shadow.stage == live.stage,
                shadow.observed_at == live.observed_at,
                shadow.shadow.is_(True),
            ),
        )
        .where(live.shadow.is_(False), live.created_at >= since)
        .order_by(live.id)
    )
    report = ShadowComparison()
    for account, stage, observed, live_v, live_s, live_d, shadow_v, shadow_s, shadow_d in rows:
        report.pairs[(live_d, shadow_d)] += 1
        report.versions[("live", live_v)] += 1
        report.versions[("shadow", shadow_v)] += 1
        if live_d != shadow_d and len(report.differing) < sample:
            report.differing.append(
                {
                    "account_id": account,
                    "stage": stage,
                    "observed_at": observed.isoformat(),
                    "live": {"decision": live_d, "score": round(live_s, 4)},
                    "shadow": {"decision": shadow_d, "score": round(shadow_s, 4)},
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
