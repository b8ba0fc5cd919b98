"""The redacting log filter and the masks it applies, called directly."""

from __future__ import annotations

import io
import logging
import sys

import pytest
from celery.app.log import TaskFormatter
from celery.utils.log import ColorFormatter
from pydantic import BaseModel, ValidationError

from infra.redaction import RedactingFilter, display_url, install, redact

PHONES = [
    "+421986355464",
    "+44 7787 236894",
    "+1-202-555-0143",
    "(030) 123-4567",
    "0151 1234 5678",
    "0151.234.5678",
    "00421986355464",
    "421900000000",  # E.164 without its "+", as a number in JSON
]
EMAILS = ["sales@blastgrowth0.co.uk", "j.doe+bulk@mail.example.com"]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_are_masked(phone: str) -> None:
    text = redact(f"record 3: phone {phone} is taken")
    assert phone not in text
    assert sum(c.isdigit() for c in text) <= 5  # "3" and what the mask keeps
    assert text.startswith("record 3: phone ")
    assert text.endswith(" is taken")


def test_an_international_number_inside_a_task_name_is_masked() -> None:
    # An unknown task's name is whatever a client sent; "." before a digit would be a decimal's.
    text = redact("unknown task name 'scoring.+421905777888 ceo@zyxwv.example'")
    assert text == "unknown task name 'scoring.+42********88 c***@***.example'"
    assert redact("took 0.0123456789 s") == "took 0.0123456789 s"


@pytest.mark.parametrize("email", EMAILS)
def test_email_addresses_are_masked_with_their_domain(email: str) -> None:
    text = redact(f"write to {email}.")
    assert email not in text
    business = email.split("@")[1].split(".", maxsplit=1)[0]
    assert business not in text  # the domain names the business
    assert text == f"write to {email[0]}***@***.{email.rsplit('.', 1)[1]}."


@pytest.mark.parametrize(
    "text",
    [
        "scored 500 of 10000 accounts in 0.123456789s",
        "account acc-5-0000002 rejected",
        "Task scoring.score_accounts[123e4567-e89b-12d3-a456-426614174000] received",
        "observed 2019-12-07 10:00:00+00:00, score 0.9912345",
        "content hash e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "worker memory 1500000 KiB; dead letter 1234567",
        "scoring-ab12cd34@worker-host ready.",
        "connected to redis://127.0.0.1:6379/0",
        "postgresql+psycopg://bulkguard@db.example.com:5432/bulkguard",
    ],
)
def test_what_operators_need_is_left_alone(text: str) -> None:
    assert redact(text) == text


# Task ids and other ids whose leading digits once read as national phone numbers.
IDS = [
    "01234567-0bd0-4c1e-9a2b-3c4d5e6f7a8b",  # a UUID whose first group is all digits
    "12345678-1234-5678-9012-345678901234",  # one whose every group is
    "01234567-0BD0-4C1E-9A2B-3C4D5E6F7A8B",
    "0123456789abcdef0123456789abcdef",  # a UUID's hex without its hyphens
    "0123456789abcdef0123456789abcdef01234567",  # a SHA-1
    "01234567890123456789012345678901",  # a hex id that happens to hold no letter
]


@pytest.mark.parametrize("task_id", IDS)
def test_task_ids_and_hex_ids_are_ids_not_phone_numbers(task_id: str) -> None:
    for text in (
        f"Task evidence.link[{task_id}] received",
        f"dead letter {task_id}: invalid payload",
        f"evidence.link ({task_id}) published 2 time(s)",
    ):
        assert redact(text) == text


@pytest.mark.parametrize("task_id", IDS[:3])
def test_a_phone_number_beside_a_task_id_is_still_masked(task_id: str) -> None:
    text = redact(f"[{task_id}] call +421905777888 or 0905 777 888, then {task_id}")
    assert "+421905777888" not in text
    assert "0905 777 888" not in text
    assert text.count(task_id) == 2
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("redis://:s3cret@127.0.0.1:6379/0", "s3cret"),
        ("postgresql+psycopg://bulkguard:pa55word@db:5432/bulkguard", "pa55word"),
        ("amqp://guest:guest-pw@rabbit:5672//", "guest-pw"),
        ("host=db user=bulkguard password=hunter2 dbname=bg", "hunter2"),
        ("redis://127.0.0.1:6379/0?password=zz-top", "zz-top"),
    ],
)
def test_secrets_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)
    assert "***" in redact(text)


