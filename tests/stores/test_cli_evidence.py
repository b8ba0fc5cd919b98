"""``bulkguard evidence add`` through a real Redis broker, and ``evidence document`` reading a
preserved document back from a real database, byte for byte."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import redis
from click.testing import CliRunner

from infra.db.models import utcnow
from infra.db.session import session_scope
from tasks.evidence.ingest import ingest_documents
from tasks.messages import IngestEvidence
from tests.people import cli_env
from workers.cli.main import main


def test_documents_are_sent_in_batches_with_their_submitter(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "docs.jsonl"
    lines = [{"observed_at": "2020-03-01T10:00:00+00:00", "text": f"page {i}"} for i in range(3)]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")

    result = CliRunner().invoke(
        main,
        ["evidence", "add", str(path), "--as", "analyst-3", "--batch", "2"],
        env=cli_env("analyst-3", "reviewer"),
    )

    assert result.exit_code == 0, result.output
    queued = []
    for raw in reversed(redis.Redis.from_url(env["REDIS_URL"]).lrange("evidence", 0, -1)):
        envelope = json.loads(raw)
        assert envelope["headers"]["task"] == "evidence.ingest"
        queued.append(json.loads(envelope["body"])[1]["documents"])
    assert [[d["text"] for d in batch] for batch in queued] == [["page 0", "page 1"], ["page 2"]]
    assert {d["submitted_by"] for batch in queued for d in batch} == {"analyst-3"}


def test_a_preserved_document_comes_back_byte_for_byte(env: dict[str, str], tmp_path: Path) -> None:
    text = "<p>Hromadné správy cez WhatsApp — neobmedzené!</p>\r\n"
    with session_scope() as session:
        ingest_documents(
            session,
            IngestEvidence(documents=[{"observed_at": "2020-03-01T10:00:00+00:00", "text": text}]),
            now=utcnow(),
        )
    sha = hashlib.sha256(text.encode()).hexdigest()
    out = tmp_path / "doc.bin"
    result = CliRunner().invoke(main, ["evidence", "document", sha, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == text.encode()

    missing = CliRunner().invoke(main, ["evidence", "document", "0" * 64])
    assert missing.exit_code == 1
    assert "no document with SHA-256" in missing.output


def test_bad_lines_are_kept_as_dead_letters_and_the_rest_is_sent(
    env: dict[str, str], tmp_path: Path
) -> None:
    from sqlalchemy import select

    from infra.db.models import DeadLetter

    good = json.dumps({"observed_at": "2020-03-01T10:00:00+00:00", "text": "page"}).encode()
    path = tmp_path / "docs.jsonl"
    path.write_bytes(
        b"\n".join([good, b'{"text": "Hromadn\xe9 spr\xe1vy"}', b"{not json", b"[1, 2]", good])
        + b"\n"
    )

    result = CliRunner().invoke(main, ["evidence", "add", str(path)])

    assert result.exit_code == 0, result.output
    assert "sent 2 documents; 3 lines kept as dead letters" in result.output
    with session_scope() as session:
        kept = session.scalars(select(DeadLetter).order_by(DeadLetter.record_index)).all()
        assert [(d.record_index, d.task_name) for d in kept] == [
            (2, "cli.evidence.add"),
            (3, "cli.evidence.add"),
            (4, "cli.evidence.add"),
        ]
        assert kept[0].reason.startswith("not UTF-8 text (byte 0xe9")
        assert kept[0].payload == '{"text": "Hromadn\\xe9 spr\\xe1vy"}'
        assert kept[1].reason.startswith("not JSON")
        assert kept[2].reason == "not a JSON object: one document per line"
    assert redis.Redis.from_url(env["REDIS_URL"]).llen("evidence") == 1
