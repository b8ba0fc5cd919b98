"""The one shape of every refusal: a status, a reason a person can read, and the headers that
tell a client what to do next (``Retry-After``)."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import ORJSONResponse


class ApiError(Exception):
    """A request refused with ``status`` and ``reason`` (never personal data: it is logged)."""

    def __init__(self, status: int, reason: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = dict(headers or {})

    def response(self) -> ORJSONResponse:
        return ORJSONResponse({"error": self.reason}, status_code=self.status, headers=self.headers)
