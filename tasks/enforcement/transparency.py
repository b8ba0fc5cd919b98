"""The transparency report: what enforcement did since a date, as counts a platform publishes.

Bans and restrictions put in force (or decided and waiting for their release), by kind, by
ground (the enforcement policy's rule), by detection point, and by who decided (the classifier
alone, or a person on review); then the appeals filed and decided since, by outcome, and those
still waiting. Actions recorded in shadow mode were never enforced: counted apart. Counts only:
no account is named.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra.db.models import Appeal, AppealRequest, EnforcementAction, Score

ENFORCED = ("ban", "restrict")


def transparency(session: Session, *, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    """Counts of the actions taken and appeals filed or decided in ``[since, until)``."""
    rows = session.execute(
        select(
            EnforcementAction.action,
            EnforcementAction.status,
            EnforcementAction.rule,
            EnforcementAction.origin_id.is_not(None),
            Score.stage,
            func.count(),
        )
        .join(Score, Score.id == EnforcementAction.score_id)
        .where(
            EnforcementAction.action.in_(ENFORCED),
            EnforcementAction.created_at >= since,
            EnforcementAction.created_at < until,
        )
        .group_by(
            EnforcementAction.action,
            EnforcementAction.status,
            EnforcementAction.rule,
            EnforcementAction.origin_id.is_not(None),
            Score.stage,
        )
    ).all()
    kinds: Counter[str] = Counter()
    grounds: Counter[str] = Counter()
    points: Counter[str] = Counter()
    deciders: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    shadow = 0
    for action, status, rule, by_person, stage, n in rows:
        if status == "shadow":
            shadow += n
            continue
        kinds[action] += n
        grounds[rule or "(none)"] += n
        points[stage] += n
        deciders["person" if by_person else "automated"] += n
        outcomes[status] += n
    decided = dict(
        session.execute(
            select(Appeal.outcome, func.count())
            .where(Appeal.decided_at >= since, Appeal.decided_at < until)
            .group_by(Appeal.outcome)
        ).all()
    )
    filed = session.scalar(
        select(func.count())
        .select_from(AppealRequest)
        .where(AppealRequest.filed_at >= since, AppealRequest.filed_at < until)
    )
    waiting = session.scalar(
        select(func.count())
        .select_from(AppealRequest)
        .where(AppealRequest.appeal_id.is_(None), AppealRequest.filed_at < until)
    )
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "actions": {
            "total": sum(kinds.values()),
            "by_action": _sorted(kinds),
            "by_ground": _sorted(grounds),
            "by_detection_point": _sorted(points),
            "by_decider": {"automated": deciders["automated"], "person": deciders["person"]},
            # Where each stands now: in force, its term run out, overturned on appeal...
            "by_status": _sorted(outcomes),
            "recorded_in_shadow": shadow,
        },
        "appeals": {
            "filed": filed or 0,
            "decided": {"uphold": decided.get("uphold", 0), "overturn": decided.get("overturn", 0)},
            "waiting": waiting or 0,
        },
    }


def _sorted(counts: Counter[str]) -> dict[str, int]:
    """Largest first, then by name: the order a reader scans a table in."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
