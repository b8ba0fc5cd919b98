"""``evidence.ingest`` (documents from upstream) and ``evidence.link`` (evidence → companies)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, TypeAdapter, ValidationError
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from infra.db.models import (
    Account,
    AccountCompanyLink,
    Company,
    CompanyIndicator,
    Evidence,
    EvidenceLink,
)
from infra.db.session import insert_ignore
from infra.dead_letters import Rejection
from tasks.base import Payload, Run, stage_task
from tasks.evidence.indicators import extract, normalize_company_name, registered_domain
from tasks.evidence.resolve import Match, resolve
from tasks.scoring.signals import describe_validation_error

EXCERPT_CHARS = 600


class Document(Payload):
    """One piece of evidence sent by an upstream service (a crawler, an analyst's tool)."""

    source: Literal["off_platform", "on_platform"] = "off_platform"
    kind: Literal["public_claim", "advertisement", "report", "court_record", "other"] = (
        "public_claim"
    )
    observed_at: AwareDatetime
    url: Annotated[str, Field(max_length=2000)] | None = None
    publisher: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    title: Annotated[str, Field(max_length=500)] = ""
    text: Annotated[str, Field(min_length=1, max_length=200_000)]


class IngestEvidence(Payload):
    documents: Annotated[list[Any], Field(min_length=1, max_length=1000)]


class LinkEvidence(Payload):
    evidence_ids: Annotated[list[int], Field(min_length=1, max_length=10_000)]


_DOCUMENT = TypeAdapter(Document)


@stage_task("evidence.ingest", IngestEvidence, soft_time_limit=120, time_limit=150)
def ingest(run: Run, request: IngestEvidence) -> dict[str, Any]:
    rows = []
    rejected = []
    for index, raw in enumerate(request.documents):
        try:
            doc = _DOCUMENT.validate_python(raw)
        except ValidationError as exc:
            rejected.append(Rejection(describe_validation_error(exc), raw, index))
            continue
        found = extract(f"{doc.title}\n{doc.text}", doc.url)
        indicators = {**found.as_dict(), "names": [doc.publisher] if doc.publisher else []}
        key = "\0".join((doc.source, doc.url or "", doc.observed_at.isoformat(), doc.text))
        rows.append(
            {
                "content_hash": hashlib.sha256(key.encode()).hexdigest(),
                "source": doc.source,
                "kind": doc.kind,
                "observed_at": doc.observed_at,
                "url": doc.url,
                "account_id": None,
                "claims_bulk": bool(found.claims),
                "excerpt": (doc.title + "\n" + doc.text).strip()[:EXCERPT_CHARS],
                "indicators": indicators,
            }
        )
    if rejected:
        run.reject(rejected)
    if not rows:
        return {"ingested": 0, "rejected": len(rejected)}
    session = run.session
    session.execute(insert_ignore(session, Evidence), rows)
    hashes = [r["content_hash"] for r in rows]
    ids = sorted(session.scalars(select(Evidence.id).where(Evidence.content_hash.in_(hashes))))
    digest = hashlib.sha256("\0".join(sorted(map(str, hashes))).encode()).hexdigest()[:32]
    run.enqueue_after_commit(
        "evidence.link", {"evidence_ids": ids}, dedupe_key=f"evidence.link:ingest:{digest}"
    )
    return {"ingested": len(ids), "rejected": len(rejected)}


@stage_task("evidence.link", LinkEvidence, soft_time_limit=120, time_limit=150)
def link(run: Run, request: LinkEvidence) -> dict[str, Any]:
    session = run.session
    evidence = session.scalars(
        select(Evidence).where(Evidence.id.in_(request.evidence_ids)).order_by(Evidence.id)
    ).all()
    known_names = dict(session.execute(select(Company.normalized_name, Company.id)).all())
    touched: set[int] = set()
    links = 0
    for item in evidence:
        matches = _matches(session, item, known_names)
        if not matches and _identifies_new_company(item):
            company_id = _create_company(session, item)
            known_names[session.get_one(Company, company_id).normalized_name] = company_id
            matches = [Match(company_id, "created_from_evidence", 1.0)]
        for match in matches:
            _link(session, item, match)
            touched.add(match.company_id)
            links += 1
    for company_id in sorted(touched):
        run.enqueue_after_commit(
            "legal.evaluate",
            {"company_id": company_id},
            dedupe_key=f"legal.evaluate:{company_id}:{_digest(request.evidence_ids)}",
        )
    return {"evidence": len(evidence), "links": links, "companies": len(touched)}


def _digest(ids: Sequence[int]) -> str:
    return hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:24]


