"""The console's review queue on a real database (SQLite and PostgreSQL) and Redis: reviewers
list the cases, claim one, see it masked and decide it; a lease keeps everyone else out, the
command line included, until it runs out; other roles, decided cases and forged forms are
refused."""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from infra.db.models import (
    Account,
    AuditEvent,
    EnforcementAction,
    Label,
    ReviewClaim,
    User,
    utcnow,
)
from infra.db.session import session_scope
from infra.users import Actor
from tasks.enforcement import claims
from tasks.enforcement.reviews import ReviewError, decide_review
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.outcome import Outcome
from tests.broker import Broker
from tests.console_client import console
from tests.people import PASSWORD, cli_env, person
from tests.seed import review_cases, review_phone
from tests.stages.test_enforcement_body import PLAIN
from workers.cli.main import main
from workers.console.pages.reviews import waiting, waiting_by_stage

LEASE = dt.timedelta(minutes=15)  # the default console_claim_minutes
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def cases(count: int, *, first: dt.datetime | None = None) -> list[int]:
    """``count`` pending cases, and the people: two reviewers and a counsel."""
    with session_scope() as session:
        person(session, "alice", "reviewer")
        person(session, "bob", "reviewer")
        person(session, "carol", "counsel")
        return review_cases(session, count, first=first or utcnow() - dt.timedelta(hours=3))


def review(review_id: int) -> EnforcementAction:
    with session_scope() as session:
        return session.get_one(EnforcementAction, review_id)


def test_a_reviewer_lists_claims_sees_and_decides_a_case(env: dict[str, str]) -> None:
    first, second, third = cases(3)
    broker = Broker()
    with console(broker) as alice:
        alice.login("alice", PASSWORD)
        listed = alice.get("/reviews")
        assert listed.status_code == 200
        shown = [int(i) for i in re.findall(r'href="/reviews/(\d+)"', listed.text)]
        assert shown == [first, second, third], "oldest first"
        assert "messaging (3)" in listed.text

        claimed = alice.submit(f"/reviews/{first}/claim", {}, form_at="/reviews")
        assert claimed.status_code == 303
        assert claimed.headers["location"] == f"/reviews/{first}"
        page = alice.get(f"/reviews/{first}")
        assert page.status_code == 200
        assert "is yours until" in page.text  # the flash
        assert review_phone(0) not in page.text, "the phone number is masked"
        assert review_phone(0)[:3] + "********" in page.text
        for shown_fact in ("peak_msgs_15s", "+1.831", "block_ban_rate", "band:review", "m-a"):
            assert shown_fact in page.text
        assert f'action="/reviews/{first}/decide"' in page.text
        assert "yours until" in alice.get("/reviews").text

        decided = alice.submit(
            f"/reviews/{first}/decide",
            {"outcome": "ban", "note": "same text to 400 strangers"},
            form_at=f"/reviews/{first}",
        )
        assert decided.status_code == 303, decided.text
        assert decided.headers["location"] == f"/reviews/{second}", "on to the oldest unclaimed"
        assert f"Review case {first}: ban; action" in alice.get(f"/reviews/{second}").text
        after = alice.get("/reviews")
        assert f'href="/reviews/{first}"' not in after.text
        assert "Already decided: ban by alice" in alice.get(f"/reviews/{first}").text

    with session_scope() as session:
        case = session.get_one(EnforcementAction, first)
        assert case.status == "decided"
        assert session.get(ReviewClaim, first) is None, "deciding settles the lease"
        assert session.get_one(Account, case.account_id).status == "banned"
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_id == first, AuditEvent.event == "review:ban"
            )
        ).one()
        assert (event.actor, event.channel) == ("alice", "console")
        assert event.details["note"] == "same text to 400 strangers"
        label = session.scalars(select(Label).where(Label.action_id == first)).one()
        assert label.decided_by == "alice"
    assert any(name == "enforcement.deliver" for name, _ in broker.sent), "followed up"


