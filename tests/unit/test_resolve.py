"""Evidence resolved to companies."""

from __future__ import annotations

import pytest

from tasks.evidence.resolve import (
    EXACT_CONFIDENCE,
    MENTION_CONFIDENCE,
    NAME_CEILING,
    NAME_CUTOFF,
    NAME_FLOOR,
    Match,
    resolve,
)
from tasks.legal.policy import load_policy

KNOWN = {"reach media": [1], "blast digital": [2], "ping labs": [3]}


def test_exact_hits_have_their_method_confidence() -> None:
    assert resolve([("domain", 1), ("phone", 2), ("email", 3)], [], KNOWN) == [
        Match(1, "domain", 0.95),
        Match(3, "email", 0.95),
        Match(2, "phone", 0.9),
    ]


def test_exact_hit_beats_a_perfect_name_match() -> None:
    matches = resolve([("phone", 1)], ["Reach Media s.r.o."], KNOWN)
    assert matches == [Match(1, "phone", EXACT_CONFIDENCE["phone"])]
    assert EXACT_CONFIDENCE["phone"] > NAME_CEILING


def test_identical_name_after_folding_gets_the_ceiling() -> None:
    assert resolve([], ["REACH MEDIA Ltd."], KNOWN) == [Match(1, "name", NAME_CEILING)]
    assert resolve([], ["Media Reach"], KNOWN) == [Match(1, "name", NAME_CEILING)]


def test_fuzzy_name_above_the_cutoff() -> None:
    # "reech media" is one letter off "reach media": similarity 90.9, just above the cut-off.
    (match,) = resolve([], ["Reech Media s.r.o."], KNOWN)
    assert match.company_id == 1
    assert match.method == "name"
    assert NAME_FLOOR <= match.confidence < NAME_CEILING
    assert match.confidence == pytest.approx(0.318, abs=1e-3)
    (closer,) = resolve([], ["Reach Medias"], KNOWN)
    assert match.confidence < closer.confidence < NAME_CEILING


@pytest.mark.parametrize("name", ["Reach Marketing", "Reach Media Group", "Blast", "Ltd", ""])
def test_names_below_the_cutoff_or_empty_do_not_match(name: str) -> None:
    assert resolve([], [name], KNOWN) == []


def test_no_known_names() -> None:
    assert resolve([("email", 4)], ["Reach Media"], {}) == [Match(4, "email", 0.95)]


def test_best_match_per_company() -> None:
    matches = resolve(
        [("phone", 1), ("domain", 1), ("phone", 2)],
        ["Reach Media", "Blast Digital", "Ping Labs Ltd", "Ping Lab"],
        KNOWN,
    )
    assert matches == [
        Match(1, "domain", 0.95),
        Match(2, "phone", 0.9),
        Match(3, "name", NAME_CEILING),
    ]


def test_cutoff_is_a_similarity_percentage() -> None:
    assert 0 < NAME_CUTOFF < 100
    assert 0 < NAME_FLOOR < NAME_CEILING < min(EXACT_CONFIDENCE.values())


def test_a_name_alone_never_makes_a_company_eligible() -> None:
    # Two firms may share a name: a name match is a suggestion for review, below what the
    # legal policy acts on; every strong key is above it.
    strong = load_policy("2019-12-07.2").min_link_confidence
    assert (
        max(NAME_CEILING, *MENTION_CONFIDENCE.values()) < strong <= min(EXACT_CONFIDENCE.values())
    )


def test_a_name_borne_by_two_companies_suggests_both() -> None:
    matches = resolve([], ["Acme Media Ltd"], {"acme media": [4, 7]})
    assert matches == [Match(4, "name", NAME_CEILING), Match(7, "name", NAME_CEILING)]
    assert not any(m.strong for m in matches)
