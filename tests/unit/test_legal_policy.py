"""The 7 December 2019 rule."""

from __future__ import annotations

import datetime as dt

import pytest

from tasks.legal.policy import (
    BASIS_BOTH,
    BASIS_OFF_PLATFORM,
    BASIS_ON_PLATFORM,
    MIN_LINK_CONFIDENCE,
    OFF_PLATFORM_CUTOFF,
    EvidenceFact,
    evaluate,
)


def at(year: int, month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


def on(evidence_id: int, when: dt.datetime, confidence: float = 0.95) -> EvidenceFact:
    return EvidenceFact(evidence_id, "on_platform", when, claims_bulk=False, confidence=confidence)


def claim(
    evidence_id: int, when: dt.datetime, confidence: float = 0.95, claims_bulk: bool = True
) -> EvidenceFact:
    return EvidenceFact(
        evidence_id, "off_platform", when, claims_bulk=claims_bulk, confidence=confidence
    )


def test_cutoff_is_the_seventh_of_december_2019() -> None:
    assert dt.date(2019, 12, 7) == OFF_PLATFORM_CUTOFF


def test_on_platform_evidence_before_the_cutoff_is_enough() -> None:
    facts = [on(2, at(2019, 11, 20)), on(1, at(2019, 10, 1))]
    verdict = evaluate(facts)
    assert verdict.eligible
    assert verdict.basis == BASIS_ON_PLATFORM
    assert [f.evidence_id for f in verdict.cited] == [1, 2]  # in time order
    assert "on-platform" in verdict.reason


def test_off_platform_claims_only_before_the_cutoff_are_not_enough() -> None:
    verdict = evaluate([claim(1, at(2019, 11, 1)), claim(2, at(2019, 12, 6, 23))])
    assert not verdict.eligible
    assert verdict.basis is None
    assert verdict.cited == ()
    assert verdict.reason == (
        "off-platform evidence only, all of it dated before "
        "07 December 2019, and no sign the activity continued"
    )


def test_off_platform_claim_on_the_cutoff_day_is_enough() -> None:
    verdict = evaluate([claim(5, at(2019, 12, 7, 0))])
    assert verdict.eligible
    assert verdict.basis == BASIS_OFF_PLATFORM
    assert [f.evidence_id for f in verdict.cited] == [5]
    assert "07 December 2019" in verdict.reason


def test_off_platform_claim_the_day_before_is_not() -> None:
    verdict = evaluate([claim(5, dt.datetime(2019, 12, 6, 23, 59, 59, tzinfo=dt.UTC))])
    assert not verdict.eligible
    assert verdict.basis is None


def test_continuing_claims_cite_the_earlier_ones_too() -> None:
    verdict = evaluate([claim(3, at(2020, 1, 5)), claim(1, at(2019, 9, 1))])
    assert verdict.basis == BASIS_OFF_PLATFORM
    assert [f.evidence_id for f in verdict.cited] == [1, 3]
    assert verdict.activity_first == at(2019, 9, 1)
    assert verdict.activity_last == at(2020, 1, 5)


def test_both_kinds_of_evidence() -> None:
    facts = [
        claim(4, at(2020, 2, 1)),
        on(2, at(2019, 11, 3)),
        claim(3, at(2019, 11, 1)),
        claim(9, at(2020, 3, 1), claims_bulk=False),
    ]
    verdict = evaluate(facts)
    assert verdict.eligible
    assert verdict.basis == BASIS_BOTH
    assert [f.evidence_id for f in verdict.cited] == [3, 2, 4]
    assert verdict.activity_first == at(2019, 11, 1)
    assert verdict.activity_last == at(2020, 2, 1)


def test_on_platform_with_earlier_claims_stays_on_platform_basis() -> None:
    verdict = evaluate([on(1, at(2019, 11, 20)), claim(2, at(2019, 10, 1))])
    assert verdict.basis == BASIS_ON_PLATFORM
    assert [f.evidence_id for f in verdict.cited] == [2, 1]


def test_weak_links_are_ignored() -> None:
    weak = MIN_LINK_CONFIDENCE - 0.01
    verdict = evaluate(
        [on(1, at(2020, 1, 1), confidence=weak), claim(2, at(2020, 1, 1), confidence=weak)]
    )
    assert not verdict.eligible
    assert verdict.reason == "no evidence strong enough to tie the company to abuse"
    # A weak link next to a strong one is not cited.
    verdict = evaluate([on(1, at(2020, 1, 1), confidence=weak), claim(2, at(2020, 1, 2))])
    assert verdict.basis == BASIS_OFF_PLATFORM
    assert [f.evidence_id for f in verdict.cited] == [2]


def test_a_link_exactly_at_the_minimum_confidence_counts() -> None:
    verdict = evaluate([on(1, at(2019, 1, 1), confidence=MIN_LINK_CONFIDENCE)])
    assert verdict.basis == BASIS_ON_PLATFORM


def test_off_platform_without_a_bulk_claim_is_ignored() -> None:
    verdict = evaluate([claim(1, at(2020, 1, 1), claims_bulk=False)])
    assert not verdict.eligible
    assert verdict.reason == "no evidence strong enough to tie the company to abuse"
    verdict = evaluate([claim(1, at(2020, 1, 1), claims_bulk=False), claim(2, at(2019, 1, 1))])
    assert not verdict.eligible
    assert verdict.basis is None


def test_no_facts() -> None:
    verdict = evaluate([])
    assert not verdict.eligible
    assert verdict.cited == ()


@pytest.mark.parametrize("source", ["on_platform", "off_platform"])
def test_ties_in_time_are_ordered_by_evidence_id(source: str) -> None:
    when = at(2020, 1, 1)
    facts = [EvidenceFact(i, source, when, True, 0.9) for i in (8, 3, 5)]
    assert [f.evidence_id for f in evaluate(facts).cited] == [3, 5, 8]
