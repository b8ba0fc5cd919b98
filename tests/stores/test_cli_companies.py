"""``bulkguard companies`` on a real database and broker: an operator reads the graph (what an
appeal withdrew marked so), splits it and merges it back, each change audited and followed by a
legal re-evaluation."""

from __future__ import annotations

import json
from typing import Any

import redis
from click.testing import CliRunner
from sqlalchemy import select

from infra.db.models import Company, CompanySeparation, EnforcementAction, utcnow
from infra.db.session import session_scope
from tasks.evidence.ingest import ingest_documents
from tasks.evidence.link import link_evidence
from tasks.messages import IngestEvidence, LinkEvidence
from tests.people import cli_env
from tests.seed import banned_profile
from workers.cli.main import main


def _linked(*texts: tuple[str, str]) -> None:
    for url, contacts in texts:
        doc = {
            "observed_at": "2020-03-01T10:00:00+00:00",
            "url": url,
            "text": f"We send bulk WhatsApp messages to 100,000 customers a day. {contacts}",
        }
        with session_scope() as session:
            outcome = ingest_documents(session, IngestEvidence(documents=[doc]), now=utcnow())
            (follow_up,) = outcome.follow_ups
            assert isinstance(follow_up.message, LinkEvidence)
            link_evidence(session, follow_up.message)


