"""No personal data in the logs or the events: hostile input through real workers, and the whole
demo, leave none of the phone numbers, e-mail addresses or business names they carried in any
log, output or task event Flower keeps, and no password of the URLs they ran with."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from infra.basic_auth import BasicAuth
from infra.db.models import Company, CompanyIndicator, DeadLetter
from infra.db.session import reset_engine, session_scope
from infra.settings import get_settings
from tasks.messages import EvaluateCompany
from tasks.offline.simulate_accounts import simulate
from tasks.offline.simulate_documents import documents
from tests.integration.fresh_data import demo_data_dir
from tests.integration.test_flower import api, request
from tests.integration.waiting import count, scored
from workers.harness.chaos.plain_client import publish_raw, task_headers
from workers.harness.chaos.services import free_port
from workers.harness.processes import start_flower, stop_flower, stop_workers

PUBLISHER = "Zyxwv Mass Messaging Holdings s.r.o."
EMAIL = "ceo.private@zyxwv-mass-messaging.example"
PHONE = "+421944123987"


def _leaks(text: str, secrets: Iterable[str]) -> list[str]:
    return sorted({s for s in secrets if s and s in text})


def _wait_until_settled(what: str, predicate: Any, timeout: float = 90) -> None:
    """Until ``predicate`` holds and the dead letters stop growing for two seconds."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = count(DeadLetter)
        if now != last:
            last, since = now, time.monotonic()
        if predicate() and time.monotonic() - since > 2:
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_hostile_input_leaves_no_personal_data_in_worker_logs(start, active_model):
    workers = start({"scoring": 1})
    # The evidence worker logs JSON lines, as compose runs them: the same privacy holds.
    json_workers = start({"evidence": 1}, extra_env={"BULKGUARD_LOG_FORMAT": "json"})
    app = workers.app
    good = [r for r in simulate(80, seed=21) if r["stage"] == "registration"][:12]
    ids = [r["account_id"] for r in good]
    contact = {"phone": PHONE, "email": EMAIL, "publisher": PUBLISHER}
    batch = {"stage": "registration", "accounts": good}
    sent_kwargs = json.dumps(batch)

    # Refused before any task runs: Celery's own handlers would print each of these whole.
    publish_raw(app, sent_kwargs[:-40].encode(), task_headers("scoring.score_accounts"))
    publish_raw(app, json.dumps({"note": contact, "accounts": good}).encode(), None)
    publish_raw(
        app,
        json.dumps([[], batch, {}]).encode(),
        task_headers("scoring.no_such_task", kwargsrepr=repr(batch)[:1024]),
    )
    app.send_task("scoring.score_accounts", kwargs=batch, serializer="pickle")
    # A stdlib-JSON client's NaN, and argument reprs a client filled with the batch.
    nan_batch = {"stage": "registration", "accounts": [{**good[0], "x": float("nan")}]}
    publish_raw(
        app,
        json.dumps([[], nan_batch, {}]).encode(),
        task_headers("scoring.score_accounts", kwargsrepr=repr(nan_batch)[:1024]),
    )
    # Refused by the task: the wrong schema, positional arguments, bad records among good ones.
    app.send_task("scoring.score_accounts", kwargs={"stage": "signup", "accounts": good})
    app.send_task("scoring.score_accounts", args=["registration", good])
    bad_records = [
        {**good[1], "account_id": "bad-phone-type", "phone": int(PHONE[1:])},
        {**good[2], "account_id": "bad-phone", "phone": f"call {PHONE} or {EMAIL}"},
        {"account_id": "bad-missing", "phone": PHONE, "note": PUBLISHER},
    ]
    app.send_task(
        "scoring.score_accounts", kwargs={"stage": "registration", "accounts": good + bad_records}
    )
    # Documents: one well formed, naming a company and its contacts, and malformed ones.
    doc = {
        "source": "off_platform",
        "kind": "public_claim",
        "observed_at": "2020-02-03T10:00:00+00:00",
        "url": "https://www.zyxwv-mass-messaging.example/",
        "publisher": PUBLISHER,
        "title": PUBLISHER,
        "text": f"Bulk WhatsApp sender for hire. Call {PHONE} or write to {EMAIL}.",
    }
    app.send_task(
        "evidence.ingest",
        kwargs={"documents": [doc, {**doc, "kind": "rumour"}, {**doc, "observed_at": EMAIL}]},
    )

    _wait_until_settled(
        "the good records to be scored and every refusal kept",
        # good[0] is scored twice: alone in the NaN batch (an unknown field is not read) and
        # with the others.
        lambda: scored(ids, active_model) == len(good) and count(DeadLetter) >= 10,
    )
    assert workers.alive()
    assert json_workers.alive()
    processes = workers.processes + json_workers.processes
    stop_workers(processes)  # flushes every line the workers had to write
    logs = "\n".join(w.log_path.read_text(errors="replace") for w in processes)

    secrets = {PHONE, PHONE[1:], EMAIL, PUBLISHER, "zyxwv"}
    secrets |= {r["phone"] for r in good} | {r["phone"][1:] for r in good}
    assert _leaks(logs.lower(), {s.lower() for s in secrets}) == []
    # What the workers did is still there to read, without the content.
    assert "dropped message: task scoring.score_accounts" in logs
    assert "undecodable message" in logs
    assert "unknown task name 'scoring.no_such_task'" in logs
    assert "not a task message" in logs
    assert "refused message (application/x-python-serialize)" in logs
    assert "dead letter: scoring.score_accounts" in logs

    # Every log line of the JSON worker is one object (Celery's start banner is not a log
    # line); those written inside a task name it, its id and its queue.
    (evidence,) = json_workers.processes
    lines = evidence.log_path.read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    assert entries, lines[-20:]
    assert {"time", "level", "logger", "message", "process"} <= set(entries[0])
    in_task = [e for e in entries if e.get("task") == "evidence.ingest"]
    assert in_task, entries[-10:]
    assert all(e["queue"] == "evidence" and e["task_id"] for e in in_task)


