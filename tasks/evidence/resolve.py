"""Resolve a piece of evidence to the companies it points at, with a method and a confidence.

Exact identifiers (a domain, an e-mail address, a published phone number) are strong; a company
name is matched fuzzily (rapidfuzz) after folding case, accents and legal-form suffixes, and is
weaker. The strongest match per company wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from tasks.evidence.indicators import normalize_company_name

# Confidence of each exact method; a name match scales from NAME_FLOOR at the cut-off upward.
EXACT_CONFIDENCE = {"domain": 0.95, "email": 0.95, "phone": 0.9}
NAME_CUTOFF = 90.0
NAME_FLOOR = 0.6
NAME_CEILING = 0.85


@dataclass(frozen=True)
class Match:
    company_id: int
    method: str
    confidence: float


def resolve(
    exact_hits: Iterable[tuple[str, int]],
    names: Iterable[str],
    known_names: Mapping[str, int],
) -> list[Match]:
    """Combine exact indicator hits ``(kind, company_id)`` with fuzzy name matches."""
    best: dict[int, Match] = {}

    def offer(match: Match) -> None:
        current = best.get(match.company_id)
        if current is None or match.confidence > current.confidence:
            best[match.company_id] = match

    for kind, company_id in exact_hits:
        offer(Match(company_id, kind, EXACT_CONFIDENCE[kind]))
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
            offer(Match(known_names[matched], "name", round(confidence, 3)))
    return sorted(best.values(), key=lambda m: (-m.confidence, m.company_id))
