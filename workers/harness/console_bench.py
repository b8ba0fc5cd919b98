"""``bulkguard bench console``: how long the console's pages take on a database of production
size, as ratios of a baseline measured in the same run.

The database is seeded in bulk (``workers.harness.console_data``: 100,000 accounts, 1,000 open
review cases, 50 notices waiting for counsel by default), then ``bulkguard console serve`` is
started as a separate process, as it runs in production, on a free loopback port; a reviewer
and counsel log in through the login form and each page is requested ``requests`` times over
HTTP (httpx, one connection kept alive), a detail page on a different case or notice each time.

The baseline is the round trip of ``/healthz``: HTTP, uvicorn, the console's middleware and one
database query, none of a page's own work. It is measured before the pages and after them, and
the faster of the two is the one the ratios use. A page that this build does not have answers
404: it is reported as missing, and measured once it exists.
"""

from __future__ import annotations

import re
import secrets
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from rich.table import Table

from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.users import Role, create_user
from workers.harness.bench import BENCH_REDIS_URL, scratch_bench
from workers.harness.console_data import seed_console_data
from workers.harness.processes import start_console, stop_console

BASELINE = "/healthz"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
WARM_UP = 3


@dataclass(frozen=True)
class Page:
    name: str
    path: str  # {review} and {notice}: one of the seeded ids, another each request
    role: Role


PAGES = (
    Page("overview", "/", "reviewer"),
    Page("reviews", "/reviews", "reviewer"),
    Page("review", "/reviews/{review}", "reviewer"),
    Page("notices", "/notices", "counsel"),
    Page("notice", "/notices/{notice}", "counsel"),
)


def bench_console(
    *,
    accounts: int = 100_000,
    reviews: int = 1000,
    notices: int = 50,
    requests: int = 50,
    postgres_url: str | None = None,
    redis_url: str = BENCH_REDIS_URL,
) -> dict[str, Any]:
    """Seed, serve, log in, time every page; on a scratch PostgreSQL database of the server
    ``postgres_url`` names (dropped afterwards) if given, else on SQLite."""
    with ExitStack() as stack:
        tmp, env = stack.enter_context(scratch_bench(redis_url, postgres_url))
        started = time.perf_counter()
        with session_scope() as session:
            seeded = seed_console_data(
                session, accounts=accounts, reviews=reviews, notices=notices, now=utcnow()
            )
        result: dict[str, Any] = {
            "database": "postgresql" if postgres_url else "sqlite",
            "accounts": accounts,
            "reviews": reviews,
            "notices": notices,
            "requests": requests,
            "seed_seconds": round(time.perf_counter() - started, 1),
        }
        passwords = {role: _person(f"bench-{role}", role) for role in ("reviewer", "counsel")}
        console = start_console(env, tmp / "console.log")
        stack.callback(stop_console, console)
        ids = {"review": seeded.reviews, "notice": seeded.notices}
        with _clients(console.url, passwords) as clients:
            anyone = clients["reviewer"]
            before = _timed(anyone, [BASELINE] * requests)
            pages = {page.name: _measure(clients[page.role], page, ids, requests) for page in PAGES}
            after = _timed(anyone, [BASELINE] * requests)
        baseline = min((before, after), key=lambda run: statistics.median(run.seconds))
        result["baseline"] = {"path": BASELINE, **_quantiles(baseline.seconds)}
        for figures in pages.values():
            if figures["status"] == "ok":
                figures["p50_ratio"] = round(figures["p50_ms"] / result["baseline"]["p50_ms"], 1)
                figures["p95_ratio"] = round(figures["p95_ms"] / result["baseline"]["p95_ms"], 1)
        result["pages"] = pages
    return result


def _person(name: str, role: Role) -> str:
    password = secrets.token_urlsafe(16)
    with session_scope() as session:
        create_user(session, name, roles=[role], by=None, now=utcnow(), password=password)
    return password


@contextmanager
def _clients(base: str, passwords: dict[str, str]) -> Iterator[dict[str, httpx.Client]]:
    """One logged-in HTTP client per role, through the login form as a browser sends it."""
    with ExitStack() as stack:
        clients = {}
        for role, password in passwords.items():
            client = stack.enter_context(httpx.Client(base_url=base, trust_env=False, timeout=60))
            form = _CSRF.search(client.get("/login").text)
            if form is None:
                raise RuntimeError("the login page has no form")
            login = {"name": f"bench-{role}", "password": password, "csrf": form.group(1)}
            answer = client.post("/login", data={**login, "next": "/"})
            if answer.status_code != 303:
                raise RuntimeError(f"bench-{role} could not log in: {answer.status_code}")
            clients[role] = client
        yield clients


@dataclass(frozen=True)
class _Run:
    seconds: list[float]
    statuses: Counter[int]


def _timed(client: httpx.Client, paths: list[str]) -> _Run:
    """Each path requested in turn after a few unmeasured ones (connection, caches): the
    seconds each took to the last byte of its body, and the statuses."""
    for path in paths[:WARM_UP]:
        client.get(path)
    seconds, statuses = [], Counter[int]()
    for path in paths:
        started = time.perf_counter()
        answer = client.get(path)
        seconds.append(time.perf_counter() - started)
        statuses[answer.status_code] += 1
    return _Run(seconds, statuses)


def _measure(
    client: httpx.Client, page: Page, ids: dict[str, list[int]], requests: int
) -> dict[str, Any]:
    """The page's figures: missing (404), an error (any status other than 200), or timed."""
    if "{" in page.path:
        kind = page.path.split("{", 1)[1].rstrip("}")
        pool = ids[kind]
        if not pool:
            return {"path": page.path, "as": page.role, "status": f"no {kind}s seeded"}
        paths = [page.path.format(**{kind: pool[i % len(pool)]}) for i in range(requests)]
    else:
        paths = [page.path] * requests
    run = _timed(client, paths)
    figures: dict[str, Any] = {"path": page.path, "as": page.role}
    if set(run.statuses) == {404}:
        return {**figures, "status": "missing"}
    if set(run.statuses) != {200}:
        shown = ", ".join(f"{n} x {status}" for status, n in sorted(run.statuses.items()))
        return {**figures, "status": f"error ({shown})"}
    return {**figures, "status": "ok", **_quantiles(run.seconds)}


def _quantiles(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    p95 = statistics.quantiles(ms, n=20)[18] if len(ms) > 1 else ms[0]
    return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(p95, 2)}


def console_table(result: dict[str, Any]) -> Table:
    """``bench_console``'s result for a person: each page beside its ratios to /healthz."""
    table = Table(
        title=(
            f"console pages on {result['database']}: {result['accounts']:,} accounts, "
            f"{result['reviews']:,} review cases, {result['notices']:,} notices; "
            f"{result['requests']} requests each; ratios to /healthz"
        )
    )
    for column in ("path", "as"):
        table.add_column(column)
    for column in ("p50 ms", "p95 ms", "p50 ratio", "p95 ratio"):
        table.add_column(column, justify="right")
    base = result["baseline"]
    table.add_row(base["path"], "anyone", f"{base['p50_ms']}", f"{base['p95_ms']}", "1", "1")
    for page in result["pages"].values():
        if page["status"] != "ok":
            table.add_row(page["path"], page["as"], page["status"], "", "", "")
            continue
        table.add_row(
            page["path"],
            page["as"],
            f"{page['p50_ms']}",
            f"{page['p95_ms']}",
            f"{page['p50_ratio']}",
            f"{page['p95_ratio']}",
        )
    return table