def test_a_lease_keeps_a_second_reviewer_out_until_it_runs_out(env: dict[str, str]) -> None:
    (case,) = cases(1)
    with console() as alice, console() as bob:
        alice.login("alice", PASSWORD)
        bob.login("bob", PASSWORD)
        assert alice.submit(f"/reviews/{case}/claim", {}, form_at="/reviews").status_code == 303

        page = bob.get(f"/reviews/{case}")
        assert "held by alice until" in page.text
        assert f'action="/reviews/{case}/decide"' not in page.text
        taken = bob.submit(f"/reviews/{case}/claim", {}, form_at="/reviews")
        assert taken.status_code == 409
        assert re.search(r"held by alice until \d\d:\d\d UTC", taken.text)
        decided = bob.submit(
            f"/reviews/{case}/decide", {"outcome": "dismiss"}, form_at=f"/reviews/{case}"
        )
        assert decided.status_code == 409
        assert "held by alice until" in decided.text
        assert bob.submit(f"/reviews/{case}/release", {}, form_at="/reviews").status_code == 409
        assert review(case).status == "pending"

    # Alice's lease as it stands a lease's length later: run out, so Bob takes the case over.
    with session_scope() as session:
        later = utcnow() + LEASE + dt.timedelta(seconds=1)
        assert claims.live(session, case, later) is None
        lease = claims.claim(session, case, person(session, "bob"), lease=LEASE, now=later)
        assert (lease.holder, lease.expires_at) == ("bob", later + LEASE)


def test_leases_by_the_clock_they_are_given(session: Session) -> None:
    (case,) = review_cases(session, 1)
    alice, bob = person(session, "alice", "reviewer"), person(session, "bob", "reviewer")
    held = claims.claim(session, case, alice, lease=LEASE, now=T0)
    assert held.expires_at == T0 + LEASE

    with pytest.raises(claims.ClaimError, match="held by alice until 09:15 UTC"):
        claims.claim(session, case, bob, lease=LEASE, now=T0 + LEASE - dt.timedelta(seconds=1))
    for decider, own in ((bob, False), (bob, True)):
        with pytest.raises(ReviewError, match="held by alice until 09:15 UTC"):
            _decide(session, case, decider, T0 + dt.timedelta(minutes=5), claimed=own)
    # Alice renews her own; once it runs out, anyone may claim the case, and only then decide.
    assert claims.claim(session, case, alice, lease=LEASE, now=T0 + LEASE).expires_at == (
        T0 + 2 * LEASE
    )
    later = T0 + 2 * LEASE
    with pytest.raises(ReviewError, match=r"claim review case \d+ first"):
        _decide(session, case, bob, later, claimed=True)
    assert claims.claim(session, case, bob, lease=LEASE, now=later).holder == "bob"
    assert claims.oldest_unclaimed(session, later) is None
    assert _decide(session, case, bob, later, claimed=True).summary["outcome"] == "dismiss"
    assert session.get(ReviewClaim, case) is None
    with pytest.raises(claims.ClaimError, match="already dismissed"):
        claims.claim(session, case, alice, lease=LEASE, now=later)


def test_two_reviewers_racing_for_a_case_get_one_winner(env: dict[str, str]) -> None:
    (case,) = cases(1)
    start = Barrier(2)

    def race(name: str) -> str:
        start.wait()
        try:
            with session_scope() as session:
                claims.claim(session, case, person(session, name), lease=LEASE, now=utcnow())
        except claims.ClaimError as exc:
            return str(exc)
        return "won"

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(race, ["alice", "bob"]))
    assert sorted(results)[-1] == "won"
    assert re.fullmatch(r"review case \d+ is held by (alice|bob) until .*", sorted(results)[0])
    with session_scope() as session:
        (lease,) = session.scalars(select(ReviewClaim)).all()
        assert ["alice", "bob"][results.index("won")] == session.get_one(User, lease.user_id).name


def test_the_queue_is_for_reviewers_only(env: dict[str, str]) -> None:
    (case,) = cases(1)
    with console() as carol:
        carol.login("carol", PASSWORD)
        assert carol.get("/reviews").status_code == 403
        assert carol.get(f"/reviews/{case}").status_code == 403
        token = carol.csrf("/")
        for action, data in (("claim", {}), ("release", {}), ("decide", {"outcome": "ban"})):
            refused = carol.post(f"/reviews/{case}/{action}", data={**data, "csrf": token})
            assert refused.status_code == 403, action
            assert "this page is for reviewer" in refused.text
    with session_scope() as session:
        assert session.scalars(select(ReviewClaim)).all() == []
    assert review(case).status == "pending"


