"""The claim reader's lexicon: its phrases as data, one TOML file per language.

``common.toml`` declares the languages, the notation's shorthands and every table (an offer
table with its kind and weight, a framing table such as the negators); ``en.toml``, ``pt.toml``,
... fill the tables with entries, ``name = 'pattern'``; ``common.toml`` ends with the few
patterns that mix languages inside one expression. The files say how to read and edit them.

Every entry is addressable as ``<language>/<table>/<name>`` (``common/<table>/<name>`` for a
mixed one), so that an entry can be named in a review, a test or a model's features. The files
are read and checked once per process (``load``); a problem stops the load with an error that
names the file and the entry. The reader compiles a table's entries, all languages together in
the declared order, into one regular expression (``Lexicon.phrases``, ``Lexicon.whole``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

COMMON = "common.toml"
# What an offer can be of: every offer table declares one.
CLAIM_KINDS = ("bulk", "automation", "unsaved-numbers", "anti-ban", "scraping")
WEIGHTS = ("strong", "weak")
MIXED = "common"  # the "language" of the patterns in common.toml's [mixed.*] tables

_TABLE_FIELDS = frozenset({"kind", "weight", "unofficial", "whole", "by-document-language"})
_ENTRY_FIELDS = frozenset({"pattern", "only-in"})
_SHORTHAND = re.compile(r"\{([A-Za-z]\w*)\}")
_SHORTHAND_NAME = re.compile(r"[A-Z][A-Z0-9]*")
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
_WORD = re.compile(r"[a-z]+")
# The notation's two characters: a space is one or more spaces or hyphens, "~" an optional one.
_NOTATION = {" ": r"[\s\-–]+", "~": r"[\s\-]?"}


class LexiconError(ValueError):
    """A lexicon file that cannot be used, with the file and the entry it is about."""


@dataclass(frozen=True)
class Table:
    """A table as ``common.toml`` declares it."""

    name: str
    kind: str | None  # for an offer table, one of CLAIM_KINDS; None for the others
    strong: bool  # an offer table's weight: a strong cue can decide a document on its own
    unofficial: bool  # offers by nature: outweigh official-API framing elsewhere in a page
    whole: bool  # its patterns carry their own boundaries
    by_document_language: bool  # its entries may be limited to some documents' languages


@dataclass(frozen=True)
class Entry:
    """One named pattern of one table, in one language's file (or common.toml's mixed ones)."""

    language: str  # a language of LANGUAGES, or MIXED
    table: str
    name: str
    pattern: str  # as written, in the notation
    regex: str  # the pattern with the notation expanded
    # The languages of the documents it is read in (by-document-language tables); None: all.
    only_in: frozenset[str] | None = None

    @property
    def address(self) -> str:
        return f"{self.language}/{self.table}/{self.name}"


@dataclass(frozen=True)
class Lexicon:
    languages: tuple[str, ...]  # in the order their phrases are tried
    tables: Mapping[str, Table]  # in the order common.toml declares them
    entries: Mapping[str, tuple[Entry, ...]]  # by table, in reading order
    function_words: Mapping[str, frozenset[str]]  # by language

    @property
    def offers(self) -> tuple[Table, ...]:
        """The offer tables, in declaration order."""
        return tuple(table for table in self.tables.values() if table.kind is not None)

    def table(self, name: str) -> Table:
        if name not in self.tables:
            raise LexiconError(f"{COMMON}: no table [tables.{name}] is declared")
        return self.tables[name]

    def entry(self, address: str) -> Entry:
        """The entry at ``<language>/<table>/<name>``."""
        parts = address.split("/")
        for found in self.entries.get(parts[1] if len(parts) == 3 else "", ()):
            if found.address == address:
                return found
        raise KeyError(address)

    def of(
        self, table: str, *, language: str | None = None, document_language: str | None = None
    ) -> tuple[Entry, ...]:
        """A table's entries in reading order: every language's in the order of ``languages``
        (each file's as written), then the mixed ones. ``language`` keeps one file's entries;
        ``document_language`` those read in documents mostly in that language."""
        self.table(table)
        return tuple(
            entry
            for entry in self.entries[table]
            if (language is None or entry.language == language)
            and (
                document_language is None
                or entry.only_in is None
                or document_language in entry.only_in
            )
        )

    def alternation(self, *tables: str, document_language: str | None = None) -> str:
        """The tables' expanded patterns joined into one alternation, for a reader that places
        it in an expression of its own."""
        for table in tables:
            if self.table(table).whole:
                raise LexiconError(f"{COMMON}: [tables.{table}] is whole: read it with whole()")
        found = [e for table in tables for e in self.of(table, document_language=document_language)]
        if not found:
            raise LexiconError(f"{COMMON}: no entries in {list(tables)} for {document_language}")
        return "|".join(entry.regex for entry in found)

    def phrases(self, *tables: str, document_language: str | None = None) -> re.Pattern[str]:
        """One alternation of every phrase of ``tables``, matched on word boundaries."""
        body = self.alternation(*tables, document_language=document_language)
        # The lookahead rejects, before the long alternation is tried, every position where no
        # phrase can start (a phrase starts with a letter, a digit or "(").
        return _together(rf"(?<!\w)(?=[\w(])(?:{body})(?!\w)", tables)

    def whole(self, table: str, *, language: str | None = None) -> re.Pattern[str]:
        """A table of whole patterns (boundaries their own) as one alternation; ``language``
        keeps one file's entries."""
        if not self.table(table).whole:
            raise LexiconError(f"{COMMON}: [tables.{table}] is not whole: read it with phrases()")
        found = self.of(table, language=language)
        if not found:
            raise LexiconError(f"{COMMON}: [tables.{table}] has no entries in {language}")
        return _together("|".join(entry.regex for entry in found), (table,))


@cache
def load(directory: Traversable | None = None) -> Lexicon:
    """The lexicon in ``directory`` (the one beside this module by default), read and checked
    once per process."""
    folder = directory if directory is not None else resources.files(__name__)
    try:
        return _load(folder)
    except LexiconError as exc:
        raise LexiconError(f"{folder}/{exc}") from exc.__cause__


def _load(folder: Traversable) -> Lexicon:
    common = _read(folder, COMMON)
    _only(common, {"languages", "shorthands", "tables", "mixed"}, COMMON, "")
    languages = _languages(common.get("languages"))
    shorthands = _shorthands(common.get("shorthands"))
    tables = _tables(common.get("tables"))
    known = {item.name for item in folder.iterdir() if item.name.endswith(".toml")}
    stray = sorted(known - {COMMON} - {f"{lang}.toml" for lang in languages})
    if stray:
        raise LexiconError(f"{stray[0]}: not a language listed in {COMMON}'s languages")

    reader = _Reader(shorthands, tables, languages)
    entries: dict[str, list[Entry]] = {name: [] for name in tables}
    function_words: dict[str, frozenset[str]] = {}
    for language in languages:
        file = f"{language}.toml"
        content = _read(folder, file)
        words = content.get("function-words")
        if not isinstance(words, list) or not all(
            isinstance(w, str) and _WORD.fullmatch(w) for w in words
        ):
            raise LexiconError(f"{file}: function-words must be a list of lower-case words")
        function_words[language] = frozenset(words)
        for table, body in content.items():
            if table != "function-words":
                found = reader.entries(file, language, table, body)
                entries[table] += found
    mixed = common.get("mixed", {})
    if not isinstance(mixed, dict):
        raise LexiconError(f"{COMMON}: [mixed] must hold tables")
    for table, body in mixed.items():
        found = reader.entries(COMMON, MIXED, table, body)
        entries[table] += found

    for name, found in entries.items():
        if not found:
            raise LexiconError(f"{COMMON}: [tables.{name}] has no entries in any file")
    return Lexicon(
        languages=languages,
        tables=tables,
        entries={name: tuple(found) for name, found in entries.items()},
        function_words=function_words,
    )


def _read(folder: Traversable, file: str) -> dict[str, Any]:
    path = folder.joinpath(file)
    if not path.is_file():
        raise LexiconError(f"{file}: missing")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"{file}: not valid TOML: {exc}") from exc