def _show(company_id: int) -> Any:
    result = CliRunner().invoke(main, ["companies", "show", str(company_id), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _queued_evaluations(env: dict[str, str]) -> list[int]:
    queued = redis.Redis.from_url(env["REDIS_URL"]).lrange("legal", 0, -1)
    return sorted(json.loads(json.loads(raw)["body"])[1]["company_id"] for raw in queued)


def test_an_operator_reads_splits_and_merges_the_graph(env: dict[str, str]) -> None:
    _linked(
        ("https://alpha-send.com/", "Call +44 7911 100001."),
        ("https://beta-blast.com/", "Call +44 7911 100001, sales@beta-blast.com"),
    )
    listed = CliRunner().invoke(main, ["companies", "list"])
    assert listed.exit_code == 0, listed.output
    (line,) = listed.output.splitlines()
    company_id = int(line.split("\t")[0])
    graph = _show(company_id)
    assert {k["value"]: k["evidence"] for k in graph["keys"]}["+447911100001"] == [1, 2]

    split = CliRunner().invoke(
        main,
        [
            "companies", "split", str(company_id),
            "--key", "domain:beta-blast.com", "--key", "email:sales@beta-blast.com",
            "--reason", "a reseller quoting the number", "--as", "counsel",
        ],
        env=cli_env("counsel", "counsel"),
    )  # fmt: skip
    assert split.exit_code == 0, split.output
    new_id = _show(company_id)["kept_apart_from"][0]
    assert _queued_evaluations(env) == [company_id, new_id]
    text = CliRunner().invoke(main, ["companies", "show", str(new_id)]).output
    assert "domain:beta-blast.com" in text
    assert "split_from  by counsel" in text

    merged = CliRunner().invoke(
        main,
        ["companies", "merge", str(company_id), str(new_id), "--reason", "r", "--as", "counsel"],
        env=cli_env("counsel", "counsel"),
    )
    assert merged.exit_code == 0, merged.output
    assert _show(new_id)["id"] == company_id  # the absorbed id shows the company it became
    assert _show(company_id)["merged_from"] == [{"id": new_id, "name": "beta-blast.com"}]


def test_a_bad_correction_is_refused_with_the_reason(env: dict[str, str]) -> None:
    _linked(("https://alpha-send.com/", "Call +44 7911 100001."))
    as_counsel = cli_env("counsel", "counsel")
    bad_key = CliRunner().invoke(
        main,
        ["companies", "split", "1", "--key", "twitter:x", "--reason", "r", "--as", "counsel"],
        env=as_counsel,
    )
    assert bad_key.exit_code == 1
    assert "is not a key" in bad_key.output
    unknown = CliRunner().invoke(main, ["companies", "show", "99"])
    assert unknown.exit_code == 1
    assert "company 99 does not exist" in unknown.output
    self_merge = CliRunner().invoke(
        main, ["companies", "merge", "1", "1", "--reason", "r", "--as", "counsel"], env=as_counsel
    )
    assert self_merge.exit_code == 1
    assert "already part of company 1" in self_merge.output


def test_a_correction_needs_counsel_proven_by_their_token(env: dict[str, str]) -> None:
    _linked(
        ("https://alpha-send.com/", "Call +44 7911 100001."),
        ("https://beta-blast.com/", "Call +44 7911 100001, sales@beta-blast.com"),
    )
    split = ["companies", "split", "1", "--key", "domain:beta-blast.com", "--reason", "r"]
    reviewer = cli_env("agent-7", "reviewer")
    counsel = cli_env("counsel", "counsel")
    refusals = [
        (["--as", "agent-7"], reviewer, "does not hold the counsel or admin role"),
        (["--as", "counsel"], reviewer, "wrong token"),
        (["--as", "nobody"], counsel, "unknown user, disabled user, or wrong token"),
        (["--as", "counsel"], {"BULKGUARD_TOKEN": ""}, "set BULKGUARD_TOKEN"),
        ([], counsel, "Missing option '--as'"),
    ]
    for as_user, as_env, problem in refusals:
        refused = CliRunner().invoke(main, split + as_user, env=as_env)
        assert refused.exit_code != 0
        assert problem in refused.output
    with session_scope() as session:
        assert len(session.scalars(select(Company)).all()) == 1
        assert session.scalars(select(CompanySeparation)).all() == []
    assert _queued_evaluations(env) == []


def test_evidence_an_appeal_withdrew_is_marked_and_not_counted_as_standing(
    env: dict[str, str],
) -> None:
    profile = {"name": "Promo Blast", "email": "sales@promoblast.sk"}
    with session_scope() as session:
        ban, (banned,) = banned_profile(session, "b1", "+421905000222", profile)
        # Enforcement records no evidence of a shadow ban; a row left by an older version.
        _, (shadow,) = banned_profile(session, "s1", "+421905000111", profile, status="shadow")
        link_evidence(session, LinkEvidence(evidence_ids=[banned, shadow]))
    _linked(("https://promoblast.sk/", "Write to sales@promoblast.sk."))
    listed = CliRunner().invoke(main, ["companies", "list"])
    (line,) = listed.output.splitlines()
    company_id = int(line.split("\t")[0])
    graph = _show(company_id)
    assert graph["evidence_standing"] == 2
    assert {e["id"]: (e["stands"], e["withdrawn"]) for e in graph["evidence"]} == {
        banned: (True, None),
        shadow: (False, None),
        3: (True, None),
    }

    appealed = CliRunner().invoke(
        main,
        [
            "appeal", str(ban), "--outcome", "overturn", "--as", "agent-7",
            "--reason", "family business,\n verified by phone",
        ],
        env=cli_env("agent-7", "reviewer"),
    )  # fmt: skip
    assert appealed.exit_code == 0, appealed.output
    with session_scope() as session:
        reversed_at = session.get_one(EnforcementAction, ban).reversed_at
    assert reversed_at is not None

    graph = _show(company_id)
    assert graph["evidence_standing"] == 1
    by_id = {e["id"]: e for e in graph["evidence"]}
    assert by_id[banned]["stands"] is False
    assert by_id[banned]["withdrawn"] == {
        "at": reversed_at.isoformat(),
        "by": "agent-7",
        "reason": "family business,\n verified by phone",
    }
    assert by_id[shadow]["not_standing"] == "the ban it records is not in force (shadow)"
    assert (by_id[3]["stands"], by_id[3]["withdrawn"]) == (True, None)

    text = CliRunner().invoke(main, ["companies", "show", str(company_id)]).output
    assert "evidence (1 of 3 standing):" in text
    (withdrawn,) = [line for line in text.splitlines() if line.startswith(f"  {banned}  ")]
    assert withdrawn.endswith(
        f"  WITHDRAWN {reversed_at:%Y-%m-%d}: family business, verified by phone "
        "(appeal overturned by agent-7)"
    )
    (lapsed,) = [line for line in text.splitlines() if line.startswith(f"  {shadow}  ")]
    assert lapsed.endswith("NOT STANDING: the ban it records is not in force (shadow)")
    (standing,) = [line for line in text.splitlines() if line.startswith("  3  ")]
    assert "WITHDRAWN" not in standing
    assert "NOT STANDING" not in standing
