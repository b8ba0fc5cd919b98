"""The public payload contract of ``scoring.score_accounts``.

Upstream services send ``{"stage": ..., "accounts": [...]}``. The envelope is validated first
(pydantic, like every other message); each account record is then validated on its own so that
one bad record is dead-lettered with its reason while the rest of the batch is scored. Unknown
fields are ignored (upstream may add signals before bulkguard uses them); wrong types,
out-of-range values, NaN and infinities, and missing required fields reject the record. Message
text never travels: repeated content is a ratio of hashes.

Account records are msgspec Structs rather than pydantic models: they are validated on the
scoring path, a thousand per batch, where msgspec checks the same constraints (types without
coercion, ranges, patterns, time zones) at about a quarter of pydantic's cost. The published
JSON Schema is generated from these same definitions (:func:`json_schema`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import Meta
from pydantic import Field

from tasks.accounts import record_errors
from tasks.payload import Payload, text_problem


class DetectionPoint(StrEnum):
    """The three detection points the platform describes, each with its own thresholds."""

    REGISTRATION = "registration"
    MESSAGING = "messaging"
    FEEDBACK = "feedback"


# "(?!\n)": Python's "$" also matches before a final newline, and "+421905123456\n" is not E.164.
E164 = Annotated[str, Meta(pattern=r"^\+[1-9]\d{6,14}(?!\n)$")]
CountryCode = Annotated[str, Meta(pattern=r"^[A-Z]{2}(?!\n)$")]
Identifier = Annotated[str, Meta(min_length=1, max_length=64)]
# The account holder's language as the platform knows it: a BCP 47 tag ("sk", "en-GB", "pt-BR").
LanguageTag = Annotated[str, Meta(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}(?!\n)$")]
# No coercion: JSON true or "100" is a wrong type, not a count (a float field still takes an
# integer). A range also refuses NaN, which compares false with either bound.
Ratio = Annotated[float, Meta(ge=0.0, le=1.0)]
Count = Annotated[int, Meta(ge=0, le=10_000_000)]
AwareDatetime = Annotated[dt.datetime, Meta(tz=True)]


class Record(msgspec.Struct, frozen=True, omit_defaults=True):
    """The base of account records: immutable once validated; unknown keys are ignored."""


def as_json(record: Record) -> dict[str, Any]:
    """A record as JSON values (times as ISO 8601 text), without the fields it left out."""
    out: dict[str, Any] = msgspec.to_builtins(record)
    return out


class RegistrationSignals(Record, frozen=True):
    """Known from the moment the account registers."""

    registered_at: AwareDatetime
    ip_country: CountryCode
    # Opaque ids of the registering network (e.g. an ASN or /24) and device fingerprint.
    network_id: Identifier
    device_id: Identifier
    client: Literal["official", "business", "web", "modified"]


class MessagingSignals(Record, frozen=True):
    """Behaviour while messaging, aggregated by upstream over the stated windows."""

    peak_msgs_15s: Count
    msgs_last_hour: Count
    msgs_last_day: Count
    unique_recipients_day: Count
    # Share of recipients who do not have the sender in their contacts.
    non_contact_ratio: Ratio
    reply_ratio: Ratio
    # Share of sent messages preceded by a typing indicator (scripts send without typing).
    typing_ratio: Ratio
    groups_created_day: Count
    group_members_added_day: Count
    # Coefficient of variation of the intervals between sends: near 0 is machine-regular.
    send_interval_cv: Annotated[float, Meta(ge=0.0, le=100.0)]
    # Share of messages whose content hash equals another message's hash.
    identical_content_ratio: Ratio
    # Minutes from registration to the first burst of sending; absent if none happened. (The
    # bound, far beyond any account's age, is what refuses infinity.)
    minutes_to_first_burst: Annotated[float, Meta(ge=0.0, le=1e8)] | None = None


class FeedbackSignals(Record, frozen=True):
    """Negative feedback from recipients."""

    recipients_reached: Count
    blocks: Count
    reports: Count

    def __post_init__(self) -> None:
        # Only recipients can block or report: more of either than recipients is corrupt input.
        if max(self.blocks, self.reports) > self.recipients_reached:
            raise ValueError("blocks and reports cannot exceed recipients_reached")


class BusinessProfile(Record, frozen=True):
    """Optional business details; they later link an account to a company."""

    name: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    website: Annotated[str, Meta(max_length=300)] | None = None
    email: Annotated[str, Meta(max_length=320)] | None = None


# How far the clocks of the services that stamp a record may disagree with this one's.
CLOCK_SKEW_SECONDS = 15 * 60


class AccountSignals(Record, frozen=True):
    account_id: Identifier
    phone: E164
    observed_at: AwareDatetime
    registration: RegistrationSignals
    messaging: MessagingSignals | None = None
    feedback: FeedbackSignals | None = None
    business: BusinessProfile | None = None
    # Optional: the statement of reasons of an action is written in it where bulkguard has a
    # template for it, else in the language of the number's country (``tasks.templating``).
    language: LanguageTag | None = None

    def __post_init__(self) -> None:
        _plain_text(self)


def check_times(record: AccountSignals, now: float | None) -> None:
    """:class:`RecordError` if ``record`` was observed after ``now`` (seconds since the epoch)
    or before its account registered, beyond the clocks' skew. ``now`` is None for records
    read back from history, which were checked against the clock when they were received.

    Checked once a record is converted rather than while msgspec builds it, since the clock is
    the caller's: the scoring path reads it once per batch."""
    # Neighbourhood windows are measured on observation times: a record stamped in the future
    # would keep its neighbourhoods "recently banned" until that date. In seconds since the
    # epoch: comparing aware datetimes costs several times more, and this runs for every record
    # of every batch.
    observed = record.observed_at.timestamp()
    if now is not None and observed - now > CLOCK_SKEW_SECONDS:
        raise RecordError(
            record_errors.of_record(
                f"observed_at {record.observed_at.isoformat()} is in the future: "
                "a record cannot be observed yet"
            )
        )
    if record.registration.registered_at.timestamp() - observed > CLOCK_SKEW_SECONDS:
        raise RecordError(
            record_errors.of_record(
                f"observed_at {record.observed_at.isoformat()} is before the account registered "
                f"(registration.registered_at {record.registration.registered_at.isoformat()})"
            )
        )


