"""Serving the api under uvicorn with the limits a public listener needs: a client that has
not finished its request's headers within ``api_header_timeout_seconds`` is disconnected
(slowloris), its body has ``api_body_timeout_seconds`` (``workers.api.body``), and idle
keep-alive connections are closed by uvicorn's own timeout."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for a request's headers: set when the first
    bytes of a request arrive, cleared once its headers are complete (a new request cycle)."""

    header_timeout_seconds = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._waiting_cycle: Any = None

    def data_received(self, data: bytes) -> None:
        idle = self.cycle is None or self.cycle.response_complete
        if idle and self._header_deadline is None:
            self._waiting_cycle = self.cycle
            self._header_deadline = self.loop.call_later(
                self.header_timeout_seconds, self._headers_late
            )
        super().data_received(data)
        if self._header_deadline is not None and self.cycle is not self._waiting_cycle:
            self._header_deadline.cancel()
            self._header_deadline = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        super().connection_lost(exc)

    def _headers_late(self) -> None:
        self._header_deadline = None
        if self.cycle is self._waiting_cycle and not self.transport.is_closing():
            self.transport.close()
