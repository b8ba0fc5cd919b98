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

from tasks.payload import is_unicode

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


def of_record(message: str) -> str:
    """The reason for a problem of the record as a whole, as :func:`describe` words one."""
    return _capped(f"(record): {message}")


def not_unicode(raw: Any, kind: type[Any]) -> str:
    """The reason for a record holding text that is not Unicode (a lone surrogate escape from a
    standard-library client), naming the first field of ``kind`` that does; only declared
    fields are named, since an unknown key is the client's own text."""
    found = _surrogate_field(raw, inspect.type_info(kind))
    return f"{found or '(record)'}: contains a lone surrogate: not valid Unicode text"


def _capped(reason: str) -> str:
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"


def _fields(node: inspect.Type) -> dict[str, inspect.Type]:
    """The declared fields of the Structs ``node`` may be (a Struct, or a union with some)."""
    alternatives = node.types if isinstance(node, inspect.UnionType) else (node,)
    return {
        field.encode_name: field.type
        for option in alternatives
        if isinstance(option, inspect.StructType)
        for field in option.fields
    }


def _choices(kind: type[Any], parts: list[str]) -> list[Any]:
    """The values allowed at ``parts`` of ``kind``, if a choice (a literal or an enum) is there."""
    node: inspect.Type = inspect.type_info(kind)
    for part in parts:
        fields = _fields(node)
        if part not in fields:
            return []
        node = fields[part]
    alternatives = node.types if isinstance(node, inspect.UnionType) else (node,)
    for option in alternatives:
        if isinstance(option, inspect.LiteralType):
            return list(option.values)
        if isinstance(option, inspect.EnumType):
            return [member.value for member in option.cls if isinstance(member, Enum)]
    return []


def _surrogate_field(raw: Any, node: inspect.Type, path: str = "") -> str | None:
    """The path of the first declared field of ``node`` in ``raw`` whose text is not Unicode.
    As deep as the declared types go (two levels), however deep ``raw`` nests."""
    if not isinstance(raw, dict):
        return None
    for name, field_type in _fields(node).items():
        value, here = raw.get(name), f"{path}.{name}" if path else name
        if isinstance(value, str) and not is_unicode(value):
            return here
        found = _surrogate_field(value, field_type, here)
        if found:
            return found
    return None


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
