"""Labelled documents for the evidence reader: pages with whether each is a claim, and where each
came from, for training and for grouped evaluation.

Three sources, one format read from JSONL:

- the corpus (``tasks/offline/data/corpus/<writer>-<lang>.jsonl``): pages written and labelled by
  writers who never saw the reader, each with its ``writer``, ``lang``, ``page_type`` (1-24) and
  ``expected.is_claim``;
- the evaluation set (``tasks/offline/data/evidence-eval.jsonl``): 150 pages written beside the
  rules, with a ``style`` in place of a page type;
- people's verdicts, as ``bulkguard labels export --evidence`` writes them: ``text`` (the document
  as the reader reads it) and ``label``.

A file is identified by the SHA-256 of its bytes, so a model card names what it learned from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import orjson

# A person's verdict weighs as much as this many written pages: it is a reading of a real page
# that the reader got wrong or found borderline, and there are few of them.
VERDICT_WEIGHT = 5.0
LEGACY_WRITER = "rules' authors"  # who wrote the evaluation set: the people who wrote the rules


@dataclass(frozen=True)
class LabelledDocument:
    id: str
    text: str  # as received: HTML, Markdown or plain text
    label: bool  # an offer of bulk or automated sending
    language: str  # "?" when unknown
    page_type: str  # the corpus' page type ("1" to "24"), "style:<style>", or "verdict"
    writer: str  # who wrote (or labelled) it
    source: str  # the file it came from
    url: str | None = None
    weight: float = 1.0


@dataclass
class DocumentFile:
    """The documents of one labelled file, with its hash and the lines that could not be read."""

    name: str
    sha256: str
    documents: list[LabelledDocument]
    errors: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        claims = sum(d.label for d in self.documents)
        return {
            "file": self.name,
            "sha256": self.sha256,
            "documents": len(self.documents),
            "claims": claims,
        }


def read_documents(path: Path) -> DocumentFile:
    return parse_documents(path.name, path.read_bytes())


def parse_documents(name: str, data: bytes) -> DocumentFile:
    """Every labelled document of a JSONL file in any of the three formats; a line that is not
    one is skipped with its reason."""
    out = DocumentFile(name, hashlib.sha256(data).hexdigest(), [])
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
            out.documents.append(_document(record, name, number))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            out.errors.append(f"{name} line {number}: {exc!r}")
    return out


def _document(record: Any, source: str, number: int) -> LabelledDocument:
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ValueError("not a document: a JSON object with a text is expected")
    url = record.get("url")
    if "expected" in record:
        label = record["expected"]["is_claim"]
        page_type = (
            str(record["page_type"]) if "page_type" in record else f"style:{record['style']}"
        )
        writer = str(record.get("writer") or LEGACY_WRITER)
        weight = 1.0
    else:
        label = record["label"]
        page_type, writer, weight = "verdict", str(record.get("decided_by") or "?"), VERDICT_WEIGHT
    if not isinstance(label, bool):
        raise ValueError("the label must be true or false")
    return LabelledDocument(
        id=str(record.get("id") or record.get("evidence_id") or f"{source}:{number}"),
        text=record["text"],
        label=label,
        language=str(record.get("lang") or "?"),
        page_type=page_type,
        writer=writer,
        source=source,
        url=url if isinstance(url, str) else None,
        weight=weight,
    )


def _bundled(path: Traversable) -> DocumentFile:
    return parse_documents(path.name, path.read_bytes())


def bundled_files() -> list[DocumentFile]:
    """The corpus, one file per writer and language, then the evaluation set."""
    data = resources.files("tasks.offline").joinpath("data")
    corpus = sorted(
        (p for p in data.joinpath("corpus").iterdir() if p.name.endswith(".jsonl")),
        key=lambda p: p.name,
    )
    return [*(_bundled(p) for p in corpus), _bundled(data.joinpath("evidence-eval.jsonl"))]
