"""Every queue and every route, declared in one place.

Queues are never created implicitly (``task_create_missing_queues = False``): a typo in a route
fails loudly instead of filling a queue nobody consumes. Each task's queue comes from its message
class (``tasks.messages``), where its public name is written once.
"""

from __future__ import annotations

from kombu import Exchange, Queue

from tasks.messages import MESSAGES

# Queue name -> what its workers do. Heavy queues run with prefetch 1 (see workers.config).
QUEUES: dict[str, str] = {
    "scoring": "validate signals, build features, XGBoost inference, store decisions",
    "enforcement": "apply and deliver bans, restrictions and reviews",
    "evidence": "ingest documents, extract indicators, link evidence to companies",
    "legal": "evaluate companies, draft notices, send approved notices, escalate",
    "maintenance": "beat jobs: outbox sweep",
}

# Public task name -> queue, derived from the messages; pinned by tests/unit/test_contract.py.
TASK_QUEUES: dict[str, str] = {message.TASK: message.QUEUE for message in MESSAGES}

TASK_MODULES = (
    "tasks.scoring.task",
    "tasks.enforcement.task",
    "tasks.evidence.task",
    "tasks.legal.task",
    "tasks.maintenance",
)


def declared_queues(*, rabbitmq: bool = False) -> tuple[Queue, ...]:
    """The task queues, bound to one exchange by their own names.

    On RabbitMQ each queue is a durable quorum queue: replicated, and a message a consumer
    received but never acknowledged goes back the moment that consumer's connection closes.
    Their exchange is a topic exchange, which Celery's native delayed delivery needs for retry
    countdowns (a direct exchange would make a retried message wait inside a worker, holding
    its one prefetch slot, for the whole countdown); a routing key without wildcards matches
    exactly as a direct exchange would. On Redis, kombu emulates the exchange: direct is the
    cheapest there.
    """
    if not rabbitmq:
        exchange = Exchange("bulkguard", type="direct")
        return tuple(Queue(name, exchange, routing_key=name) for name in QUEUES)
    exchange = Exchange("bulkguard", type="topic", durable=True)
    return tuple(
        Queue(
            name,
            exchange,
            routing_key=name,
            durable=True,
            queue_arguments={"x-queue-type": "quorum"},
        )
        for name in QUEUES
    )


def routes() -> dict[str, dict[str, str]]:
    return {name: {"queue": queue, "routing_key": queue} for name, queue in TASK_QUEUES.items()}
