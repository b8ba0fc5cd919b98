"""The ban-storm breaker: automatic bans stop when their rate jumps far above its baseline.

A broken feature or a bad model shows as a flood of bans. Every automatic ban put in force is
counted in a per-minute row; before a batch's bans are put in force, the bans of the last
``window`` (with the batch's) are compared with the rate of the trailing ``baseline`` before it.
Above ``multiple`` times that rate (and above ``min_bans``, so a quiet start cannot trip it), the
breaker opens: from then on automatic bans are held as review cases, each with the reason, until
a person resets it (``bulkguard breaker reset``). Decisions of people are never held.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore
from infra.db.models import AuditEvent, BanCount, Breaker
from infra.users import Actor, authorize

log = logging.getLogger(__name__)

NAME = "automatic-bans"
# The rule of a ban held as a review ends so, after the rule that chose the ban.
HELD = ":held"


@dataclass(frozen=True)
class BreakerLimits:
    window: dt.timedelta
    baseline: dt.timedelta
    multiple: float
    min_bans: int


@dataclass(frozen=True)
class BreakerState:
    open: bool
    reason: str | None
    changed_at: dt.datetime | None
    changed_by: str | None
    window_bans: int
    expected_bans: float


def minute(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)


def hold_reason(
    session: Session, limits: BreakerLimits, now: dt.datetime, new_bans: int
) -> str | None:
    """Why this batch's ``new_bans`` automatic bans must be held (the breaker is, or now goes,
    open), or None: then they may go ahead, and the caller counts those it makes (:func:`count`)."""
    if new_bans == 0:
        return None
    reason = open_reason(session)
    if reason is not None:
        return reason
    window_bans, expected = _rates(session, limits, now)
    limit = max(float(limits.min_bans), limits.multiple * expected)
    if window_bans + new_bans > limit:
        reason = (
            f"ban storm: {window_bans + new_bans} automatic bans in the last "
            f"{_minutes(limits.window)} min against {expected:.1f} expected from the trailing "
            f"{_minutes(limits.baseline) // 60} h (limit {limit:.0f}); automatic bans are held "
            "for review until `bulkguard breaker reset`"
        )
        _set(session, now, is_open=True, reason=reason, actor=Actor.system("breaker"))
        log.error("breaker opened: %s", reason)
        return reason
    return None


def open_reason(session: Session) -> str | None:
    """Why the breaker is open, or None while it is closed."""
    state = session.get(Breaker, NAME)
    return state.reason if state is not None and state.open else None


def status(session: Session, limits: BreakerLimits, now: dt.datetime) -> BreakerState:
    state = session.get(Breaker, NAME)
    window_bans, expected = _rates(session, limits, now)
    return BreakerState(
        open=bool(state and state.open),
        reason=state.reason if state else None,
        changed_at=state.changed_at if state else None,
        changed_by=state.changed_by if state else None,
        window_bans=window_bans,
        expected_bans=expected,
    )


def reset(session: Session, *, actor: Actor, note: str, now: dt.datetime) -> bool:
    """Close the breaker; whether it was open. The bans counted in the window stay counted, so
    the storm, if it goes on, trips it again."""
    authorize(session, actor, "admin")
    state = session.get(Breaker, NAME, with_for_update=True)
    if state is None or not state.open:
        return False
    _set(session, now, is_open=False, reason=f"reset: {note}" if note else "reset", actor=actor)
    log.warning("breaker reset by %s", actor.name)
    return True


def _rates(session: Session, limits: BreakerLimits, now: dt.datetime) -> tuple[int, float]:
    """Bans in the window, and the bans a window is expected to have from the baseline."""
    start = minute(now) - limits.window + dt.timedelta(minutes=1)
    window = session.scalar(
        select(func.coalesce(func.sum(BanCount.bans), 0)).where(BanCount.minute >= start)
    )
    earlier = session.scalar(
        select(func.coalesce(func.sum(BanCount.bans), 0)).where(
            BanCount.minute >= start - limits.baseline, BanCount.minute < start
        )
    )
    per_window = float(earlier or 0) * (limits.window / limits.baseline)
    return int(window or 0), per_window


def count(session: Session, now: dt.datetime, bans: int) -> None:
    """Count ``bans`` automatic bans made at ``now`` in the rate the breaker watches."""
    if bans <= 0:
        return
    bucket = minute(now)
    session.execute(insert_ignore(session, BanCount), [{"minute": bucket, "bans": 0}])
    session.execute(
        update(BanCount).where(BanCount.minute == bucket).values(bans=BanCount.bans + bans)
    )


def _set(session: Session, now: dt.datetime, *, is_open: bool, reason: str, actor: Actor) -> None:
    session.execute(insert_ignore(session, Breaker), [{"name": NAME, "open": False}])
    session.execute(
        update(Breaker)
        .where(Breaker.name == NAME)
        .values(
            open=is_open,
            reason=reason,
            changed_at=now,
            changed_by=actor.name,
            changed_by_id=actor.user_id,
        )
    )
    session.add(
        AuditEvent(
            entity="breaker",
            entity_id=1,
            event="opened" if is_open else "reset",
            details={"reason": reason},
            **actor.recorded(),
        )
    )


def _minutes(span: dt.timedelta) -> int:
    return int(span.total_seconds() // 60)
