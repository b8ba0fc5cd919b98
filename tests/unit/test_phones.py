"""What a phone number says about itself."""

from __future__ import annotations

import pytest

from tasks.scoring import phones
from tasks.scoring.phones import NumberInfo, number_info, phone_block


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+421905123456", NumberInfo("SK", "mobile")),  # Slovak mobile
        ("+445612345678", NumberInfo("GB", "voip")),  # UK 056 VoIP range
        ("+31851234567", NumberInfo("NL", "voip")),  # Dutch 085 VoIP range
        ("+447400123456", NumberInfo("GB", "mobile")),
        ("+18002345678", NumberInfo("US", "toll_free")),  # US 1-800
        ("+448002345678", NumberInfo("GB", "toll_free")),
        ("+14155552671", NumberInfo("US", "fixed_or_mobile")),
        ("+421212345678", NumberInfo("SK", "invalid")),  # right country, wrong length
        ("+4219", NumberInfo(None, "invalid")),
    ],
)
def test_number_info(e164: str, expected: NumberInfo) -> None:
    assert number_info(e164) == expected
    assert phones._parse(e164) == expected  # the cache answers what a fresh parse answers


def test_phone_block_drops_the_last_three_digits() -> None:
    assert phone_block("+421905123456") == "+421905123"
    assert phone_block("+421905123999") == phone_block("+421905123000")
    assert phone_block("+421905124000") != phone_block("+421905123999")


def test_number_info_is_stable_across_a_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phones, "_range_cache", {})
    first = number_info("+421905123000")
    assert number_info("+421905123999") == first == NumberInfo("SK", "mobile")
    assert len(phones._range_cache) == 1  # the whole 100,000-range is uniform


def test_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phones, "_range_cache", {})
    monkeypatch.setattr(phones, "_CACHE_LIMIT", 3)
    for block in range(5):
        number_info(f"+4219{block}5123456")
    assert 1 <= len(phones._range_cache) <= 3
    assert number_info("+421905124456") == NumberInfo("SK", "mobile")


@pytest.mark.parametrize(
    ("seen_first", "number"),
    [("+4238002000", "+4238002203"), ("+355900000", "+355900105")],
)
def test_cached_answer_does_not_depend_on_call_order(
    monkeypatch: pytest.MonkeyPatch, seen_first: str, number: str
) -> None:
    monkeypatch.setattr(phones, "_range_cache", {})
    number_info(seen_first)
    assert number_info(number) == phones._parse(number)


def test_range_cache_answers_a_reserved_block_inside_a_uniform_range_as_the_range() -> None:
    # The known price of range caching: 07700 900xxx is reserved for drama in the UK, but its
    # surrounding range is ordinary mobile and is answered as such. Pinned so it stays a choice.
    assert phones._parse("+447700900123").number_type == "invalid"
    assert number_info("+447700900123") == NumberInfo("GB", "mobile")
