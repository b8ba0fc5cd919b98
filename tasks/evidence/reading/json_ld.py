"""The JSON-LD blocks of an HTML page as JSON objects, tolerant of what CMSs wrap them in."""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from typing import Any

import orjson

from tasks.evidence.reading.html_text import Page

_MAX_JSON_NODES = 20_000
# What CMSs wrap JSON-LD in: CDATA sections, HTML comments, /* */ around those.
_JSON_WRAPPER = re.compile(r"^\s*/\*[^*]*\*/|/\*[^*]*\*/\s*$|<!\[CDATA\[|\]\]>|<!--|-->")


def json_ld_nodes(page: Page) -> Iterator[dict[str, Any]]:
    """Every JSON object in the page's JSON-LD, breadth first, without recursion."""
    queue: deque[Any] = deque(
        data for block in page.json_ld if (data := _load_json(block)) is not None
    )
    seen = 0
    while queue and seen < _MAX_JSON_NODES:
        node = queue.popleft()
        seen += 1
        if isinstance(node, dict):
            yield node
            queue.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            queue.extend(v for v in node if isinstance(v, dict | list))


def _load_json(block: str) -> Any:
    """A JSON-LD block, tolerating CDATA and comment wrappers and raw control characters."""
    block = _JSON_WRAPPER.sub(" ", block)
    start = min((i for i in (block.find("{"), block.find("[")) if i >= 0), default=-1)
    end = max(block.rfind("}"), block.rfind("]"))
    if start < 0 or end < start:
        return None
    body = block[start : end + 1]
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body, strict=False)
    except (ValueError, RecursionError):
        return None
