"""What a phone number says about itself: country, line type and its 1,000-block."""

from __future__ import annotations

from typing import NamedTuple

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneNumberType

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


# A full parse costs tens of microseconds per record, and most numbering plans decide the line
# type by the country code, the first few national digits and the length. So answers are cached
# per range of numbers, coarse first: the range sharing the country code and the first three
# national digits, then the 1,000-block. A range is taken as uniform when eleven probes across it
# (each value of its first free digit, and its highest number) parse to the same valid answer;
# otherwise it is "mixed" and its numbers go to the next, finer level, and finally to a full
# parse. The answer never depends on which number of a range was seen first. The bound keeps a
# long-running worker's memory flat.
_CACHE_LIMIT = 200_000
_MIXED = NumberInfo(None, "mixed")
_range_cache: dict[tuple[str, int], NumberInfo] = {}


def number_info(e164: str) -> NumberInfo:
    for free_digits in _levels(e164):
        prefix = e164[:-free_digits]
        key = (prefix, len(e164))
        info = _range_cache.get(key)
        if info is None:
            info = _probe(prefix, free_digits)
            if len(_range_cache) >= _CACHE_LIMIT:
                _range_cache.clear()
            _range_cache[key] = info
        if info is not _MIXED:
            return info
    return _parse(e164)


def _levels(e164: str) -> tuple[int, ...]:
    """How many trailing digits each cache level leaves free, coarsest first."""
    digits = e164[1:]
    for length in (1, 2, 3):
        if int(digits[:length]) in COUNTRY_CODE_TO_REGION_CODE:
            coarse = len(digits) - length - 3
            return (coarse, 3) if coarse > 3 else (3,)
    return (3,)


def _probe(prefix: str, free_digits: int) -> NumberInfo:
    probes = [prefix + str(d) + "0" * (free_digits - 1) for d in range(10)]
    answers = {_parse(number) for number in [*probes, prefix + "9" * free_digits]}
    if len(answers) == 1:
        (answer,) = answers
        if answer.number_type != "invalid":
            return answer
    return _MIXED


def _parse(e164: str) -> NumberInfo:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return NumberInfo(None, "invalid")
    country = phonenumbers.region_code_for_number(parsed)
    if not phonenumbers.is_valid_number(parsed):
        return NumberInfo(country, "invalid")
    return NumberInfo(country, _TYPE_NAMES.get(phonenumbers.number_type(parsed), "unknown"))