def test_a_decided_case_and_a_forged_form_are_refused(env: dict[str, str]) -> None:
    first, second = cases(2)
    with console() as alice:
        alice.login("alice", PASSWORD)
        alice.submit(f"/reviews/{first}/claim", {}, form_at="/reviews")
        forged = alice.post(
            f"/reviews/{first}/decide", data={"outcome": "ban"}, follow_redirects=False
        )
        assert forged.status_code == 403
        assert review(first).status == "pending"
        assert "yours until" in alice.get(f"/reviews/{first}").text, "still hers"

        decided = alice.submit(
            f"/reviews/{first}/decide", {"outcome": "dismiss"}, form_at=f"/reviews/{first}"
        )
        assert decided.status_code == 303
        again = alice.submit(
            f"/reviews/{first}/decide", {"outcome": "ban"}, form_at=f"/reviews/{first}"
        )
        assert again.status_code == 409
        assert f"Review case {first} is already dismissed (dismiss by alice)" in again.text
        claimed = alice.submit(f"/reviews/{first}/claim", {}, form_at="/reviews")
        assert claimed.status_code == 409
        assert "already dismissed: there is nothing to claim" in claimed.text
        unclaimed = alice.submit(
            f"/reviews/{second}/decide", {"outcome": "ban"}, form_at=f"/reviews/{second}"
        )
        assert unclaimed.status_code == 409
        assert f"claim review case {second} first" in unclaimed.text.lower()
    assert review(first).status == "dismissed"
    assert review(second).status == "pending"


def test_the_command_line_respects_a_lease(env: dict[str, str]) -> None:
    (case,) = cases(1)
    with console() as alice:
        alice.login("alice", PASSWORD)
        alice.submit(f"/reviews/{case}/claim", {}, form_at="/reviews")
    command = ["review", "decide", str(case), "--outcome", "ban", "--note", "n", "--as", "bob"]
    refused = CliRunner().invoke(main, command, env=cli_env("bob", "reviewer"))
    assert refused.exit_code == 1
    assert re.search(r"held by alice until \d\d:\d\d UTC", refused.output)
    assert review(case).status == "pending"
    # Alice lets it go: the command line decides it as before.
    with console() as alice:
        alice.login("alice", PASSWORD)
        assert alice.submit(f"/reviews/{case}/release", {}, form_at="/reviews").status_code == 303
    decided = CliRunner().invoke(main, command, env=cli_env("bob", "reviewer"))
    assert decided.exit_code == 0, decided.output
    assert review(case).status == "decided"


def test_the_queue_pages_and_filters_by_stage(env: dict[str, str]) -> None:
    messaging = cases(60, first=T0)
    with session_scope() as session:
        registration = review_cases(
            session, 2, stage="registration", first=T0 - dt.timedelta(days=1), prefix="reg"
        )
    with console() as alice:
        alice.login("alice", PASSWORD)
        first_page = alice.get("/reviews")
        shown = [int(i) for i in re.findall(r'href="/reviews/(\d+)"', first_page.text)]
        assert shown == [*registration, *messaging[:48]]
        assert "page 1 of 2" in first_page.text
        second_page = alice.get("/reviews?page=2")
        assert [int(i) for i in re.findall(r'href="/reviews/(\d+)"', second_page.text)] == (
            messaging[48:]
        )
        only = alice.get("/reviews?stage=registration")
        assert [int(i) for i in re.findall(r'href="/reviews/(\d+)"', only.text)] == registration
        assert "registration (2)" in only.text
        assert "messaging (60)" in only.text
        assert alice.get("/reviews?stage=nonsense").status_code == 400


