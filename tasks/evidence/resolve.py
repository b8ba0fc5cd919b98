"""Resolve a piece of evidence to the companies it points at, with a method and a confidence.

Only strong keys tie evidence to a company: the company's own domain, an e-mail address or a
published phone number. A company name is matched fuzzily (rapidfuzz) after folding case, accents
and legal-form suffixes, but only as a suggestion for a person to review: two firms may share a
name, so a name match never stands in for a key, never merges companies and is weighted below
what the legal policy needs to act on (``tasks.legal.policy.MIN_LINK_CONFIDENCE``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from tasks.evidence.reading.indicators import normalize_company_name

# Confidence of each strong key; a name suggestion scales from NAME_FLOOR at the cut-off upward.
EXACT_CONFIDENCE = {"domain": 0.95, "email": 0.95, "phone": 0.9, "account": 1.0}
# Evidence *about* a company rather than in its voice: a page that makes no claim but carries the
# company's key ("mentioned") or names it ("named", "named_in_news" for reportage). Cited for
# counsel, never enough for the legal policy.
MENTION_CONFIDENCE = {"mentioned": 0.5, "named_in_news": 0.4, "named": 0.4}
NAME_CUTOFF = 90.0
NAME_FLOOR = 0.3
NAME_CEILING = 0.5
MIN_NAMED_LETTERS = 5


@dataclass(frozen=True)
class Match:
    company_id: int
    method: str
    confidence: float

    @property
    def strong(self) -> bool:
        return self.method in EXACT_CONFIDENCE


def named_in(text: str, known_names: Mapping[str, Sequence[int]]) -> list[int]:
    """Companies whose name occurs in ``text`` as whole words. Short names ("Zap", "Send") are
    words of the trade rather than names, so only names of five or more letters count."""
    words = f" {normalize_company_name(text)} "
    found: set[int] = set()
    for name, company_ids in known_names.items():
        if len(name.replace(" ", "")) >= MIN_NAMED_LETTERS and f" {name} " in words:
            found.update(company_ids)
    return sorted(found)


def resolve(
    exact_hits: Iterable[tuple[str, int]],
    names: Iterable[str],
    known_names: Mapping[str, Sequence[int]],
    mentions: Iterable[tuple[str, int]] = (),
) -> list[Match]:
    """Combine strong key hits ``(kind, company_id)``, mentions ``(method, company_id)`` and
    name suggestions; ``known_names`` maps a normalised name to every company that bears it.
    Each company gets its strongest match."""
    best: dict[int, Match] = {}

    def offer(match: Match) -> None:
        current = best.get(match.company_id)
        if current is None or match.confidence > current.confidence:
            best[match.company_id] = match

    for kind, company_id in exact_hits:
        offer(Match(company_id, kind, EXACT_CONFIDENCE[kind]))
    for method, company_id in mentions:
        offer(Match(company_id, method, MENTION_CONFIDENCE[method]))
    for name in names:
        normalized = normalize_company_name(name)
        if not normalized or not known_names:
            continue
        found = process.extractOne(
            normalized, known_names.keys(), scorer=fuzz.token_sort_ratio, score_cutoff=NAME_CUTOFF
        )
        if found is not None:
            matched, similarity, _ = found
            confidence = NAME_FLOOR + (NAME_CEILING - NAME_FLOOR) * (similarity - NAME_CUTOFF) / (
                100.0 - NAME_CUTOFF
            )
            for company_id in known_names[matched]:
                offer(Match(company_id, "name", round(confidence, 3)))
    return sorted(best.values(), key=lambda m: (-m.confidence, m.company_id))
