"""The legal-action policy of the platform notice, read from a versioned file.

Companies tied to on-platform evidence of abuse were in scope before 7 December 2019 and remain
so. From 7 December 2019, companies are also in scope on off-platform evidence alone (for
example their public claims that they can send bulk messages), but only where the activity
continues on or after that date: off-platform evidence dated only before it is not enough.

The file (``data/policy-<version>.toml``) fixes the cut-off as an instant with its offset, the
margin around it within which evidence is flagged for counsel, the minimum link confidence and
the evidence kinds that count. Only evidence that *stands* is given to ``evaluate``: a ban in
force, a preserved document that makes a claim (``tasks.legal.evaluate`` decides that).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

BASIS_ON_PLATFORM = "on_platform"
BASIS_OFF_PLATFORM = "off_platform_after_cutoff"
BASIS_BOTH = "on_and_off_platform"


@dataclass(frozen=True)
class Policy:
    version: str
    off_platform_cutoff: dt.datetime
    borderline: dt.timedelta
    min_link_confidence: float
    on_platform_kinds: frozenset[str]
    off_platform_kinds: frozenset[str]
    response_days: int

    @property
    def cutoff_text(self) -> str:
        """The cut-off as the notice states it: the calendar date, in the cut-off's own offset."""
        day = self.off_platform_cutoff
        return f"{day.day} {day:%B %Y}"


class PolicyError(LookupError):
    pass


@cache
def load_policy(version: str) -> Policy:
    """The policy of ``version``, from the file shipped with this package."""
    name = f"policy-{version}.toml"
    try:
        raw = tomllib.loads(resources.files("tasks.legal").joinpath("data", name).read_text())
    except FileNotFoundError as exc:
        raise PolicyError(f"no legal policy file {name} for policy version {version}") from exc
    cutoff = raw["off_platform_cutoff"]
    if not isinstance(cutoff, dt.datetime) or cutoff.tzinfo is None:
        raise PolicyError(f"{name}: off_platform_cutoff must be a date-time with its offset")
    if raw["version"] != version:
        raise PolicyError(f"{name} declares version {raw['version']}, not {version}")
    return Policy(
        version=version,
        off_platform_cutoff=cutoff,
        borderline=dt.timedelta(hours=raw["borderline_hours"]),
        min_link_confidence=float(raw["min_link_confidence"]),
        on_platform_kinds=frozenset(raw["on_platform_kinds"]),
        off_platform_kinds=frozenset(raw["off_platform_kinds"]),
        response_days=int(raw["response_days"]),
    )


@dataclass(frozen=True)
class EvidenceFact:
    evidence_id: int
    source: str  # on_platform | off_platform
    kind: str
    observed_at: dt.datetime
    claims_bulk: bool
    confidence: float  # of the link between this evidence and the company


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    basis: str | None
    reason: str
    cited: tuple[EvidenceFact, ...]
    # Evidence within the policy's margin of the cut-off, for counsel to confirm.
    borderline: tuple[EvidenceFact, ...] = ()

    @property
    def activity_first(self) -> dt.datetime:
        return min(f.observed_at for f in self.cited)

    @property
    def activity_last(self) -> dt.datetime:
        return max(f.observed_at for f in self.cited)


def evaluate(facts: Sequence[EvidenceFact], policy: Policy) -> Eligibility:
    """Decide on standing evidence ``facts`` under ``policy``."""
    strong = [f for f in facts if f.confidence >= policy.min_link_confidence]
    on_platform = [
        f for f in strong if f.source == "on_platform" and f.kind in policy.on_platform_kinds
    ]
    claims = [
        f
        for f in strong
        if f.source == "off_platform" and f.claims_bulk and f.kind in policy.off_platform_kinds
    ]
    cutoff = policy.off_platform_cutoff
    continuing = [f for f in claims if f.observed_at >= cutoff]
    earlier = [f for f in claims if f.observed_at < cutoff]
    borderline = _ordered([f for f in claims if abs(f.observed_at - cutoff) < policy.borderline])
    date = policy.cutoff_text
    if on_platform and continuing:
        return Eligibility(
            True,
            BASIS_BOTH,
            "on-platform evidence of abuse, and off-platform claims of bulk messaging "
            f"continuing on or after {date}",
            _ordered(on_platform + continuing + earlier),
            borderline,
        )
    if on_platform:
        return Eligibility(
            True,
            BASIS_ON_PLATFORM,
            "on-platform evidence of automated or bulk messaging "
            f"(in scope before and after the notice of {date})",
            _ordered(on_platform + earlier),
            borderline,
        )
    if continuing:
        return Eligibility(
            True,
            BASIS_OFF_PLATFORM,
            f"off-platform evidence alone, with the activity continuing on or after {date}",
            _ordered(continuing + earlier),
            borderline,
        )
    if earlier:
        return Eligibility(
            False,
            None,
            f"off-platform evidence only, all of it dated before {date} "
            f"({cutoff.isoformat()}), and no sign the activity continued",
            _ordered(earlier),
            borderline,
        )
    return Eligibility(
        False, None, "no standing evidence strong enough to tie the company to abuse", ()
    )


def _ordered(facts: list[EvidenceFact]) -> tuple[EvidenceFact, ...]:
    return tuple(sorted(set(facts), key=lambda f: (f.observed_at, f.evidence_id)))
