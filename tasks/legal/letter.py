"""A notice's letter, rendered from its language's template.

The letter is what the company reads: no internal wording, every piece of evidence cited with its
date, source, SHA-256 and the passage that makes the claim. The language follows the company's
country (Slovak for Slovakia, English everywhere else and as the fallback).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined

LANGUAGES = {"SK": "sk"}  # country → letter language; everything else gets English
FALLBACK_LANGUAGE = "en"
_SK_MONTHS = (
    "januára",
    "februára",
    "marca",
    "apríla",
    "mája",
    "júna",
    "júla",
    "augusta",
    "septembra",
    "októbra",
    "novembra",
    "decembra",
)


def _longdate(value: dt.datetime | dt.date, language: str) -> str:
    day = value.date() if isinstance(value, dt.datetime) else value
    if language == "sk":
        return f"{day.day}. {_SK_MONTHS[day.month - 1]} {day.year}"
    return f"{day.day} {day:%B %Y}"


_env = Environment(
    loader=PackageLoader("tasks.legal", "templates"),
    undefined=StrictUndefined,  # a missing field is a bug, not an empty line in a legal letter
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,  # plain-text letters; the e-mail's HTML part escapes them  # noqa: S701
    keep_trailing_newline=True,
)
_env.filters["longdate"] = _longdate


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
    return LANGUAGES.get(next(iter(countries), ""), FALLBACK_LANGUAGE)


def render(letter: Letter) -> str:
    template = _env.get_template(f"notice.{letter.language}.txt.j2")
    return template.render(letter=letter)
