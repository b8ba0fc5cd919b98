"""The platform's published examples, decided by the session model through the serving path."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tasks.accounts.signals import DetectionPoint
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.scoring.inference import score_records
from tasks.scoring.model import Scorer
from tests.records import T0, messaging_block, parse, record


def decide(
    scorer: Scorer, raw: dict[str, Any], stage: DetectionPoint = DetectionPoint.MESSAGING
) -> tuple[str, float]:
    batch = score_records(
        stage, parse([raw], stage), scorer, None, MemoryNeighbourStore(), explain=True
    )
    return batch.acting.decisions[0], float(batch.acting.scores[0])


def test_hundred_messages_in_fifteen_seconds_after_registering(scorer: Scorer) -> None:
    # 100 messages in 15 s, five minutes after registering, no typing indicator, mostly
    # non-contacts, clockwork intervals; observed two minutes after that burst.
    raw = record(
        "script",
        phone="+421905111222",
        registered_at=T0,
        observed_at=T0 + dt.timedelta(minutes=7),
        messaging=messaging_block(
            peak_msgs_15s=100,
            msgs_last_hour=100,
            msgs_last_day=100,
            minutes_to_first_burst=5.0,
            unique_recipients_day=100,
            non_contact_ratio=0.9,
            reply_ratio=0.02,
            typing_ratio=0.0,
            groups_created_day=0,
            group_members_added_day=0,
            send_interval_cv=0.05,
            identical_content_ratio=0.5,
        ),
    )
    decision, score = decide(scorer, raw)
    assert decision in {"ban", "restrict"}, f"decided {decision} at score {score:.4f}"


def test_heavy_ordinary_user_with_one_burst_is_allowed(scorer: Scorer) -> None:
    # Forwards a photo album (60 messages in 15 s) but writes to contacts, who answer, typing
    # by hand at human intervals; the account is two years old.
    raw = record(
        "heavy",
        phone="+421905333444",
        registered_at=T0 - dt.timedelta(days=700),
        observed_at=T0,
        messaging=messaging_block(
            peak_msgs_15s=60,
            msgs_last_hour=150,
            msgs_last_day=800,
            minutes_to_first_burst=None,
            unique_recipients_day=50,
            non_contact_ratio=0.05,
            reply_ratio=0.7,
            typing_ratio=0.85,
            groups_created_day=0,
            group_members_added_day=0,
            send_interval_cv=2.0,
            identical_content_ratio=0.05,
        ),
    )
    decision, score = decide(scorer, raw)
    assert decision == "allow", f"decided {decision} at score {score:.4f}"


@pytest.mark.parametrize("stage", [DetectionPoint.REGISTRATION, DetectionPoint.MESSAGING])
def test_casual_user_is_allowed(scorer: Scorer, stage: DetectionPoint) -> None:
    raw = record(
        "casual",
        phone="+421905555666",
        registered_at=T0 - dt.timedelta(days=300),
        observed_at=T0,
        messaging=messaging_block() if stage is DetectionPoint.MESSAGING else None,
    )
    if stage is DetectionPoint.REGISTRATION:
        raw["observed_at"] = (T0 - dt.timedelta(days=300) + dt.timedelta(seconds=20)).isoformat()
    decision, score = decide(scorer, raw, stage)
    assert decision == "allow", f"decided {decision} at score {score:.4f}"
