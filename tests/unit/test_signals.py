"""The scoring payload contract: one bad record is rejected with a readable reason, alone."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import msgspec
import pytest
from msgspec import inspect
from msgspec.structs import fields
from pydantic import ValidationError

from infra.db.models import utcnow
from tasks.accounts import record_errors
from tasks.accounts.record_errors import MAX_REASON
from tasks.accounts.signals import (
    TEXT_FIELDS,
    AccountSignals,
    DetectionPoint,
    MessagingSignals,
    RecordError,
    ScoringRequest,
    StagedAccount,
    as_json,
    json_schema,
    parse_record,
    validate_records,
)
from tests.records import T0, feedback_block, messaging_accounts, messaging_block, record


def full_record(account_id: str = "acc-1") -> dict[str, Any]:
    return record(
        account_id,
        messaging=messaging_block(),
        feedback=feedback_block(),
        business={
            "name": "Reach Media s.r.o.",
            "website": "https://reachmedia.sk/",
            "email": "sales@reachmedia.sk",
        },
    )


def with_value(raw: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    *parents, last = path.split(".")
    target = out
    for key in parents:
        target = target[key]
    target[last] = value
    return out


def without(raw: dict[str, Any], path: str) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    *parents, last = path.split(".")
    target = out
    for key in parents:
        target = target[key]
    del target[last]
    return out


def test_valid_record_passes_with_its_values() -> None:
    valid, positions, rejected = validate_records(
        DetectionPoint.FEEDBACK, [full_record()], now=utcnow()
    )
    assert rejected == []
    assert positions == [0]
    (rec,) = valid
    assert rec.account_id == "acc-1"
    assert rec.phone == "+421905123456"
    assert rec.registration.registered_at == T0
    assert rec.registration.ip_country == "SK"
    assert rec.messaging is not None
    assert rec.messaging.reply_ratio == 0.8
    assert rec.messaging.minutes_to_first_burst is None
    assert rec.feedback is not None
    assert rec.feedback.reports == 4
    assert rec.business is not None
    assert rec.business.email == "sales@reachmedia.sk"


def test_unknown_fields_are_ignored_at_every_level() -> None:
    raw = full_record()
    raw["truth"] = {"label": 1}
    raw["future_signal"] = 3
    raw["registration"]["sim_slot"] = 2
    raw["messaging"]["emoji_ratio"] = 0.4
    valid, positions, rejected = validate_records(DetectionPoint.MESSAGING, [raw], now=utcnow())
    assert rejected == []
    assert positions == [0]
    dumped = as_json(valid[0])
    assert "truth" not in dumped
    assert "future_signal" not in dumped
    assert "sim_slot" not in dumped["registration"]
    assert "emoji_ratio" not in dumped["messaging"]


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        ("messaging.reply_ratio", 1.5, "Expected `float` <= 1.0"),
        ("messaging.typing_ratio", -0.1, "Expected `float` >= 0.0"),
        ("messaging.non_contact_ratio", float("nan"), "Expected a finite number"),
        ("messaging.minutes_to_first_burst", float("nan"), "Expected a finite number"),
        ("messaging.minutes_to_first_burst", float("inf"), "Expected a finite number"),
        ("messaging.send_interval_cv", float("inf"), "Expected a finite number"),
        ("messaging.peak_msgs_15s", -1, "Expected `int` >= 0"),
        ("messaging.peak_msgs_15s", 10.5, "Expected `int`, got `float`"),
        ("messaging.msgs_last_day", "many", "Expected `int`, got `str`"),
        ("messaging.reply_ratio", [0.5], "Expected `float`, got `array`"),
        ("feedback.blocks", -3, "Expected `int` >= 0"),
        ("registration.registered_at", "2020-01-10T12:00:00", "Expected `datetime` with a time"),
        ("registration.registered_at", 1578657600, "Expected `datetime`, got `int`"),
        ("observed_at", "2020-01-10T12:01:00", "Expected `datetime` with a timezone"),
        ("registration.ip_country", "sk", "Expected `str` matching regex"),
        ("registration.client", "hacked", "Expected one of 'business', 'modified'"),
        ("registration.network_id", "", "Expected `str` of length >= 1"),
        ("phone", "0905123456", "Expected `str` matching regex"),
        ("phone", "+0421905123456", "Expected `str` matching regex"),
        ("phone", "+421 905 123 456", "Expected `str` matching regex"),
        ("phone", 421905123456, "Expected `str`, got `int`"),
        ("account_id", "x" * 65, "Expected `str` of length <= 64"),
        ("messaging", "lots", "Expected `object | null`, got `str`"),
    ],
)
def test_bad_value_rejects_with_the_field_path(path: str, value: Any, problem: str) -> None:
    bad = with_value(full_record(), path, value)
    valid, positions, rejected = validate_records(DetectionPoint.FEEDBACK, [bad], now=utcnow())
    assert valid == []
    assert positions == []
    ((index, item, message),) = rejected
    assert index == 0
    assert item is bad
    assert message.startswith(f"{path}: {problem}"), message
    assert ";" not in message  # one problem, one clause


@pytest.mark.parametrize(
    "path",
    [
        "account_id",
        "phone",
        "observed_at",
        "registration",
        "registration.device_id",
        "registration.registered_at",
        "messaging.reply_ratio",
        "feedback.reports",
    ],
)
def test_missing_required_field_is_named(path: str) -> None:
    valid, _, rejected = validate_records(
        DetectionPoint.FEEDBACK, [without(full_record(), path)], now=utcnow()
    )
    assert valid == []
    assert rejected[0][2] == f"{path}: Field required"


def test_a_record_with_several_problems_is_rejected_for_one_of_them() -> None:
    bad = with_value(with_value(full_record(), "messaging.reply_ratio", 2.0), "phone", "12")
    _, _, rejected = validate_records(DetectionPoint.MESSAGING, [bad], now=utcnow())
    reason = rejected[0][2]
    assert reason.startswith(("phone: Expected `str` matching regex", "messaging.reply_ratio:"))
    assert ";" not in reason


def test_feedback_beyond_its_reach_names_the_block() -> None:
    bad = with_value(full_record(), "feedback.blocks", 201)
    _, _, rejected = validate_records(DetectionPoint.FEEDBACK, [bad], now=utcnow())
    assert rejected[0][2] == "feedback: blocks and reports cannot exceed recipients_reached"


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        ("account_id", "a\x00b", "account_id contains a NUL character"),
        (
            "registration.device_id",
            "dev-\ud800",
            "registration.device_id contains a lone surrogate",
        ),
        ("business.name", "Reach\x00", "business.name contains a NUL character"),
    ],
)
def test_text_that_cannot_be_stored_names_its_field(path: str, value: str, problem: str) -> None:
    bad = with_value(full_record(), path, value)
    _, _, rejected = validate_records(DetectionPoint.FEEDBACK, [bad], now=utcnow())
    assert rejected[0][2].startswith(f"(record): {problem}")


@pytest.mark.parametrize(
    ("item", "kind"), [("account", "str"), (None, "null"), (5, "int"), (["a"], "array")]
)
def test_non_object_record_is_rejected_as_a_whole(item: Any, kind: str) -> None:
    _, _, rejected = validate_records(DetectionPoint.REGISTRATION, [item], now=utcnow())
    assert rejected == [(0, item, f"(record): Expected `object`, got `{kind}`")]


def test_one_bad_record_rejects_only_itself_and_positions_are_kept() -> None:
    raw = [
        full_record("a0"),
        with_value(full_record("a1"), "messaging.reply_ratio", 1.5),
        full_record("a2"),
        "garbage",
        full_record("a4"),
    ]
    valid, positions, rejected = validate_records(DetectionPoint.MESSAGING, raw, now=utcnow())
    assert [r.account_id for r in valid] == ["a0", "a2", "a4"]
    assert positions == [0, 2, 4]
    assert [(i, item) for i, item, _ in rejected] == [(1, raw[1]), (3, "garbage")]
    assert rejected[0][2].startswith("messaging.reply_ratio:")


@pytest.mark.parametrize(
    ("stage", "drop", "expected"),
    [
        (DetectionPoint.MESSAGING, "messaging", "stage 'messaging' requires the messaging block"),
        (DetectionPoint.FEEDBACK, "feedback", "stage 'feedback' requires the feedback block"),
    ],
)
def test_stage_requires_its_block(stage: DetectionPoint, drop: str, expected: str) -> None:
    raw = without(full_record(), drop)
    valid, _, rejected = validate_records(stage, [raw], now=utcnow())
    assert valid == []
    assert rejected == [(0, raw, expected)]


def test_registration_stage_needs_only_the_registration_block() -> None:
    raw = record("reg-only")
    valid, positions, rejected = validate_records(DetectionPoint.REGISTRATION, [raw], now=utcnow())
    assert rejected == []
    assert positions == [0]
    assert valid[0].messaging is None
    assert valid[0].feedback is None


def test_feedback_stage_does_not_require_messaging_block() -> None:
    raw = record("fb", feedback=feedback_block())
    valid, _, rejected = validate_records(DetectionPoint.FEEDBACK, [raw], now=utcnow())
    assert rejected == []
    assert valid[0].feedback is not None


def test_datetimes_with_offsets_keep_the_instant() -> None:
    raw = record("tz")
    raw["observed_at"] = "2020-01-10T14:30:00+02:00"
    (rec,) = validate_records(DetectionPoint.REGISTRATION, [raw], now=utcnow())[0]
    assert rec.observed_at == dt.datetime(2020, 1, 10, 12, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("observed", "problem"),
    [
        (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), "is in the future"),
        (T0 - dt.timedelta(hours=1), "is before the account registered"),
    ],
)
def test_records_out_of_time_order_are_rejected(observed: dt.datetime, problem: str) -> None:
    # Windows over neighbourhoods are measured on observation times: a record stamped in the
    # future would keep its neighbourhoods hot until then.
    _, _, rejected = validate_records(
        DetectionPoint.REGISTRATION, [record("t", observed_at=observed)], now=utcnow()
    )
    ((index, _, reason),) = rejected
    assert index == 0
    assert problem in reason


def test_clocks_may_disagree_by_a_few_minutes() -> None:
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    raws = [
        record("early", observed_at=T0 - dt.timedelta(minutes=5)),
        record("ahead", registered_at=ahead - dt.timedelta(minutes=1), observed_at=ahead),
    ]
    valid, _, rejected = validate_records(DetectionPoint.REGISTRATION, raws, now=utcnow())
    assert rejected == []
    assert len(valid) == 2


def test_the_time_of_receipt_is_the_callers() -> None:
    # The same record, received by a caller whose clock reads an hour before it was observed:
    # refused with the reason the record-by-record path gives, whichever path finds it.
    raw = record("t", observed_at=T0)
    earlier = T0 - dt.timedelta(hours=1)
    ((_, _, reason),) = validate_records(DetectionPoint.REGISTRATION, [raw], now=earlier)[2]
    assert reason == (
        f"(record): observed_at {T0.isoformat()} is in the future: a record cannot be observed yet"
    )
    with pytest.raises(RecordError, match="is in the future"):
        parse_record(raw, AccountSignals, now=earlier)
    # History is read without the clock: it was checked when it was received.
    assert parse_record(raw, AccountSignals, now=None).observed_at == T0
    assert validate_records(DetectionPoint.REGISTRATION, [raw], now=T0)[2] == []


def test_staged_account_checks_its_own_stage() -> None:
    raw = {**record("s1"), "stage": "messaging"}
    with pytest.raises(RecordError, match="requires the messaging block"):
        parse_record(raw, StagedAccount, now=utcnow())
    ok = parse_record({**raw, "messaging": messaging_block()}, StagedAccount, now=utcnow())
    assert ok.stage is DetectionPoint.MESSAGING
    with pytest.raises(RecordError, match="stage: Expected one of 'registration'"):
        parse_record({**raw, "stage": "payment"}, StagedAccount, now=utcnow())


def test_envelope_requires_stage_and_non_empty_accounts() -> None:
    request = ScoringRequest.model_validate({"stage": "feedback", "accounts": [1]})
    assert request.stage is DetectionPoint.FEEDBACK
    with pytest.raises(ValidationError, match="accounts"):
        ScoringRequest.model_validate({"stage": "feedback", "accounts": []})
    with pytest.raises(ValidationError, match="stage"):
        ScoringRequest.model_validate({"stage": "payment", "accounts": [1]})


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("messaging.peak_msgs_15s", True),
        ("messaging.msgs_last_day", "100"),
        ("messaging.reply_ratio", "0.5"),
    ],
)
def test_wrong_json_types_are_not_coerced(path: str, value: Any) -> None:
    _, _, rejected = validate_records(
        DetectionPoint.MESSAGING, [with_value(full_record(), path, value)], now=utcnow()
    )
    assert len(rejected) == 1
    assert rejected[0][2].startswith(path)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_json_schema_describes_the_payload() -> None:
    schema = json_schema()
    json.dumps(schema)  # plain JSON
    assert schema["type"] == "object"
    assert set(schema["required"]) == {"stage", "accounts"}
    accounts = schema["properties"]["accounts"]
    assert accounts["type"] == "array"
    assert accounts["minItems"] == 1
    assert accounts["maxItems"] == 10_000
    assert accounts["items"] == {"$ref": "#/$defs/AccountSignals"}
    defs = schema["$defs"]
    assert {
        "AccountSignals",
        "RegistrationSignals",
        "MessagingSignals",
        "FeedbackSignals",
        "BusinessProfile",
        "Stage",
    } <= set(defs)
    account = defs["AccountSignals"]
    assert set(account["required"]) == {"account_id", "phone", "observed_at", "registration"}
    assert account["properties"]["phone"]["pattern"] == r"^\+[1-9]\d{6,14}(?!\n)$"
    assert "$defs" not in account  # hoisted to the top level, where the $refs point
    assert set(defs["Stage"]["enum"]) == {"registration", "messaging", "feedback"}
    messaging = defs["MessagingSignals"]
    assert set(messaging["required"]) == {f.encode_name for f in fields(MessagingSignals)} - {
        "minutes_to_first_burst"
    }
    assert messaging["properties"]["reply_ratio"]["maximum"] == 1.0
    assert messaging["properties"]["reply_ratio"]["minimum"] == 0.0
    refs = _refs(schema)
    assert "#/$defs/AccountSignals" in refs
    for ref in refs:
        assert ref.startswith("#/$defs/")
        assert ref.removeprefix("#/$defs/") in defs, ref


def test_json_schema_matches_the_model_fields() -> None:
    account = json_schema()["$defs"]["AccountSignals"]
    assert set(account["properties"]) == {f.encode_name for f in fields(AccountSignals)}


def test_a_valid_batch_at_once_and_a_bad_one_record_by_record_agree() -> None:
    # A batch is validated in one call while every record is valid; one bad record sends it
    # record by record. Either way the good records come out the same, at their positions.
    raw = messaging_accounts(40)
    valid, positions, rejected = validate_records(DetectionPoint.MESSAGING, raw, now=utcnow())
    assert (positions, rejected) == (list(range(40)), [])
    assert [r.account_id for r in valid] == [item["account_id"] for item in raw]
    mixed = [*raw[:10], {"account_id": "no-fields"}, *raw[10:], {**raw[0], "messaging": None}]
    kept, kept_at, refused = validate_records(DetectionPoint.MESSAGING, mixed, now=utcnow())
    assert [index for index, _, _ in refused] == [10, 41]
    assert "requires the messaging block" in refused[1][2]
    assert kept_at == [*range(10), *range(11, 41)]
    assert kept == valid


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("registration.client", "x\ud800"),
        ("observed_at", "2020-01-10T\ud800"),
        ("messaging", "\ud800"),
    ],
)
def test_a_lone_surrogate_where_text_is_parsed_names_its_field(path: str, value: str) -> None:
    # A client on the standard library's encoder can send one where a pattern, a time or an
    # object is expected; the record is refused, never the batch.
    bad = with_value(full_record(), path, value)
    valid, _, rejected = validate_records(
        DetectionPoint.FEEDBACK, [full_record("ok"), bad], now=utcnow()
    )
    assert [r.account_id for r in valid] == ["ok"]
    assert rejected == [(1, bad, f"{path}: contains a lone surrogate: not valid Unicode text")]


@pytest.mark.parametrize(
    ("path", "value"), [("phone", "+421905123456\n"), ("registration.ip_country", "SK\n")]
)
def test_a_trailing_newline_is_not_part_of_a_pattern(path: str, value: str) -> None:
    # Python's "$" matches before a final newline; the contract's patterns end at the text's end.
    _, _, rejected = validate_records(
        DetectionPoint.FEEDBACK, [with_value(full_record(), path, value)], now=utcnow()
    )
    assert rejected[0][2].startswith(f"{path}: Expected `str` matching regex")


def test_a_refused_choice_names_the_allowed_values_not_the_value_sent() -> None:
    sent = "+421905123456 Jana Novakova"
    bad = with_value(full_record(), "registration.client", sent)
    ((_, _, reason),) = validate_records(DetectionPoint.FEEDBACK, [bad], now=utcnow())[2]
    assert reason == (
        "registration.client: Expected one of 'business', 'modified', 'official', 'web'"
    )
    with pytest.raises(RecordError) as refused:
        parse_record({**full_record(), "stage": sent * 100}, StagedAccount, now=utcnow())
    assert sent not in str(refused.value)
    assert str(refused.value) == "stage: Expected one of 'registration', 'messaging', 'feedback'"


def test_reasons_are_short_whatever_the_record() -> None:
    bad = {**full_record(), "registration": {"x" * 5000: 1}}
    ((_, _, reason),) = validate_records(DetectionPoint.FEEDBACK, [bad], now=utcnow())[2]
    assert len(reason) <= MAX_REASON
    # Whatever msgspec says, however long, a reason is cut to the bound.
    long = msgspec.ValidationError("Expected `str` " + "x" * 5000 + " - at `$.phone`")
    cut = record_errors.describe(long, full_record(), AccountSignals)
    assert cut.startswith("phone: Expected `str` xxx")
    assert len(cut) == MAX_REASON
    assert cut.endswith("…")


def _declared_free_text(node: inspect.Type, path: str = "") -> set[str]:
    """Every str field of the record types that no pattern or choice limits."""
    found: set[str] = set()
    alternatives = node.types if isinstance(node, inspect.UnionType) else (node,)
    for option in alternatives:
        if isinstance(option, inspect.StructType):
            for field in option.fields:
                found |= _declared_free_text(field.type, f"{path}.{field.name}".lstrip("."))
        elif isinstance(option, inspect.StrType) and option.pattern is None:
            found.add(path)
    return found


def test_every_free_text_field_is_checked() -> None:
    assert set(TEXT_FIELDS) == _declared_free_text(inspect.type_info(AccountSignals))


@pytest.mark.parametrize("path", TEXT_FIELDS)
@pytest.mark.parametrize(("value", "problem"), [("a\x00b", "NUL"), ("a\ud800b", "lone surrogate")])
def test_each_free_text_field_refuses_what_cannot_be_kept(
    path: str, value: str, problem: str
) -> None:
    bad = with_value(full_record(), path, value)
    _, _, rejected = validate_records(
        DetectionPoint.FEEDBACK, [full_record("ok"), bad], now=utcnow()
    )
    assert rejected[0][2].startswith(f"(record): {path} contains a {problem}")


def test_an_unknown_key_that_is_not_unicode_is_not_quoted() -> None:
    # The key is the client's text: a reason names declared fields only.
    key = "contact jana@example.com +421905123456 \ud800"
    bad = {key: 1, **with_value(full_record(), "registration.client", "x\ud800")}
    _, _, rejected = validate_records(DetectionPoint.FEEDBACK, [bad], now=utcnow())
    assert rejected[0][2] == (
        "registration.client: contains a lone surrogate: not valid Unicode text"
    )


def test_a_deeply_nested_record_is_refused_alone() -> None:
    deep: Any = "leaf"
    for _ in range(5000):
        deep = [deep]
    bad = {"upstream_tree": deep, **with_value(full_record(), "registration.client", "x\ud800")}
    valid, _, rejected = validate_records(
        DetectionPoint.FEEDBACK, [full_record("ok"), bad], now=utcnow()
    )
    assert [r.account_id for r in valid] == ["ok"]
    assert rejected == [
        (1, bad, "registration.client: contains a lone surrogate: not valid Unicode text")
    ]


def test_history_is_read_in_the_forms_an_earlier_release_accepted() -> None:
    # Snapshots keep records as received; one scored before this release may carry a Unix time
    # or a number as text, and must still explain its decision.
    old = with_value(full_record(), "registration.registered_at", 1578657600)
    old = with_value(old, "messaging.send_interval_cv", "2.5")
    with pytest.raises(RecordError):
        parse_record(old, AccountSignals, now=utcnow())
    read = parse_record(old, AccountSignals, strict=False, now=utcnow())
    assert read.registration.registered_at == T0
    assert read.messaging is not None
    assert read.messaging.send_interval_cv == 2.5
