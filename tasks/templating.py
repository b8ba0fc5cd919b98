"""Plain-text letters people read, rendered from a stage's Jinja2 templates: the legal notices a
company receives and the statements of reasons an account holder receives share one way of
rendering and one way of writing a date in each language.

A missing field fails the rendering (``StrictUndefined``): a blank where a fact belongs is a bug,
not a line to send.
"""

from __future__ import annotations

import datetime as dt

from jinja2 import Environment, PackageLoader, StrictUndefined

# The languages bulkguard writes letters in (a template each); anything else gets English.
LANGUAGES = ("en", "sk")
FALLBACK_LANGUAGE = "en"
# The language of a country's people where nothing better is known.
COUNTRY_LANGUAGES = {"SK": "sk"}
_SK_MONTHS = (
    "januára",
    "februára",
    "marca",
    "apríla",
    "mája",
    "júna",
    "júla",
    "augusta",
    "septembra",
    "októbra",
    "novembra",
    "decembra",
)


def country_language(country: str | None) -> str:
    """The language to write in to someone of ``country`` (ISO 3166 alpha-2)."""
    return COUNTRY_LANGUAGES.get(country or "", FALLBACK_LANGUAGE)


def longdate(value: dt.datetime | dt.date, language: str) -> str:
    """A date as a letter in ``language`` writes it: "7 December 2019", "7. decembra 2019"."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if language == "sk":
        return f"{day.day}. {_SK_MONTHS[day.month - 1]} {day.year}"
    return f"{day.day} {day:%B %Y}"


def longtime(value: dt.datetime, language: str) -> str:
    """A moment as a letter writes it, in UTC: the date, then the time of day."""
    moment = value.astimezone(dt.UTC)
    return f"{longdate(moment, language)}, {moment:%H:%M} UTC"


def environment(package: str) -> Environment:
    """The environment of the plain-text templates in ``package``'s ``templates`` folder."""
    env = Environment(
        loader=PackageLoader(package, "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # plain text; an HTML rendering escapes it  # noqa: S701
        keep_trailing_newline=True,
    )
    env.filters["longdate"] = longdate
    env.filters["longtime"] = longtime
    return env
