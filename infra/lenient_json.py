"""JSON decoding that reads what any Celery client writes.

orjson is strict and fast; Celery's default client encodes with the standard library, which
writes NaN, Infinity, numbers beyond float range (1e999) and lone surrogate escapes that strict
JSON refuses. Those bodies are decoded here as the standard library does, so that only the
records carrying such values are refused (by the payload models, one by one), never a whole
message.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(data: bytes | str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply to decode") from None
