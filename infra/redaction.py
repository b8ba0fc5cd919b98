"""Personal data and secrets kept out of everything bulkguard prints.

bulkguard's input is personal data: the phone numbers of accounts, the e-mail addresses, phone
numbers and names of the businesses behind bulk messaging. Its configuration holds secrets: the
passwords in ``DATABASE_URL`` and ``REDIS_URL``. Logs and terminal output leave the system (log
stores, tickets, chat), so none of these may appear there. Two layers keep them out:

1. The code that could print a value does not: Celery's consumer handlers that dump message
   bodies are replaced (``workers.consumer``), SQLAlchemy errors leave statement parameters out
   (``hide_parameters``), pydantic errors are described without their input, and configured URLs
   are shown through :func:`display_url`.
2. :class:`RedactingFilter`, installed on every log handler of a worker and of the CLI, masks what
   still slips through in a message or a traceback: phone numbers, e-mail addresses, URL
   credentials, ``password=`` settings, and the values PostgreSQL and pydantic quote in their
   error messages.

Business names have no shape a pattern could find; the first layer is what keeps them out.
Masking runs only on records a handler actually emits, with precompiled patterns.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable
from types import TracebackType

MASK = "***"

# A phone number: at least 7 digits, optionally led by "+" or "(", with single spaces, hyphens,
# dots or parentheses between digit groups ("+44 7787 236894", "(030) 123-4567", "0151.234.5678").
# It must stand alone: not the tail of a word, an id or a hex digest ("acc-5-0000002", a task
# UUID), of a path or of a decimal, and it does not end inside one either; a number led by "+"
# is one wherever it stands after a word ("scoring.+421905777888", a task name). A UUID's first
# group may be all digits ("01234567-0bd0-…", "12345678-1234-5678-…"): a number neither starts
# one nor runs into one.
_UUID = r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?![\w-])"
_PHONE = re.compile(
    rf"""
    (?!\d{{4}}-\d{{2}}-\d{{2}}(?!\d))      # an ISO date is not a phone number
    (?P<number>
        (?:(?<![\w+])\+|(?<![\w+./\\-])\(?\+?)
        (?!{_UUID})\d
        (?:[\ \-.()]{{0,2}}(?!{_UUID})\d){{6,}}
    )
    (?![\w])
    (?!\.\d)
    """,
    re.VERBOSE,
)
_DIGIT = re.compile(r"\d")
# E.164 numbers have at most 15 digits, 17 with an international "00" prefix: a longer bare run of
# digits is an id or a digest that happens to hold no letter.
_LONGEST_PHONE_DIGITS = 17
# A decimal number (one dot, digits around it) is a measurement, not a phone number.
_DECIMAL = re.compile(r"\d+\.\d+")

# An e-mail address. Its domain is masked too: a business's domain names the business.
# The user of a URL ("postgresql://bulkguard@db.example.com") is not an address.
_EMAIL = re.compile(
    r"(?<![\w.%+-])(?<!//)(?P<local>[\w.%+-]+)@(?P<domain>[\w-]+(?:\.[\w-]+)*)\.(?P<tld>[A-Za-z]{2,})\b"
)

# Credentials in a URL: scheme://user:password@host keeps the user, masks the password.
_URL_CREDENTIALS = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*):(?P<password>[^\s@/]+)@"
)

# password=..., passwd: ..., as libpq connection strings and settings dumps write them.
_PASSWORD_SETTING = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|secret)\b\s*[=:]\s*)(?P<quote>['\"]?)[^\s'\",;&)]+",
    re.IGNORECASE,
)

# PostgreSQL quotes the offending values in its error details whatever hide_parameters says:
# "Key (name)=(Acme Ltd) already exists", "Failing row contains (1, Acme Ltd, ...)".
_PG_KEY = re.compile(r"(?P<head>Key \([^)\n]*\)=)\(.*\)")
_PG_ROW = re.compile(r"(?P<head>Failing row contains )\(.*\)")

# pydantic's str() of a validation error quotes each input: "[type=..., input_value='...',
# input_type=str]". bulkguard's own descriptions leave inputs out; this catches any other.
_PYDANTIC_INPUT = re.compile(r"(?P<head>input_value=).*?(?P<tail>, input_type=)")


def redact(text: str) -> str:
    """``text`` with phone numbers, e-mail addresses and secrets masked. Idempotent: a masked
    text is left as it is, so a record passed through two handlers is not damaged."""
    text = _mask_secrets(text)
    text = _PG_KEY.sub(rf"\g<head>({MASK})", text)
    text = _PG_ROW.sub(rf"\g<head>({MASK})", text)
    text = _PYDANTIC_INPUT.sub(rf"\g<head>{MASK}\g<tail>", text)
    text = _EMAIL.sub(_mask_email, text)
    return _PHONE.sub(_mask_phone, text)


def _mask_secrets(text: str) -> str:
    text = _URL_CREDENTIALS.sub(rf"\g<head>:{MASK}@", text)
    return _PASSWORD_SETTING.sub(rf"\g<key>\g<quote>{MASK}", text)


def masked_block(block: str) -> str:
    """What people are shown of an account's number, from its 1,000-block (accounts keep no
    number): the "+", the first two digits and a star for every other digit, as ``redact``
    masks a number, less the last two digits, which the block does not hold."""
    digits = block.lstrip("+")
    return f"+{digits[:2]}{'*' * (len(digits) + 1)}"


def _mask_email(match: re.Match[str]) -> str:
    # The first letter and the top-level domain are enough to tell two addresses apart in a log;
    # the full address is in the database for whoever may see it.
    return f"{match['local'][0]}{MASK}@{MASK}.{match['tld']}"


def _mask_phone(match: re.Match[str]) -> str:
    number = match["number"]
    digits = _DIGIT.findall(number)
    if _DECIMAL.fullmatch(number):
        return number
    # A bare run of digits is a phone number if it starts with 0 (a national number) or is long
    # (an international one without its "+"). Shorter runs are counts, sizes and row ids, which
    # operators need to read.
    if len(digits) > _LONGEST_PHONE_DIGITS and not _has_separator(number.lstrip("+(")):
        return number
    bare = not number.startswith(("+", "(")) and not _has_separator(number)
    if bare and digits[0] != "0" and len(digits) < 10:
        return number
    # Keep the "+" and country code prefix and the last two digits: enough to tell numbers apart.
    prefix = "+" if "+" in number else ""
    tail = "".join(digits[-2:]) if len(digits) >= 9 else ""
    return f"{prefix}{''.join(digits[:2])}{'*' * (len(digits) - 2 - len(tail))}{tail}"


def _has_separator(number: str) -> bool:
    return any(not c.isdigit() for c in number)


def display_url(url: str) -> str:
    """A configured URL as it may be shown to its operator: the password masked (in the URL's
    credentials or as a ``password=`` option), the user, host and database kept."""
    # Imported here: every command installs the redaction, few show a URL, and SQLAlchemy
    # costs a command that needs no database a fifth of a second to start.
    from sqlalchemy.engine import make_url  # noqa: PLC0415
    from sqlalchemy.exc import ArgumentError  # noqa: PLC0415

    try:
        parsed = make_url(url)
    except ArgumentError:
        return _mask_secrets(url)
    if parsed.password is None:
        return _mask_secrets(url)
    # SQLAlchemy renders a database URL the way it reads it (driver, options and all).
    return _mask_secrets(parsed.render_as_string(hide_password=True))


class RedactingFilter(logging.Filter):
    """Masks personal data and secrets in a record's message and exception text.

    Installed on handlers (not loggers): a handler's filters see every record it emits, whichever
    logger it came from, while a logger's filters miss records propagated from its children. The
    record is rewritten in place, so every later handler and formatter sees the masked text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _REDACTED, False):
            return True
        try:
            message = record.getMessage()
        except Exception:
            # Logging's own error report would print the raw arguments; print the template only.
            message = f"{record.msg!s} [its arguments could not be formatted]"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            # Formatters reuse exc_text once it is set, so the masked traceback is what prints.
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        _hide_task_arguments(record)
        record._bulkguard_redacted = True
        return True


