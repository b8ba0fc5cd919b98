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


# Line type is decided by the number's leading digits and its length, so parses are cached per
# 1,000-block and length: scoring sees many numbers of one block, and a full parse costs tens of
# microseconds per record. The bound keeps a long-running worker's memory flat.
_CACHE_LIMIT = 100_000
_block_cache: dict[tuple[str, int], NumberInfo] = {}


def number_info(e164: str) -> NumberInfo:
    key = (phone_block(e164), len(e164))
    info = _block_cache.get(key)
    if info is None:
        info = _parse(e164)
        if len(_block_cache) >= _CACHE_LIMIT:
            _block_cache.clear()
        _block_cache[key] = info
    return info


def _parse(e164: str) -> NumberInfo:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return NumberInfo(None, "invalid")
    country = phonenumbers.region_code_for_number(parsed)
    if not phonenumbers.is_valid_number(parsed):
        return NumberInfo(country, "invalid")
    return NumberInfo(country, _TYPE_NAMES.get(phonenumbers.number_type(parsed), "unknown"))
