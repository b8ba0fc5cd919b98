"""Why an account record was refused, in one line an operator can read and that is safe to log.

msgspec names the first problem of a record and where it is (" - at `$.messaging.reply_ratio`");
this turns that into ``messaging.reply_ratio: Expected `float` <= 1.0``. A refused choice is
described by the values allowed rather than by the value sent (msgspec quotes it, and a client's
value may be anything: a name, a phone number, megabytes), and no reason is longer than
:data:`MAX_REASON`, since reasons are logged and stored with every dead letter.
"""

from __future__ import annotations

import math
import re
from enum import Enum
from typing import Any

import msgspec
from msgspec import inspect

MAX_REASON = 300

# msgspec's messages end with the path of the value they are about: " - at `$.a.b[2]`".
_LOCATED = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")
_NOT_FINITE = "Expected a finite number"


def describe(exc: msgspec.ValidationError, raw: Any, kind: type[Any]) -> str:
    """``path: problem`` for one record of type ``kind``; ``(record)`` where the problem is the
    record as a whole."""
    located = _LOCATED.match(str(exc))
    assert located is not None  # the pattern matches any text
    message, path = located["message"], located["path"] or ""
    parts = [p for p in re.split(r"\.|\[(\d+)\]", path) if p]
    missing = _MISSING.match(message)
    if missing:
        parts.append(missing["field"])
        message = "Field required"
    elif message.startswith("Invalid enum value"):
        allowed = _choices(kind, parts)
        message = f"Expected one of {', '.join(map(repr, allowed))}" if allowed else "Invalid value"
    elif _is_not_finite(raw, parts):
        # A range check is what refuses NaN; saying so would mislead whoever reads the reason.
        message = _NOT_FINITE
    return _capped(f"{'.'.join(parts) or '(record)'}: {message}")


def not_unicode(raw: Any) -> str:
    """The reason for a record holding text that is not Unicode (a lone surrogate escape from a
    standard-library client), naming the first key or text that is."""
    return _capped(
        f"{_first_surrogate(raw) or '(record)'}: contains a lone surrogate: not valid Unicode text"
    )


def _capped(reason: str) -> str:
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"


def _choices(kind: type[Any], parts: list[str]) -> list[Any]:
    """The values allowed at ``parts`` of ``kind``, if a choice (a literal or an enum) is there."""
    node: inspect.Type = inspect.type_info(kind)
    for part in parts:
        structs = [t for t in _alternatives(node) if isinstance(t, inspect.StructType)]
        fields = {f.encode_name: f.type for s in structs for f in s.fields}
        if part not in fields:
            return []
        node = fields[part]
    for option in _alternatives(node):
        if isinstance(option, inspect.LiteralType):
            return list(option.values)
        if isinstance(option, inspect.EnumType):
            return [member.value for member in option.cls if isinstance(member, Enum)]
    return []


def _alternatives(node: inspect.Type) -> list[inspect.Type]:
    return list(node.types) if isinstance(node, inspect.UnionType) else [node]


def _first_surrogate(raw: Any) -> str | None:
    """The path of the first key or text in ``raw`` that is not valid Unicode. Walked with a
    stack of its own: a record may nest as deep as the JSON decoder allows."""
    pending: list[tuple[str, Any]] = [("", raw)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if not is_unicode(value):
                return path or None
            continue
        items = (
            value.items()
            if isinstance(value, dict)
            else enumerate(value)
            if isinstance(value, list)
            else ()
        )
        children = []
        for key, child in items:
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not is_unicode(key):
                return here
            children.append((here, child))
        pending.extend(reversed(children))  # depth first, in the record's order
    return None


def is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_not_finite(raw: Any, parts: list[str]) -> bool:
    value = raw
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False
    return isinstance(value, float) and not math.isfinite(value)
