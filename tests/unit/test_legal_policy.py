"""The 7 December 2019 rule, read from its versioned policy file."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tasks.legal.policy import (
    BASIS_BOTH,
    BASIS_OFF_PLATFORM,
    BASIS_ON_PLATFORM,
    EvidenceFact,
    PolicyError,
    evaluate,
    load_policy,
)

POLICY = load_policy("2019-12-07.2")
BRATISLAVA = ZoneInfo("Europe/Bratislava")


def at(year: int, month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


def on(evidence_id: int, when: dt.datetime, confidence: float = 0.95) -> EvidenceFact:
    return EvidenceFact(evidence_id, "on_platform", "enforcement", when, False, confidence)


def claim(
    evidence_id: int,
    when: dt.datetime,
    confidence: float = 0.95,
    claims_bulk: bool = True,
    kind: str = "public_claim",
) -> EvidenceFact:
    return EvidenceFact(evidence_id, "off_platform", kind, when, claims_bulk, confidence)


def test_the_cutoff_is_an_instant_with_its_offset() -> None:
    # 00:00 on 7 December 2019 at UTC-12: from then on it is the 7th or later everywhere.
    assert POLICY.off_platform_cutoff == dt.datetime(2019, 12, 7, 12, tzinfo=dt.UTC)
    assert POLICY.off_platform_cutoff.utcoffset() == dt.timedelta(hours=-12)
    assert POLICY.borderline == dt.timedelta(hours=24)
    assert POLICY.min_link_confidence == 0.7


def test_an_unknown_policy_version_is_refused_with_its_name() -> None:
    with pytest.raises(PolicyError, match=r"policy-1999\.1\.toml"):
        load_policy("1999.1")


def test_on_platform_evidence_before_the_cutoff_is_enough() -> None:
    verdict = evaluate([on(1, at(2018, 5, 1))], POLICY)
    assert (verdict.eligible, verdict.basis) == (True, BASIS_ON_PLATFORM)
    assert [f.evidence_id for f in verdict.cited] == [1]


def test_off_platform_claims_only_before_the_cutoff_are_not_enough_and_say_why() -> None:
    verdict = evaluate([claim(1, at(2019, 6, 1)), claim(2, at(2019, 11, 30))], POLICY)
    assert not verdict.eligible
    assert "before 7 December 2019" in verdict.reason
    assert [f.evidence_id for f in verdict.cited] == [1, 2]  # what the decision looked at


def test_a_claim_after_the_cutoff_is_enough() -> None:
    verdict = evaluate([claim(1, at(2020, 1, 15))], POLICY)
    assert (verdict.eligible, verdict.basis) == (True, BASIS_OFF_PLATFORM)
    assert verdict.borderline == ()


def test_a_claim_just_after_midnight_in_bratislava_is_decided_and_flagged() -> None:
    # 00:30 on 7 December in Bratislava is still 6 December west of it: not counted as after
    # the cut-off, but flagged for counsel rather than decided silently.
    early = dt.datetime(2019, 12, 7, 0, 30, tzinfo=BRATISLAVA)
    verdict = evaluate([claim(1, early)], POLICY)
    assert not verdict.eligible
    assert [f.evidence_id for f in verdict.borderline] == [1]


def test_a_claim_on_the_cutoff_instant_counts_and_is_flagged() -> None:
    verdict = evaluate([claim(1, POLICY.off_platform_cutoff)], POLICY)
    assert (verdict.eligible, [f.evidence_id for f in verdict.borderline]) == (True, [1])
    later = POLICY.off_platform_cutoff + POLICY.borderline
    assert evaluate([claim(2, later)], POLICY).borderline == ()


def test_both_kinds_of_evidence_cite_everything_in_time_order() -> None:
    verdict = evaluate(
        [claim(3, at(2020, 2, 1)), on(1, at(2019, 3, 1)), claim(2, at(2019, 6, 1))], POLICY
    )
    assert verdict.basis == BASIS_BOTH
    assert [f.evidence_id for f in verdict.cited] == [1, 2, 3]
    assert (verdict.activity_first, verdict.activity_last) == (at(2019, 3, 1), at(2020, 2, 1))


def test_weak_links_and_non_claims_never_count() -> None:
    facts = [
        claim(1, at(2020, 1, 15), confidence=0.5),
        claim(2, at(2020, 1, 15), claims_bulk=False),
        on(3, at(2019, 1, 1), confidence=0.4),
    ]
    assert not evaluate(facts, POLICY).eligible
    assert evaluate([claim(4, at(2020, 1, 15), confidence=0.7)], POLICY).eligible


def test_only_the_kinds_the_policy_names_count() -> None:
    # A report or court record is about the company, not the company's own claim.
    assert not evaluate([claim(1, at(2020, 1, 15), kind="report")], POLICY).eligible
    assert evaluate([claim(1, at(2020, 1, 15), kind="advertisement")], POLICY).eligible


def test_no_facts() -> None:
    verdict = evaluate([], POLICY)
    assert (verdict.eligible, verdict.cited) == (False, ())