def test_the_queue_is_read_from_the_index_of_pending_cases(session: Session) -> None:
    # The pending cases are a few among all the actions ever taken: every read of the queue
    # must be answerable from their partial index (the planner prefers a scan of a tiny table,
    # so PostgreSQL is told to avoid one; its plans at scale are in the change's notes).
    review_cases(session, 3)
    statements: list[tuple[str, Any]] = []
    connection = session.connection()

    def seen(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", seen)
    waiting_by_stage(session)
    waiting(session, now=T0, stage=None, page=2, viewer_id=None)
    waiting(session, now=T0, stage="feedback", page=1, viewer_id=None)
    claims.oldest_unclaimed(session, T0)
    event.remove(connection, "before_cursor_execute", seen)
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    assert len(statements) == 4
    for statement, parameters in statements:
        explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        plan = " ".join(
            str(row[-1]) for row in connection.exec_driver_sql(explain + statement, parameters)
        )
        assert "ix_enforcement_actions_pending_reviews" in plan, (statement, plan)


def _decide(
    session: Session, case: int, decider: Actor, now: dt.datetime, *, claimed: bool
) -> Outcome:
    return decide_review(
        session,
        case,
        outcome="dismiss",
        actor=decider,
        note="",
        policy=PLAIN,
        neighbours=MemoryNeighbourStore(),
        now=now,
        claimed=claimed,
    )


def test_take_the_next_case_claims_the_oldest_unclaimed_one_for_each_reviewer(
    env: dict[str, str],
) -> None:
    first, second = cases(2)
    with session_scope() as session:
        person(session, "dora", "reviewer")
    with console() as alice, console() as bob, console() as dora:
        alice.login("alice", PASSWORD)
        bob.login("bob", PASSWORD)
        dora.login("dora", PASSWORD)
        assert 'action="/reviews/next"' in alice.get("/reviews").text
        taken = alice.submit("/reviews/next", {}, form_at="/reviews")
        assert (taken.status_code, taken.headers["location"]) == (303, f"/reviews/{first}")
        assert f"Review case {first} is yours until" in alice.get(f"/reviews/{first}").text
        # Holding one, she is sent back to it rather than given a second.
        again = alice.submit("/reviews/next", {}, form_at="/reviews")
        assert again.headers["location"] == f"/reviews/{first}"
        assert "You hold review case" in alice.get(f"/reviews/{first}").text
        # Alice's case is held: Bob is given the next one, and then there is none.
        taken = bob.submit("/reviews/next", {}, form_at="/reviews")
        assert taken.headers["location"] == f"/reviews/{second}"
        none_left = dora.submit("/reviews/next", {"stage": "messaging"}, form_at="/reviews")
        assert none_left.headers["location"] == "/reviews?stage=messaging"
        assert "No case waits unclaimed" in dora.get("/reviews?stage=messaging").text
        assert alice.submit(f"/reviews/{first}/release", {}, form_at="/reviews").status_code == 303
    with session_scope() as session:
        trail = session.execute(
            select(AuditEvent.entity_id, AuditEvent.event, AuditEvent.actor)
            .where(AuditEvent.entity == "enforcement_action", AuditEvent.event != "created:pending")
            .order_by(AuditEvent.id)
        ).all()
    # Who held each case, and when, is on its trail.
    assert [tuple(row) for row in trail] == [
        (first, "claimed", "alice"),
        (second, "claimed", "bob"),
        (first, "released", "alice"),
    ]


def test_take_the_next_case_passes_over_one_taken_between_look_and_claim(
    session: Session,
) -> None:
    first, second = review_cases(session, 2, first=T0 - dt.timedelta(hours=1))
    alice, bob = person(session, "alice", "reviewer"), person(session, "bob", "reviewer")
    looks = iter([first, second])
    real = claims.oldest_unclaimed

    def stale_look(*args: Any, **kwargs: Any) -> int | None:
        # The first look still sees the first case, which Bob has just taken.
        return next(looks, None) or real(*args, **kwargs)

    claims.claim(session, first, bob, lease=LEASE, now=T0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(claims, "oldest_unclaimed", stale_look)
        lease = claims.claim_next(session, alice, lease=LEASE, now=T0)
    assert lease is not None
    assert (lease.review_id, lease.holder) == (second, "alice")
    assert claims.claim_next(session, alice, lease=LEASE, now=T0) is None
