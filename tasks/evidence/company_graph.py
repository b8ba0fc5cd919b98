"""Companies as a graph over shared strong keys, and an operator's corrections to it.

A company is what its strong keys reach: its own domains, e-mail addresses and published numbers
(``CompanyIndicator``), the accounts whose business profiles point at it, the documents that carry
them. When one piece of evidence in a company's own voice carries keys of two companies, the two
are one: the younger is merged into the older, whatever the number of hops that joined them
(three shells sharing a number, then a domain, end as one company). A merge re-points keys,
evidence and account links to the survivor and leaves the absorbed row behind, marked, so that
old references still resolve; notices to the absorbed company that are still open are withdrawn
by the legal stage, which a ``legal.withdraw_drafts`` follow-up asks once the merge commits.

Operators correct the graph with ``merge`` and ``split``, each audited. A split records the pair
as separated: evidence carrying keys of both then links to both and never merges them again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore
from infra.db.models import (
    OPEN_NOTICE_STATUSES,
    AccountCompanyLink,
    AuditEvent,
    Company,
    CompanyIndicator,
    CompanySeparation,
    EnforcementAction,
    Evidence,
    EvidenceLink,
    LegalNotice,
)
from infra.users import Actor
from tasks.evidence.reading.indicators import normalize_company_name, registered_domain
from tasks.evidence.reading.shared_domains import is_shared
from tasks.messages import FollowUp, WithdrawDrafts

Key = tuple[str, str]  # (kind, value): ("domain", "acme.sk"), ("phone", "+4219...")
KEY_KINDS = ("domain", "email", "phone")


class GraphError(ValueError):
    """An operator's correction that cannot be made, with the reason."""


def identity_keys(item: Evidence, *, site_known: bool = False) -> list[Key]:
    """The keys ``item`` says are its speaker's own, in the order that names a new company.

    A banned account's business profile names its company's domain and address (its number is
    the account's own). A claim's page speaks for the vendor: its site, and every address,
    number and domain it gives. A page that makes no claim still belongs to its own site, and
    where that site is already a company's (``site_known``), so are the address and number it
    gives (a vendor's contact page); what a page on anybody else's site mentions (a news story
    quoting a vendor's number) is not the publisher's.
    """
    ind = item.indicators
    if item.source == "on_platform":
        return [("domain", d) for d in ind.get("domains", [])] + [
            ("email", e) for e in ind.get("emails", [])
        ]
    site = own_site(item)
    contacts = [("email", e) for e in ind.get("emails", [])] + [
        ("phone", p) for p in ind.get("phones", [])
    ]
    if not item.claims_bulk:
        if site is None:
            return []
        return [("domain", site), *(contacts if site_known else [])]
    domains = [d for d in ind.get("domains", []) if not is_shared(d) and d != site]
    return [("domain", d) for d in ([site] if site else []) + domains] + contacts


def own_site(item: Evidence) -> str | None:
    """The registered domain an off-platform page was published on, unless a shared one."""
    site = registered_domain(item.url)
    return site if site and not is_shared(site) else None


def mentioned_keys(item: Evidence) -> list[Key]:
    """Keys a document carries without speaking for their owner (off-platform, not a claim)."""
    if item.source != "off_platform" or item.claims_bulk:
        return []
    ind = item.indicators
    own = set(identity_keys(item))
    keys = (
        [("domain", d) for d in ind.get("domains", []) if not is_shared(d)]
        + [("email", e) for e in ind.get("emails", [])]
        + [("phone", p) for p in ind.get("phones", [])]
    )
    return [k for k in keys if k not in own]


def live_company(session: Session, company_id: int) -> Company:
    """The company ``company_id`` is now: itself, or the one it was merged into."""
    company = session.get(Company, company_id)
    if company is None:
        raise LookupError(f"company {company_id} does not exist")
    if company.merged_into is not None:
        # Merges re-point earlier merges, so one step always reaches a live company.
        company = session.get_one(Company, company.merged_into)
    return company


