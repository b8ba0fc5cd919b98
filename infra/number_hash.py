"""The keyed hash that stands in for an account's phone number where only its equality is needed.

``accounts`` keeps HMAC-SHA256 of the E.164 number under the deployment's data key
(``BULKGUARD_DATA_HASH_KEY``), never the number: linking a company's published number to the
accounts registered on it, and finding a person's accounts by number for a subject request,
need to know that two numbers are equal, not what they are. Each hash is stored with the id of
the key it was made under, so that a rotation (SECURITY.md, "Keys") finds the rows still to
re-key, and a lookup tries the current key and, while one is being rotated out, the previous.

The key is not the logs' (``BULKGUARD_LOG_HASH_KEY``): the log key is held by whoever runs the
log pipeline and rotates without touching the database, while this one unlocks every number
the database names (phone numbers can be enumerated, so with the key each hash can be matched);
a leak of one must not expose the other.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from infra.settings import Settings, get_settings

# A key's id: enough to tell keys apart in a column, nothing about the key (it is an HMAC too).
_KEY_ID_LENGTH = 8
_KEY_ID_MESSAGE = b"bulkguard data hash key id"


def number_hash(e164: str, key: bytes) -> str:
    """HMAC-SHA256 of ``e164`` under ``key``: 64 hex digits."""
    return hmac.new(key, e164.encode(), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """The id a hash is stored with: which key made it, without saying anything of the key."""
    return hmac.new(key, _KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:_KEY_ID_LENGTH]


@dataclass(frozen=True)
class NumberKeys:
    """The data key in force, and while one is rotated out, the previous."""

    current: bytes
    previous: bytes | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> NumberKeys:
        previous = settings.data_hash_previous_key
        return cls(
            settings.data_hash_key.get_secret_value().encode(),
            None if previous is None else previous.get_secret_value().encode(),
        )

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    @property
    def previous_id(self) -> str | None:
        return None if self.previous is None else key_id(self.previous)

    def hash(self, e164: str) -> str:
        """The hash a row written now keeps."""
        return number_hash(e164, self.current)

    def candidates(self, e164: str) -> tuple[str, ...]:
        """Every hash a row of ``e164`` may hold: under the current key, then (during a
        rotation, for the rows not re-keyed yet) under the previous one."""
        if self.previous is None:
            return (self.hash(e164),)
        return (self.hash(e164), number_hash(e164, self.previous))

    def under(self, stored_key_id: str | None) -> bytes | None:
        """The key with id ``stored_key_id``, if it is one of these."""
        if stored_key_id == self.current_id:
            return self.current
        if self.previous is not None and stored_key_id == self.previous_id:
            return self.previous
        return None


def number_keys() -> NumberKeys:
    """The keys of this process's settings."""
    return NumberKeys.from_settings(get_settings())
