"""The base of every JSON payload, and the one way a validation error is told to an operator."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError


class Payload(BaseModel):
    """Unknown keys are ignored (upstream may send fields before bulkguard reads them); NaN and
    infinities are refused; a validated payload cannot be changed by the code that reads it."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, frozen=True)


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, naming the field path, e.g. ``messaging.reply_ratio: ...``."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(p) for p in error["loc"]) or "(record)"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)