def owners(session: Session, keys: Sequence[Key]) -> dict[Key, int]:
    """Which company holds each of ``keys`` (keys nobody holds are absent)."""
    if not keys:
        return {}
    found: dict[Key, int] = {}
    for kind in {k for k, _ in keys}:
        values = [v for k, v in keys if k == kind]
        for value, company_id in session.execute(
            select(CompanyIndicator.value, CompanyIndicator.company_id).where(
                CompanyIndicator.kind == kind, CompanyIndicator.value.in_(values)
            )
        ):
            found[(kind, value)] = company_id
    return found


def keys_of(session: Session, company_id: int) -> list[Key]:
    """The strong keys ``company_id`` holds, sorted."""
    rows = session.execute(
        select(CompanyIndicator.kind, CompanyIndicator.value).where(
            CompanyIndicator.company_id == company_id
        )
    )
    return sorted((kind, value) for kind, value in rows)


def add_keys(session: Session, company_id: int, keys: Iterable[Key]) -> None:
    """Give ``company_id`` the keys among ``keys`` that nobody holds yet."""
    rows = [{"company_id": company_id, "kind": k, "value": v} for k, v in dict.fromkeys(keys)]
    if rows:
        session.execute(insert_ignore(session, CompanyIndicator), rows)


def join(
    session: Session, company_ids: Iterable[int], *, actor: Actor, reason: str
) -> tuple[list[int], list[FollowUp]]:
    """Merge companies found to be one into the oldest, except those an operator kept apart
    from it; the live companies that remain, oldest first, and the merges' follow-ups."""
    remaining = sorted({live_company(session, c).id for c in company_ids})
    if len(remaining) < 2:
        return remaining, []
    survivor, *others = remaining
    kept = [survivor]
    follow_ups: list[FollowUp] = []
    for other in others:
        if _separated(session, survivor, other):
            kept.append(other)
        else:
            follow_ups += merge(session, survivor, other, actor=actor, reason=reason)
    return kept, follow_ups


def merge(
    session: Session, survivor_id: int, absorbed_id: int, *, actor: Actor, reason: str
) -> list[FollowUp]:
    """Make ``absorbed_id`` part of ``survivor_id``: its keys, evidence and accounts move; both
    rows are audited. Returned: the follow-up that has legal withdraw the notices to the absorbed
    company still open (and evaluate the survivor afresh), if there are any."""
    survivor = live_company(session, survivor_id)
    absorbed = live_company(session, absorbed_id)
    if survivor.id == absorbed.id:
        raise GraphError(f"company {absorbed_id} is already part of company {survivor.id}")
    moved_keys = session.scalar(
        select(func.count()).where(CompanyIndicator.company_id == absorbed.id)
    )
    session.execute(
        update(CompanyIndicator)
        .where(CompanyIndicator.company_id == absorbed.id)
        .values(company_id=survivor.id)
    )
    moved_evidence = _move_links(session, EvidenceLink, "evidence_id", absorbed.id, survivor.id)
    _move_links(session, AccountCompanyLink, "account_id", absorbed.id, survivor.id)
    _move_separations(session, absorbed.id, survivor.id)
    session.execute(
        update(Company).where(Company.merged_into == absorbed.id).values(merged_into=survivor.id)
    )
    absorbed.merged_into = survivor.id
    withdrawn = _open_notices(session, absorbed.id)
    details = {
        "reason": reason,
        "keys": moved_keys,
        "evidence": moved_evidence,
        "withdrawn_notices": withdrawn,
    }
    _audit(
        session,
        actor,
        details,
        (survivor.id, "absorbed", {"absorbed": absorbed.id}),
        (absorbed.id, "merged", {"into": survivor.id}),
    )
    return _withdrawal(absorbed.id, withdrawn, "merged", survivor.id, actor)