_FORMATTER = logging.Formatter()
# Set on a record once masked: a record emitted by several handlers is masked once.
_REDACTED = "_bulkguard_redacted"


def _hide_task_arguments(record: logging.LogRecord) -> None:
    """Celery passes a task's argument reprs to handlers as ``extra={"data": {...}}`` on its
    received, failure and retry lines. Its format strings leave them out, but a structured
    (JSON) formatter would print every extra field, and those reprs hold whole batches."""
    data = getattr(record, "data", None)
    if isinstance(data, dict):
        hidden = {k: (MASK if k in ("args", "kwargs") else v) for k, v in data.items()}
        setattr(record, "data", hidden)  # noqa: B010 - an attribute logging does not declare


def install(loggers: Iterable[logging.Logger | logging.Handler]) -> None:
    """Put one :class:`RedactingFilter` on each handler of ``loggers`` (or on the handlers given
    themselves). Installing twice adds nothing."""
    for item in loggers:
        handlers = item.handlers if isinstance(item, logging.Logger) else [item]
        for handler in handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())


def install_for_command_line() -> None:
    """Redaction for a CLI process: its handlers, logging's last-resort handler (which prints
    warnings when nothing is configured) and uncaught tracebacks."""
    handlers: list[logging.Logger | logging.Handler] = [logging.getLogger()]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    install(handlers)
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _redacting_excepthook


def _redacting_excepthook(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    text = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write(redact(text))
