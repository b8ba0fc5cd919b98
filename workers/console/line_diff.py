"""The lines one text changed from another, for a page to show as deletions and insertions. The
lines stay plain text: the template escapes them like any other value."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

Change = Literal["same", "deleted", "inserted"]


@dataclass(frozen=True)
class Line:
    change: Change
    text: str


def line_diff(before: str, after: str) -> list[Line]:
    """Every line of both texts in reading order: kept, deleted from ``before`` or inserted."""
    old, new = before.splitlines(), after.splitlines()
    # No autojunk: a letter repeats blank and boilerplate lines, which must still align.
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    lines: list[Line] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            lines.extend(Line("same", text) for text in old[i1:i2])
            continue
        lines.extend(Line("deleted", text) for text in old[i1:i2])
        lines.extend(Line("inserted", text) for text in new[j1:j2])
    return lines