def split(
    session: Session,
    company_id: int,
    keys: Sequence[Key],
    *,
    actor: Actor,
    reason: str,
    name: str | None = None,
) -> tuple[Company, list[FollowUp]]:
    """Move ``keys`` of ``company_id`` to a new company, with the evidence and accounts only they
    reach (evidence carrying keys of both sides links to both), and keep the two apart. Returned:
    the new company, and the follow-up that has legal withdraw the notices to ``company_id``
    still open and evaluate it afresh, if there are any."""
    company = live_company(session, company_id)
    if company.id != company_id:
        raise GraphError(f"company {company_id} was merged into {company.id}: split that one")
    held = set(keys_of(session, company.id))
    moving = set(keys)
    if not moving:
        raise GraphError("name at least one key to split off, e.g. domain:example.com")
    if missing := sorted(moving - held):
        raise GraphError(
            f"company {company.id} does not hold {', '.join(f'{k}:{v}' for k, v in missing)}"
        )
    staying = held - moving
    if not staying:
        raise GraphError(f"splitting off every key of company {company.id} would leave nothing")
    # A company is not named after a number or an address: a domain, else its origin's name.
    label = name or next((v for k, v in sorted(moving) if k == "domain"), f"{company.name} (split)")
    new = Company(name=label[:200], normalized_name=(normalize_company_name(label) or label)[:200])
    session.add(new)
    session.flush()
    # Audited by indicator id: the record says which keys moved without repeating them.
    moved_key_ids = sorted(
        session.scalars(
            select(CompanyIndicator.id).where(
                CompanyIndicator.company_id == company.id,
                or_(
                    *(
                        (CompanyIndicator.kind == k) & (CompanyIndicator.value == v)
                        for k, v in moving
                    )
                ),
            )
        )
    )
    session.execute(
        update(CompanyIndicator)
        .where(CompanyIndicator.id.in_(moved_key_ids))
        .values(company_id=new.id)
    )
    moved, shared = _divide_evidence(session, company.id, new.id, moving, staying)
    session.execute(
        update(AccountCompanyLink)
        .where(
            AccountCompanyLink.company_id == company.id,
            AccountCompanyLink.evidence_id.in_(moved),
        )
        .values(company_id=new.id)
    )
    session.add(
        CompanySeparation(
            company_id=company.id,
            other_id=new.id,
            actor=actor.name,
            user_id=actor.user_id,
            reason=reason or "split",
        )
    )
    withdrawn = _open_notices(session, company.id)
    details = {
        "reason": reason,
        "key_ids": moved_key_ids,
        "evidence_moved": sorted(moved),
        "evidence_shared": sorted(shared),
        "withdrawn_notices": withdrawn,
    }
    _audit(
        session,
        actor,
        details,
        (company.id, "split", {"new": new.id}),
        (new.id, "split_from", {"from": company.id}),
    )
    return new, _withdrawal(company.id, withdrawn, "split", new.id, actor)


@dataclass(frozen=True)
class Withdrawal:
    """An item of evidence an appeal withdrew: the ban it records was overturned."""

    at: dt.datetime | None
    by: str | None
    reason: str | None


def why_not_standing(item: Evidence, ban_status: str | None) -> str | None:
    """Why ``item`` does not stand as evidence, or None when it does; ``ban_status`` is the
    status of the ban it records (on-platform evidence). What stands is what legal may cite:
    a ban still in force, a preserved document."""
    if item.source == "on_platform":
        if ban_status == "reversed":
            return "withdrawn: the ban it records was overturned on appeal"
        if ban_status != "active":
            return f"the ban it records is not in force ({ban_status or 'no ban'})"
        return None
    if item.document_id is None:
        return "its document was not preserved: nothing a letter could cite"
    return None


@dataclass
class CompanyGraph:
    """A company as an operator reviews it: what it is made of and how it hangs together."""

    company: Company
    keys: list[Key]
    # Each key with the evidence that carries it: the edges that hold the company together.
    key_evidence: dict[Key, list[int]]
    evidence: list[tuple[Evidence, EvidenceLink]]
    accounts: list[AccountCompanyLink]
    absorbed: list[Company]
    separated_from: list[int]
    history: list[AuditEvent] = field(default_factory=list)
    # The evidence (by id) that does not stand, and why; legal cites only the rest.
    not_standing: dict[int, str] = field(default_factory=dict)
    # Among it, the evidence an appeal withdrew: when, by whom and why.
    withdrawn: dict[int, Withdrawal] = field(default_factory=dict)


