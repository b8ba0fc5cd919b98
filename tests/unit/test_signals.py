"""The scoring payload contract: one bad record is rejected with a readable reason, alone."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from pydantic import ValidationError

from tasks.scoring.signals import (
    AccountSignals,
    DetectionPoint,
    MessagingSignals,
    ScoringRequest,
    StagedAccount,
    json_schema,
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
    valid, positions, rejected = validate_records(DetectionPoint.FEEDBACK, [full_record()])
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
    valid, positions, rejected = validate_records(DetectionPoint.MESSAGING, [raw])
    assert rejected == []
    assert positions == [0]
    dumped = valid[0].model_dump()
    assert "truth" not in dumped
    assert "future_signal" not in dumped
    assert "sim_slot" not in dumped["registration"]
    assert "emoji_ratio" not in dumped["messaging"]


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        ("messaging.reply_ratio", 1.5, "Input should be less than or equal to 1"),
        ("messaging.typing_ratio", -0.1, "Input should be greater than or equal to 0"),
        ("messaging.non_contact_ratio", float("nan"), "Input should be a finite number"),
        ("messaging.minutes_to_first_burst", float("nan"), "Input should be a finite number"),
        ("messaging.send_interval_cv", float("inf"), "Input should be a finite number"),
        ("messaging.peak_msgs_15s", -1, "Input should be greater than or equal to 0"),
        ("messaging.peak_msgs_15s", 10.5, "Input should be a valid integer"),
        ("messaging.msgs_last_day", "many", "Input should be a valid integer"),
        ("messaging.reply_ratio", [0.5], "Input should be a valid number"),
        ("feedback.blocks", -3, "Input should be greater than or equal to 0"),
        ("registration.registered_at", "2020-01-10T12:00:00", "Input should have timezone info"),
        ("observed_at", "2020-01-10T12:01:00", "Input should have timezone info"),
        ("registration.ip_country", "sk", "String should match pattern"),
        ("registration.client", "hacked", "Input should be 'official'"),
        ("registration.network_id", "", "String should have at least 1 character"),
        ("phone", "0905123456", "String should match pattern"),
        ("phone", "+0421905123456", "String should match pattern"),
        ("phone", "+421 905 123 456", "String should match pattern"),
        ("phone", 421905123456, "Input should be a valid string"),
        ("account_id", "x" * 65, "String should have at most 64 characters"),
        ("messaging", "lots", "Input should be a valid dictionary"),
    ],
)
def test_bad_value_rejects_with_the_field_path(path: str, value: Any, problem: str) -> None:
    bad = with_value(full_record(), path, value)
    valid, positions, rejected = validate_records(DetectionPoint.FEEDBACK, [bad])
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
    valid, _, rejected = validate_records(DetectionPoint.FEEDBACK, [without(full_record(), path)])
    assert valid == []
    assert rejected[0][2] == f"{path}: Field required"


def test_several_problems_are_all_reported() -> None:
    bad = with_value(with_value(full_record(), "messaging.reply_ratio", 2.0), "phone", "12")
    _, _, rejected = validate_records(DetectionPoint.MESSAGING, [bad])
    reason = rejected[0][2]
    assert "phone: String should match pattern" in reason
    assert "messaging.reply_ratio: Input should be less than or equal to 1" in reason
    assert reason.count("; ") == 1


@pytest.mark.parametrize("item", ["account", None, 5, ["a"]])
def test_non_object_record_is_rejected_as_a_whole(item: Any) -> None:
    _, _, rejected = validate_records(DetectionPoint.REGISTRATION, [item])
    assert rejected == [
        (0, item, "(record): Input should be a valid dictionary or instance of AccountSignals")
    ]


def test_one_bad_record_rejects_only_itself_and_positions_are_kept() -> None:
    raw = [
        full_record("a0"),
        with_value(full_record("a1"), "messaging.reply_ratio", 1.5),
        full_record("a2"),
        "garbage",
        full_record("a4"),
    ]
    valid, positions, rejected = validate_records(DetectionPoint.MESSAGING, raw)
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
    valid, _, rejected = validate_records(stage, [raw])
    assert valid == []
    assert rejected == [(0, raw, expected)]


def test_registration_stage_needs_only_the_registration_block() -> None:
    raw = record("reg-only")
    valid, positions, rejected = validate_records(DetectionPoint.REGISTRATION, [raw])
    assert rejected == []
    assert positions == [0]
    assert valid[0].messaging is None
    assert valid[0].feedback is None


def test_feedback_stage_does_not_require_messaging_block() -> None:
    raw = record("fb", feedback=feedback_block())
    valid, _, rejected = validate_records(DetectionPoint.FEEDBACK, [raw])
    assert rejected == []
    assert valid[0].feedback is not None


def test_datetimes_with_offsets_keep_the_instant() -> None:
    raw = record("tz")
    raw["observed_at"] = "2020-01-10T14:30:00+02:00"
    (rec,) = validate_records(DetectionPoint.REGISTRATION, [raw])[0]
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
        DetectionPoint.REGISTRATION, [record("t", observed_at=observed)]
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
    valid, _, rejected = validate_records(DetectionPoint.REGISTRATION, raws)
    assert rejected == []
    assert len(valid) == 2


def test_staged_account_checks_its_own_stage() -> None:
    raw = {**record("s1"), "stage": "messaging"}
    with pytest.raises(ValidationError, match="requires the messaging block"):
        StagedAccount.model_validate(raw)
    ok = StagedAccount.model_validate({**raw, "messaging": messaging_block()})
    assert ok.stage is DetectionPoint.MESSAGING
    with pytest.raises(ValidationError, match="stage"):
        StagedAccount.model_validate({**raw, "stage": "payment"})


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
        DetectionPoint.MESSAGING, [with_value(full_record(), path, value)]
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
    assert account["properties"]["phone"]["pattern"] == r"^\+[1-9]\d{6,14}$"
    assert "$defs" not in account  # hoisted to the top level, where the $refs point
    assert set(defs["Stage"]["enum"]) == {"registration", "messaging", "feedback"}
    messaging = defs["MessagingSignals"]
    assert set(messaging["required"]) == set(MessagingSignals.model_fields) - {
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
    assert set(account["properties"]) == set(AccountSignals.model_fields)


def test_a_valid_batch_at_once_and_a_bad_one_record_by_record_agree() -> None:
    # A batch is validated in one call while every record is valid; one bad record sends it
    # record by record. Either way the good records come out the same, at their positions.
    raw = messaging_accounts(40)
    valid, positions, rejected = validate_records(DetectionPoint.MESSAGING, raw)
    assert (positions, rejected) == (list(range(40)), [])
    assert [r.account_id for r in valid] == [item["account_id"] for item in raw]
    mixed = [*raw[:10], {"account_id": "no-fields"}, *raw[10:], {**raw[0], "messaging": None}]
    kept, kept_at, refused = validate_records(DetectionPoint.MESSAGING, mixed)
    assert [index for index, _, _ in refused] == [10, 41]
    assert "requires the messaging block" in refused[1][2]
    assert kept_at == [*range(10), *range(11, 41)]
    assert [r.model_dump() for r in kept] == [r.model_dump() for r in valid]
