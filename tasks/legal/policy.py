"""The legal-action policy of the platform notice.

Companies tied to on-platform evidence of abuse were in scope before 7 December 2019 and remain
so. From 7 December 2019, companies are also in scope on off-platform evidence alone (for
example their public claims that they can send bulk messages), but only where the activity
continues on or after that date: off-platform evidence dated only before it is not enough.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

OFF_PLATFORM_CUTOFF = dt.date(2019, 12, 7)

BASIS_ON_PLATFORM = "on_platform"
BASIS_OFF_PLATFORM = "off_platform_after_cutoff"
BASIS_BOTH = "on_and_off_platform"


@dataclass(frozen=True)
class EvidenceFact:
    evidence_id: int
    source: str  # on_platform | off_platform
    observed_at: dt.datetime
    claims_bulk: bool
    confidence: float  # of the link between this evidence and the company


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    basis: str | None
    reason: str
    cited: tuple[EvidenceFact, ...]

    @property
    def activity_first(self) -> dt.datetime:
        return min(f.observed_at for f in self.cited)

    @property
    def activity_last(self) -> dt.datetime:
        return max(f.observed_at for f in self.cited)


# Links weaker than this (a loose name match) do not by themselves make a company eligible.
MIN_LINK_CONFIDENCE = 0.7


def evaluate(facts: Sequence[EvidenceFact]) -> Eligibility:
    strong = [f for f in facts if f.confidence >= MIN_LINK_CONFIDENCE]
    on_platform = [f for f in strong if f.source == "on_platform"]
    claims = [f for f in strong if f.source == "off_platform" and f.claims_bulk]
    continuing = [f for f in claims if _utc_date(f) >= OFF_PLATFORM_CUTOFF]
    earlier = [f for f in claims if _utc_date(f) < OFF_PLATFORM_CUTOFF]
    if on_platform and continuing:
        cited = on_platform + continuing + earlier
        return Eligibility(
            True,
            BASIS_BOTH,
            "on-platform evidence of abuse, and off-platform claims of bulk "
            f"messaging continuing on or after {OFF_PLATFORM_CUTOFF:%d %B %Y}",
            _ordered(cited),
        )
    if on_platform:
        return Eligibility(
            True,
            BASIS_ON_PLATFORM,
            "on-platform evidence of automated or bulk messaging "
            "(in scope before and after the 7 December 2019 notice)",
            _ordered(on_platform + earlier),
        )
    if continuing:
        return Eligibility(
            True,
            BASIS_OFF_PLATFORM,
            "off-platform evidence alone, with the activity continuing on or after "
            f"{OFF_PLATFORM_CUTOFF:%d %B %Y}",
            _ordered(continuing + earlier),
        )
    if earlier:
        return Eligibility(
            False,
            None,
            "off-platform evidence only, all of it dated before "
            f"{OFF_PLATFORM_CUTOFF:%d %B %Y}, and no sign the activity continued",
            (),
        )
    return Eligibility(False, None, "no evidence strong enough to tie the company to abuse", ())


def _utc_date(fact: EvidenceFact) -> dt.date:
    """The cut-off is a calendar date in UTC, whatever offset the evidence was recorded with."""
    return fact.observed_at.astimezone(dt.UTC).date()


def _ordered(facts: list[EvidenceFact]) -> tuple[EvidenceFact, ...]:
    return tuple(sorted(facts, key=lambda f: (f.observed_at, f.evidence_id)))
