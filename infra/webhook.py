"""The platform's webhook: each batch of items one signed HTTP POST, and the check a receiver
makes of it (docs/platform-delivery.md is the receiver's contract).

A request carries ``X-Bulkguard-Timestamp`` (Unix seconds) and ``X-Bulkguard-Signature``
(``v1=`` and the hex HMAC-SHA256, under the shared secret, of the timestamp, a dot and the body).
The receiver recomputes it (:func:`verify`) and refuses a request whose timestamp is too far from
its own clock, so a captured request cannot be played again later; within that window the
idempotency keys make a repeat harmless.

Within one delivery the request is tried again, with capped, fully jittered backoff, only when
another try may succeed: the connection failed, or the receiver answered 5xx, 408 or 429. Any
other 4xx refuses the items for good (``DeliveryRefusedError``). What is still not taken after
the last try is left to the caller's next attempt (``DeliveryDeferredError``).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from collections.abc import Sequence
from typing import Any

import httpx
import orjson

from infra.redaction import redact
from infra.sink_contract import DeliveryDeferredError, DeliveryRefusedError

TIMESTAMP_HEADER = "X-Bulkguard-Timestamp"
SIGNATURE_HEADER = "X-Bulkguard-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SIGNATURE_VERSION = "v1"
# Statuses that say "not now" rather than "not this": the receiver is overloaded or restarting.
RETRIED_STATUSES = frozenset({408, 429})
# How much of a receiver's answer is kept in an error: enough to say why, never a whole page.
EXCERPT_CHARS = 200


class SignatureError(ValueError):
    """A request whose signature is missing or wrong, or whose timestamp is out of tolerance."""


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Bulkguard-Signature`` value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify(
    secret: str | bytes,
    timestamp_header: str | None,
    body: bytes,
    signature_header: str | None,
    *,
    now: float,
    tolerance_seconds: int = 300,
) -> None:
    """Accept a request only if it was signed with ``secret`` no more than ``tolerance_seconds``
    from ``now`` (Unix seconds) either way; ``SignatureError`` otherwise."""
    if not timestamp_header or not timestamp_header.isascii() or not timestamp_header.isdigit():
        raise SignatureError(f"missing or malformed {TIMESTAMP_HEADER}")
    if not signature_header:
        raise SignatureError(f"missing {SIGNATURE_HEADER}")
    key = secret.encode() if isinstance(secret, str) else secret
    expected = sign(key, int(timestamp_header), body).encode()
    # Constant time: how much of a guess matched must not show in how long the refusal took.
    if not hmac.compare_digest(expected, signature_header.strip().encode("utf-8", "replace")):
        raise SignatureError("signature does not match")
    if abs(now - int(timestamp_header)) > tolerance_seconds:
        raise SignatureError(
            f"timestamp {timestamp_header} is more than {tolerance_seconds}s from now: "
            "a replayed or delayed request"
        )


def batch_key(items: Sequence[dict[str, Any]]) -> str:
    """The ``Idempotency-Key`` of a request: the same items in the same order, the same key."""
    joined = "\n".join(str(item["idempotency_key"]) for item in items)
    return hashlib.sha256(joined.encode()).hexdigest()


class WebhookSink:
    """POSTs ``{"items": [...]}`` to ``url``, signed with ``secret``, on one reused connection
    pool. ``backoff`` is the first wait between tries in seconds, doubled per try up to
    ``longest_wait``; a ``Retry-After`` longer than that ends the delivery, so that the caller
    comes back later rather than holding a worker."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float,
        tries: int,
        client: httpx.Client | None = None,
        backoff: float = 0.5,
        longest_wait: float = 5.0,
    ) -> None:
        if not secret:
            raise ValueError("a webhook needs a secret to sign its requests")
        if tries < 1:
            raise ValueError(f"a webhook delivery needs at least one try, not {tries}")
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            # Its message may quote the URL, credentials and all.
            raise ValueError(f"the webhook URL cannot be used: {redact(str(exc))}") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("the webhook URL needs an http:// or https:// scheme and a host")
        # The user, password, query and fragment may hold credentials: the name keeps none.
        self._name = f"webhook:{parsed.scheme}://{parsed.netloc.decode('ascii')}{parsed.path}"
        self._url, self._secret = url, secret.encode()
        self.timeout, self.tries = timeout, tries
        self.backoff, self.longest_wait = backoff, longest_wait
        self._owns_client = client is None
        # Redirects are not followed: the signed body is meant for this URL alone.
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)

    def __str__(self) -> str:
        return self._name

    def deliver(self, items: Sequence[dict[str, Any]]) -> None:
        if not items:
            return
        body = orjson.dumps({"items": list(items)})
        key = batch_key(items)
        failure = ""
        for attempt in range(1, self.tries + 1):
            try:
                response = self._post(body, key)
            except httpx.TransportError as exc:
                failure = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                wait = self._backoff(attempt)
            else:
                if response.is_success:
                    return
                status = response.status_code
                failure = f"HTTP {status}: {_excerpt(response)}"
                retried = response.is_server_error or status in RETRIED_STATUSES
                if response.is_client_error and not retried:
                    raise DeliveryRefusedError(f"{self} refused the items: {failure}")
                if not retried:
                    # A redirect: the URL needs fixing, not the items, and trying it again at
                    # once would not help.
                    raise DeliveryDeferredError(f"{self} did not take the items: {failure}")
                asked = _retry_after(response)
                if asked is not None and asked > self.longest_wait:
                    raise DeliveryDeferredError(
                        f"{self} asked to wait {asked:g}s before trying again: {failure}"
                    )
                wait = asked if asked is not None else self._backoff(attempt)
            if attempt < self.tries:
                time.sleep(wait)
        raise DeliveryDeferredError(
            f"{self} did not take the items after {self.tries} tries: {failure}"
        )

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def _post(self, body: bytes, key: str) -> httpx.Response:
        # A fresh timestamp and signature on every try: a retry is a new request, not a replay.
        timestamp = int(time.time())
        return self._client.post(
            self._url,
            content=body,
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(self._secret, timestamp, body),
                IDEMPOTENCY_HEADER: key,
            },
            timeout=self.timeout,
        )

    def _backoff(self, attempt: int) -> float:
        # Full jitter: senders that failed together do not come back together.
        return random.uniform(0, min(self.longest_wait, self.backoff * 2 ** (attempt - 1)))


def _retry_after(response: httpx.Response) -> float | None:
    """The ``Retry-After`` of ``response`` in seconds, if it gives them (an HTTP date is ignored:
    the backoff applies)."""
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isascii() and value.isdigit() else None


def _excerpt(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    if not text:
        return "(no body)"
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "..."
