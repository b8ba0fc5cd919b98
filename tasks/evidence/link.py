"""``evidence.link``'s body: evidence resolved to companies, and the companies re-evaluated.

Each item is matched on the company indicators already known (``tasks.evidence.resolve``); an
item that matches nothing but names a company and matters (on-platform evidence, or a bulk
claim) creates the company. Every company touched gets a ``legal.evaluate`` follow-up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore, insert_ignore_select
from infra.db.models import (
    Account,
    AccountCompanyLink,
    Company,
    CompanyIndicator,
    Evidence,
    EvidenceLink,
)
from tasks.evidence.indicators import normalize_company_name, registered_domain
from tasks.evidence.resolve import Match, resolve
from tasks.messages import EvaluateCompany, FollowUp, LinkEvidence
from tasks.outcome import Outcome


def link_evidence(session: Session, request: LinkEvidence) -> Outcome:
    evidence = session.scalars(
        select(Evidence).where(Evidence.id.in_(request.evidence_ids)).order_by(Evidence.id)
    ).all()
    known_names = dict(session.execute(select(Company.normalized_name, Company.id)).all())
    touched: set[int] = set()
    links = 0
    for item in evidence:
        matches = _matches(session, item, known_names)
        if not matches and _identifies_new_company(item):
            company = _create_company(session, item)
            known_names[company.normalized_name] = company.id
            matches = [Match(company.id, "created_from_evidence", 1.0)]
        for match in matches:
            _link(session, item, match)
            touched.add(match.company_id)
            links += 1
    digest = _digest(request.evidence_ids)
    follow_ups = [
        FollowUp(
            EvaluateCompany(company_id=company_id),
            dedupe_key=f"legal.evaluate:{company_id}:{digest}",
        )
        for company_id in sorted(touched)
    ]
    return Outcome(
        {"evidence": len(evidence), "links": links, "companies": len(touched)},
        follow_ups=follow_ups,
    )


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


def _create_company(session: Session, item: Evidence) -> Company:
    ind = item.indicators
    domains: list[str] = list(ind.get("domains", []))
    if item.url and (own := registered_domain(item.url)):
        domains = [own, *[d for d in domains if d != own]]  # the publisher's own site first
    name = (ind.get("names") or domains)[0]
    normalized = normalize_company_name(name) or name.lower()
    companies: list[Company] = insert_ignore_select(
        session, Company, [{"name": name, "normalized_name": normalized}], "normalized_name"
    )
    (company,) = companies
    indicators = [{"company_id": company.id, "kind": "name", "value": normalized}]
    indicators += [{"company_id": company.id, "kind": "domain", "value": d} for d in domains]
    indicators += [
        {"company_id": company.id, "kind": "email", "value": e} for e in ind.get("emails", [])
    ]
    if item.source == "off_platform":
        indicators += [
            {"company_id": company.id, "kind": "phone", "value": p} for p in ind.get("phones", [])
        ]
    session.execute(insert_ignore(session, CompanyIndicator), indicators)
    return company


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
