"""Finding a company: by its name, or by a key it holds (a domain, an e-mail address, a phone
number), as counsel and reviewers know it. Only companies that stand are found; a name an
absorbed company had finds the company it became."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, CompoundSelect, SQLColumnExpression, func, or_, select, union
from sqlalchemy.orm import Session

from infra.db.models import AccountCompanyLink, Company, CompanyIndicator, EvidenceLink
from tasks.evidence.reading.indicators import normalize_company_name, registered_domain

# Fewer digits than this are part of too many numbers to find one by.
MIN_PHONE_DIGITS = 6


@dataclass(frozen=True)
class Found:
    company: Company
    keys: int
    evidence: int
    accounts: int


def search(session: Session, query: str, *, offset: int, limit: int) -> tuple[list[Found], int]:
    """One page of the standing companies ``query`` finds (all of them when it is blank),
    lowest id first, with their numbers of keys, evidence and accounts; and how many it finds."""
    matching = _matching(query.strip())
    ids = select(Company.id).where(Company.merged_into.is_(None))
    if matching is not None:
        ids = ids.where(Company.id.in_(matching))
    total = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    companies = list(
        session.scalars(
            select(Company)
            .where(Company.id.in_(ids))
            .order_by(Company.id)
            .offset(offset)
            .limit(limit)
        )
    )
    shown = [c.id for c in companies]
    keys = _counts(session, CompanyIndicator.company_id, shown)
    evidence = _counts(session, EvidenceLink.company_id, shown)
    accounts = _counts(session, AccountCompanyLink.company_id, shown)
    found = [
        Found(c, keys.get(c.id, 0), evidence.get(c.id, 0), accounts.get(c.id, 0)) for c in companies
    ]
    return found, total


def _matching(query: str) -> CompoundSelect[tuple[int]] | None:
    """The ids of the companies ``query`` names or whose keys hold it (absorbed ones answered
    by the company they became); None for a blank query."""
    if not query:
        return None
    text = query.lower()
    named = select(func.coalesce(Company.merged_into, Company.id)).where(
        or_(
            _contains(func.lower(Company.name), text),
            _contains(Company.normalized_name, normalize_company_name(query) or text),
        )
    )
    # Domains and addresses are stored in lower case; a URL is looked up by its site.
    site = registered_domain(query) if "." in query and "@" not in query else None
    keyed = [_contains(CompanyIndicator.value, text)]
    if site:
        keyed.append(CompanyIndicator.value == site)
    # Numbers are stored in international form (+421905111222): any way of writing the
    # national part finds them, without its leading zero.
    digits = re.sub(r"\D", "", query).lstrip("0")
    numbered = (
        [(CompanyIndicator.kind == "phone") & _contains(CompanyIndicator.value, digits)]
        if len(digits) >= MIN_PHONE_DIGITS
        else []
    )
    keys = select(CompanyIndicator.company_id).where(
        or_((CompanyIndicator.kind != "phone") & or_(*keyed), *numbered)
    )
    return union(named, keys)


def _contains(column: SQLColumnExpression[str], text: str) -> ColumnElement[bool]:
    return column.contains(text, autoescape=True)


def _counts(session: Session, column: SQLColumnExpression[int], ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(select(column, func.count()).where(column.in_(ids)).group_by(column))
    return dict(rows.all())
