"""The simulator's hard cases: every record is a valid payload, hard cases name what makes them
hard, and wrong reports label some benign look-alikes abusive while the truth stays benign."""

from __future__ import annotations

from collections import Counter

from tasks.accounts.signals import StagedAccount, parse_record
from tasks.offline.simulate_accounts import HARD_POPULATIONS, POPULATION_BY_NAME, simulate

HARD = {p.name for p in HARD_POPULATIONS}


def test_the_world_holds_them_as_valid_records_with_their_tactics() -> None:
    records = list(simulate(6000, 11, stages="all"))
    for raw in records:
        parse_record(raw, StagedAccount, now=None)  # every one a valid payload
    by_population = Counter(r["truth"]["population"] for r in records)
    assert set(by_population) >= HARD
    tactics = {
        name: {
            t for r in records if r["truth"]["population"] == name for t in r["truth"]["tactics"]
        }
        for name in HARD
    }
    assert tactics["sleeper_sender"] == {"aged_number", "human_pacing", "small_volume", "warmed_up"}
    assert tactics["quiet_takeover"] == {"quiet_takeover"}
    # Benign senders may have a habit besides what they send.
    assert tactics["announcer"] >= {"school", "delivery_updates", "small_shop"}
    assert "election_week" in tactics["election_volunteer"]
    # Abusers who look ordinary for weeks are old accounts: never seen registering here.
    assert not any(
        r["stage"] == "registration"
        for r in records
        if r["truth"]["population"] in {"sleeper_sender", "quiet_takeover"}
    )


def test_wrong_reports_label_some_benign_look_alikes_abusive() -> None:
    records = list(simulate(20_000, 12))
    lookalikes = [r for r in records if POPULATION_BY_NAME[r["truth"]["population"]].hard]
    wrongly = sum(r["truth"]["label"] for r in lookalikes) / len(lookalikes)
    assert 0.015 < wrongly < 0.05  # WRONG_REPORT_SHARE, 3%
    casual = [r for r in records if r["truth"]["population"] == "casual"]
    assert sum(r["truth"]["label"] for r in casual) == 0  # no label noise asked for