# A task id whose first group is all digits: masking once hid it as a phone number.
DIGITS_FIRST_ID = "01234567-0bd0-4c1e-9a2b-3c4d5e6f7a8b"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_task_events_reach_flower_masked(start, env, tmp_path):
    flower = start_flower(env, BasicAuth("operator", "flower-test-secret"), tmp_path / "f.log")
    try:
        workers = start({"scoring": 1, "legal": 1})
        app = workers.app
        unknown = f"scoring.{PHONE} {EMAIL}"
        # An unknown task named with a phone number and an e-mail address: by a plain client
        # (no task-sent event) and by a Celery client (whose task-sent event Flower shows too).
        raw = task_headers(unknown)
        publish_raw(app, b"[[], {}, {}]", raw)
        sent = app.send_task(unknown, kwargs={}, queue="scoring")
        # A phone number as the company id, an e-mail address as a field name: internal
        # messages are strict, so both are refused with their reason in the task's result.
        typed = app.send_task(EvaluateCompany.TASK, kwargs={"company_id": PHONE})
        named = app.send_task(EvaluateCompany.TASK, kwargs={"company_id": 1, EMAIL: PUBLISHER})
        # A phone number that is a valid id: the body fails, its exception and traceback name it.
        failed = app.send_task(
            EvaluateCompany.TASK, kwargs={"company_id": int(PHONE[1:])}, task_id=DIGITS_FIRST_ID
        )
        ids = {raw["id"], sent.id, typed.id, named.id, failed.id}

        def shown() -> dict[str, Any]:
            # By id: Flower's listing leaves out a task it never saw received (the unknown one
            # a plain client sent), its page for the task does not.
            found = {}
            for task_id in ids:
                status, body = request(f"{flower.url.rstrip('/')}/api/task/info/{task_id}")
                if status == 200:
                    found[task_id] = json.loads(body)
            return found

        def settled() -> bool:
            tasks = shown()
            return len(tasks) == len(ids) and all(
                t["state"] in {"FAILURE", "SUCCESS"} and (t["exception"] or t["result"])
                for t in tasks.values()
            )

        workers.wait_for(settled, what="every task finished in Flower")
        tasks = shown()
        events = json.dumps(tasks) + json.dumps(api(flower, "/api/tasks"))
        secrets = {PHONE, PHONE[1:], EMAIL, PUBLISHER, "zyxwv"}
        assert _leaks(events.lower(), {s.lower() for s in secrets}) == []
        # What the events say is still there to read, masked.
        masked_name = "scoring.+42********87 c***@***.example"
        assert tasks[raw["id"]]["exception"] == f"NotRegistered({masked_name!r})"
        assert tasks[sent.id]["name"] == masked_name
        assert "company_id: Input should be a valid integer" in tasks[typed.id]["result"]
        assert "c***@***.example: Extra inputs are not permitted" in tasks[named.id]["result"]
        assert tasks[failed.id]["exception"] == "LookupError('company 42********87 does not exist')"
        assert "LookupError: company 42********87 does not exist" in tasks[failed.id]["traceback"]
        # The task id is an id: Flower, the log line and the dead letter name it whole.
        assert tasks[failed.id]["uuid"] == DIGITS_FIRST_ID
        assert count(DeadLetter) == 5
        with session_scope() as session:
            kept = set(session.scalars(select(DeadLetter.task_id)))
        assert DIGITS_FIRST_ID in kept
        stop_workers(workers.processes)
        logs = "\n".join(w.log_path.read_text(errors="replace") for w in workers.processes)
        assert f"legal.evaluate[{DIGITS_FIRST_ID}]" in logs
        assert _leaks(logs.lower(), {s.lower() for s in secrets}) == []
    finally:
        stop_flower(flower)


