"""The console's appeals on a real database and Redis: the list and one appeal beside its
action (masked), an overturn that lifts the action as the CLI's does, and what is refused:
another role, a form without its token, an appeal already decided."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from infra.db.models import (
    Account,
    Appeal,
    AppealRequest,
    AuditEvent,
    EnforcementAction,
    utcnow,
)
from infra.db.session import session_scope
from infra.users import Actor, find
from tasks.enforcement.appeal_requests import file_appeal
from tests.broker import Broker
from tests.console_client import console
from tests.people import PASSWORD, person, service
from tests.seed import enforced
from workers.console.pages import appeals as appeals_page

STATEMENT = "I sell bread. Write to anna.novak@example.sk or call +421 905 111 222."
REASONS = [{"feature": "messaging.reply_ratio", "value": 0.02, "contribution": 1.234}]


def waiting_appeal() -> tuple[int, int]:
    """A ban in force with its reasons and rule, and the appeal filed against it."""
    (ban,) = enforced("banned", [("ban", "active")])
    service("appeal-service", "reviewer")
    with session_scope() as session:
        action = session.get_one(EnforcementAction, ban)
        action.reasons, action.rule = REASONS, "ban:bulk"
        user = find(session, "appeal-service")
        assert user is not None
        by = Actor(name=user.name, user_id=user.id, channel="task")
        filed = file_appeal(session, ban, statement=STATEMENT, actor=by, now=utcnow())
        person(session, "rita", "reviewer")
        person(session, "carl", "counsel")
        person(session, "vera", "reviewer")
        return ban, filed.summary["request_id"]


def test_a_reviewer_reads_and_overturns_an_appeal(env: dict[str, str]) -> None:
    ban, request_id = waiting_appeal()
    broker = Broker()
    with console(broker) as browser:
        browser.login("rita", PASSWORD)
        listed = browser.get("/appeals")
        assert listed.status_code == 200
        assert f'href="/appeals/{request_id}"' in listed.text
        assert "active ban" in listed.text
        page = browser.get(f"/appeals/{request_id}")
        assert page.status_code == 200
        for shown in ("messaging.reply_ratio", "+1.234", "0.9900", "m-a", "ban:bulk", "banned"):
            assert shown in page.text, shown
        assert "I sell bread." in page.text
        # The account's number and the appellant's contacts are masked.
        for hidden in ("905 111 222", "anna.novak", "example.sk", "+421905123456"):
            assert hidden not in page.text, hidden
        assert "a***@***.sk" in page.text

        decided = browser.submit(
            f"/appeals/{request_id}", {"outcome": "overturn", "reason": "family bakery, verified"}
        )
        assert decided.status_code == 303, decided.text
        assert decided.headers["location"] == "/appeals"
        after = browser.get("/appeals").text
        assert f"Appeal against action {ban} overturned and lifted: the account is active." in after
        assert "No appeal is waiting." in after
    with session_scope() as session:
        assert session.get_one(EnforcementAction, ban).status == "reversed"
        assert session.get_one(Account, "acc-1").status == "active"
        appeal = session.scalars(select(Appeal)).one()
        assert (appeal.outcome, appeal.decided_by) == ("overturn", "rita")
        assert session.get_one(AppealRequest, request_id).appeal_id == appeal.id
        reversed_by = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "reversed")
        ).one()
        assert (reversed_by.actor, reversed_by.channel) == ("rita", "console")
    # The lift is published for the enforcement workers, as an overturn from the CLI is.
    assert ("enforcement.deliver", {"action_ids": [ban]}) in broker.sent


def test_a_decided_appeal_is_refused_with_who_decided_it(env: dict[str, str]) -> None:
    ban, request_id = waiting_appeal()
    with console() as first, console() as second:
        first.login("rita", PASSWORD)
        second.login("vera", PASSWORD)
        token = second.csrf(f"/appeals/{request_id}")  # vera reads it while it waits
        first.submit(f"/appeals/{request_id}", {"outcome": "uphold", "reason": "bulk confirmed"})
        late = second.post(
            f"/appeals/{request_id}",
            data={"outcome": "uphold", "reason": "me too", "csrf": token},
            follow_redirects=False,
        )
        assert late.status_code == 409
        assert "already decided: uphold by rita on " in late.text
        shown = second.get(f"/appeals/{request_id}").text
        assert "Decided: uphold" in shown
        assert 'name="outcome"' not in shown
    with session_scope() as session:
        assert [a.decided_by for a in session.scalars(select(Appeal))] == ["rita"]
        assert session.get_one(EnforcementAction, ban).status == "active"


def test_only_reviewers_with_the_page_s_token_decide(env: dict[str, str]) -> None:
    ban, request_id = waiting_appeal()
    with console() as counsel:
        counsel.login("carl", PASSWORD)
        for path in ("/appeals", f"/appeals/{request_id}"):
            assert counsel.get(path).status_code == 403
        token = counsel.csrf("/")
        refused = counsel.post(
            f"/appeals/{request_id}",
            data={"outcome": "overturn", "reason": "x", "csrf": token},
            follow_redirects=False,
        )
        assert refused.status_code == 403
    with console() as reviewer:
        reviewer.login("rita", PASSWORD)
        no_token = reviewer.post(
            f"/appeals/{request_id}",
            data={"outcome": "overturn", "reason": "forged"},
            follow_redirects=False,
        )
        assert no_token.status_code == 403
        wrong = reviewer.post(
            f"/appeals/{request_id}",
            data={"outcome": "overturn", "reason": "forged", "csrf": "0" * 64},
            follow_redirects=False,
        )
        assert wrong.status_code == 403
        assert reviewer.get("/appeals/999").status_code == 404
        bad = reviewer.submit(f"/appeals/{request_id}", {"outcome": "delete", "reason": "x"})
        assert bad.status_code == 400
        blank = reviewer.submit(f"/appeals/{request_id}", {"outcome": "uphold", "reason": "  "})
        assert blank.status_code == 409
        assert "an appeal decision must say why" in blank.text
        assert 'name="outcome"' in blank.text  # still waiting: the form is there to try again
    with session_scope() as session:
        assert session.scalars(select(Appeal)).all() == []
        assert session.get_one(EnforcementAction, ban).status == "active"
        assert session.get_one(AppealRequest, request_id).appeal_id is None


def test_the_list_pages_through_every_waiting_appeal_oldest_first(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    actions = enforced("restricted", [("restrict", "active"), ("restrict", "active")])
    service("appeal-service", "reviewer")
    with session_scope() as session:
        person(session, "rita", "reviewer")
        user = find(session, "appeal-service")
        assert user is not None
        by = Actor(name=user.name, user_id=user.id, channel="task")
        filed = [
            file_appeal(session, a, statement="not me", actor=by, now=utcnow()).summary[
                "request_id"
            ]
            for a in actions
        ]
    monkeypatch.setattr(appeals_page, "PAGE_SIZE", 1)
    with console() as browser:
        browser.login("rita", PASSWORD)
        first = browser.get("/appeals").text
        assert f'href="/appeals/{filed[0]}"' in first
        assert f'href="/appeals/{filed[1]}"' not in first
        assert 'href="/appeals?page=2"' in first
        second = browser.get("/appeals?page=2").text
        assert f'href="/appeals/{filed[1]}"' in second
        assert 'href="/appeals?page=1"' in second
        assert "page=3" not in second
        assert "No appeal on this page" in browser.get("/appeals?page=3").text
        assert browser.get("/appeals?page=0").status_code == 400
