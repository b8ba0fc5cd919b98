"""Minimisation on a real database (SQLite and PostgreSQL): a scored batch leaves no phone number
where only its equality or its country, type and block are needed, while its decisions still
replay from the snapshot and a subject is still found by number; and the data key's rotation
re-keys every hash in resumable chunks, each account found before, during and after it."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Account, AccountDecision, AuditEvent, EnforcementAction, Score, utcnow
from infra.number_hash import NumberKeys, number_hash, number_keys
from infra.users import NotAllowedError
from tasks.accounts.phones import number_info, phone_block
from tasks.accounts.signals import DetectionPoint
from tasks.enforcement.enforce import scored_records
from tasks.scoring.features import SIGNAL_FEATURES, signal_matrix
from tasks.scoring.model import Scorer
from tasks.scoring.rekey import RekeyError, rekey
from tasks.scoring.snapshot import blank_records
from tasks.subject.find import subject
from tests.mentions import rows_mentioning
from tests.people import person
from tests.records import messaging_accounts
from tests.stages.test_enforcement_body import apply, scored

# Where a number is still kept whole, and why (docs/data.md, "Minimisation"): the records as
# received, which replay a decision and give on-platform evidence the banned account's number.
WHOLE = {"signal_snapshots.records", "evidence.indicators"}
NEW_KEY = NumberKeys(b"a new data key of the deployment's", b"bulkguard-data-ref")


def _numbers(accounts: list[dict[str, object]]) -> dict[str, str]:
    return {str(a["account_id"]): str(a["phone"]) for a in accounts}


def test_a_scored_batch_keeps_no_number_where_its_hash_will_do(
    session: Session, scorer: Scorer
) -> None:
    accounts = messaging_accounts(150)
    batch = scored(session, scorer, accounts)
    apply(session, scorer, batch.request)
    numbers = _numbers(accounts)

    found = rows_mentioning(session, numbers.values())
    assert set(found) <= WHOLE, found
    assert "signal_snapshots.records" in found  # the batch as received: the replay's input

    keys = number_keys()
    for account in session.scalars(select(Account)):
        number = numbers[account.account_id]
        assert account.phone_hash == number_hash(number, keys.current)
        assert account.phone_key == keys.current_id
        assert (account.country, account.phone_block) == (
            number_info(number).country,
            phone_block(number),
        )

    # Each decision still replays: the record kept in the snapshot gives the signal features
    # the model saw, exactly.
    actions = session.scalars(
        select(EnforcementAction).where(EnforcementAction.action.in_(("ban", "restrict")))
    ).all()
    assert actions
    for action_id, record in scored_records(session, actions).items():
        score = session.get_one(Score, session.get_one(EnforcementAction, action_id).score_id)
        assert score.features is not None
        seen = score.features[: len(SIGNAL_FEATURES)]
        again = signal_matrix([record], DetectionPoint.MESSAGING)[0].tolist()
        assert [None if math.isnan(v) else v for v in again] == seen

    # A subject request by number finds the account by its hash, and its number from its records.
    account_id, number = next(iter(numbers.items()))
    by_number = subject(session, phone=number)
    assert by_number.account_ids == (account_id,)
    assert subject(session, account_id=account_id).phones == (number,)


def test_the_data_key_is_rotated_in_chunks_and_every_account_is_found_throughout(
    session: Session, scorer: Scorer
) -> None:
    admin = person(session, "dpo", "admin")
    accounts = messaging_accounts(40)
    scored(session, scorer, accounts)
    numbers = _numbers(accounts)
    # One account's records erased: its number is held nowhere, so it cannot be re-keyed.
    lost_id, lost_number = sorted(numbers.items())[0]
    index = session.execute(
        select(AccountDecision.snapshot_id, AccountDecision.position).where(
            AccountDecision.account_id == lost_id
        )
    ).all()
    assert blank_records(session, {s: {p} for s, p in index}) == 1
    session.commit()

    def found(keys: NumberKeys) -> dict[str, bool]:
        return {
            a: subject(session, phone=n, keys=keys).account_ids == (a,)
            for a, n in numbers.items()
            if a != lost_id
        }

    before = NumberKeys(b"bulkguard-data-ref")
    assert all(found(before).values())
    # Before the previous key is set, the rotation refuses: it could not check a number.
    with pytest.raises(RekeyError, match="BULKGUARD_DATA_HASH_PREVIOUS_KEY"):
        rekey(session, NumberKeys(NEW_KEY.current), actor=admin, now=utcnow())

    # Stopped after two chunks of ten, as a kill would: half re-keyed, every account found by
    # trying the new key, then the previous.
    partial = rekey(session, NEW_KEY, actor=admin, now=utcnow(), chunk=10, max_chunks=2)
    assert (partial.rekeyed + partial.unlinkable, partial.finished) == (20, False)
    assert partial.remaining == 20
    assert all(found(NEW_KEY).values())
    assert not all(found(NumberKeys(NEW_KEY.current)).values())

    # The next run resumes and finishes; then the new key alone finds every account.
    rest = rekey(session, NEW_KEY, actor=admin, now=utcnow(), chunk=10)
    assert (rest.finished, rest.remaining) == (True, 0)
    assert partial.rekeyed + rest.rekeyed == 39
    assert partial.unlinkable + rest.unlinkable == 1
    assert all(found(NumberKeys(NEW_KEY.current)).values())
    gone = session.get_one(Account, lost_id)
    assert (gone.phone_hash, gone.phone_key) == (None, None)
    assert subject(session, phone=lost_number, keys=NEW_KEY).account_ids == ()
    audit = session.scalars(select(AuditEvent).where(AuditEvent.entity == "data_hash_key")).one()
    assert audit.details["rekeyed"] == rest.rekeyed
    assert audit.actor == "dpo"
    # Nothing is left under the old key: a run again changes nothing.
    assert rekey(session, NEW_KEY, actor=admin, now=utcnow()).rekeyed == 0


def test_only_an_admin_rotates_the_data_key(session: Session) -> None:
    with pytest.raises(NotAllowedError):
        rekey(session, NEW_KEY, actor=person(session, "rita", "reviewer"), now=utcnow())
