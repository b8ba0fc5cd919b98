"""Who a subject request is about, and the rows of every table that name them.

The one place that knows where an account id or a phone number can appear in the database: the
export, the erasure and anyone else who must find a person's rows (minimisation's checks, say)
call these rather than their own queries.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from infra.db.models import (
    Account,
    AccountDecision,
    ApiIdempotency,
    CompanyIndicator,
    DeadLetter,
    Document,
    EnforcementAction,
    Evidence,
    Score,
)
from infra.number_hash import NumberKeys, number_keys
from tasks.scoring.snapshot import raw_records_at

# As account records give them (``tasks.accounts.signals.E164``).
_E164 = re.compile(r"\+[1-9]\d{6,14}")


class SubjectError(ValueError):
    """A subject request that names no one, or names them badly, with what to give instead."""


@dataclass(frozen=True)
class Subject:
    """The accounts and phone numbers of one person."""

    account_ids: tuple[str, ...]
    phones: tuple[str, ...]

    @property
    def needles(self) -> tuple[str, ...]:
        """The strings whose presence in a text names the subject."""
        return self.account_ids + self.phones


def subject(
    session: Session,
    *,
    account_id: str | None = None,
    phone: str | None = None,
    keys: NumberKeys | None = None,
) -> Subject:
    """The subject of a request by account id or by E.164 number (all accounts on that number,
    found by its hash under ``keys``, the settings' unless given). A number nothing is held
    about is still a subject: evidence may name it."""
    if (account_id is None) == (phone is None):
        raise SubjectError("give exactly one of --account ID or --phone E164")
    if account_id is not None:
        account = session.get(Account, account_id)
        if account is None:
            raise SubjectError(f"no account {account_id!r} is held")
        one = Subject((account.account_id,), ())
        return Subject(one.account_ids, numbers_of(session, one))
    assert phone is not None
    number = phone.strip()
    if not _E164.fullmatch(number):
        raise SubjectError(f"{phone!r} is not a phone number in E.164 form (+421905123456)")
    # Accounts keep the number's keyed hash: under the current key, or during a rotation, for
    # the rows not re-keyed yet, the previous one.
    hashes = (keys or number_keys()).candidates(number)
    ids = tuple(
        session.scalars(
            select(Account.account_id)
            .where(Account.phone_hash.in_(hashes))
            .order_by(Account.account_id)
        )
    )
    return Subject(ids, (number,))


def numbers_of(session: Session, who: Subject) -> tuple[str, ...]:
    """The numbers the subject's accounts were scored with, as their records in the snapshots
    give them: the account rows keep only a hash. None once those records are erased or
    expired, and then nothing else bulkguard derived from them names the number either."""
    numbers: dict[str, None] = {}
    for snapshot_id, positions in sorted(positions_of(session, who).items()):
        for record in raw_records_at(session, snapshot_id, sorted(positions)).values():
            number = record.get("phone") if isinstance(record, dict) else None
            if isinstance(number, str) and record.get("account_id") in who.account_ids:
                numbers[number] = None
    return tuple(numbers)


def _naming(column: object, needles: tuple[str, ...]) -> object:
    text = cast(column, String)
    return or_(*[text.contains(n, autoescape=True) for n in needles])


def actions_of(session: Session, who: Subject) -> list[EnforcementAction]:
    return list(
        session.scalars(
            select(EnforcementAction)
            .where(EnforcementAction.account_id.in_(who.account_ids))
            .order_by(EnforcementAction.id)
        )
    )


def scores_of(session: Session, who: Subject) -> list[Score]:
    return list(
        session.scalars(
            select(Score).where(Score.account_id.in_(who.account_ids)).order_by(Score.id)
        )
    )


def positions_of(session: Session, who: Subject) -> dict[int, set[int]]:
    """Where the subject's records are in the snapshots: snapshot id to positions."""
    found: dict[int, set[int]] = {}
    for snapshot_id, position in session.execute(
        select(AccountDecision.snapshot_id, AccountDecision.position).where(
            AccountDecision.account_id.in_(who.account_ids)
        )
    ):
        found.setdefault(snapshot_id, set()).add(position)
    for snapshot_id, position in session.execute(
        select(Score.snapshot_id, Score.position).where(Score.account_id.in_(who.account_ids))
    ):
        found.setdefault(snapshot_id, set()).add(position)
    return found


def evidence_naming(session: Session, who: Subject) -> list[Evidence]:
    """Evidence about the subject's accounts, or whose excerpt or indicators name them."""
    return list(
        session.scalars(
            select(Evidence)
            .where(
                or_(
                    Evidence.account_id.in_(who.account_ids),
                    _naming(Evidence.excerpt, who.needles),  # type: ignore[arg-type]
                    _naming(Evidence.indicators, who.needles),  # type: ignore[arg-type]
                    _naming(Evidence.url, who.needles),  # type: ignore[arg-type]
                )
            )
            .order_by(Evidence.id)
        )
    )


def documents_naming(session: Session, who: Subject) -> list[Document]:
    """Preserved documents whose text names the subject. Each body is read: documents are
    bounded in size and number, and a number may stand anywhere in them."""
    found = []
    needles = [n.encode() for n in who.needles]
    for document in session.scalars(select(Document).order_by(Document.id)):
        body = zlib.decompress(document.body)
        if any(n in body for n in needles):
            found.append(document)
    return found


def indicators_naming(session: Session, who: Subject) -> list[CompanyIndicator]:
    """Companies' phone numbers that are the subject's number."""
    if not who.phones:
        return []
    return list(
        session.scalars(
            select(CompanyIndicator).where(
                CompanyIndicator.kind == "phone", CompanyIndicator.value.in_(who.phones)
            )
        )
    )


def dead_letters_naming(session: Session, who: Subject) -> list[DeadLetter]:
    return list(
        session.scalars(
            select(DeadLetter)
            .where(
                or_(
                    DeadLetter.account_id.in_(who.account_ids),
                    _naming(DeadLetter.payload, who.needles),  # type: ignore[arg-type]
                )
            )
            .order_by(DeadLetter.id)
        )
    )


def api_answers_naming(session: Session, who: Subject) -> list[ApiIdempotency]:
    """The HTTP api's kept answers that name the person: a batch's refusals list account ids."""
    return list(
        session.scalars(
            select(ApiIdempotency)
            .where(_naming(ApiIdempotency.answer, who.needles))  # type: ignore[arg-type]
            .order_by(ApiIdempotency.id)
        )
    )
