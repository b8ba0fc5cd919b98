"""What a phone number says about itself: country, line type and its 1,000-block."""

from __future__ import annotations

from typing import NamedTuple

import phonenumbers
from phonenumbers import PhoneNumberType

_TYPE_NAMES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_or_mobile",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}


class NumberInfo(NamedTuple):
    country: str | None
    number_type: str  # one of _TYPE_NAMES' values or "unknown" / "invalid"


def phone_block(e164: str) -> str:
    """All but the last three digits: numbers handed out together share a block."""
    return e164[:-3]


# A full parse costs tens of microseconds per record, and scoring sees many numbers of one block.
# Most numbering plans decide the line type by leading digits and length, so a block whose lowest
# and highest numbers parse alike is cached as a whole; the few plans that look at the last three
# digits (or allocate only parts of a block) make it "mixed", and its numbers are parsed one by
# one. Either way the answer does
# not depend on which number of a block was seen first. The bound keeps a worker's memory flat.
_CACHE_LIMIT = 100_000
_MIXED = NumberInfo(None, "mixed")
_block_cache: dict[tuple[str, int], NumberInfo] = {}


def number_info(e164: str) -> NumberInfo:
    block = phone_block(e164)
    key = (block, len(e164))
    info = _block_cache.get(key)
    if info is None:
        low, high = _parse(block + "000"), _parse(block + "999")
        # Invalid ends mean a sparsely allocated block: trust nothing but a full parse there.
        info = low if low == high and low.number_type != "invalid" else _MIXED
        if len(_block_cache) >= _CACHE_LIMIT:
            _block_cache.clear()
        _block_cache[key] = info
    return _parse(e164) if info is _MIXED else info


def _parse(e164: str) -> NumberInfo:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return NumberInfo(None, "invalid")
    country = phonenumbers.region_code_for_number(parsed)
    if not phonenumbers.is_valid_number(parsed):
        return NumberInfo(country, "invalid")
    return NumberInfo(country, _TYPE_NAMES.get(phonenumbers.number_type(parsed), "unknown"))
