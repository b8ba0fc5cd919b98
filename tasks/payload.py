"""The base of every JSON payload, and the one way a validation error is told to an operator."""

from __future__ import annotations

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError


class Payload(BaseModel):
    """Unknown keys are ignored (upstream may send fields before bulkguard reads them); NaN and
    infinities are refused; a validated payload cannot be changed by the code that reads it."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, frozen=True)


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be kept as text, or None. A client on the standard library's JSON
    encoder (Celery's default) can send a lone surrogate escape ("\\ud800"), which is not Unicode
    and cannot be stored or re-encoded; and PostgreSQL cannot store NUL, which nothing a person
    writes contains. Either refuses the record that carries it, never the batch."""
    if "\x00" in value:
        return "contains a NUL character"
    if not (value.isascii() or is_unicode(value)):
        return "contains a lone surrogate: not valid Unicode text"
    return None


def is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _plain_text(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# Add to a text field's ``Annotated[str, ...]``: Unicode, without NUL.
PLAIN_TEXT = AfterValidator(_plain_text)


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, naming the field path, e.g. ``messaging.reply_ratio: ...``."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(p) for p in error["loc"]) or "(record)"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)
