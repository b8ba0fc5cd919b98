"""JSON through orjson.

Celery's JSON serializer goes through the standard library; scoring batches are large JSON
documents, and decoding them is a visible share of a task's time. The content type stays
``application/json``, so any Celery-protocol client, in any language, still talks to bulkguard,
and pickle stays refused because ``accept_content`` names JSON alone.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from kombu.serialization import register


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


def _loads(data: bytes | str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    # Celery's default client encodes with the standard library, which writes NaN, Infinity,
    # numbers beyond float range (1e999) and lone surrogate escapes that strict JSON refuses.
    # Decode them as that library does, so that only the records carrying such values are
    # refused (by the payload models, one by one) instead of the whole message.
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply to decode") from None


def register_fast_json() -> None:
    register("json", _dumps, _loads, content_type="application/json", content_encoding="utf-8")