# The record's free text (no pattern or choice limits it), checked by ``_plain_text``; a test
# holds this list to the Structs' fields.
TEXT_FIELDS = (
    "account_id",
    "registration.network_id",
    "registration.device_id",
    "business.name",
    "business.website",
    "business.email",
)


def _plain_text(record: AccountSignals) -> None:
    """Refuse a record whose free text cannot be kept (``tasks.payload.text_problem``)."""
    registration, business = record.registration, record.business
    # The fields of TEXT_FIELDS joined and checked at once, since this runs for every record;
    # which one is at fault is looked for only when one is.
    joined = record.account_id + registration.network_id + registration.device_id
    if business is not None:
        joined += (business.name or "") + (business.website or "") + (business.email or "")
    if text_problem(joined) is not None:
        _refuse_text(record)


def _refuse_text(record: AccountSignals) -> None:
    for path in TEXT_FIELDS:
        value: Any = record
        for name in path.split("."):
            value = getattr(value, name, None) if value is not None else None
        problem = text_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise ValueError(f"{path} {problem}")


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


class RecordError(ValueError):
    """An account record that is not valid, with a reason an operator can read."""


class StagedAccount(AccountSignals, frozen=True, kw_only=True):
    """An account record that carries its own stage: the line format of offline files."""

    stage: DetectionPoint

    def __post_init__(self) -> None:
        super().__post_init__()
        check_stage_blocks(self, self.stage)


def check_stage_blocks(record: AccountSignals, stage: DetectionPoint) -> None:
    missing = [block for block in REQUIRED_BLOCKS[stage] if getattr(record, block) is None]
    if missing:
        raise RecordError(f"stage {stage.value!r} requires the {', '.join(missing)} block")


R = TypeVar("R", bound=AccountSignals)


def parse_record(raw: Any, kind: type[R], *, now: dt.datetime | None, strict: bool = True) -> R:
    """One record (decoded JSON) as ``kind``; :class:`RecordError` with the reason if invalid,
    observed after ``now`` among them (:func:`check_times`; None for history). ``strict=False``
    reads history: records a past release accepted in forms this one refuses (numbers as text,
    Unix times)."""
    try:
        record = msgspec.convert(raw, kind, strict=strict)
    except msgspec.ValidationError as exc:
        raise RecordError(record_errors.describe(exc, raw, kind)) from None
    except UnicodeEncodeError:
        # msgspec encodes text it parses (times, patterns, names of choices) as UTF-8, which a
        # lone surrogate from a standard-library client cannot be.
        raise RecordError(record_errors.not_unicode(raw, kind)) from None
    except RecursionError:
        raise RecordError("(record): nested too deeply to read") from None
    check_times(record, None if now is None else now.timestamp())
    return record


def validate_records(
    stage: DetectionPoint, raw: list[Any], *, now: dt.datetime
) -> tuple[list[AccountSignals], list[int], list[tuple[int, Any, str]]]:
    """Split raw records into valid ones (with their positions) and rejects with reasons;
    ``now`` is the time they are received."""
    clock = now.timestamp()
    # Nearly every batch is valid throughout: one call for the whole list costs less than one
    # per record. Any error sends the batch record by record, which names each bad record and
    # keeps the others.
    try:
        records = msgspec.convert(raw, list[AccountSignals])
        for record in records:
            check_times(record, clock)
            check_stage_blocks(record, stage)
    except (msgspec.ValidationError, RecordError, UnicodeEncodeError, RecursionError):
        pass  # told apart record by record below (``parse_record`` names each failure)
    else:
        return records, list(range(len(records))), []
    valid: list[AccountSignals] = []
    positions: list[int] = []
    rejected: list[tuple[int, Any, str]] = []
    for index, item in enumerate(raw):
        try:
            record = parse_record(item, AccountSignals, now=now)
            check_stage_blocks(record, stage)
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
    """JSON Schema of the scoring payload, for upstream teams (printed by ``bulkguard schema``):
    the envelope's from its pydantic model, the records' from the Structs above."""
    schema = ScoringRequest.model_json_schema()
    # The ``stage`` field's type keeps the name it was published under (upstream teams generate
    # code from this schema), whatever the enum is called here.
    defs = schema["$defs"]
    stage = {**defs.pop(DetectionPoint.__name__), "title": "Stage"}
    schema["$defs"] = {"Stage": stage, **defs}
    schema["properties"]["stage"] = {"$ref": "#/$defs/Stage"}
    (account,), records = msgspec.json.schema_components(
        [AccountSignals], ref_template="#/$defs/{name}"
    )
    schema["properties"]["accounts"]["items"] = account
    schema["$defs"].update(records)
    return schema
