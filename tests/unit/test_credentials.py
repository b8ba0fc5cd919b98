"""Passwords, tokens and service signatures, called directly."""

from __future__ import annotations

import pytest

from infra import credentials

KWARGS = {"action_id": 7, "outcome": "overturn", "decided_by": "appeal-service", "reason": "ok"}


def test_a_password_is_kept_as_argon2id_and_checked() -> None:
    stored = credentials.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert credentials.password_matches(stored, "correct horse battery")
    assert not credentials.password_matches(stored, "correct horse battery ")
    assert not credentials.password_matches(None, "correct horse battery")
    assert not credentials.password_matches("not a hash", "correct horse battery")
    with pytest.raises(credentials.CredentialError, match="at least 12"):
        credentials.hash_password("short")


def test_tokens_are_random_and_kept_as_digests() -> None:
    first, second = credentials.new_token(), credentials.new_token()
    assert first != second
    assert first.startswith(credentials.TOKEN_PREFIX)
    assert len(first) > 40
    assert credentials.digests_match(
        credentials.token_digest(first), credentials.token_digest(first)
    )
    assert not credentials.digests_match(
        credentials.token_digest(first), credentials.token_digest(second)
    )


def test_a_signature_covers_the_task_and_every_argument() -> None:
    private, public = credentials.new_service_key()
    signature = credentials.sign(private, "enforcement.appeal", KWARGS)
    # Key order does not matter, and the signature field itself is not signed.
    reordered = {**dict(reversed(KWARGS.items())), "signature": signature}
    assert credentials.signature_valid(public, "enforcement.appeal", reordered, signature)
    for task, kwargs in [
        ("enforcement.decide_review", KWARGS),
        ("enforcement.appeal", {**KWARGS, "outcome": "uphold"}),
        ("enforcement.appeal", {**KWARGS, "extra": 1}),
    ]:
        assert not credentials.signature_valid(public, task, kwargs, signature)
    _, other_public = credentials.new_service_key()
    assert not credentials.signature_valid(other_public, "enforcement.appeal", KWARGS, signature)


@pytest.mark.parametrize("signature", ["", "AAAA", "not base64!", "A" * 200])
def test_a_malformed_signature_is_invalid_not_an_error(signature: str) -> None:
    _, public = credentials.new_service_key()
    assert not credentials.signature_valid(public, "enforcement.appeal", KWARGS, signature)
    assert not credentials.signature_valid("not a key", "enforcement.appeal", KWARGS, signature)
