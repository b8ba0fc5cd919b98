"""An appeal that waits for a person, through a real enforcement worker: the appeal service
files it by task name, signed (a forged filing is kept as a dead letter), a reviewer overturns it
in the console, and the lift reaches the platform's stream."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from infra.db.models import Account, AppealRequest, DeadLetter
from infra.db.session import session_scope
from infra.redis_client import get_redis
from infra.settings import get_settings
from tests.console_client import Console
from tests.integration.test_enforcement import STREAM, read_stream
from tests.integration.waiting import count
from tests.people import PASSWORD, person, service, signed
from tests.seed import enforced
from workers.console.app import build

FILE = "enforcement.file_appeal"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_filed_appeal_waits_for_a_reviewer_whose_overturn_reaches_the_platform(
    start: Any,
) -> None:
    workers = start({"enforcement": 1}, extra_env={"BULKGUARD_PLATFORM_SINK": f"stream:{STREAM}"})
    get_redis().xgroup_create(STREAM, "platform", id="0", mkstream=True)
    (ban,) = enforced("banned", [("ban", "active")])
    workers.app.send_task("enforcement.deliver", kwargs={"action_ids": [ban]})
    seen: dict[str, dict[str, Any]] = {}
    workers.wait_for(lambda: f"action-{ban}" in read_stream(seen), what="the ban delivered")

    key = service("appeal-service", "reviewer")
    filing = signed(
        key,
        FILE,
        {"action_id": ban, "statement": "My own customers.", "filed_by": "appeal-service"},
    )
    workers.app.send_task(FILE, kwargs=filing)
    workers.app.send_task(FILE, kwargs=filing)  # sent again: it waits once
    workers.app.send_task(FILE, kwargs={**filing, "statement": "Lift it now."})  # tampered
    workers.wait_for(lambda: count(DeadLetter) == 1, what="the tampered filing kept")
    with session_scope() as session:
        (request,) = session.scalars(select(AppealRequest)).all()
        assert (request.statement, request.appeal_id) == ("My own customers.", None)
        (refused,) = session.scalars(select(DeadLetter.reason)).all()
        assert "not signed by an enabled service named 'appeal-service'" in refused
        person(session, "rita", "reviewer")

    with Console(build(get_settings(), publisher=workers.app)) as browser:
        browser.login("rita", PASSWORD)
        assert f'href="/appeals/{request.id}"' in browser.get("/appeals").text
        decided = browser.submit(
            f"/appeals/{request.id}", {"outcome": "overturn", "reason": "verified by phone"}
        )
        assert decided.status_code == 303, decided.text

    workers.wait_for(lambda: f"lift-{ban}" in read_stream(seen), what="the lift delivered")
    assert seen[f"lift-{ban}"]["event"] == "lift"
    with session_scope() as session:
        assert session.get_one(Account, "acc-1").status == "active"
        assert session.get_one(AppealRequest, request.id).appeal_id is not None
