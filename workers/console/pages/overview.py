"""The overview: what waits for people, the breaker, the enforcement mode the workers run in,
the oldest message per queue, and the way to Flower."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from infra.db.models import AppealRequest, LegalNotice, utcnow
from infra.db.session import session_scope
from infra.redis_client import get_redis
from tasks.evidence.triage import waiting
from workers.console.auth import Viewer, requires
from workers.console.state import state_of
from workers.published_settings import agreed, published
from workers.queue_age import QueueAges
from workers.status import database_status

router = APIRouter()


@router.get("/")
def overview(request: Request, viewer: Annotated[Viewer, Depends(requires())]) -> Response:
    state = state_of(request)
    with session_scope() as session:
        status = database_status(session, utcnow())
        notices = dict(
            session.execute(
                select(LegalNotice.status, func.count()).group_by(LegalNotice.status)
            ).all()
        )
        appeals = session.scalar(
            select(func.count()).select_from(AppealRequest).where(AppealRequest.appeal_id.is_(None))
        )
        untriaged = waiting(session)
    return state.templates.TemplateResponse(
        request,
        "overview.html",
        {
            "viewer": viewer,
            "status": status,
            "notices": notices,
            "appeals_pending": appeals or 0,
            "untriaged": untriaged,
            "workers": _workers(state.publisher),
            "flower_url": state.settings.console_flower_url
            or f"http://{state.settings.flower_address}:{state.settings.flower_port}/",
        },
    )


def _workers(publisher: Any) -> dict[str, Any]:
    """The enforcement mode the workers published, and the oldest message per queue; what
    cannot be read is shown as unknown rather than failing the page."""
    try:
        _, reports = published(get_redis())
        settings = agreed(reports)
        mode = settings.get("enforcement_mode")
    except Exception:
        mode = None
    try:
        oldest = QueueAges().read(publisher)
    except Exception:
        oldest = {}
    return {"mode": mode, "oldest": oldest}
