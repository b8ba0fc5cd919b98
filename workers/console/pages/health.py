"""``GET /healthz``: whether this console can serve pages, for a container's healthcheck and a
load balancer. No login and no session, so it says nothing but whether the database answers:
no counts, no names, no error text."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from sqlalchemy import text

from infra.db.session import get_engine

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/healthz", response_class=PlainTextResponse)
def healthz() -> PlainTextResponse:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        # The kind of failure only: a driver's message can hold the database's address.
        log.warning("healthz: the database does not answer (%s)", type(exc).__name__)
        return PlainTextResponse("database unavailable", status_code=503)
    return PlainTextResponse("ok")
