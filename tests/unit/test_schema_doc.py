"""The published JSON Schema of the scoring payload is the one the code validates with."""

from __future__ import annotations

import json
from pathlib import Path

from tasks.accounts.signals import json_schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "scoring-payload.schema.json"


def test_published_schema_matches_the_code():
    assert json.loads(DOC.read_text()) == json_schema(), (
        "docs/scoring-payload.schema.json is stale: regenerate it with "
        "`bulkguard schema > docs/scoring-payload.schema.json`"
    )
