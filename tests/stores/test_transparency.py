"""``bulkguard report transparency`` on SQLite and PostgreSQL: actions counted by ground,
detection point and who decided, appeals by outcome, shadow actions and older ones left out."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from click.testing import CliRunner
from sqlalchemy.orm import Session

from infra.db.models import Account, Appeal, AppealRequest, EnforcementAction, Score
from infra.db.session import session_scope
from infra.number_hash import number_keys
from tasks.accounts.phones import account_number
from tests.seed import _snapshot
from workers.cli.main import main

SINCE = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
INSIDE = SINCE + dt.timedelta(days=3)
BEFORE = SINCE - dt.timedelta(days=1)


def _action(
    session: Session,
    n: int,
    *,
    action: str,
    status: str,
    rule: str,
    stage: str,
    at: dt.datetime = INSIDE,
    origin_id: int | None = None,
) -> int:
    account_id = f"acc-{n}"
    if session.get(Account, account_id) is None:
        session.add(
            Account(account_id=account_id, **account_number(f"+42190500{n:04d}", number_keys()))
        )
        session.flush()
    if origin_id is not None:  # a person's decision on a review acts on the review's score
        score_id = session.get_one(EnforcementAction, origin_id).score_id
    else:
        score = Score(
            snapshot_id=_snapshot(session, f"{account_id}-{rule}-{status}-{at:%s}"),
            position=0,
            account_id=account_id,
            stage=stage,
            observed_at=at,
            model_version="m-1",
            score=0.97,
            decision=action,
        )
        session.add(score)
        session.flush()
        score_id = score.id
    row = EnforcementAction(
        account_id=account_id,
        score_id=score_id,
        action=action,
        status=status,
        model_version="m-1",
        score=0.97,
        policy_version="p-1",
        rule=rule,
        actor="classifier" if origin_id is None else "reviewer-1",
        origin_id=origin_id,
        created_at=at,
    )
    session.add(row)
    session.flush()
    return row.id


def _seed() -> None:
    with session_scope() as session:
        _action(session, 1, action="ban", status="active", rule="ban-band", stage="messaging")
        upheld = _action(
            session, 2, action="ban", status="active", rule="ban-band", stage="registration"
        )
        overturned = _action(
            session, 3, action="restrict", status="reversed", rule="restrict-band", stage="feedback"
        )
        _action(
            session, 4, action="restrict", status="expired", rule="restrict-band", stage="messaging"
        )
        review = _action(
            session,
            5,
            action="review",
            status="decided",
            rule="reported-restrict",
            stage="feedback",
        )
        _action(
            session,
            5,
            action="ban",
            status="active",
            rule="review",
            stage="feedback",
            origin_id=review,
        )
        waiting = _action(
            session, 6, action="ban", status="active", rule="ban-band:repeat", stage="messaging"
        )
        _action(session, 7, action="ban", status="shadow", rule="ban-band", stage="messaging")
        _action(
            session, 8, action="ban", status="active", rule="ban-band", stage="messaging", at=BEFORE
        )
        appeals = [
            Appeal(
                action_id=upheld, outcome="uphold", decided_by="r", reason="x", decided_at=INSIDE
            ),
            Appeal(
                action_id=overturned,
                outcome="overturn",
                decided_by="r",
                reason="x",
                decided_at=INSIDE,
            ),
        ]
        session.add_all(appeals)
        session.flush()
        session.add_all(
            [
                AppealRequest(
                    action_id=overturned,
                    statement="I only text my family",
                    filed_by="appeals",
                    filed_at=INSIDE,
                    appeal_id=appeals[1].id,
                ),
                AppealRequest(
                    action_id=waiting, statement="mistake", filed_by="appeals", filed_at=INSIDE
                ),
            ]
        )


EXPECTED: dict[str, Any] = {
    "total": 6,
    "by_action": {"ban": 4, "restrict": 2},
    "by_ground": {"ban-band": 2, "restrict-band": 2, "ban-band:repeat": 1, "review": 1},
    "by_detection_point": {"messaging": 3, "feedback": 2, "registration": 1},
    "by_decider": {"automated": 5, "person": 1},
    "by_status": {"active": 4, "expired": 1, "reversed": 1},
    "recorded_in_shadow": 1,
}


def test_transparency_counts_actions_and_appeals(env: dict[str, str]) -> None:
    _seed()

    result = CliRunner().invoke(
        main, ["report", "transparency", "--since", f"{SINCE:%Y-%m-%d}", "--json"]
    )

    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["since"] == SINCE.isoformat()
    assert found["actions"] == EXPECTED
    assert found["appeals"] == {"filed": 2, "decided": {"uphold": 1, "overturn": 1}, "waiting": 1}
    text = CliRunner().invoke(main, ["report", "transparency", "--since", f"{SINCE:%Y-%m-%d}"])
    assert text.exit_code == 0, text.output
    assert "bans and restrictions: 6" in text.output
    assert "appeals: 2 filed, 1 upheld, 1 overturned, 1 waiting" in text.output
    assert "acc-" not in text.output + result.output  # counts only, no account named


def test_a_date_to_come_is_refused(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["report", "transparency", "--since", "2999-01-01"])
    assert result.exit_code == 2
    assert "is not in the past" in result.output
