"""Re-keying the accounts' number hashes after the data key changed (SECURITY.md, "Keys").

A hash cannot be re-keyed from itself: the number is needed. Accounts keep none, so it is read
from the records scoring kept of the account (``signal_snapshots``, which this package owns),
and checked against the stored hash under the previous key before the new hash replaces it.
An account none of whose records holds its number any more (expired, erased) cannot be re-keyed:
its hash and key id are cleared, as the old key is about to be destroyed and the hash would
then match nothing anyway. Such an account is found by its id only from then on.

The work goes in chunks of accounts in id order, each committed on its own, so a run holds no
lock for long and one that stopped (killed, ``max_chunks``) is resumed by the next: the rows
still under the previous key are what is left to do. Lookups meanwhile try the current key,
then the previous (``NumberKeys.candidates``), so every account is found during the rotation.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from infra.db.models import Account, AccountDecision, AuditEvent, Score
from infra.number_hash import NumberKeys, number_hash
from infra.users import Actor, authorize
from tasks.scoring.snapshot import raw_records_at

CHUNK = 1000


class RekeyError(ValueError):
    """A rotation that cannot go on, with what to set first."""


@dataclass
class Rekeyed:
    rekeyed: int = 0
    # Accounts whose number no record holds any more: their hash cleared.
    unlinkable: int = 0
    remaining: int = 0
    finished: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "rekeyed": self.rekeyed,
            "unlinkable": self.unlinkable,
            "remaining": self.remaining,
            "finished": self.finished,
        }


def _to_do(keys: NumberKeys) -> Any:
    return Account.phone_key.is_not(None) & (Account.phone_key != keys.current_id)


def rekey(
    session: Session,
    keys: NumberKeys,
    *,
    actor: Actor,
    now: dt.datetime,
    chunk: int = CHUNK,
    max_chunks: int | None = None,
) -> Rekeyed:
    """Re-key every account hashed under ``keys.previous`` to ``keys.current``, committing each
    chunk; ``max_chunks`` stops after that many (the next run resumes). Audited when finished."""
    authorize(session, actor, "admin")
    done = Rekeyed()
    stray = session.scalar(
        select(func.count())
        .select_from(Account)
        .where(_to_do(keys), Account.phone_key != (keys.previous_id or ""))
    )
    if stray:
        raise RekeyError(
            f"{stray} account(s) are hashed under a key that is neither BULKGUARD_DATA_HASH_KEY "
            "nor BULKGUARD_DATA_HASH_PREVIOUS_KEY: set the previous key to the one they were "
            "hashed under (an earlier rotation left unfinished must be finished first)"
        )
    chunks, after = 0, ""
    while max_chunks is None or chunks < max_chunks:
        # From the last account done, along the primary key: each chunk reads on from where the
        # one before stopped instead of passing over every row re-keyed so far again.
        rows = session.execute(
            select(Account.account_id, Account.phone_hash)
            .where(_to_do(keys), Account.account_id > after)
            .order_by(Account.account_id)
            .limit(chunk)
        ).all()
        if not rows:
            break
        after = rows[-1][0]
        assert keys.previous is not None  # rows left under another key were refused above
        numbers = _numbers(session, [account_id for account_id, _ in rows])
        changes = []
        for account_id, stored in rows:
            number = next(
                (n for n in numbers[account_id] if number_hash(n, keys.previous) == stored), None
            )
            if number is None:
                done.unlinkable += 1
                changes.append({"account_id": account_id, "phone_hash": None, "phone_key": None})
            else:
                done.rekeyed += 1
                changes.append(
                    {
                        "account_id": account_id,
                        "phone_hash": keys.hash(number),
                        "phone_key": keys.current_id,
                    }
                )
        session.execute(update(Account), changes)  # by primary key, one statement per chunk
        session.commit()
        chunks += 1
    done.remaining = (
        session.scalar(select(func.count()).select_from(Account).where(_to_do(keys))) or 0
    )
    done.finished = done.remaining == 0
    if done.finished:
        session.add(
            AuditEvent(
                entity="data_hash_key",
                entity_id=0,
                event="rekeyed",
                at=now,
                details={"key_id": keys.current_id, **done.as_json()},
                **actor.recorded(),
            )
        )
        session.commit()
    return done


def _numbers(session: Session, account_ids: list[str]) -> dict[str, set[str]]:
    """The numbers each account's kept records give, each snapshot read once."""
    where: dict[int, set[int]] = defaultdict(set)
    for column in (AccountDecision, Score):
        for snapshot_id, position in session.execute(
            select(column.snapshot_id, column.position).where(column.account_id.in_(account_ids))
        ):
            where[snapshot_id].add(position)
    wanted = set(account_ids)
    found: dict[str, set[str]] = {a: set() for a in account_ids}
    for snapshot_id, positions in sorted(where.items()):
        for record in raw_records_at(session, snapshot_id, sorted(positions)).values():
            if not isinstance(record, dict):
                continue
            account_id, number = record.get("account_id"), record.get("phone")
            if account_id in wanted and isinstance(number, str):
                found[account_id].add(number)
    return found