def test_values_quoted_by_postgresql_and_pydantic_are_masked() -> None:
    detail = (
        'duplicate key value violates unique constraint "uq"\n'
        "DETAIL:  Key (name)=(Acme (UK) Ltd) already exists."
    )
    assert "Acme" not in redact(detail)
    assert "Key (name)=(***) already exists." in redact(detail)
    assert "Acme" not in redact("DETAIL:  Failing row contains (7, Acme Ltd, null).")

    class Company(BaseModel):
        name: int

    with pytest.raises(ValidationError) as caught:
        Company.model_validate({"name": "Acme Bulk Ltd"})
    assert "Acme Bulk Ltd" in str(caught.value)
    assert "Acme Bulk Ltd" not in redact(str(caught.value))


def test_masking_is_idempotent() -> None:
    text = "call +421986355464, sales@blastgrowth0.co.uk, redis://:pw@host:1/0, 0151 1234 5678"
    once = redact(text)
    assert redact(once) == once


def test_display_url_masks_only_the_password() -> None:
    assert (
        display_url("postgresql+psycopg://bulkguard:pa55word@db.example.com:5432/bulkguard")
        == "postgresql+psycopg://bulkguard:***@db.example.com:5432/bulkguard"
    )
    assert display_url("redis://:s3cret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert display_url("sqlite:////srv/data/bulkguard.sqlite3") == (
        "sqlite:////srv/data/bulkguard.sqlite3"
    )
    assert display_url("not a url, password=x") == "not a url, password=***"


@pytest.mark.parametrize(
    "formatter",
    [
        logging.Formatter("%(levelname)s %(name)s %(message)s"),
        ColorFormatter("%(levelname)s %(message)s", use_color=True),
        TaskFormatter("%(task_name)s[%(task_id)s] %(message)s", use_color=False),
    ],
    ids=["stdlib", "celery", "celery-task"],
)
def test_filter_masks_messages_and_tracebacks(formatter: logging.Formatter) -> None:
    log = logging.getLogger(f"test.redaction.{id(formatter)}")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    install([handler])
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("retrying: %s", "sales@blastgrowth0.co.uk refused")
        try:
            raise KeyError("+421986355464")
        except KeyError:
            log.exception("batch %s failed", "b-1")
        log.warning("stack", stack_info=True, extra={"data": {"args": "('+421986355464',)"}})
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert "batch b-1 failed" in out
    assert "Traceback (most recent call last)" in out
    assert "KeyError" in out
    assert "+421986355464" not in out
    assert "blastgrowth0" not in out


def test_filter_hides_celery_argument_reprs_given_to_structured_handlers() -> None:
    logger = logging.getLogger("celery.app.trace")
    data = {"id": "t-1", "args": "('+421986355464',)", "kwargs": "{'name': 'Acme'}"}
    record = logger.makeRecord(
        logger.name, logging.ERROR, __file__, 1, "failed", (), None, extra={"data": data}
    )
    assert RedactingFilter().filter(record)
    assert record.__dict__["data"] == {"id": "t-1", "args": "***", "kwargs": "***"}


def test_a_malformed_logging_call_is_still_masked() -> None:
    # Logging's own error report would print the raw arguments; the filter prints the template.
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "%d accounts from %s", ("+421986355464",), None
    )
    assert RedactingFilter().filter(record)
    assert "+421986355464" not in record.getMessage()
    assert "could not be formatted" in record.getMessage()


def test_a_record_passing_several_handlers_is_masked_once() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", ("+421986355464",), None)
    first, second = RedactingFilter(), RedactingFilter()
    assert first.filter(record)
    masked = record.getMessage()
    assert second.filter(record)
    assert record.getMessage() == masked


def test_install_adds_one_filter_per_handler() -> None:
    handler = logging.StreamHandler(io.StringIO())
    log = logging.getLogger("test.redaction.install")
    log.addHandler(handler)
    try:
        install([log])
        install([log, handler])
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    finally:
        log.removeHandler(handler)


def test_uncaught_tracebacks_of_the_command_line_are_masked(monkeypatch, capsys) -> None:
    from infra import redaction

    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    monkeypatch.setattr(logging, "lastResort", logging.StreamHandler(io.StringIO()))
    redaction.install_for_command_line()
    assert sys.excepthook is not sys.__excepthook__
    try:
        raise ValueError("no company for sales@blastgrowth0.co.uk")
    except ValueError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    err = capsys.readouterr().err
    assert "ValueError: no company for s***@***.uk" in err
    assert logging.lastResort is not None
    assert any(isinstance(f, RedactingFilter) for f in logging.lastResort.filters)
