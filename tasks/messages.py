"""Every message that crosses a stage boundary, typed, with the task that consumes it.

A message class names its task and queue once. A stage builds the messages it sends next as
:class:`FollowUp` s, which the outbox publishes after commit; the consuming task validates the
same class at its boundary; the queue map of ``workers.queues`` derives from :data:`MESSAGES`.
The JSON on the wire is the message's fields: task names, queues and fields are a public API,
pinned by ``tests/unit/test_contract.py``. Upstream services (and the demo and ``bulkguard
enqueue``, which stand in for them) send the public ones by name with plain JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Protocol

from pydantic import ConfigDict, Field, StringConstraints

from infra.deliveries import BATCH
from tasks.accounts.signals import ScoringRequest
from tasks.payload import PLAIN_TEXT, Payload


class Message(Payload):
    """A task's payload that knows its task name and queue."""

    TASK: ClassVar[str]
    QUEUE: ClassVar[str]

    def kwargs(self) -> dict[str, Any]:
        """The message as the task's JSON keyword arguments."""
        return self.model_dump(mode="json")


class InternalMessage(Message):
    """A message only bulkguard sends (a follow-up through the outbox, or beat): validated
    strictly, since a value of the wrong type or a field nobody defined can only come from a
    defect or from someone writing to the broker. ``"+421905777888"`` is not a company id, and
    an unknown field is refused rather than ignored."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


# -- scoring (public: upstream services send it)


class ScoreAccounts(ScoringRequest, Message):
    """``{"stage", "accounts"}``: one detection point, up to 10,000 account records."""

    TASK = "scoring.score_accounts"
    QUEUE = "scoring"


# -- enforcement (internal)


class ApplyEnforcement(InternalMessage):
    """The actionable scores of one snapshot, decided by one model version."""

    TASK = "enforcement.apply"
    QUEUE = "enforcement"

    snapshot_id: int = Field(ge=1)
    model_version: str = Field(min_length=1, max_length=64)


class DeliverActions(InternalMessage):
    """Actions in force, to be told to the platform."""

    TASK = "enforcement.deliver"
    QUEUE = "enforcement"

    action_ids: list[int] = Field(min_length=1, max_length=10_000)


class RetryDeliveries(InternalMessage):
    """Failed deliveries an operator asked to send again (``bulkguard deliveries retry``): a
    worker sends each through the sink it failed on, or refuses it with the reason."""

    TASK = "enforcement.retry_deliveries"
    QUEUE = "enforcement"

    # At most one request's worth: a worker sends them together.
    delivery_ids: list[int] = Field(min_length=1, max_length=BATCH)
    requested_by: Annotated[str, StringConstraints(min_length=1, max_length=64), PLAIN_TEXT]
    requested_by_id: int | None = Field(default=None, ge=1)


# A service's Ed25519 signature (base64) of the task name and every other field of the message,
# defaults included (``infra.credentials.signed_bytes``): the worker checks it against the public
# key of the service named in ``decided_by`` (``filed_by``) before anything is decided or filed.
Signature = Annotated[str, StringConstraints(min_length=1, max_length=200), PLAIN_TEXT]


class AppealDecision(Payload):
    """What deciding an appeal takes: the body of :class:`AppealAction` and of the HTTP api's
    ``POST /v1/appeals``, whose caller is proven by its key instead of a signature."""

    action_id: int = Field(ge=1)
    outcome: Literal["uphold", "overturn"]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000), PLAIN_TEXT]


class AppealAction(AppealDecision, Message):
    """A decision on an appeal, sent by a service (public: the platform's appeal service sends
    it, signed). People decide appeals through the CLI or the console."""

    TASK = "enforcement.appeal"
    QUEUE = "enforcement"

    # The service user that decided (``bulkguard users add NAME --service --role reviewer``).
    decided_by: Annotated[str, StringConstraints(min_length=1, max_length=64), PLAIN_TEXT]
    signature: Signature


class FileAppeal(Message):
    """An appeal an account holder made against an action, filed on their behalf by a service
    (public: the platform's appeal service sends it, signed as a decision is). It waits for a
    reviewer (the console's appeals, ``bulkguard appeals list``); filed twice, it waits once."""

    TASK = "enforcement.file_appeal"
    QUEUE = "enforcement"

    action_id: int = Field(ge=1)
    # What the account holder wrote, shown to the reviewer beside the action.
    statement: Annotated[str, StringConstraints(min_length=1, max_length=4000), PLAIN_TEXT]
    # The service that filed it (``bulkguard users add NAME --service --role reviewer``).
    filed_by: Annotated[str, StringConstraints(min_length=1, max_length=64), PLAIN_TEXT]
    signature: Signature


class DecideReview(Message):
    """A decision on a review case, sent by a service (public: a review tool may send it,
    signed as an appeal is)."""

    TASK = "enforcement.decide_review"
    QUEUE = "enforcement"

    review_id: int = Field(ge=1)
    outcome: Literal["ban", "restrict", "dismiss"]
    decided_by: Annotated[str, StringConstraints(min_length=1, max_length=64), PLAIN_TEXT]
    note: Annotated[str, StringConstraints(max_length=2000), PLAIN_TEXT] = ""
    signature: Signature


class ExpireActions(InternalMessage):
    """Beat: lift restrictions past their term, dismiss review cases nobody decided."""

    TASK = "enforcement.expire"
    QUEUE = "enforcement"


class ReleaseActions(InternalMessage):
    """Beat: put in force the actions whose release time has come."""

    TASK = "enforcement.release"
    QUEUE = "enforcement"


# -- evidence (ingest is public: crawlers and analysts' tools send documents)


class IngestEvidence(Message):
    """Off-platform documents; each is validated on its own (``tasks.evidence.ingest``)."""

    TASK = "evidence.ingest"
    QUEUE = "evidence"

    documents: Annotated[list[Any], Field(min_length=1, max_length=1000)]


class LinkEvidence(InternalMessage):
    """Stored evidence to resolve to companies."""

    TASK = "evidence.link"
    QUEUE = "evidence"

    evidence_ids: Annotated[list[int], Field(min_length=1, max_length=10_000)]


class RecordBanEvidence(InternalMessage):
    """Bans put in force whose accounts carry a business profile: the evidence stage makes each
    on-platform evidence and links it to companies (``tasks.evidence.on_platform``)."""

    TASK = "evidence.record_bans"
    QUEUE = "evidence"

    action_ids: Annotated[list[int], Field(min_length=1, max_length=10_000)]


# -- legal (internal and beat)


class EvaluateCompany(InternalMessage):
    TASK = "legal.evaluate"
    QUEUE = "legal"

    company_id: int = Field(ge=1)


class WithdrawDrafts(InternalMessage):
    """A company changed shape (merged into another, or keys split off): its notices that were
    open then are withdrawn, and the company it is now is evaluated afresh."""

    TASK = "legal.withdraw_drafts"
    QUEUE = "legal"

    company_id: int = Field(ge=1)
    notice_ids: Annotated[list[int], Field(min_length=1, max_length=1000)]
    # "merged": into ``other_id``; "split": keys split off to the new company ``other_id``.
    change: Literal["merged", "split"]
    other_id: int = Field(ge=1)
    # Who changed the company: their name, and their user id when a person did.
    actor: Annotated[str, StringConstraints(max_length=64), PLAIN_TEXT]
    actor_id: int | None = Field(default=None, ge=1)


class SendNotice(InternalMessage):
    TASK = "legal.send"
    QUEUE = "legal"

    notice_id: int = Field(ge=1)


class Escalate(InternalMessage):
    TASK = "legal.escalate"
    QUEUE = "legal"


# -- maintenance (beat)


class SweepOutbox(InternalMessage):
    TASK = "maintenance.sweep_outbox"
    QUEUE = "maintenance"


class CheckDrift(InternalMessage):
    """Beat: live traffic of each detection point against the active model's training data."""

    TASK = "maintenance.check_drift"
    QUEUE = "maintenance"


class ApplyRetention(InternalMessage):
    """Beat: delete what has outlived its retention period and is not on hold."""

    TASK = "maintenance.retention"
    QUEUE = "maintenance"


MESSAGES: tuple[type[Message], ...] = (
    ScoreAccounts,
    ApplyEnforcement,
    DeliverActions,
    RetryDeliveries,
    AppealAction,
    FileAppeal,
    DecideReview,
    ExpireActions,
    ReleaseActions,
    IngestEvidence,
    LinkEvidence,
    RecordBanEvidence,
    EvaluateCompany,
    WithdrawDrafts,
    SendNotice,
    Escalate,
    SweepOutbox,
    CheckDrift,
    ApplyRetention,
)


@dataclass(frozen=True)
class Resend:
    """A message kept as a dead letter, sent to its task again as it was received
    (``bulkguard dead-letters replay``). It is not validated here: the task validates it at its
    boundary, as it does any client's, and keeps it again if it is still refused."""

    TASK: str
    body: dict[str, Any]

    def kwargs(self) -> dict[str, Any]:
        return self.body


@dataclass(frozen=True)
class FollowUp:
    """A message a stage decided to send once its transaction commits. The dedupe key keeps a
    redelivered stage from queueing the same follow-up twice (``tasks.outbox``)."""

    message: Message | Resend
    dedupe_key: str


class Publisher(Protocol):
    """What publishing needs of a Celery app: ``send_task`` by name."""

    def send_task(self, name: str, args: Any = None, kwargs: Any = None, **options: Any) -> Any: ...
