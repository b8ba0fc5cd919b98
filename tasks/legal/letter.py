"""A notice's letter, rendered from its language's template.

The letter is what the company reads: no internal wording, every piece of evidence cited with its
date, source, SHA-256 and the passage that makes the claim. The language follows the company's
country (Slovak for Slovakia, English everywhere else and as the fallback).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from tasks.templating import country_language, environment

# A missing field is a bug, not an empty line in a legal letter (``StrictUndefined``); the
# e-mail's HTML part escapes the plain text.
_env = environment("tasks.legal")


@dataclass(frozen=True)
class CitedEvidence:
    evidence_id: int
    source: str  # on_platform | off_platform
    observed_at: dt.datetime
    url: str | None
    sha256: str  # of the preserved document, or of the evidence record for a ban
    passage: str  # the sentence that makes the claim
    account_phone: str | None = None  # for a ban: the banned account's number


@dataclass(frozen=True)
class Letter:
    reference: str
    language: str
    kind: str  # notice | escalation
    company_name: str
    basis: str
    cutoff: dt.datetime
    activity_first: dt.datetime
    activity_last: dt.datetime
    evidence: tuple[CitedEvidence, ...]
    response_days: int
    accounts_actioned: int = 0
    brands: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    previous_reference: str | None = None


def language_for(countries: Iterable[str]) -> str:
    """The letter's language for a company seen in ``countries``, most frequent first."""
    return country_language(next(iter(countries), None))


def render(letter: Letter) -> str:
    template = _env.get_template(f"notice.{letter.language}.txt.j2")
    return template.render(letter=letter)
