"""The claim reader's lexicon: the data files load, every entry is addressable, and a file that
cannot be used stops the load with an error naming the file and the entry."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tasks.evidence.reading import claims, lexicon
from tasks.evidence.reading.lexicon import CLAIM_KINDS, LexiconError

BUNDLED = Path(lexicon.__file__).parent


def test_the_bundled_lexicon_covers_every_language_and_kind() -> None:
    lex = lexicon.load()
    assert lex.languages == ("en", "pt", "es", "id", "sk")
    assert {table.kind for table in lex.offers if table.strong} == set(CLAIM_KINDS)
    for name in lex.tables:
        assert lex.of(name), name
    for language in lex.languages:
        assert lex.function_words[language]
        assert lex.of("bulk", language=language)


def test_every_entry_has_an_address_of_its_own() -> None:
    lex = lexicon.load()
    entries = [entry for found in lex.entries.values() for entry in found]
    addresses = [entry.address for entry in entries]
    assert len(addresses) == len(set(addresses))
    assert all(lex.entry(entry.address) == entry for entry in entries)
    bulk = lex.entry("en/bulk/bulk-whatsapp")
    assert bulk.pattern.startswith("bulk {WA}")
    assert lex.entry("common/whatsapp-mention/whatsapp-names").language == lexicon.MIXED
    with pytest.raises(KeyError):
        lex.entry("en/bulk/no-such-entry")


def test_the_notation_expands_spaces_optional_spaces_and_shorthands() -> None:
    lex = lexicon.load()
    assert lex.entry("en/anti-ban/anti-ban").regex == r"anti[\s\-]?ban\w*"
    assert lex.entry("en/requests/help-me").regex == r"help[\s\-–]+me"
    assert "{WA}" not in lex.entry("en/bulk/bulk-whatsapp").regex
    assert re.fullmatch(lex.entry("en/bulk/bulk-whatsapp").regex, "bulk whats-app sender")


def test_words_that_negate_in_some_languages_only_are_read_in_those() -> None:
    lex = lexicon.load()
    assert lex.entry("en/near-negators/no").only_in == frozenset({"en", "es"})
    assert lex.phrases("near-negators", document_language="pt").search("disparo no zap") is None
    assert lex.phrases("near-negators", document_language="es").search("no envios") is not None


def test_the_reader_searches_with_the_lexicon_tables() -> None:
    """Each offer table is one cue family of the reader, with its kind and weight."""
    lex = lexicon.load()
    families = [(f.kind, f.strong, f.unofficial, f.pattern) for f in claims._FAMILIES]
    expected = [(t.kind, t.strong, t.unofficial, lex.phrases(t.name)) for t in lex.offers]
    assert families == expected


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the bundled lexicon files to break."""
    folder = tmp_path / "lexicon"
    folder.mkdir()
    for path in BUNDLED.glob("*.toml"):
        shutil.copy(path, folder / path.name)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_copy_of_the_bundled_files_loads_alike(copy: Path) -> None:
    assert lexicon.load(copy).entries == lexicon.load().entries


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "en.toml",
            "bulk-whatsapp = 'bulk {WA}(?:",
            "bulk-whatsapp = 'bulk {WA}((?:",
            r"en\.toml: \[bulk\] bulk-whatsapp: the pattern does not compile: missing \)",
        ),
        (
            "pt.toml",
            "[bulk]\n",
            "[bulk]\nempty = ' '\n",
            r"pt\.toml: \[bulk\] empty: the pattern must be a non-empty string",
        ),
        (
            "es.toml",
            "[bulk]\n",
            "[bulk]\nbad = { pattern = 'x', weight = 2 }\n",
            r"es\.toml: \[bulk\] bad: unknown field 'weight'",
        ),
        ("sk.toml", "[bulk]\n", "[bulkk]\n", r"sk\.toml: \[bulkk\] is not a table declared"),
        (
            "id.toml",
            "[bulk]\n",
            "[bulk]\nslang = '{WB} blast'\n",
            r"id\.toml: \[bulk\] slang: unknown shorthand \{WB\}",
        ),
        (
            "en.toml",
            "[bulk]\n",
            "[bulk]\nlimited = { pattern = 'x', only-in = ['en'] }\n",
            r"en\.toml: \[bulk\] limited: only-in is for by-document-language tables",
        ),
        (
            "en.toml",
            'only-in = ["en", "es"]',
            'only-in = ["en", "fr"]',
            r"en\.toml: \[near-negators\] no: only-in must list languages of",
        ),
        ("en.toml", "[bulk]\n", "[bulk\n", r"en\.toml: not valid TOML"),
        (
            "common.toml",
            'kind = "scraping"',
            'kind = "spam"',
            r"common\.toml: \[tables\.scraping\] kind 'spam' is not one of",
        ),
        (
            "common.toml",
            "[tables.bulk]\n",
            "[tables.bulk]\ncolour = true\n",
            r"common\.toml: \[tables\.bulk\] unknown field 'colour'",
        ),
    ],
)
def test_a_broken_file_names_the_file_and_the_entry(
    copy: Path, file: str, old: str, new: str, message: str
) -> None:
    edit(copy / file, old, new)
    with pytest.raises(LexiconError, match=message) as raised:
        lexicon.load(copy)
    assert str(raised.value).startswith(str(copy))


def test_a_language_file_must_be_listed(copy: Path) -> None:
    (copy / "fr.toml").write_text('function-words = ["le"]\n')
    with pytest.raises(LexiconError, match=r"fr\.toml: not a language listed"):
        lexicon.load(copy)


def test_a_listed_language_needs_its_file(copy: Path) -> None:
    (copy / "sk.toml").unlink()
    with pytest.raises(LexiconError, match=r"sk\.toml: missing"):
        lexicon.load(copy)


def test_entries_that_clash_together_name_their_table(copy: Path) -> None:
    edit(copy / "en.toml", "[bulk]\n", "[bulk]\none = '(?P<x>a)'\ntwo = '(?P<x>b)'\n")
    lex = lexicon.load(copy)
    with pytest.raises(LexiconError, match=r"\[tables\.bulk\]: the entries do not compile"):
        lex.phrases("bulk")
