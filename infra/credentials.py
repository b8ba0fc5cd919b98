"""What proves who someone is, and how each proof is kept.

- Passwords (people, for the console): argon2id through argon2-cffi with its default cost, which
  follows RFC 9106's recommendation; the hash carries its own parameters, so raising the cost
  later re-hashes each password at its next login (:func:`needs_rehash`).
- Personal tokens (people, for the command line): 256 random bits, shown once. Only their
  SHA-256 is kept: a token is not a password a person chose, so a slow hash adds nothing but
  latency, and the digest is what a token is looked up by.
- Service keys (upstream services that send a decision by task name): Ed25519. The service keeps
  the private half; only the public half is stored, so reading the database does not let anyone
  sign a decision. What is signed is the task's name and its JSON arguments in one canonical
  form (:func:`signed_bytes`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

TOKEN_PREFIX = "bgt_"  # noqa: S105 - a prefix that tells a token apart, not a secret
# Shorter passwords are refused: a console reachable from an office network is guessed at.
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()


class CredentialError(ValueError):
    """A credential that cannot be accepted as given (too short, malformed)."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CredentialError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from (False for no hash)."""
    if not password_hash:
        # Spend the same time as a real check, so a missing user is not told apart by timing.
        _hasher.hash(password or "-")
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def digests_match(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_service_key() -> tuple[str, str]:
    """A fresh Ed25519 key pair as (private, public), each its 32 raw bytes in base64."""
    private = Ed25519PrivateKey.generate()
    return (
        base64.b64encode(private.private_bytes_raw()).decode(),
        base64.b64encode(private.public_key().public_bytes_raw()).decode(),
    )


def signed_bytes(task_name: str, kwargs: Mapping[str, Any]) -> bytes:
    """The bytes a service signs: the task name, a newline, and the arguments other than the
    signature as JSON with sorted keys and no spaces (any language can produce it)."""
    body = {k: v for k, v in kwargs.items() if k != "signature"}
    return task_name.encode() + b"\n" + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def sign(private_key: str, task_name: str, kwargs: Mapping[str, Any]) -> str:
    """The base64 Ed25519 signature of a decision sent by task name (what a service sends)."""
    key = Ed25519PrivateKey.from_private_bytes(_raw(private_key))
    return base64.b64encode(key.sign(signed_bytes(task_name, kwargs))).decode()


def signature_valid(
    public_key: str, task_name: str, kwargs: Mapping[str, Any], signature: str
) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(_raw(public_key))
        key.verify(_raw(signature), signed_bytes(task_name, kwargs))
    except (InvalidSignature, CredentialError, ValueError):
        return False
    return True


def _raw(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CredentialError("not base64") from exc
