"""``evidence.link``'s body: evidence resolved to companies, and the companies re-evaluated.

Each item is matched on the strong keys already known (``tasks.evidence.company_graph``): a
company's own domain, an e-mail address, a published phone number. Domains that many unrelated
parties share (``tasks.evidence.reading.shared_domains``: the platform's own links, shorteners,
hosting, free mail) are never keys. Evidence in a company's own voice (a banned account's
profile, a claim's page) ties every key it carries to one company: keys of two companies make
them one, and keys nobody holds yet become the company's, so companies grow over any number of
hops. Such an item that matches no key but has one of its own creates the company, identified by
that key.

A page that makes no claim only tells *about* companies: the keys and names it mentions link
weakly, for counsel to read (news naming a vendor is not the vendor's claim). A similar name
alone adds a weak link for a person to review. The legal policy acts on none of the weak links.
Every company touched gets a ``legal.evaluate`` follow-up; a company merged into another gets a
``legal.withdraw_drafts`` one for its notices still open.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore, insert_ignore_select
from infra.db.models import (
    Account,
    AccountCompanyLink,
    Company,
    Document,
    Evidence,
    EvidenceLink,
)
from infra.number_hash import number_keys
from infra.users import Actor
from tasks.evidence import company_graph
from tasks.evidence.company_graph import Key
from tasks.evidence.documents import document_bytes
from tasks.evidence.reading.html_text import to_text
from tasks.evidence.reading.indicators import normalize_company_name
from tasks.evidence.resolve import Match, named_in, resolve
from tasks.messages import EvaluateCompany, FollowUp, LinkEvidence
from tasks.outcome import Outcome

ACTOR = Actor.system("evidence.link")


def link_evidence(session: Session, request: LinkEvidence) -> Outcome:
    evidence = session.scalars(
        select(Evidence).where(Evidence.id.in_(request.evidence_ids)).order_by(Evidence.id)
    ).all()
    known_names = _known_names(session)
    touched: set[int] = set()
    withdrawals: list[FollowUp] = []
    links = 0
    for item in evidence:
        matches = _matches(session, item, known_names, withdrawals=withdrawals)
        for match in matches:
            _link(session, item, match)
            touched.add(match.company_id)
            links += 1
    # A company merged away while this batch was linked is evaluated as the one it became.
    live = {company_graph.live_company(session, c).id for c in touched}
    digest = _digest(request.evidence_ids)
    follow_ups = withdrawals + [
        FollowUp(
            EvaluateCompany(company_id=company_id),
            dedupe_key=f"legal.evaluate:{company_id}:{digest}",
        )
        for company_id in sorted(live)
    ]
    return Outcome(
        {"evidence": len(evidence), "links": links, "companies": len(live)},
        follow_ups=follow_ups,
    )


def _digest(ids: Sequence[int]) -> str:
    return hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:24]


def _known_names(session: Session) -> dict[str, list[int]]:
    known: dict[str, list[int]] = defaultdict(list)
    for name, company_id in session.execute(
        select(Company.normalized_name, Company.id)
        .where(Company.merged_into.is_(None))
        .order_by(Company.id)
    ):
        known[name].append(company_id)
    return known


def _matches(
    session: Session,
    item: Evidence,
    known_names: dict[str, list[int]],
    *,
    withdrawals: list[FollowUp],
) -> list[Match]:
    """The companies ``item`` links to, joining and creating companies as its own keys say (the
    joins' follow-ups added to ``withdrawals``)."""
    own = company_graph.identity_keys(item)
    held = company_graph.owners(session, own)
    site = company_graph.own_site(item)
    if not item.claims_bulk and site is not None and ("domain", site) in held:
        # A page on a company's own site: its contacts are the company's too.
        own = company_graph.identity_keys(item, site_known=True)
        held = company_graph.owners(session, own)
    hits = [(kind, held[(kind, value)]) for kind, value in own if (kind, value) in held]
    if item.account_id:
        # A company made from this account's earlier ban is the same company.
        hits += [
            ("account", company_graph.live_company(session, company_id).id)
            for company_id in session.scalars(
                select(Company.id).where(Company.origin_key == f"account:{item.account_id}")
            )
        ]
    targets = _own_companies(session, item, own, hits, known_names, withdrawals=withdrawals)
    # Companies joined just now answer for the keys of those they absorbed.
    hits = [(kind, company_graph.live_company(session, c).id) for kind, c in hits]
    strong = resolve(hits, [], {})
    reached = {m.company_id for m in strong}
    created = [Match(c, "created_from_evidence", 1.0) for c in targets if c not in reached]
    weak = resolve(
        [],
        item.indicators.get("names", []),
        known_names,
        mentions=_mentions(session, item, known_names),
    )
    chosen = {m.company_id for m in strong + created}
    return [*created, *strong, *(m for m in weak if m.company_id not in chosen)]


def _own_companies(
    session: Session,
    item: Evidence,
    own: list[Key],
    hits: list[tuple[str, int]],
    known_names: dict[str, list[int]],
    *,
    withdrawals: list[FollowUp],
) -> list[int]:
    """The companies ``item`` speaks for: those its own keys reach, joined into one unless an
    operator kept them apart, or a new one when it reaches none and matters. A single company
    also takes the item's keys that nobody holds yet."""
    if hits:
        reason = f"evidence {item.id} carries keys of each"
        targets, follow_ups = company_graph.join(
            session, [c for _, c in hits], actor=ACTOR, reason=reason
        )
        withdrawals += follow_ups
    elif _identifies_new_company(item, own):
        company = _company_for(session, item, own)
        if company.id not in known_names[company.normalized_name]:
            known_names[company.normalized_name].append(company.id)
        targets = [company.id]
    else:
        return []
    if len(targets) == 1:
        company_graph.add_keys(session, targets[0], own)
    return targets


def _mentions(
    session: Session, item: Evidence, known_names: dict[str, list[int]]
) -> list[tuple[str, int]]:
    """Weak links of a page that makes no claim: companies whose keys it carries, and those it
    names (in reportage, ``named_in_news``)."""
    if item.source != "off_platform" or item.claims_bulk:
        return []
    news = item.indicators.get("voice") == "news"
    held = company_graph.owners(session, company_graph.mentioned_keys(item))
    found = [
        ("named_in_news" if news else "mentioned", company_id)
        for company_id in sorted(set(held.values()))
    ]
    text = _document_text(session, item)
    if text:
        method = "named_in_news" if news else "named"
        found += [(method, company_id) for company_id in named_in(text, known_names)]
    return found


def _document_text(session: Session, item: Evidence) -> str:
    if item.document_id is None:
        return item.excerpt
    document = session.get_one(Document, item.document_id)
    raw = document_bytes(session, document.sha256)
    if raw is None:
        return item.excerpt
    text = raw.decode("utf-8", errors="replace")
    return to_text(text) if document.content_type == "text/html" else text


def _identifies_new_company(item: Evidence, keys: list[Key]) -> bool:
    """Create a company only from evidence that has a key of its own and matters: a banned
    account's business profile, or a claim of bulk sending with a domain, address or number."""
    if item.source == "on_platform":
        ind = item.indicators
        return item.account_id is not None and bool(ind.get("names") or keys)
    return item.claims_bulk and bool(keys)


def _company_for(session: Session, item: Evidence, keys: list[Key]) -> Company:
    """The company ``item`` identifies, made once (by its first key, so that linking the same
    evidence again finds it)."""
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
    return company_graph.live_company(session, company.id)


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
    if not match.strong and match.method != "created_from_evidence":
        return  # what a page says about a company ties none of its accounts to it
    accounts: list[tuple[str, str]] = []
    if item.account_id:
        accounts.append((item.account_id, "business_profile"))
    if item.source == "off_platform" and item.claims_bulk and item.indicators.get("phones"):
        # A number the company publishes that is also a registered account is the company's;
        # accounts keep the number's keyed hash, under the current key or, while it is
        # rotated, the previous one.
        keys = number_keys()
        hashes = [h for phone in item.indicators["phones"] for h in keys.candidates(phone)]
        accounts += [
            (a, "published_phone")
            for a in session.scalars(
                select(Account.account_id).where(Account.phone_hash.in_(hashes))
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