def _matches(session: Session, item: Evidence, known_names: dict[str, int]) -> list[Match]:
    ind = item.indicators
    wanted = [("domain", d) for d in ind.get("domains", [])] + [
        ("email", e) for e in ind.get("emails", [])
    ]
    if item.source == "off_platform":
        # On-platform phones are the account's own number, not the company's.
        wanted += [("phone", p) for p in ind.get("phones", [])]
    hits: list[tuple[str, int]] = []
    if wanted:
        hits = [
            (kind, company_id)
            for kind, company_id in session.execute(
                select(CompanyIndicator.kind, CompanyIndicator.company_id).where(
                    tuple_(CompanyIndicator.kind, CompanyIndicator.value).in_(wanted)
                )
            )
        ]
    return resolve(hits, ind.get("names", []), known_names)


def _identifies_new_company(item: Evidence) -> bool:
    """Create a company only from evidence that says who it is and why it matters."""
    ind = item.indicators
    if item.source == "on_platform":
        return bool(ind.get("names") or ind.get("domains"))
    return item.claims_bulk and bool(ind.get("domains") or ind.get("names"))


def _create_company(session: Session, item: Evidence) -> int:
    ind = item.indicators
    domains: list[str] = list(ind.get("domains", []))
    if item.url and (own := registered_domain(item.url)):
        domains = [own, *[d for d in domains if d != own]]  # the publisher's own site first
    name = (ind.get("names") or domains)[0]
    normalized = normalize_company_name(name) or name.lower()
    session.execute(
        insert_ignore(session, Company),
        [{"name": name, "normalized_name": normalized}],
    )
    company_id = session.scalars(
        select(Company.id).where(Company.normalized_name == normalized)
    ).one()
    indicators = [{"company_id": company_id, "kind": "name", "value": normalized}]
    indicators += [{"company_id": company_id, "kind": "domain", "value": d} for d in domains]
    indicators += [
        {"company_id": company_id, "kind": "email", "value": e} for e in ind.get("emails", [])
    ]
    if item.source == "off_platform":
        indicators += [
            {"company_id": company_id, "kind": "phone", "value": p} for p in ind.get("phones", [])
        ]
    session.execute(
        insert_ignore(session, CompanyIndicator),
        indicators,
    )
    return company_id


def _link(session: Session, item: Evidence, match: Match) -> None:
    session.execute(
        insert_ignore(session, EvidenceLink),
        [
            {
                "evidence_id": item.id,
                "company_id": match.company_id,
                "method": match.method,
                "confidence": match.confidence,
            }
        ],
    )
    accounts: list[tuple[str, str]] = []
    if item.account_id:
        accounts.append((item.account_id, "business_profile"))
    if item.source == "off_platform" and item.indicators.get("phones"):
        # A number the company publishes that is also a registered account is the company's.
        accounts += [
            (a, "published_phone")
            for a in session.scalars(
                select(Account.account_id).where(Account.phone.in_(item.indicators["phones"]))
            )
        ]
    if accounts:
        session.execute(
            insert_ignore(session, AccountCompanyLink),
            [
                {
                    "account_id": account_id,
                    "company_id": match.company_id,
                    "evidence_id": item.id,
                    "method": method,
                    "confidence": match.confidence,
                }
                for account_id, method in accounts
            ],
        )
