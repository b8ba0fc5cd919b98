"""Claim passages in their context: the stretch around each, cut between words, stretches that
would overlap shown as one, every passage marked once."""

from __future__ import annotations

from tasks.evidence.passages import Passage, in_context


def _shown(passage: Passage) -> str:
    """A passage as text, its marks in brackets and its cuts as ellipses."""
    body = "".join(f"[{s.text}]" if s.marked else s.text for s in passage.segments)
    return ("… " if passage.cut_before else "") + body + (" …" if passage.cut_after else "")


def test_a_passage_is_shown_with_the_words_around_it() -> None:
    text = "one two three four five six seven eight nine ten"
    start = text.index("five")
    (passage,) = in_context(text, [(start, start + 4)], context=8)
    assert _shown(passage) == "… four [five] six …"


def test_passages_close_together_share_a_stretch_and_overlaps_are_marked_once() -> None:
    text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron"
    beta, gamma = text.index("beta"), text.index("gamma")
    mu = text.index("mu")
    shown = in_context(text, [(gamma, gamma + 5), (beta, gamma + 2), (mu, mu + 2)], context=6)
    assert [_shown(p) for p in shown] == [
        "alpha [beta gamma] delta …",
        "… [mu] nu xi …",
    ]


def test_a_passage_at_the_ends_of_the_text_is_not_cut() -> None:
    text = "Bulk sending.\nNothing else"
    (passage,) = in_context(text, [(0, 4), (14, 21)], context=40)
    assert _shown(passage) == "[Bulk] sending.\n[Nothing] else"
    assert in_context(text, []) == ()
