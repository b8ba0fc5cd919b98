"""The public payload contract of ``scoring.score_accounts``.

Upstream services send ``{"stage": ..., "accounts": [...]}``. The envelope is validated first;
each account record is then validated on its own so that one bad record is dead-lettered with
its reason while the rest of the batch is scored. Unknown fields are ignored (upstream may add
signals before bulkguard uses them); wrong types, out-of-range values, NaN and missing required
fields reject the record. Message text never travels: repeated content is a ratio of hashes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    Field,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from tasks.payload import PLAIN_TEXT, Payload, describe_validation_error


class DetectionPoint(StrEnum):
    """The three detection points the platform describes, each with its own thresholds."""

    REGISTRATION = "registration"
    MESSAGING = "messaging"
    FEEDBACK = "feedback"


E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{6,14}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64), PLAIN_TEXT]
# Strict: JSON true or "100" is a wrong type, not a count (strict floats still accept integers).
Ratio = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]
Count = Annotated[int, Strict(), Field(ge=0, le=10_000_000)]


class RegistrationSignals(Payload):
    """Known from the moment the account registers."""

    registered_at: AwareDatetime
    ip_country: CountryCode
    # Opaque ids of the registering network (e.g. an ASN or /24) and device fingerprint.
    network_id: Identifier
    device_id: Identifier
    client: Literal["official", "business", "web", "modified"]


class MessagingSignals(Payload):
    """Behaviour while messaging, aggregated by upstream over the stated windows."""

    peak_msgs_15s: Count
    msgs_last_hour: Count
    msgs_last_day: Count
    # Minutes from registration to the first burst of sending; absent if none happened.
    minutes_to_first_burst: Annotated[float, Field(ge=0.0)] | None = None
    unique_recipients_day: Count
    # Share of recipients who do not have the sender in their contacts.
    non_contact_ratio: Ratio
    reply_ratio: Ratio
    # Share of sent messages preceded by a typing indicator (scripts send without typing).
    typing_ratio: Ratio
    groups_created_day: Count
    group_members_added_day: Count
    # Coefficient of variation of the intervals between sends: near 0 is machine-regular.
    send_interval_cv: Annotated[float, Field(ge=0.0, le=100.0)]
    # Share of messages whose content hash equals another message's hash.
    identical_content_ratio: Ratio


class FeedbackSignals(Payload):
    """Negative feedback from recipients."""

    recipients_reached: Count
    blocks: Count
    reports: Count

    @model_validator(mode="after")
    def _within_reach(self) -> FeedbackSignals:
        # Only recipients can block or report: more of either than recipients is corrupt input.
        if max(self.blocks, self.reports) > self.recipients_reached:
            raise ValueError("blocks and reports cannot exceed recipients_reached")
        return self


class BusinessProfile(Payload):
    """Optional business details; they later link an account to a company."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200), PLAIN_TEXT] | None = None
    website: Annotated[str, StringConstraints(max_length=300), PLAIN_TEXT] | None = None
    email: Annotated[str, StringConstraints(max_length=320), PLAIN_TEXT] | None = None


# How far the clocks of the services that stamp a record may disagree with this one's.
CLOCK_SKEW_SECONDS = 15 * 60


class AccountSignals(Payload):
    account_id: Identifier
    phone: E164
    observed_at: AwareDatetime
    registration: RegistrationSignals
    messaging: MessagingSignals | None = None
    feedback: FeedbackSignals | None = None
    business: BusinessProfile | None = None

    @model_validator(mode="after")
    def _times_in_order(self) -> AccountSignals:
        # Neighbourhood windows are measured on observation times: a record stamped in the
        # future would keep its neighbourhoods "recently banned" until that date.
        # In seconds since the epoch: comparing aware datetimes costs several times more, and
        # this runs for every record of every batch.
        observed = self.observed_at.timestamp()
        if observed - time.time() > CLOCK_SKEW_SECONDS:
            raise ValueError(
                f"observed_at {self.observed_at.isoformat()} is in the future: "
                "a record cannot be observed yet"
            )
        if self.registration.registered_at.timestamp() - observed > CLOCK_SKEW_SECONDS:
            raise ValueError(
                f"observed_at {self.observed_at.isoformat()} is before the account registered "
                f"(registration.registered_at {self.registration.registered_at.isoformat()})"
            )
        return self


