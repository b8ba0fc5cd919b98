"""The passages of a preserved document that make its claim, in their context: what a person
checks a reading against (the console's company page and evidence triage).

The document is read again, as it was received, by the reader the ingest used
(``reading.analysis``, with the evidence model whose version the ingest recorded, or the rules):
the passages are the spans its cues mark in the text it reads, so what is highlighted is what
the reader decided on, never a guess from the stored excerpt. The same reader on the same bytes
finds the same passages, unless the reader has changed since; a document it no longer reads as a
claim has no passages, and the page says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Document, Evidence
from tasks.evidence.claim_reader import model_for
from tasks.evidence.documents import document_bytes
from tasks.evidence.reading.analysis import analyze

# Text shown either side of a passage: about the sentence around it.
CONTEXT_CHARS = 160
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Segment:
    text: str
    marked: bool  # a passage the reader found, to be highlighted


@dataclass(frozen=True)
class Passage:
    """A stretch of the document's text holding one or more of its claim passages."""

    segments: tuple[Segment, ...]
    cut_before: bool  # the text goes on before this stretch
    cut_after: bool  # and after it


@dataclass(frozen=True)
class PreservedDocument:
    """A piece of evidence's document as preserved, and where it makes its claim."""

    sha256: str
    content_type: str
    size: int
    truncated: bool
    passages: tuple[Passage, ...]  # empty: the reader finds no claim in it


def preserved(session: Session, item: Evidence) -> PreservedDocument | None:
    """``item``'s document and its claim passages; None for evidence without a document."""
    if item.document_id is None:
        return None
    sha256, content_type, size, truncated = session.execute(
        select(Document.sha256, Document.content_type, Document.size, Document.truncated).where(
            Document.id == item.document_id
        )
    ).one()
    body = document_bytes(session, sha256) or b""
    # The ingest preserves the text it received, encoded as UTF-8.
    reader = item.indicators.get("reader")
    model = model_for(session, reader if isinstance(reader, str) else None)
    found = analyze(body.decode("utf-8", errors="replace"), item.url, model)
    return PreservedDocument(
        sha256=sha256,
        content_type=content_type,
        size=size,
        truncated=truncated,
        passages=in_context(found.text, [(cue.start, cue.end) for cue in found.cues]),
    )


def in_context(
    text: str, spans: Sequence[tuple[int, int]], *, context: int = CONTEXT_CHARS
) -> tuple[Passage, ...]:
    """The stretches of ``text`` around ``spans`` (character offsets), each span marked; spans
    whose contexts overlap share one stretch. Stretches start and end between words."""
    marked = _merged(sorted((max(0, s), min(len(text), e)) for s, e in spans if e > s))
    stretches: list[tuple[int, int, list[tuple[int, int]]]] = []
    for start, end in marked:
        left, right = _word_start(text, start - context, start), _word_end(text, end + context, end)
        if stretches and left <= stretches[-1][1]:
            stretches[-1] = (stretches[-1][0], right, [*stretches[-1][2], (start, end)])
        else:
            stretches.append((left, right, [(start, end)]))
    return tuple(_passage(text, left, right, inside) for left, right, inside in stretches)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ``spans`` with overlapping ones joined: a character is marked once."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _word_start(text: str, at: int, limit: int) -> int:
    """Where the stretch starts: the text's start, else the first word beginning at ``at`` or
    after it (never past ``limit``, the passage's own start)."""
    if at <= 0:
        return 0
    space = _SPACE.search(text, at - 1, limit)
    return limit if space is None else space.end()


def _word_end(text: str, at: int, limit: int) -> int:
    """Where the stretch ends: the text's end, else the last word ending by ``at`` (never
    before ``limit``, the passage's own end)."""
    if at >= len(text):
        return len(text)
    spaces = [space.start() for space in _SPACE.finditer(text, limit, at + 1)]
    return spaces[-1] if spaces else limit


def _passage(text: str, left: int, right: int, marked: list[tuple[int, int]]) -> Passage:
    segments: list[Segment] = []
    at = left
    for start, end in marked:
        if start > at:
            segments.append(Segment(text[at:start], marked=False))
        segments.append(Segment(text[start:end], marked=True))
        at = end
    if right > at:
        segments.append(Segment(text[at:right], marked=False))
    return Passage(tuple(segments), cut_before=left > 0, cut_after=right < len(text))
