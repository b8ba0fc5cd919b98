"""``bulkguard flower`` against real workers: what it shows, what it refuses, what it keeps.
Flower only watches: each of its control endpoints answers 403 to the operator too, and nothing
reaches the broker or the workers.

The dashboard is also loaded in a headless Chromium (Debian's ``chromium``; ``make browser``
installs it) and its screenshot kept under ``build/test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.basic_auth import BasicAuth
from infra.db.models import AccountDecision
from tasks.messages import ApplyEnforcement, IngestEvidence, ScoreAccounts
from tasks.offline.simulate_documents import documents
from tests.integration.conftest import ALL_QUEUES
from tests.integration.waiting import count
from tests.records import messaging_accounts
from workers.flower_service import CONTROL_REFUSED
from workers.harness.processes import FlowerProcess, start_flower, stop_flower
from workers.status import queue_depths

AUTH = BasicAuth("operator", "flower-test-secret")
ARTIFACTS = Path(__file__).parents[2] / "build" / "test-artifacts"
ALERTS = Path(__file__).parents[2] / "docs" / "alerts.md"
# Every kind of path Flower answers: pages, the API (read and control), metrics, the health
# check, static files, login, and a path it does not know.
PATHS = [
    "/",
    "/workers",
    "/tasks",
    "/broker",
    "/tasks/datatable",
    "/api/workers",
    "/api/tasks",
    "/api/task/types",
    "/api/queues/length",
    "/api/task/info/00000000-0000-0000-0000-000000000000",
    "/metrics",
    "/healthcheck",
    "/static/css/flower.css",
    "/login",
    "/no-such-page",
]
# Each of Flower's control endpoints, with what an operator would send it ({worker} and {task}
# filled in by the test).
CONTROL = [
    "/api/task/send-task/enforcement.appeal",
    "/api/task/apply/enforcement.appeal",
    "/api/task/async-apply/enforcement.appeal",
    "/api/task/abort/{task}",
    "/api/task/revoke/{task}",
    "/api/task/revoke/{task}?terminate=true&signal=SIGKILL",
    "/api/task/rate-limit/maintenance.sweep_outbox?workername={worker}&ratelimit=1/h",
    "/api/task/timeout/maintenance.sweep_outbox?workername={worker}&soft=1&hard=2",
    "/api/worker/pool/grow/{worker}?n=2",
    "/api/worker/pool/shrink/{worker}?n=1",
    "/api/worker/pool/autoscale/{worker}?min=1&max=4",
    "/api/worker/pool/restart/{worker}",
    "/api/worker/queue/add-consumer/{worker}?queue=enforcement",
    "/api/worker/queue/cancel-consumer/{worker}?queue=maintenance",
    "/api/worker/shutdown/{worker}",
]
# The appeal that reversed a ban when Flower sent it.
APPEAL = json.dumps(
    {"kwargs": {"action_id": 1, "outcome": "overturn", "by": "flower", "reason": "via Flower"}}
).encode()
_PHONE = re.compile(r"\+\d{8,15}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def request(
    url: str, auth: BasicAuth | None = AUTH, method: str = "GET", body: bytes = b"{}"
) -> tuple[int, bytes]:
    headers = {"Authorization": auth.header} if auth is not None else {}
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    data = body if method in {"POST", "PUT", "PATCH"} else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with opener.open(req, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def api(flower: FlowerProcess, path: str) -> Any:
    status, body = request(flower.url.rstrip("/") + path)
    assert status == 200, (path, status, body[:300])
    return json.loads(body)


@pytest.fixture
def flower_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "BULKGUARD_FLOWER_MAX_TASKS": "1000"}


@pytest.fixture
def flower(flower_env: dict[str, str], tmp_path: Path) -> Iterator[FlowerProcess]:
    process = start_flower(flower_env, AUTH, tmp_path / "flower.log")
    try:
        yield process
    finally:
        stop_flower(process)


def personal_values(records: list[dict[str, Any]], docs: list[dict[str, Any]]) -> set[str]:
    """Phone numbers, e-mail addresses and business names sent in the run."""
    found: set[str] = set()
    for r in records:
        found.add(r["phone"])
        business = r.get("business") or {}
        found.update(v for k, v in business.items() if k in {"name", "email"} and v)
    for d in docs:
        found.add(d["publisher"])
        found.update(_PHONE.findall(d["text"]))
        found.update(_EMAIL.findall(d["text"]))
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_flower_shows_every_queue_and_task_without_personal_data(
    start, active_model, flower, flower_env, tmp_path
):
    workers = start(ALL_QUEUES)
    records = messaging_accounts(120)
    docs = documents(400, 5)
    workers.app.send_task(ScoreAccounts.TASK, kwargs={"stage": "messaging", "accounts": records})
    workers.app.send_task(IngestEvidence.TASK, kwargs={"documents": docs})
    workers.wait_for(lambda: count(AccountDecision) == len(records), what="scored")

    # The API lists one worker per queue, each consuming its own queue.
    def queues_shown() -> set[str]:
        shown = api(flower, "/api/workers?refresh=1")
        return {q["name"] for info in shown.values() for q in info.get("active_queues", [])}

    workers.wait_for(lambda: queues_shown() >= set(ALL_QUEUES), what="every queue in Flower")

    # ... and the run's tasks, every stage of the chain among them.
    def task_names() -> set[str]:
        return {t["name"] for t in api(flower, "/api/tasks").values() if t.get("name")}

    wanted = {ScoreAccounts.TASK, IngestEvidence.TASK, ApplyEnforcement.TASK}
    workers.wait_for(lambda: task_names() >= wanted, what=f"{sorted(wanted)} in Flower")

    # Nothing Flower holds about those tasks names a person or a business.
    shown = json.dumps(api(flower, "/api/tasks"))
    leaked = sorted(v for v in personal_values(records, docs) if v in shown)
    assert leaked == [], f"Flower shows personal data: {leaked[:5]}"

    # Every path refuses a request without the credentials, or with wrong ones.
    base = flower.url.rstrip("/")
    wrong = BasicAuth(AUTH.user, "not-the-password")
    for path in PATHS:
        for auth in (None, wrong):
            status, _ = request(base + path, auth)
            assert status == 401, (path, auth)
    assert request(f"{base}/api/task/async-apply/legal.escalate", None, "POST")[0] == 401
    assert request(f"{base}/healthcheck")[0] == 200
    # The Flower series docs/alerts.md's rules use are ones it serves.
    flower_metrics = request(f"{base}/metrics")[1].decode()
    used = set(re.findall(r"\bflower_[a-z_]+", ALERTS.read_text()))
    assert used
    assert {name for name in used if name not in flower_metrics} == set()

    screenshot_workers(flower, [w.queue for w in workers.processes])

    api_tasks_before = api(flower, "/api/tasks")
    # State survives a restart, and the history is bounded: restarted with room for 5 tasks,
    # Flower shows 5 of this run's, with no worker running.
    stop_flower(flower)
    for w in workers.processes:
        w.process.terminate()
    restarted = start_flower(
        {**flower_env, "BULKGUARD_FLOWER_MAX_TASKS": "5"}, AUTH, tmp_path / "flower-2.log"
    )
    try:
        kept = api(restarted, "/api/tasks")
        assert len(kept) == 5
        assert set(kept) <= set(api_tasks_before)
    finally:
        stop_flower(restarted)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_flower_refuses_every_control_to_the_operator_and_sends_nothing(start, flower):
    # A maintenance worker to be controlled, and none for enforcement: an appeal Flower sent
    # would wait in the enforcement queue, where the test sees it.
    workers = start({"maintenance": 1})
    (process,) = workers.processes

    def shown() -> list[str]:
        return [w for w in api(flower, "/api/workers?refresh=1") if w.startswith(process.name)]

    workers.wait_for(lambda: bool(shown()), what="the worker in Flower")
    (worker,) = shown()

    def pool_and_queues() -> tuple[Any, list[str]]:
        inspect = workers.app.control.inspect(destination=[worker], timeout=2)
        stats = (inspect.stats() or {})[worker]["pool"]
        queues = sorted(q["name"] for q in (inspect.active_queues() or {})[worker])
        return (stats["max-concurrency"], len(stats["processes"])), queues

    before = pool_and_queues()
    assert before[1] == ["maintenance"]
    depths = queue_depths(workers.app)
    task = "00000000-0000-0000-0000-000000000001"
    base = flower.url.rstrip("/")
    for path in CONTROL:
        url = base + path.format(worker=worker, task=task)
        methods = ["GET", "POST"]
        if "send-task" in path:
            methods += ["PUT", "DELETE", "PATCH"]
        for method in methods:
            status, body = request(url, method=method, body=APPEAL)
            assert (status, body.decode()) == (403, CONTROL_REFUSED), (method, path)

    # Nothing was sent: no task in any queue, and the worker runs as it did, consuming the
    # same queue with the same pool. (A broadcast reaches a worker in well under the second
    # the inspection waits.)
    assert queue_depths(workers.app) == depths
    assert pool_and_queues() == before
    assert workers.alive()
    assert worker in {name for reply in workers.app.control.ping(timeout=2) for name in reply}

    # Reading still answers, the pages and the tasks page's table among them; the worker page
    # offers no control buttons.
    reads = ["/", "/workers", "/tasks", "/broker", "/api/workers", "/api/tasks"]
    reads += ["/api/task/types", "/api/queues/length", "/metrics", "/healthcheck"]
    for path in reads:
        status, _ = request(base + path)
        assert status == 200, path
    table = "draw=1&start=0&length=10&order%5B0%5D%5Bcolumn%5D=0&columns%5B0%5D%5Bdata%5D=name"
    assert request(f"{base}/tasks/datatable?{table}", method="POST")[0] == 200
    status, page = request(f"{base}/worker/{worker}")
    assert status == 200
    assert b"worker-shutdown" not in page
    assert b"worker-pool-grow" not in page


def screenshot_workers(flower: FlowerProcess, queues: list[str]) -> None:
    """Load the workers page in headless Chromium; keep the PNG; check every queue's worker is
    on the page the browser rendered."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("BULKGUARD_REQUIRE_BROWSER"):
            pytest.fail("chromium is required here (make browser installs it)")
        pytest.skip("no chromium: `make browser` installs Debian's package")
    # Credentials in the address: Chromium sends them with the page and its requests.
    url = flower.url.replace("http://", f"http://{AUTH.user}:{AUTH.password}@") + "workers"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = ARTIFACTS / "flower-workers.png"
    png.unlink(missing_ok=True)
    profile = ARTIFACTS / "chromium-profile"
    shutil.rmtree(profile, ignore_errors=True)
    common = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,900",
        "--virtual-time-budget=5000",
    ]
    dom = subprocess.run(
        [*common, "--dump-dom", url], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    subprocess.run(
        [*common, f"--screenshot={png}", url], capture_output=True, timeout=60, check=True
    )
    shutil.rmtree(profile, ignore_errors=True)
    assert png.stat().st_size > 10_000, "the screenshot is empty"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    missing = [q for q in queues if f"{q}-" not in dom]
    assert missing == [], f"workers of {missing} not on the dashboard"
    assert "Online" in dom
