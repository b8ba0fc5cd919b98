"""Log records as one JSON object per line, for a log pipeline (``BULKGUARD_LOG_FORMAT=json``).

Each line carries the time (UTC, ISO 8601), level, logger, process and message; inside a task,
its id, name and queue; and, where the code names the account a line is about (``extra=
{"account_id": ...}``), a keyed hash of it instead of the id, so the logs can be searched for one
account (``bulkguard log-ref ID`` prints its hash) but do not list who was enforced against.
The message and traceback are the redacted ones: the redacting filter runs on the handler
before this formatter (``infra.redaction``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from typing import Any

import orjson
from celery import current_task

# A record's attribute that names the account it is about.
ACCOUNT_ATTRIBUTE = "account_id"


def account_ref(account_id: str, key: str) -> str:
    """The hash logs show for an account: HMAC-SHA256 under the deployment's key, 16 hex digits."""
    digest = hmac.new(key.encode(), account_id.encode(), hashlib.sha256).hexdigest()
    return digest[:16]


class JsonFormatter(logging.Formatter):
    def __init__(self, hash_key: str) -> None:
        super().__init__()
        self.hash_key = hash_key

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        task = current_task
        request = getattr(task, "request", None) if task else None
        if request is not None and request.id:
            entry["task_id"] = request.id
            entry["task"] = task.name
            entry["queue"] = (request.delivery_info or {}).get("routing_key")
        account = getattr(record, ACCOUNT_ATTRIBUTE, None)
        if account is not None:
            entry["account"] = account_ref(str(account), self.hash_key)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return orjson.dumps(entry, default=str).decode()