def test_the_demo_prints_no_personal_data_and_no_password(
    tmp_path: Path, trained_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = f"demo-{uuid.uuid4().hex[:12]}"
    data = tmp_path / "data"
    # A Redis with a password: the demo starts it (reading the password from a private file)
    # and every worker connects with it.
    url = f"redis://:{password}@127.0.0.1:{free_port()}/0"
    demo_data_dir(data, url, trained_model_dir, monkeypatch)

    accounts, seed = 300, 9
    result = subprocess.run(
        [
            *(sys.executable, "-m", "workers.cli", "demo"),
            *("--accounts", str(accounts), "--seed", str(seed)),
            *("--report", str(tmp_path / "report.json")),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "redis://:***@127.0.0.1" in "".join(output.split())
    summary = json.loads((tmp_path / "report.json").read_text())
    assert summary["scored"] == accounts
    assert summary["companies_linked"] > 0

    # Everything the demo sent, and every contact value the pipeline stored about companies.
    secrets = {password}
    for record in simulate(accounts, seed):
        secrets |= {record["phone"], record["phone"].lstrip("+")}
    for doc in documents(accounts, seed):
        secrets.add(doc["publisher"])
    with session_scope() as session:
        indicators = session.execute(select(CompanyIndicator.kind, CompanyIndicator.value)).all()
        names = set(session.scalars(select(Company.name)))
    assert {kind for kind, _ in indicators} >= {"email", "phone"}
    assert names
    secrets |= names | {value for kind, value in indicators if kind in ("name", "email", "phone")}
    logs = "\n".join(p.read_text(errors="replace") for p in sorted((data / "logs").glob("*.log")))
    assert "Task scoring.score_accounts" in logs  # the workers did log their work
    assert _leaks(output, secrets) == []
    assert _leaks(logs, secrets) == []
    get_settings.cache_clear()
    reset_engine()
