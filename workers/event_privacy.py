"""Task events masked where they are made, as the logs are.

Flower shows what the workers' events carry, and keeps it: a task's name, its exception text and
traceback (``task-failed``, ``task-retried``), its result (``task-succeeded``). Each can hold what
a client sent: an unknown task called ``"scoring.+421905777888 ceo@acme.example"`` comes back as
``NotRegistered('…')``, a field named after an e-mail address as a validation reason. The logs
mask them (``infra.redaction``); this dispatcher masks every text field of every event in the
same way before it leaves the process, so no monitor (Flower, ``celery events``, a script on the
events exchange) ever receives them. Argument reprs are value-free already (``workers.privacy``).

The masking is deterministic: a task id a client chose is masked the same way in each of its
events, so a monitor still sees one task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from celery.app.events import Events
from celery.events.dispatcher import EventDispatcher

from infra.redaction import redact

# Keywords of ``EventDispatcher.send`` that set how an event is sent, not what it says.
_SENDING_OPTIONS = frozenset({"blind", "utcoffset", "retry", "retry_policy", "Event"})


def masked(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with every text value masked; numbers, flags and times as they are."""
    return {k: redact(value) if isinstance(value, str) else value for k, value in fields.items()}


class RedactingEventDispatcher(EventDispatcher):
    """Celery's event dispatcher, masking each event's fields on both of its paths: ``send``
    (the worker's task and worker events) and ``publish`` (``task-sent``, by a producer)."""

    def send(self, type: str, *args: Any, **fields: Any) -> None:
        options = {k: v for k, v in fields.items() if k in _SENDING_OPTIONS}
        event = {k: v for k, v in fields.items() if k not in _SENDING_OPTIONS}
        super().send(type, *args, **(options | masked(event)))

    def publish(self, type: str, fields: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super().publish(type, masked(fields), *args, **kwargs)


class RedactingEvents(Events):
    """The app's events, whose dispatcher masks (``Celery(events=...)``)."""

    dispatcher_cls = "workers.event_privacy:RedactingEventDispatcher"