# What each detection point requires beyond the registration block.
REQUIRED_BLOCKS: dict[DetectionPoint, tuple[str, ...]] = {
    DetectionPoint.REGISTRATION: (),
    DetectionPoint.MESSAGING: ("messaging",),
    DetectionPoint.FEEDBACK: ("feedback",),
}


class ScoringRequest(Payload):
    """The payload of ``scoring.score_accounts``: the envelope is validated here, the records
    one by one by :func:`validate_records`, so one bad record does not reject the batch."""

    stage: DetectionPoint
    accounts: Annotated[list[Any], Field(min_length=1, max_length=10_000)]


class StagedAccount(AccountSignals):
    """An account record that carries its own stage: the line format of offline files."""

    stage: DetectionPoint

    @model_validator(mode="after")
    def _stage_blocks(self) -> StagedAccount:
        check_stage_blocks(self, self.stage)
        return self


class RecordError(ValueError):
    pass


def check_stage_blocks(record: AccountSignals, stage: DetectionPoint) -> None:
    missing = [block for block in REQUIRED_BLOCKS[stage] if getattr(record, block) is None]
    if missing:
        raise RecordError(f"stage {stage.value!r} requires the {', '.join(missing)} block")


_ACCOUNT = TypeAdapter(AccountSignals)
_ACCOUNTS = TypeAdapter(list[AccountSignals])


def validate_records(
    stage: DetectionPoint, raw: list[Any]
) -> tuple[list[AccountSignals], list[int], list[tuple[int, Any, str]]]:
    """Split raw records into valid ones (with their positions) and rejects with reasons."""
    # Nearly every batch is valid throughout: one validator call for the whole list costs a
    # fifth less than one per record. Any error sends the batch record by record, which names
    # each bad record and keeps the others.
    try:
        records = _ACCOUNTS.validate_python(raw)
        for record in records:
            check_stage_blocks(record, stage)
    except (ValidationError, RecordError):
        pass
    else:
        return records, list(range(len(records))), []
    valid: list[AccountSignals] = []
    positions: list[int] = []
    rejected: list[tuple[int, Any, str]] = []
    for index, item in enumerate(raw):
        try:
            record = _ACCOUNT.validate_python(item)
            check_stage_blocks(record, stage)
        except ValidationError as exc:
            rejected.append((index, item, describe_validation_error(exc)))
            continue
        except RecordError as exc:
            rejected.append((index, item, str(exc)))
            continue
        valid.append(record)
        positions.append(index)
    return valid, positions, rejected


def batches_by_stage(
    records: Iterable[dict[str, Any]], size: int
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Records that carry their ``stage`` (the line format of files), grouped into batches of one
    stage of up to ``size`` records, in order, as an upstream service sends them. The stage is
    passed on as given: a batch of an unknown stage is the scoring task's to reject, with a
    dead letter, as any client's would be."""
    pending: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        stage = str(record["stage"])
        batch = pending.setdefault(stage, [])
        batch.append(record)
        if len(batch) >= size:
            yield stage, pending.pop(stage)
    yield from pending.items()


def json_schema() -> dict[str, Any]:
    """JSON Schema of the scoring payload, for upstream teams (printed by ``bulkguard schema``)."""
    schema = ScoringRequest.model_json_schema()
    # The ``stage`` field's type keeps the name it was published under (upstream teams generate
    # code from this schema), whatever the enum is called here.
    defs = schema["$defs"]
    stage = {**defs.pop(DetectionPoint.__name__), "title": "Stage"}
    schema["$defs"] = {"Stage": stage, **defs}
    schema["properties"]["stage"] = {"$ref": "#/$defs/Stage"}
    schema["properties"]["accounts"]["items"] = {"$ref": "#/$defs/AccountSignals"}
    account = AccountSignals.model_json_schema()
    defs = {**account.pop("$defs", {}), "AccountSignals": account}
    schema.setdefault("$defs", {}).update(defs)
    return schema
