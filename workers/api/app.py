"""The api's ASGI application, built by :func:`build` from settings, so the tests and ``bulkguard
api serve`` make the same one. Every answer is JSON; every refusal is ``{"error": reason}`` with
its status (``workers.api.errors``); nothing a client sends is logged."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from infra import api_keys
from infra.api_keys import Client
from infra.db.models import ApiBatch, utcnow
from infra.db.session import session_scope
from infra.redis_client import get_redis
from infra.settings import Settings
from infra.users import NotAllowedError
from tasks import outbox
from tasks.messages import AppealDecision, IngestEvidence, Publisher, ScoreAccounts
from workers.api import contract, idempotency, intake, reads
from workers.api.body import BodyLimits, parse, read_body
from workers.api.errors import ApiError, JsonAnswer
from workers.api.limits import Backlog, Backpressure, TokenBucket
from workers.http_metrics import HttpMeter

log = logging.getLogger(__name__)
BEARER = "bearer "
# Failed authentications an address may make a second, and in a burst: a flood of bad keys
# costs a hash lookup each until it is told to wait.
BAD_KEY_RATE, BAD_KEY_BURST = 1.0, 20


@dataclass
class ApiState:
    settings: Settings
    publisher: Publisher
    meter: HttpMeter
    clients: TokenBucket
    bad_keys: TokenBucket
    backpressure: Backpressure
    limits: BodyLimits
    broker_ready: Callable[[], bool]

    @property
    def keep_answers(self) -> dt.timedelta:
        return dt.timedelta(hours=self.settings.api_idempotency_hours)


def build(
    settings: Settings,
    *,
    publisher: Publisher,
    backlog: Callable[[], Backlog],
    broker_ready: Callable[[], bool],
) -> FastAPI:
    """The api for ``settings``: accepted work is published through ``publisher``, scoring work
    refused while ``backlog`` is past the configured limits."""
    app = FastAPI(
        title="bulkguard api",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        default_response_class=JsonAnswer,
    )
    redis = get_redis()
    app.state.api = ApiState(
        settings=settings,
        publisher=publisher,
        meter=HttpMeter(redis),
        clients=TokenBucket(
            redis, settings.api_client_rate, settings.api_client_burst, name="client"
        ),
        bad_keys=TokenBucket(redis, BAD_KEY_RATE, BAD_KEY_BURST, name="bad-key"),
        backpressure=Backpressure(
            backlog,
            max_age_seconds=settings.api_max_queue_age_seconds,
            max_depth=settings.api_max_queue_depth,
        ),
        limits=BodyLimits(
            settings.api_max_body_bytes,
            settings.api_max_depth,
            settings.api_body_timeout_seconds,
        ),
        broker_ready=broker_ready,
    )
    app.openapi = lambda: contract.openapi(app)  # type: ignore[method-assign]
    _routes(app)
    app.add_exception_handler(ApiError, _refused)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _bad_request)
    app.middleware("http")(_measured)
    return app


def state_of(request: Request) -> ApiState:
    found: ApiState = request.app.state.api
    return found


def scoped(scope: str | None) -> Callable[..., Awaitable[Client]]:
    """A dependency: the client proven by the request's bearer key, holding ``scope`` (None:
    any), within its rate; 401, 403 or 429 otherwise."""

    async def dependency(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Client:
        state = state_of(request)
        address = request.client.host if request.client else "-"
        if not authorization or not authorization.lower().startswith(BEARER):
            raise ApiError(401, "send your api key as 'Authorization: Bearer <key>'", _CHALLENGE)
        key = authorization[len(BEARER) :].strip()
        try:
            client = await run_in_threadpool(_authenticate, key)
        except NotAllowedError as exc:
            await run_in_threadpool(state.bad_keys.check, address, "too many bad keys")
            raise ApiError(401, str(exc), _CHALLENGE) from None
        request.state.client = client.actor.name
        if scope is not None and scope not in client.scopes:
            raise ApiError(403, f"this key does not hold the {scope!r} scope")
        request.state.refused_by = "rate_limit"
        await run_in_threadpool(state.clients.check, client.actor.name, "this client is sending")
        request.state.refused_by = None
        return client

    return dependency


_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _authenticate(key: str) -> Client:
    with session_scope() as session:
        return api_keys.authenticate(session, key, now=utcnow())


def _routes(app: FastAPI) -> None:
    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz(request: Request) -> Response:
        """Readiness: the database and the broker answer."""
        checks = {"database": _database_ready(), "broker": state_of(request).broker_ready()}
        ready = all(checks.values())
        return JsonAnswer(
            {"status": "ready" if ready else "not ready", **checks},
            status_code=200 if ready else 503,
        )

    @app.post(
        "/v1/scoring/{stage}",
        status_code=202,
        openapi_extra=contract.request_body("ScoringBody"),
    )
    async def score(
        stage: str,
        request: Request,
        background: BackgroundTasks,
        client: Annotated[Client, Depends(scoped("scoring"))],
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Account records of one detection point (1-10,000): each valid one is scored, each
        invalid one refused by index with its reason."""
        state = state_of(request)
        request.state.refused_by = "backpressure"
        await run_in_threadpool(state.backpressure.check)
        request.state.refused_by = None
        return await _accept(
            request,
            background,
            client,
            idempotency_key=idempotency_key,
            envelope=lambda body: intake.envelope(ScoreAccounts, body, stage=stage),
            accept=intake.accept_accounts,
        )

    @app.post(
        "/v1/documents", status_code=202, openapi_extra=contract.request_body("DocumentsBody")
    )
    async def documents(
        request: Request,
        background: BackgroundTasks,
        client: Annotated[Client, Depends(scoped("evidence"))],
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Off-platform documents (1-1,000), each validated on its own, as evidence.ingest."""
        return await _accept(
            request,
            background,
            client,
            idempotency_key=idempotency_key,
            envelope=lambda body: intake.envelope(IngestEvidence, body),
            accept=intake.accept_documents,
        )

    @app.post("/v1/appeals", status_code=202, openapi_extra=contract.request_body("AppealDecision"))
    async def appeals(
        request: Request, client: Annotated[Client, Depends(scoped("appeals"))]
    ) -> Response:
        """An appeal decided by the client's service user, which must hold the reviewer role.
        Deciding it again the same way answers the same: it is recorded once."""
        state = state_of(request)
        raw = await read_body(request, state.limits)
        decision = intake.envelope(AppealDecision, parse(raw, state.limits.max_depth))
        summary = await run_in_threadpool(_decide_appeal, state.publisher, client, decision)
        return JsonAnswer(summary, status_code=202)

    @app.get("/v1/batches/{batch_id}")
    def batch(batch_id: int, client: Annotated[Client, Depends(scoped(None))]) -> dict[str, Any]:
        """Where a batch this client sent has got to (the scope it was sent with)."""
        with session_scope() as session:
            found = session.get(ApiBatch, batch_id)
            if found is None or found.user_id != client.actor.user_id:
                raise ApiError(404, f"no batch {batch_id} of yours")
            needed = "scoring" if found.kind == "scoring" else "evidence"
            if needed not in client.scopes:
                raise ApiError(403, f"this key does not hold the {needed!r} scope")
            return reads.batch_state(session, found)

    @app.get("/v1/accounts/{account_id}")
    def account(
        account_id: str, client: Annotated[Client, Depends(scoped("read"))]
    ) -> dict[str, Any]:
        """An account's standing: status, actions in force, latest decision per stage."""
        del client  # authorized by the dependency
        with session_scope() as session:
            found = reads.account_standing(session, account_id)
        if found is None:
            raise ApiError(404, "no such account")
        return found


async def _accept(
    request: Request,
    background: BackgroundTasks,
    client: Client,
    *,
    idempotency_key: str | None,
    envelope: Callable[[Any], Any],
    accept: Callable[..., tuple[dict[str, Any], list[str]]],
) -> Response:
    """Read, check and commit a batch of work; publish it once the answer is sent."""
    state = state_of(request)
    key = idempotency.checked_key(idempotency_key)
    raw = await read_body(request, state.limits)
    message = envelope(parse(raw, state.limits.max_depth))
    fingerprint = idempotency.fingerprint(request.method, request.url.path, raw)

    def work(session: Session, now: dt.datetime) -> tuple[dict[str, Any], list[str]]:
        return accept(session, client, message, now=now)

    answer, keys = await run_in_threadpool(
        _commit_once, client, key, fingerprint, work, state.keep_answers
    )
    request.state.records = (answer.body.get("accepted", 0), len(answer.body.get("rejected", [])))
    if keys:
        background.add_task(_publish, state.publisher, keys)
    return JsonAnswer(answer.body, status_code=answer.status)


def _commit_once(
    client: Client,
    key: str | None,
    fingerprint: str,
    work: Callable[[Session, dt.datetime], tuple[dict[str, Any], list[str]]],
    keep: dt.timedelta,
) -> tuple[idempotency.Answer, list[str]]:
    """Commit ``work`` and the answer kept for ``key``, unless an answer is already kept."""
    user_id = client.actor.user_id
    assert user_id is not None  # a client is a user
    now = utcnow()
    try:
        with session_scope() as session:
            if key is not None:
                kept = idempotency.earlier(session, user_id, key, fingerprint, now=now, keep=keep)
                if kept is not None:
                    return kept, []
            body, keys = work(session, now)
            answer = idempotency.Answer(202, body)
            if key is not None:
                idempotency.remember(session, user_id, key, fingerprint, answer, now=now)
    except IntegrityError:
        if key is None:
            raise
        # A twin of this request committed first: its answer stands, this one's work is undone.
        with session_scope() as session:
            kept = idempotency.earlier(session, user_id, key, fingerprint, now=now, keep=keep)
        if kept is None:
            raise
        return kept, []
    return answer, keys


def _publish(publisher: Publisher, keys: list[str]) -> None:
    """After the answer: a broker that is down leaves the rows to the outbox sweep."""
    try:
        outbox.publish(publisher, keys, now=utcnow())
    except Exception as exc:  # the work is durable; the sweep publishes it
        log.warning(
            "accepted work not published now (%s): the outbox sweep will", type(exc).__name__
        )


def _decide_appeal(
    publisher: Publisher, client: Client, decision: AppealDecision
) -> dict[str, Any]:
    from tasks.enforcement.appeals import AppealError, decide_appeal  # noqa: PLC0415
    from tasks.neighbourhoods.redis_store import workers_store  # noqa: PLC0415

    try:
        committed = outbox.commit(
            publisher,
            lambda session: decide_appeal(
                session,
                decision.action_id,
                outcome=decision.outcome,
                actor=client.actor,
                reason=decision.reason,
                neighbours=workers_store(),
                now=utcnow(),
            ),
            task_name="api.appeal",
            task_id=None,
        )
    except AppealError as exc:
        status = 403 if isinstance(exc.__cause__, NotAllowedError) else 409
        raise ApiError(status, str(exc)) from None
    summary = committed.outcome.summary
    return {
        "action_id": summary["action_id"],
        "outcome": decision.outcome,
        "already_decided": summary["already_decided"],
        "account_status": summary["account_status"],
    }


def _database_ready() -> bool:
    try:
        with session_scope() as session:
            session.execute(text("SELECT 1"))
    except OperationalError:
        return False
    return True


async def _measured(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Every request's figures (``workers.http_metrics``) and a log line without personal data;
    an unexpected failure answers 500 with a reference to the log, not a traceback."""
    started = time.perf_counter()
    try:
        response = await call_next(request)
    except OperationalError:
        log.exception("the database did not answer")
        response = ApiError(
            503, "the database is not answering: send again later", {"Retry-After": "5"}
        ).response()
    except Exception:
        reference = uuid.uuid4().hex[:12]
        log.exception("unexpected failure [%s]", reference)
        response = ApiError(500, f"unexpected failure, logged as {reference}").response()
    if request.method == "POST" and response.status_code >= 400:
        # The body may be unread (too slow, too large, or refused before it was read): the
        # connection is closed rather than kept to read up to the limit only to discard it.
        response.headers["Connection"] = "close"
    route = getattr(request.scope.get("route"), "path", "unmatched")
    client = getattr(request.state, "client", "-")
    accepted, refused = getattr(request.state, "records", (0, 0))
    seconds = time.perf_counter() - started
    try:
        state_of(request).meter.request(
            route,
            client,
            response.status_code,
            seconds,
            accepted=accepted,
            refused=refused,
            refused_by=getattr(request.state, "refused_by", None)
            if response.status_code == 429
            else None,
        )
    except Exception:  # a metrics store that is down must not fail the request
        log.warning("api metrics not recorded")
    log.info(
        "%s %s %s %s %.1f ms", request.method, route, client, response.status_code, seconds * 1000
    )
    return response


async def _refused(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    reasons = {404: "no such route", 405: "this route does not take that method"}
    return ApiError(exc.status_code, reasons.get(exc.status_code, str(exc.detail))).response()


async def _bad_request(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return ApiError(400, problems or "bad request").response()
