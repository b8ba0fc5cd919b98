"""What a task message must be before Celery's consumer reads it, on either broker.

Celery's consumer turns some bad messages into calls of its handlers (an undecodable body, an
unknown task name, an unparsable ETA: ``workers.consumer`` keeps those as dead letters), but
reads others without a check, and what it raises there stops the worker ("Unrecoverable
error"): a protocol 2 body that is not ``[args, kwargs, embed]`` (``{}``, ``7``), a task header
that is a list, a message without an ``id`` header. On RabbitMQ the message, never acknowledged,
then goes back to its queue and stops the next worker too. :func:`problem` names what Celery
would trip on, so that the consumer keeps the message as a dead letter instead; what passes is
read by Celery as before.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Mapping
from typing import Any

# Celery's own headers are well under a kilobyte (argument reprs are withheld, and a client's
# are cut at 1,024 characters); anything far above is not a task of ours, and every header is
# copied into each request, event and log line of the message.
MAX_HEADER_BYTES = 16 * 1024

# The one content type workers accept (workers.config); Celery refuses the others itself.
JSON = "application/json"

# Headers Celery reads as text when present (None allowed).
_TEXT_HEADERS = ("shadow", "root_id", "parent_id", "group", "origin")


def problem(
    headers: Mapping[str, Any],
    content_type: str | None,
    content_encoding: str | None,
    decode: Callable[[], Any],
) -> str | None:
    """Why a message with ``headers`` cannot be handed to Celery's task strategy, or None.

    ``decode`` gives the decoded body; it is called only for a protocol 2 message whose headers
    pass, and what it raises is left to Celery's own handling of undecodable content.
    """
    why = _property_problem(headers, content_type, content_encoding)
    if why is not None:
        return why
    if "task" not in headers:
        return None  # not protocol 2: Celery's handlers for unknown messages read it safely
    why = _header_problem(headers)
    if why is not None:
        return why
    try:
        body = decode()
    except Exception:
        return None  # Celery keeps it as undecodable (workers.consumer.on_decode_error)
    return _body_problem(body)


def _property_problem(
    headers: Mapping[str, Any], content_type: str | None, content_encoding: str | None
) -> str | None:
    """What is wrong with any message, task or not: its headers' size, its content type and
    encoding."""
    size = len(json.dumps(headers, default=repr))
    if size > MAX_HEADER_BYTES:
        return f"headers of {size} bytes, over the limit of {MAX_HEADER_BYTES}"
    if content_type is None:
        # kombu would hand the body on undecoded, as text, to a task that expects JSON.
        return f"no content type: task messages are {JSON}"
    if content_type == JSON and not _is_utf8(content_encoding):
        # kombu's JSON decoder reads UTF-8 whatever the message says: a message that says
        # otherwise is not what its sender meant, or not JSON.
        return f"content encoding {str(content_encoding)[:40]!r}: JSON messages are UTF-8"
    return None


def _header_problem(headers: Mapping[str, Any]) -> str | None:
    task = headers["task"]
    if not isinstance(task, str):
        return f"a task header that is {_kind(task)}, not a task name"
    task_id = headers.get("id")
    if not isinstance(task_id, str) or not task_id:
        return f"an id header that is {_kind(task_id)}, not a task id"
    for name in _TEXT_HEADERS:
        value = headers.get(name)
        if value is not None and not isinstance(value, str):
            return f"a {name} header that is {_kind(value)}, not text"
    retries = headers.get("retries")
    if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int)):
        return f"a retries header that is {_kind(retries)}, not a count"
    limits = headers.get("timelimit")
    if limits and not (
        isinstance(limits, list | tuple)
        and len(limits) == 2
        and all(_is_seconds(limit) for limit in limits)
    ):
        return f"a timelimit header that is {_kind(limits)}, not [hard, soft] seconds"
    return None


def _body_problem(body: Any) -> str | None:
    if not isinstance(body, list | tuple) or len(body) != 3:
        return f"a body that is {_kind(body)}, not [args, kwargs, embed]"
    args, kwargs, embed = body
    if not isinstance(args, list | tuple):
        return f"positional arguments that are {_kind(args)}, not a list"
    if not isinstance(kwargs, dict):
        return f"keyword arguments that are {_kind(kwargs)}, not an object"
    if embed is not None and not isinstance(embed, dict):
        return f"an embed part that is {_kind(embed)}, not an object"
    return None


def _is_utf8(encoding: str | None) -> bool:
    if encoding is None:
        return True
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except (LookupError, TypeError):
        return False


def _is_seconds(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _kind(value: Any) -> str:
    """A value's kind, never the value itself (it may hold personal data)."""
    if value is None:
        return "missing"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    return f"a {type(value).__name__}"
