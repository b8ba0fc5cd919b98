"""The workers' log format: Celery's plain lines, or JSON lines (``BULKGUARD_LOG_FORMAT=json``,
see ``infra.json_logs``) on every handler Celery sets up, task logger included. Children inherit
their parent's handlers, formatters included."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import after_setup_logger, after_setup_task_logger
from celery.utils.log import get_multiprocessing_logger

from infra.json_logs import JsonFormatter
from infra.settings import get_settings


def _use_json(loggers: list[logging.Logger | None]) -> None:
    settings = get_settings()
    if settings.log_format != "json":
        return
    formatter = JsonFormatter(settings.log_hash_key.get_secret_value())
    for logger in loggers:
        for handler in logger.handlers if logger is not None else []:
            handler.setFormatter(formatter)


@after_setup_logger.connect
def _format_worker_logs(logger: logging.Logger | None = None, **_: Any) -> None:
    _use_json([logger or logging.getLogger(), get_multiprocessing_logger()])


@after_setup_task_logger.connect
def _format_task_logs(logger: logging.Logger | None = None, **_: Any) -> None:
    _use_json([logger or logging.getLogger("celery.task")])
