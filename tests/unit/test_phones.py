"""What a phone number says about itself."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneNumberFormat, PhoneNumberType

from tasks.accounts import phones
from tasks.accounts.phones import NumberInfo, number_info, phone_block


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+421905123456", NumberInfo("SK", "mobile")),  # Slovak mobile
        ("+445612345678", NumberInfo("GB", "voip")),  # UK 056 VoIP range
        ("+31851234567", NumberInfo("NL", "voip")),  # Dutch 085 VoIP range
        ("+447400123456", NumberInfo("GB", "mobile")),
        ("+447700900123", NumberInfo(None, "invalid")),  # reserved for drama inside a mobile range
        ("+447797123456", NumberInfo("JE", "mobile")),  # +44 shared with the Crown Dependencies
        ("+18002345678", NumberInfo("US", "toll_free")),  # US 1-800
        ("+448002345678", NumberInfo("GB", "toll_free")),
        ("+14155552671", NumberInfo("US", "fixed_or_mobile")),
        ("+16135550123", NumberInfo("CA", "fixed_or_mobile")),  # +1 is shared
        ("+421212345678", NumberInfo("SK", "invalid")),  # right country, wrong length
        ("+4402079460958", NumberInfo("GB", "fixed_line")),  # trunk 0 after the code: parsed
        ("+4219", NumberInfo(None, "invalid")),
        ("+2591234567", NumberInfo(None, "invalid")),  # unassigned calling code
        ("+80012345678", NumberInfo("001", "toll_free")),  # non-geographic freephone
    ],
)
def test_number_info(e164: str, expected: NumberInfo) -> None:
    assert number_info(e164) == expected
    assert phones.parsed_info(e164) == expected


def _numbers_to_compare(rng: random.Random) -> list[str]:
    """Example numbers of every region and type, variants of them, and random numbers of every
    calling code: the valid ranges, their edges and plenty of invalid input."""
    out: list[str] = []
    for code, regions in COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            examples = (
                [phonenumbers.example_number_for_non_geo_entity(code)]
                if region == "001"
                else [
                    phonenumbers.example_number_for_type(region, kind)
                    for kind in range(PhoneNumberType.UNKNOWN)
                ]
            )
            for example in examples:
                if example is None:
                    continue
                e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
                out.append(e164)
                for _ in range(3):
                    free = rng.randint(1, min(6, len(e164) - 2))
                    out.append(e164[:-free] + "".join(rng.choices("0123456789", k=free)))
        for _ in range(30):
            length = rng.randint(max(4, 7 - len(str(code))), 15 - len(str(code)))
            out.append(f"+{code}" + "".join(rng.choices("0123456789", k=length)))
    return out


def test_compiled_plans_agree_with_phonenumbers_on_every_calling_code() -> None:
    numbers = _numbers_to_compare(random.Random(7))
    assert len(numbers) > 10_000
    disagreements = [
        (e164, number_info(e164), phones.parsed_info(e164))
        for e164 in numbers
        if number_info(e164) != phones.parsed_info(e164)
    ]
    assert disagreements == []


def test_phone_block_drops_the_last_three_digits() -> None:
    assert phone_block("+421905123456") == "+421905123"
    assert phone_block("+421905123999") == phone_block("+421905123000")
    assert phone_block("+421905124000") != phone_block("+421905123999")
