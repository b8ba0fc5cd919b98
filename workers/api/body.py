"""Reading a request's JSON body within limits, refusing the whole body with a reason before
anything of it is used: too large (413, told by ``Content-Length`` before a byte is read, or
counted while reading), too slow (408), not JSON or not declared as JSON (400), nested too deep
(400). What is inside the records (NUL, numbers out of range) is each record's own refusal."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request

from workers.api.errors import ApiError


@dataclass(frozen=True)
class BodyLimits:
    max_bytes: int
    max_depth: int
    timeout_seconds: float


async def read_body(request: Request, limits: BodyLimits) -> bytes:
    """The request's body as sent (for :func:`parse`), or :class:`ApiError`."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise ApiError(400, f"the body must be sent as application/json (got {media or 'none'})")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limits.max_bytes):
        raise _too_large(limits)
    raw = bytearray()
    try:
        async with asyncio.timeout(limits.timeout_seconds):
            async for chunk in request.stream():
                raw += chunk
                if len(raw) > limits.max_bytes:
                    raise _too_large(limits)
    except TimeoutError:
        raise ApiError(
            408, f"the body did not arrive within {limits.timeout_seconds:g} seconds"
        ) from None
    return bytes(raw)


def parse(raw: bytes, max_depth: int) -> Any:
    """``raw`` as JSON no deeper than ``max_depth``, or :class:`ApiError` (400) saying why.
    NaN and Infinity are not JSON, and a lone surrogate escape is not text: both refused."""
    if not raw.strip():
        raise ApiError(400, "the body is empty: a JSON object was expected")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    if depth(value, max_depth) > max_depth:
        raise ApiError(400, f"the body is nested deeper than {max_depth} levels")
    return value


def depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests (a scalar 0, ``[]`` 1), counted without recursion and no
    further than ``limit + 1``."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        pending.extend((child, level) for child in children if isinstance(child, dict | list))
    return deepest


def _too_large(limits: BodyLimits) -> ApiError:
    return ApiError(413, f"the body is larger than {limits.max_bytes} bytes")
