"""The keyed hash accounts keep in place of a number, the facts kept beside it, and what people
are shown of it."""

from __future__ import annotations

import hashlib
import hmac

from pydantic import SecretStr

from infra.number_hash import NumberKeys, key_id, number_hash
from infra.redaction import masked_block
from infra.settings import Settings
from tasks.accounts.phones import account_number

NUMBER = "+421905123456"


def test_the_hash_is_hmac_sha256_under_the_key() -> None:
    expected = hmac.new(b"k1", NUMBER.encode(), hashlib.sha256).hexdigest()
    assert number_hash(NUMBER, b"k1") == expected
    assert len(expected) == 64
    assert number_hash(NUMBER, b"k2") != expected
    assert number_hash("+421905123457", b"k1") != expected


def test_a_key_id_tells_keys_apart_without_being_the_key_or_a_hash_of_a_number() -> None:
    assert key_id(b"k1") == key_id(b"k1")
    assert key_id(b"k1") != key_id(b"k2")
    assert len(key_id(b"k1")) == 8
    assert key_id(b"k1") not in number_hash(NUMBER, b"k1")


def test_lookups_try_the_current_key_then_the_previous() -> None:
    keys = NumberKeys(b"new", b"old")
    assert keys.candidates(NUMBER) == (number_hash(NUMBER, b"new"), number_hash(NUMBER, b"old"))
    assert NumberKeys(b"new").candidates(NUMBER) == (number_hash(NUMBER, b"new"),)
    assert keys.under(key_id(b"old")) == b"old"
    assert keys.under(key_id(b"new")) == b"new"
    assert keys.under(key_id(b"other")) is None


def test_the_data_key_comes_from_the_settings_apart_from_the_log_key() -> None:
    settings = Settings(
        data_hash_key=SecretStr("data-secret"),
        data_hash_previous_key=SecretStr("data-before"),
        log_hash_key=SecretStr("log-secret"),
    )
    assert NumberKeys.from_settings(settings) == NumberKeys(b"data-secret", b"data-before")
    # Each has its default, and they differ: one key's holder cannot read the other's hashes.
    defaults = Settings()
    assert (
        NumberKeys.from_settings(defaults).current
        != defaults.log_hash_key.get_secret_value().encode()
    )


def test_an_account_keeps_the_hash_country_and_block_never_the_number() -> None:
    kept = account_number(NUMBER, NumberKeys(b"k1"))
    assert kept == {
        "phone_hash": number_hash(NUMBER, b"k1"),
        "phone_key": key_id(b"k1"),
        "country": "SK",
        "phone_block": "+421905123",
    }
    assert not any(NUMBER in str(value) for value in kept.values())


def test_people_see_the_block_masked_as_numbers_are() -> None:
    assert masked_block("+421905123") == "+42**********"
    assert len(masked_block("+421905123")) == len(NUMBER)
