"""Raw items a buggy or hostile producer can push onto a Redis queue with ``LPUSH``, each of which
once stopped the worker that popped it ("Unrecoverable error") and was lost; each now becomes one
dead letter (``workers.envelopes``). The tests of bad input and the ``poison`` fault trial push
them, with what each one's dead letter must say."""

from __future__ import annotations

import json
from typing import Any

# Properties that route an envelope, as kombu writes them.
ROUTED = {"delivery_tag": "t", "delivery_info": {"exchange": "bulkguard", "routing_key": "legal"}}


def _envelope(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


POISON: list[tuple[bytes, str]] = [
    (b"this is not json at all", "not JSON"),
    (b"[1,2,3]", "a JSON list where a message envelope"),
    (b'"just a string"', "a JSON str where"),
    (b"{}", "no properties object"),
    (_envelope(properties={}), "no delivery tag"),
    (_envelope(properties={"delivery_tag": "t"}), "no delivery_info with an exchange"),
    (_envelope(body="x", properties={**ROUTED, "body_encoding": "rot13"}), "unknown body encoding"),
    (
        _envelope(
            body="%%%not base64%%%", headers={}, properties={**ROUTED, "body_encoding": "base64"}
        ),
        "not base64",
    ),
    (_envelope(body=12, properties=ROUTED), "a int body"),
    (_envelope(headers=[], properties=ROUTED), "headers are not an object"),
    (b"\xff\xfe\x00garbage", "not JSON"),
    # kombu's JSON decodes tagged values wherever they stand, and raises on a bad one.
    (
        _envelope(body={"__type__": "base64", "__value__": "a"}, properties=ROUTED),
        "not JSON (",
    ),
    (
        _envelope(headers={"eta": {"__type__": "datetime", "__value__": "x"}}, properties=ROUTED),
        "not JSON (",
    ),
]