def describe(session: Session, company_id: int) -> CompanyGraph:
    company = live_company(session, company_id)
    keys = keys_of(session, company.id)
    evidence = [
        (e, link)
        for e, link in session.execute(
            select(Evidence, EvidenceLink)
            .join(EvidenceLink, EvidenceLink.evidence_id == Evidence.id)
            .where(EvidenceLink.company_id == company.id)
            .order_by(Evidence.observed_at, Evidence.id)
        )
    ]
    not_standing, withdrawn = _standing(session, company.id, [item for item, _ in evidence])
    held = set(keys)
    key_evidence: dict[Key, list[int]] = {k: [] for k in keys}
    for item, _ in evidence:
        for key in dict.fromkeys([*identity_keys(item), *mentioned_keys(item)]):
            if key in held:
                key_evidence[key].append(item.id)
    return CompanyGraph(
        company=company,
        keys=keys,
        key_evidence=key_evidence,
        evidence=evidence,
        accounts=list(
            session.scalars(
                select(AccountCompanyLink)
                .where(AccountCompanyLink.company_id == company.id)
                .order_by(AccountCompanyLink.account_id)
            )
        ),
        absorbed=list(
            session.scalars(
                select(Company).where(Company.merged_into == company.id).order_by(Company.id)
            )
        ),
        separated_from=sorted(
            {
                other
                for a, b in session.execute(
                    select(CompanySeparation.company_id, CompanySeparation.other_id).where(
                        or_(
                            CompanySeparation.company_id == company.id,
                            CompanySeparation.other_id == company.id,
                        )
                    )
                )
                for other in (a, b)
                if other != company.id
            }
        ),
        history=list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == "company", AuditEvent.entity_id == company.id)
                .order_by(AuditEvent.id)
            )
        ),
        not_standing=not_standing,
        withdrawn=withdrawn,
    )


def _standing(
    session: Session, company_id: int, evidence: Sequence[Evidence]
) -> tuple[dict[int, str], dict[int, Withdrawal]]:
    """Which of a company's ``evidence`` does not stand and why, and which an appeal withdrew."""
    bans = {
        evidence_id: (status, Withdrawal(at, by, reason))
        for evidence_id, status, at, by, reason in session.execute(
            select(
                Evidence.id,
                EnforcementAction.status,
                EnforcementAction.reversed_at,
                EnforcementAction.reversed_by,
                EnforcementAction.reversal_reason,
            )
            .join(EvidenceLink, EvidenceLink.evidence_id == Evidence.id)
            .join(EnforcementAction, EnforcementAction.id == Evidence.action_id)
            .where(EvidenceLink.company_id == company_id)
        )
    }
    not_standing = {
        item.id: why
        for item in evidence
        if (why := why_not_standing(item, bans[item.id][0] if item.id in bans else None))
    }
    withdrawn = {
        evidence_id: withdrawal
        for evidence_id, (status, withdrawal) in bans.items()
        if status == "reversed"
    }
    return not_standing, withdrawn


def _audit(
    session: Session,
    actor: Actor,
    details: Mapping[str, object],
    *entries: tuple[int, str, Mapping[str, object]],
) -> None:
    """One audit event per company a graph change touched, each with the shared ``details``."""
    session.add_all(
        AuditEvent(
            entity="company",
            entity_id=company_id,
            event=event,
            details={**own, **details},
            **actor.recorded(),
        )
        for company_id, event, own in entries
    )
    session.flush()


def _separated(session: Session, a: int, b: int) -> bool:
    low, high = sorted((a, b))
    return (
        session.scalar(
            select(CompanySeparation.id).where(
                CompanySeparation.company_id == low, CompanySeparation.other_id == high
            )
        )
        is not None
    )


