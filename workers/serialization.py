"""JSON through orjson.

Celery's JSON serializer goes through the standard library; scoring batches are large JSON
documents, and decoding them is a visible share of a task's time. The content type stays
``application/json``, so any Celery-protocol client, in any language, still talks to bulkguard,
and pickle stays refused because ``accept_content`` names JSON alone. What the standard library
writes and orjson refuses is still read (``infra.lenient_json``).
"""

from __future__ import annotations

from typing import Any

import orjson
from kombu.serialization import register

from infra import lenient_json


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


def register_fast_json() -> None:
    register(
        "json",
        _dumps,
        lenient_json.loads,
        content_type="application/json",
        content_encoding="utf-8",
    )
