"""A document analysed as the ingest task and ``bulkguard evidence analyze`` analyse it, and the
evaluation that scores the analysis against labels."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tasks.evidence.reading.analysis import analyze
from tasks.offline.evidence_evaluation import bundled_set, evaluate
from workers.cli.main import main

VENDOR_PAGE = """<html><head><title>ZapBlaster | Bulk WhatsApp sender</title>
<meta property="article:published_time" content="2021-03-12T08:00:00Z"></head>
<body><h1>ZapBlaster</h1>
<p>Send unlimited WhatsApp messages to unsaved numbers, with anti-ban rotation.</p>
<a href="https://wa.me/447911123456">Chat with sales</a>
<p>Write to sales [at] zapblaster [dot] io</p></body></html>"""


def test_a_vendor_page_is_a_claim_with_its_contacts() -> None:
    found = analyze(VENDOR_PAGE, "https://zapblaster.io/pricing")
    assert found.is_claim
    assert "bulk" in found.claim_kinds
    assert found.phones == ("+447911123456",)
    assert found.emails == ("sales@zapblaster.io",)
    assert found.domains == ("zapblaster.io",)
    assert found.document_date is not None
    assert found.document_date.isoformat() == "2021-03-12"
    # Cue spans index into the document as text (its HTML reduced).
    assert all(found.text[c.start : c.end] == c.text for c in found.cues)
    line = found.as_json()
    assert set(line) == {
        "is_claim",
        "claim_kinds",
        "cues",
        "phones",
        "domains",
        "emails",
        "brand",
        "document_date",
        "voice",
        "hosts",
        "link_hosts",
    }
    assert line["hosts"] == ["zapblaster.io"]
    assert line["document_date"] == "2021-03-12"
    assert line["voice"] is None  # a seller speaks


def test_a_policy_page_is_no_claim() -> None:
    found = analyze(
        "WhatsApp is not for bulk or automated messaging. Accounts that send bulk messages are "
        "banned.",
        "https://faq.whatsapp.com/",
    )
    assert not found.is_claim
    assert found.cues == ()
    assert found.domains == ()  # the platform's own domain is nobody's company


def test_evaluation_counts_per_document_and_per_value() -> None:
    labelled = [
        {
            "id": "a",
            "lang": "en",
            "text": VENDOR_PAGE,
            "url": "https://zapblaster.io/pricing",
            "expected": {
                "is_claim": True,
                "claim_kinds": [],
                "phones": ["+447911123456", "+447911000000"],
                "emails": ["sales@zapblaster.io"],
                "domains": ["zapblaster.io"],
            },
        },
        {"id": "b", "lang": "en", "text": "Fresh bread daily.", "expected": {"is_claim": True}},
    ]
    report = evaluate(labelled).as_json()
    assert report["documents"] == 2
    assert report["is_claim"] == {
        "precision": 1.0,
        "recall": 0.5,
        "true_positive": 1,
        "false_positive": 0,
        "false_negative": 1,
    }
    assert report["phones"]["false_negative"] == 1
    assert report["emails"]["precision"] == 1.0
    assert {e["id"] for e in report["errors"]} == {"a", "b"}


def test_the_project_set_is_labelled_in_every_field() -> None:
    documents = bundled_set()
    assert len(documents) >= 100
    assert {d["lang"] for d in documents} == {"en", "pt", "es", "id", "sk"}
    for doc in documents:
        assert set(doc["expected"]) >= {"is_claim", "claim_kinds", "phones", "emails", "domains"}


def test_analyze_writes_a_line_per_document_and_names_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text(
        json.dumps({"id": "v", "text": VENDOR_PAGE, "url": "https://zapblaster.io/"})
        + "\n{not json\n"
        + json.dumps({"id": "n", "text": 42})
        + "\n"
    )
    result = CliRunner().invoke(main, ["evidence", "analyze", str(path)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [(line["id"], line["is_claim"]) for line in lines] == [("v", True)]
    assert "line 2: not a document" in result.output
    assert "line 3: not a document" in result.output


def test_explain_lists_the_cues_considered_and_why_they_were_dropped(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    denial = "We do not offer bulk WhatsApp messaging."
    path.write_text(json.dumps({"id": "d", "text": denial}) + "\n")
    result = CliRunner().invoke(main, ["evidence", "analyze", str(path), "--explain"])
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert line["is_claim"] is False
    assert line["considered"]
    assert all(c["verdict"] != "kept" for c in line["considered"])
