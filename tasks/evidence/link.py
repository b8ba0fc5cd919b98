"""``evidence.link``'s body: evidence resolved to companies, and the companies re-evaluated.

Each item is matched on the strong keys already known (``tasks.evidence.resolve``): a company's
own domain, an e-mail address, a published phone number. Domains that many unrelated parties
share (``tasks.evidence.shared_domains``: the platform's own links, shorteners, hosting, free
mail) are never keys. An item that matches no key but has one of its own, and matters
(on-platform evidence, or a bulk claim), creates the company, identified by that key. A name is
never a key: a similar name only adds a weak link for a person to review, which the legal policy
does not act on. Every company touched gets a ``legal.evaluate`` follow-up.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
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
from tasks.evidence.shared_domains import is_shared
from tasks.messages import EvaluateCompany, FollowUp, LinkEvidence
from tasks.outcome import Outcome


def link_evidence(session: Session, request: LinkEvidence) -> Outcome:
    evidence = session.scalars(
        select(Evidence).where(Evidence.id.in_(request.evidence_ids)).order_by(Evidence.id)
    ).all()
    known_names: dict[str, list[int]] = defaultdict(list)
    for name, company_id in session.execute(
        select(Company.normalized_name, Company.id).order_by(Company.id)
    ):
        known_names[name].append(company_id)
    touched: set[int] = set()
    links = 0
    for item in evidence:
        keys = _keys(item)
        matches = _matches(session, item, keys, known_names)
        if not any(m.strong for m in matches) and _identifies_new_company(item, keys):
            company = _company_for(session, item, keys)
            if company.id not in known_names[company.normalized_name]:
                known_names[company.normalized_name].append(company.id)
            matches = [
                Match(company.id, "created_from_evidence", 1.0),
                *(m for m in matches if m.company_id != company.id),
            ]
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


def _keys(item: Evidence) -> list[tuple[str, str]]:
    """The item's strong keys, in the order that names a new company: its own site first."""
    ind = item.indicators
    domains: list[str] = [d for d in ind.get("domains", []) if not is_shared(d)]
    if item.source == "off_platform" and item.url:
        own = registered_domain(item.url)
        if own and not is_shared(own):
            domains = [own, *[d for d in domains if d != own]]
    keys = [("domain", d) for d in domains] + [("email", e) for e in ind.get("emails", [])]
    if item.source == "off_platform":
        # On-platform phones are the account's own number, not the company's.
        keys += [("phone", p) for p in ind.get("phones", [])]
    return keys


def _matches(
    session: Session,
    item: Evidence,
    wanted: list[tuple[str, str]],
    known_names: dict[str, list[int]],
) -> list[Match]:
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
    if item.account_id:
        # A company made from this account's earlier ban is the same company.
        hits += [
            ("account", company_id)
            for company_id in session.scalars(
                select(Company.id).where(Company.origin_key == f"account:{item.account_id}")
            )
        ]
    return resolve(hits, item.indicators.get("names", []), known_names)


def _identifies_new_company(item: Evidence, keys: list[tuple[str, str]]) -> bool:
    """Create a company only from evidence that has a key of its own and matters: a banned
    account's business profile, or a claim of bulk sending with a domain, address or number."""
    if item.source == "on_platform":
        ind = item.indicators
        return item.account_id is not None and bool(ind.get("names") or keys)
    return item.claims_bulk and bool(keys)


def _company_for(session: Session, item: Evidence, keys: list[tuple[str, str]]) -> Company:
    """The company ``item`` identifies, made once (by its first key, so that linking the same
    evidence again finds it), with its strong ``keys`` as indicators."""
    origin = f"{keys[0][0]}:{keys[0][1]}" if keys else f"account:{item.account_id}"
    names = item.indicators.get("names") or [k[1] for k in keys if k[0] == "domain"] or [origin]
    name = names[0]
    companies: list[Company] = insert_ignore_select(
        session,
        Company,
        [
            {
                "name": name[:200],
                "normalized_name": (normalize_company_name(name) or name.lower())[:200],
                "origin_key": origin,
            }
        ],
        "origin_key",
    )
    (company,) = companies
    if keys:
        session.execute(
            insert_ignore(session, CompanyIndicator),
            [{"company_id": company.id, "kind": kind, "value": value} for kind, value in keys],
        )
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