_Link = TypeVar("_Link", EvidenceLink, AccountCompanyLink)


def _move_links(
    session: Session,
    table: type[_Link],
    other_column: str,
    from_id: int,
    to_id: int,
) -> int:
    """Re-point ``from_id``'s links to ``to_id``; where ``to_id`` already has the same link,
    keep the stronger of the two. The number of links moved or folded."""
    existing = {
        getattr(link, other_column): link
        for link in session.scalars(select(table).where(table.company_id == to_id))
    }
    links = list(session.scalars(select(table).where(table.company_id == from_id)))
    for link in links:
        twin = existing.get(getattr(link, other_column))
        if twin is None:
            link.company_id = to_id
            continue
        if link.confidence > twin.confidence:
            twin.confidence = link.confidence
            twin.method = link.method
        session.delete(link)
    session.flush()
    return len(links)


def _move_separations(session: Session, from_id: int, to_id: int) -> None:
    """Pairs kept apart from the absorbed company are kept apart from the survivor; a merge an
    operator asked for overrides a separation between the two themselves."""
    rows = list(
        session.scalars(
            select(CompanySeparation).where(
                or_(CompanySeparation.company_id == from_id, CompanySeparation.other_id == from_id)
            )
        )
    )
    for row in rows:
        other = row.other_id if row.company_id == from_id else row.company_id
        session.delete(row)
        if other != to_id and not _separated(session, to_id, other):
            low, high = sorted((to_id, other))
            session.add(
                CompanySeparation(
                    company_id=low,
                    other_id=high,
                    actor=row.actor,
                    user_id=row.user_id,
                    reason=row.reason,
                )
            )
    session.flush()


def _divide_evidence(
    session: Session, old_id: int, new_id: int, moving: set[Key], staying: set[Key]
) -> tuple[list[int], list[int]]:
    """Give the new company the evidence that reaches it through the moved keys: moved when it
    carries none of the keys that stay, linked to both when it carries keys of each side."""
    moved: list[int] = []
    shared: list[int] = []
    for item, link in session.execute(
        select(Evidence, EvidenceLink)
        .join(EvidenceLink, EvidenceLink.evidence_id == Evidence.id)
        .where(EvidenceLink.company_id == old_id)
    ):
        carried = set(identity_keys(item)) | set(mentioned_keys(item))
        if not carried & moving:
            continue
        if carried & staying:
            session.add(
                EvidenceLink(
                    evidence_id=item.id,
                    company_id=new_id,
                    method=link.method,
                    confidence=link.confidence,
                )
            )
            shared.append(item.id)
        else:
            link.company_id = new_id
            moved.append(item.id)
    session.flush()
    return moved, shared


def _open_notices(session: Session, company_id: int) -> list[int]:
    """Notices to ``company_id`` that no one should sign any more once it changes shape: those
    not sent nor ended yet (the companies it became are evaluated afresh)."""
    return list(
        session.scalars(
            select(LegalNotice.id)
            .where(
                LegalNotice.company_id == company_id,
                LegalNotice.status.in_(OPEN_NOTICE_STATUSES),
            )
            .order_by(LegalNotice.id)
        )
    )


def _withdrawal(
    company_id: int,
    notice_ids: list[int],
    change: Literal["merged", "split"],
    other_id: int,
    actor: Actor,
) -> list[FollowUp]:
    """The legal stage's part of a change of shape: it withdraws the notices, once the change
    commits (one follow-up per change: a company is merged once, and split into a new one)."""
    if not notice_ids:
        return []
    message = WithdrawDrafts(
        company_id=company_id,
        notice_ids=notice_ids,
        change=change,
        other_id=other_id,
        actor=actor.name,
        actor_id=actor.user_id,
    )
    return [FollowUp(message, dedupe_key=f"{message.TASK}:{company_id}:{change}:{other_id}")]