def _only(
    content: Mapping[str, Any], allowed: set[str] | frozenset[str], file: str, at: str
) -> None:
    unknown = sorted(set(content) - allowed)
    if unknown:
        raise LexiconError(
            f"{file}: {at}unknown field {unknown[0]!r} (expected one of {sorted(allowed)})"
        )


def _languages(value: Any) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and _LANGUAGE_CODE.fullmatch(v) for v in value)
        or len(set(value)) != len(value)
    ):
        raise LexiconError(f'{COMMON}: languages must list distinct language codes ("en", ...)')
    return tuple(value)


def _shorthands(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise LexiconError(f"{COMMON}: [shorthands] must be a table")
    for name, pattern in value.items():
        where = f"{COMMON}: [shorthands] {name}"
        if not _SHORTHAND_NAME.fullmatch(name):
            raise LexiconError(f"{where}: a shorthand's name is upper case (WA, G2)")
        if not isinstance(pattern, str) or not pattern:
            raise LexiconError(f"{where}: must be a pattern")
        if _SHORTHAND.search(pattern):
            raise LexiconError(f"{where}: a shorthand may not use another")
        _compiles(_notation(pattern), where)
    return dict(value)


def _tables(value: Any) -> dict[str, Table]:
    if not isinstance(value, dict) or not value:
        raise LexiconError(f"{COMMON}: [tables] must declare the tables")
    tables = {}
    for name, fields in value.items():
        at = f"[tables.{name}] "
        if not isinstance(fields, dict):
            raise LexiconError(f"{COMMON}: {at}must be a table")
        _only(fields, _TABLE_FIELDS, COMMON, at)
        kind, weight = fields.get("kind"), fields.get("weight")
        flags = {f: fields.get(f, False) for f in ("unofficial", "whole", "by-document-language")}
        if kind is not None and kind not in CLAIM_KINDS:
            raise LexiconError(f"{COMMON}: {at}kind {kind!r} is not one of {list(CLAIM_KINDS)}")
        if (kind is None) != (weight is None) or (weight is not None and weight not in WEIGHTS):
            raise LexiconError(f"{COMMON}: {at}an offer table has a kind and a weight {WEIGHTS}")
        if not all(isinstance(flag, bool) for flag in flags.values()):
            raise LexiconError(f"{COMMON}: {at}unofficial, whole, by-document-language: true/false")
        if flags["unofficial"] and kind is None:
            raise LexiconError(f"{COMMON}: {at}only an offer table can be unofficial")
        tables[name] = Table(
            name=name,
            kind=kind,
            strong=weight == "strong",
            unofficial=flags["unofficial"],
            whole=flags["whole"],
            by_document_language=flags["by-document-language"],
        )
    return tables


def _notation(pattern: str) -> str:
    for char, regex in _NOTATION.items():
        pattern = pattern.replace(char, regex)
    return pattern


def _together(regex: str, tables: tuple[str, ...]) -> re.Pattern[str]:
    """Entries that compile one by one can still clash together (a group name used twice)."""
    try:
        return re.compile(regex)
    except re.error as exc:
        names = ", ".join(f"[tables.{table}]" for table in tables)
        raise LexiconError(
            f"{COMMON}: {names}: the entries do not compile together: {exc}"
        ) from exc


def _compiles(regex: str, where: str) -> None:
    try:
        re.compile(regex)
    except re.error as exc:
        raise LexiconError(f"{where}: the pattern does not compile: {exc}") from exc


@dataclass(frozen=True)
class _Reader:
    shorthands: Mapping[str, str]
    tables: Mapping[str, Table]
    languages: tuple[str, ...]

    def expand(self, pattern: str, where: str) -> str:
        for name in _SHORTHAND.findall(pattern):
            if name not in self.shorthands:
                raise LexiconError(f"{where}: unknown shorthand {{{name}}}")
        for name, regex in self.shorthands.items():
            pattern = pattern.replace(f"{{{name}}}", regex)
        return _notation(pattern)

    def entries(self, file: str, language: str, table: str, body: Any) -> list[Entry]:
        if table not in self.tables:
            raise LexiconError(f"{file}: [{table}] is not a table declared in {COMMON}")
        if not isinstance(body, dict):
            raise LexiconError(f"{file}: [{table}] must be a table of name = 'pattern'")
        found = []
        for name, value in body.items():
            where = f"{file}: [{table}] {name}"
            only_in = None
            if isinstance(value, dict):
                _only(value, _ENTRY_FIELDS, file, f"[{table}] {name}: ")
                pattern, limit = value.get("pattern"), value.get("only-in")
                if limit is not None:
                    only_in = self.only_in(limit, table, where)
            else:
                pattern = value
            if not isinstance(pattern, str) or not pattern.strip():
                raise LexiconError(f"{where}: the pattern must be a non-empty string")
            regex = self.expand(pattern, where)
            _compiles(regex, where)
            found.append(Entry(language, table, name, pattern, regex, only_in))
        return found

    def only_in(self, limit: Any, table: str, where: str) -> frozenset[str]:
        if not self.tables[table].by_document_language:
            raise LexiconError(f"{where}: only-in is for by-document-language tables")
        if (
            not isinstance(limit, list)
            or not limit
            or not all(isinstance(lang, str) and lang in self.languages for lang in limit)
        ):
            raise LexiconError(f"{where}: only-in must list languages of {list(self.languages)}")
        return frozenset(limit)
