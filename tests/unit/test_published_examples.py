"""The platform's published examples, decided by the session model through the serving path."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tasks.accounts.signals import DetectionPoint
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.scoring.inference import score_records
from tasks.scoring.model import Scorer
from tests.records import T0, feedback_block, messaging_block, parse, record


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


def test_a_burst_of_sign_ups_on_consecutive_numbers_from_one_network_is_caught(
    scorer: Scorer,
) -> None:
    # Registration-time detection: 25 consecutive numbers of one block signing up two minutes
    # apart from one network on two devices, as a SIM farm does. The first few look like anyone;
    # once the burst shows, each further sign-up is restricted before it sends anything.
    stage = DetectionPoint.REGISTRATION
    raws = [
        record(
            f"farm-{i}",
            phone=f"+4219051000{i:02d}",
            registered_at=T0 + dt.timedelta(minutes=2 * i),
            observed_at=T0 + dt.timedelta(minutes=2 * i, seconds=30),
            network_id="net-farm",
            device_id=f"dev-farm-{i % 2}",
        )
        for i in range(25)
    ]
    batch = score_records(
        stage, parse(raws, stage), scorer, None, MemoryNeighbourStore(), explain=False
    )
    late = batch.acting.decisions[-5:]
    assert set(late) <= {"restrict", "ban"}, (late, batch.acting.scores[-5:])


# An account a month old sending one text to thousands of people who never saved its number,
# few of whom answer: bulk messaging at a volume no person keeps up by hand.
BULK = messaging_block(
    peak_msgs_15s=20,
    msgs_last_hour=400,
    msgs_last_day=3000,
    unique_recipients_day=2500,
    non_contact_ratio=0.95,
    reply_ratio=0.03,
    typing_ratio=0.1,
    send_interval_cv=0.3,
    identical_content_ratio=0.9,
)


def test_bulk_messaging_to_strangers_is_restricted_or_banned(scorer: Scorer) -> None:
    raw = record("bulk", registered_at=T0 - dt.timedelta(days=30), observed_at=T0, messaging=BULK)
    decision, score = decide(scorer, raw)
    assert decision in {"ban", "restrict"}, f"decided {decision} at score {score:.4f}"


def test_a_modified_client_sending_in_bulk_is_restricted_or_banned(scorer: Scorer) -> None:
    raw = record(
        "modified",
        client="modified",
        registered_at=T0 - dt.timedelta(days=10),
        observed_at=T0,
        messaging=messaging_block(
            peak_msgs_15s=40,
            msgs_last_hour=300,
            msgs_last_day=1500,
            unique_recipients_day=1200,
            non_contact_ratio=0.9,
            reply_ratio=0.05,
            typing_ratio=0.2,
            identical_content_ratio=0.7,
        ),
    )
    decision, score = decide(scorer, raw)
    assert decision in {"ban", "restrict"}, f"decided {decision} at score {score:.4f}"


def test_many_blocks_and_reports_are_caught_and_raise_the_score(scorer: Scorer) -> None:
    # Negative feedback: a sender to strangers that one recipient in five blocks and one in ten
    # reports. The complaints alone move it up; together with what it sends it is acted on.
    sending = messaging_block(
        peak_msgs_15s=10,
        msgs_last_hour=150,
        msgs_last_day=900,
        unique_recipients_day=600,
        non_contact_ratio=0.9,
        reply_ratio=0.05,
        typing_ratio=0.3,
        send_interval_cv=0.6,
        identical_content_ratio=0.8,
    )
    old = T0 - dt.timedelta(days=20)
    quiet = record(
        "quiet",
        registered_at=old,
        observed_at=T0,
        messaging=sending,
        feedback=feedback_block(recipients_reached=600, blocks=0, reports=0),
    )
    reported = record(
        "reported",
        registered_at=old,
        observed_at=T0,
        messaging=sending,
        feedback=feedback_block(recipients_reached=600, blocks=120, reports=60),
    )
    stage = DetectionPoint.FEEDBACK
    _, calm = decide(scorer, quiet, stage)
    decision, score = decide(scorer, reported, stage)
    assert score > calm
    assert decision in {"review", "restrict", "ban"}, f"decided {decision} at score {score:.4f}"


OLD = T0 - dt.timedelta(days=700)
# Ordinary people who send a lot, each with a reason: none is acted on.
ORDINARY_HEAVY: dict[str, dict[str, Any]] = {
    "a community admin adding neighbours to groups": record(
        "admin",
        registered_at=OLD,
        observed_at=T0,
        messaging=messaging_block(
            groups_created_day=6,
            group_members_added_day=250,
            msgs_last_day=300,
            unique_recipients_day=120,
            non_contact_ratio=0.15,
            reply_ratio=0.6,
            identical_content_ratio=0.15,
        ),
    ),
    "a small shop answering its customers": record(
        "shop",
        client="business",
        registered_at=OLD,
        observed_at=T0,
        messaging=messaging_block(
            msgs_last_hour=40,
            msgs_last_day=200,
            peak_msgs_15s=6,
            unique_recipients_day=90,
            non_contact_ratio=0.45,
            reply_ratio=0.55,
            typing_ratio=0.6,
            identical_content_ratio=0.3,
        ),
    ),
}


@pytest.mark.parametrize("who", sorted(ORDINARY_HEAVY))
def test_ordinary_heavy_senders_are_allowed(scorer: Scorer, who: str) -> None:
    decision, score = decide(scorer, ORDINARY_HEAVY[who])
    assert decision == "allow", f"{who}: decided {decision} at score {score:.4f}"


def test_a_heavy_user_rarely_blocked_is_allowed_at_feedback(scorer: Scorer) -> None:
    raw = record(
        "heavy-feedback",
        registered_at=OLD,
        observed_at=T0,
        messaging=messaging_block(
            peak_msgs_15s=40,
            msgs_last_hour=150,
            msgs_last_day=800,
            unique_recipients_day=60,
            non_contact_ratio=0.05,
            reply_ratio=0.7,
            typing_ratio=0.85,
            send_interval_cv=2.0,
        ),
        feedback=feedback_block(recipients_reached=60, blocks=1, reports=0),
    )
    decision, score = decide(scorer, raw, DetectionPoint.FEEDBACK)
    assert decision == "allow", f"decided {decision} at score {score:.4f}"
