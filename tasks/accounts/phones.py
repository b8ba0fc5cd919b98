"""What a phone number says about itself: country, line type and its 1,000-block.

``phonenumbers`` answers this exactly, but ``parse`` spends most of its time normalising
free-form input that an E.164 string does not need, and would alone cost more than the rest of
an account's scoring (docs/performance.md gives measured figures and the command that times them).
So each country calling code's metadata from ``phonenumbers`` is compiled once per process into
the few regular expressions that decide region and type, and an E.164 number is classified with
them directly, in the same order of checks as ``phonenumbers`` (general pattern, then premium
rate ... voicemail, then fixed line and mobile), each guarded by the type's possible lengths.
Numbers that ``parse`` would rewrite first (a national prefix written after the country code)
take the full parse, so the answer is always the one ``phonenumbers`` gives; a test checks that
on every calling code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumberDesc

from infra.number_hash import NumberKeys

# The order is phonenumbers' own (``_number_type_helper``): the first matching type wins.
_TYPES = (
    ("premium_rate", "premium_rate"),
    ("toll_free", "toll_free"),
    ("shared_cost", "shared_cost"),
    ("voip", "voip"),
    ("personal_number", "personal"),
    ("pager", "pager"),
    ("uan", "uan"),
    ("voicemail", "voicemail"),
    ("fixed_line", "fixed_line"),
    ("mobile", "mobile"),
)
_NON_GEOGRAPHIC = "001"


class NumberInfo(NamedTuple):
    country: str | None
    # mobile, fixed_line, fixed_or_mobile, voip, toll_free, premium_rate, shared_cost, personal,
    # pager, uan, voicemail, or invalid
    number_type: str


def phone_block(e164: str) -> str:
    """All but the last three digits: numbers handed out together share a block."""
    return e164[:-3]


def account_number(e164: str, keys: NumberKeys) -> dict[str, str | None]:
    """What an account row keeps of its number (``accounts``' columns): the keyed hash and its
    key's id, for lookups by equality; the country; the block. Never the number."""
    return {
        "phone_hash": keys.hash(e164),
        "phone_key": keys.current_id,
        "country": number_info(e164).country,
        "phone_block": phone_block(e164),
    }


@dataclass(frozen=True, slots=True)
class _Desc:
    pattern: re.Pattern[str]
    lengths: frozenset[int]  # empty: any length the general pattern allows

    def matches(self, national: str) -> bool:
        if self.lengths and len(national) not in self.lengths:
            return False
        return self.pattern.fullmatch(national) is not None


@dataclass(frozen=True, slots=True)
class _Plan:
    """One region's numbering plan, as the checks that classify a national number need it."""

    region: str
    leading_digits: re.Pattern[str] | None
    trunk_prefix: re.Pattern[str] | None
    general: _Desc
    # Every type but fixed line and mobile, then those two, in phonenumbers' order.
    types: tuple[tuple[str, _Desc], ...]
    same_fixed_and_mobile: bool
    # Per national length: the types possible at that length as one alternation, a named group
    # each, so that one regex call finds the first matching type (None: no type has the length).
    by_length: dict[int, re.Pattern[str] | None] = field(default_factory=dict)

    def number_type(self, national: str) -> str:
        if not self.general.matches(national):
            return "invalid"
        length = len(national)
        if length not in self.by_length:
            self.by_length[length] = self._alternation(length)
        alternation = self.by_length[length]
        found = alternation.fullmatch(national) if alternation is not None else None
        if found is None:
            return "invalid"
        name = found.lastgroup
        assert name is not None
        if name != "fixed_line":
            return name
        mobile = dict(self.types).get("mobile")
        if self.same_fixed_and_mobile or (mobile is not None and mobile.matches(national)):
            return "fixed_or_mobile"
        return "fixed_line"

    def _alternation(self, length: int) -> re.Pattern[str] | None:
        branches = [
            f"(?P<{name}>{desc.pattern.pattern})"
            for name, desc in self.types
            if not (desc.lengths and length not in desc.lengths)
            # Identical patterns mean "fixed line or mobile", decided at the fixed line branch.
            and not (name == "mobile" and self.same_fixed_and_mobile)
        ]
        return re.compile("|".join(branches)) if branches else None

    def may_be_rewritten(self, national: str) -> bool:
        """Whether ``parse`` might strip a national prefix from this number before classifying."""
        if self.trunk_prefix is None:
            return False
        found = self.trunk_prefix.match(national)
        return found is not None and found.end() > 0


def _desc(desc: PhoneNumberDesc | None) -> _Desc | None:
    if desc is None or not desc.national_number_pattern:
        return None
    return _Desc(re.compile(desc.national_number_pattern), frozenset(desc.possible_length))


def _plan(region: str, metadata: PhoneMetadata) -> _Plan:
    general = _desc(metadata.general_desc)
    if general is None:
        general = _Desc(re.compile(r"(?!)"), frozenset())  # a plan that allows no numbers
    types = []
    for attribute, name in _TYPES:
        desc = _desc(getattr(metadata, attribute))
        if desc is not None:
            types.append((name, desc))
    return _Plan(
        region=region,
        leading_digits=re.compile(metadata.leading_digits) if metadata.leading_digits else None,
        trunk_prefix=(
            re.compile(metadata.national_prefix_for_parsing)
            if metadata.national_prefix_for_parsing
            else None
        ),
        general=general,
        types=tuple(types),
        same_fixed_and_mobile=bool(metadata.same_mobile_and_fixed_line_pattern),
    )


@cache
def _plans(calling_code: int) -> tuple[_Plan, ...]:
    """The plans sharing a calling code, in phonenumbers' order (main region first)."""
    plans = []
    for region in COUNTRY_CODE_TO_REGION_CODE[calling_code]:
        metadata = (
            PhoneMetadata.metadata_for_nongeo_region(calling_code)
            if region == _NON_GEOGRAPHIC
            else PhoneMetadata.metadata_for_region(region)
        )
        if metadata is not None:
            plans.append(_plan(region, metadata))
    return tuple(plans)


def load_all() -> None:
    """Compile every calling code's plans now (~0.2 s), loading all of phonenumbers' metadata.

    phonenumbers loads a region's metadata on first use, under a lock it does not release if the
    load is interrupted; a task's soft time limit raises wherever the task happens to be, and one
    that landed there left every later number lookup in that worker waiting forever. Workers call
    this before forking, so their children never load metadata while running a task.
    """
    for calling_code in COUNTRY_CODE_TO_REGION_CODE:
        _plans(calling_code)


# Calling codes by their digits: E.164 codes are prefix-free, so at most one of the first one,
# two or three digits is a code.
_CALLING_CODES = {str(code): code for code in COUNTRY_CODE_TO_REGION_CODE}


@lru_cache(maxsize=16_384)  # a batch asks twice (features, then the account's country)
def number_info(e164: str) -> NumberInfo:
    """Country (region code) and line type of an E.164 number, as ``phonenumbers`` gives them."""
    split = _split(e164)
    if split is None:
        return parsed_info(e164)  # not E.164, or no such calling code: whatever phonenumbers says
    plans, national = split
    if len(plans) == 1:
        plan = plans[0]
        if plan.may_be_rewritten(national):
            return parsed_info(e164)
        return NumberInfo(plan.region, plan.number_type(national))
    if not plans or any(plan.may_be_rewritten(national) for plan in plans):
        return parsed_info(e164)
    return _shared_code(plans, national)


def _split(e164: str) -> tuple[tuple[_Plan, ...], str] | None:
    """The plans of the number's calling code and its national part."""
    if not 7 <= len(e164) - 1 <= 15:
        return None
    for size in (2, 3, 4):
        calling_code = _CALLING_CODES.get(e164[1:size])
        if calling_code is not None:
            return _plans(calling_code), e164[size:]
    return None


def _shared_code(plans: tuple[_Plan, ...], national: str) -> NumberInfo:
    """Several regions share the code (+1, +44, +7...): the first whose leading digits match, or
    without leading digits the first where the number is valid, as phonenumbers decides."""
    for plan in plans:
        if plan.leading_digits is not None:
            if plan.leading_digits.match(national):
                return NumberInfo(plan.region, plan.number_type(national))
        else:
            number_type = plan.number_type(national)
            if number_type != "invalid":
                return NumberInfo(plan.region, number_type)
    return NumberInfo(None, "invalid")


_TYPE_NAMES = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "fixed_line",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_or_mobile",
    phonenumbers.PhoneNumberType.VOIP: "voip",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "premium_rate",
    phonenumbers.PhoneNumberType.SHARED_COST: "shared_cost",
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER: "personal",
    phonenumbers.PhoneNumberType.PAGER: "pager",
    phonenumbers.PhoneNumberType.UAN: "uan",
    phonenumbers.PhoneNumberType.VOICEMAIL: "voicemail",
}


def parsed_info(e164: str) -> NumberInfo:
    """The full ``phonenumbers`` answer: the reference the compiled plans must agree with."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return NumberInfo(None, "invalid")
    country = phonenumbers.region_code_for_number(parsed)
    if not phonenumbers.is_valid_number(parsed):
        return NumberInfo(country, "invalid")
    return NumberInfo(country, _TYPE_NAMES.get(phonenumbers.number_type(parsed), "invalid"))
