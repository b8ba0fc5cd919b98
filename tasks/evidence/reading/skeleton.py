"""A name's consonant skeleton, the same whether it is written in Latin letters or in
Devanagari: "PrachaarPro" and "प्रचार प्रो" are both ``pr-c-r-pr``.

Indian pages name their publisher in either script, often both (an ``og:site_name`` of
"Om Sahayak" beside a logo reading "ओम सहायक", a domain ``messagemitra.co.in`` beside the
footer "मैसेज मित्र"). Transliteration between the two has no single spelling (vowel length,
aspiration, "c" or "k" for क), so names are compared by what survives every spelling: the
consonants, with aspiration dropped, sounds the two scripts share merged into one letter, and
vowels, "h" and "y" left out. The skeleton is only ever compared with another skeleton; it is
too lossy to show anyone.
"""

from __future__ import annotations

import re
import unicodedata

from tasks.evidence.reading.indicators import fold

# Devanagari consonants by their skeleton letter: aspirates with their plain consonant, the
# retroflex series with the dental one (Latin spellings do not tell them apart).
_DEVANAGARI = {
    **dict.fromkeys("\u0915\u0916\u0958\u0959", "k"),  # क ख क़ ख़
    # ग घ ग़ ज झ ज़: "message" is मैसेज, so g and j are spelt for one another
    **dict.fromkeys("\u0917\u0918\u095a\u091c\u091d\u095b", "j"),
    **dict.fromkeys("\u091a\u091b", "C"),  # च छ
    **dict.fromkeys("\u091f\u0920\u0924\u0925", "t"),  # ट ठ त थ
    **dict.fromkeys("\u0921\u0922\u0926\u0927", "d"),  # ड ढ द ध
    **dict.fromkeys("\u095c\u095d\u0930\u0931\u090b\u0943", "r"),  # ड़ ढ़ र ऱ ऋ ृ
    **dict.fromkeys("\u0919\u0923\u0928\u0902\u0901", "n"),  # ङ ण न ं ँ
    **dict.fromkeys("\u092a\u092b\u095e", "p"),  # प फ फ़
    **dict.fromkeys("\u092c\u092d", "b"),  # ब भ
    "\u092e": "m",  # म
    **dict.fromkeys("\u0932\u0933", "l"),  # ल ळ
    "\u0935": "v",  # व
    **dict.fromkeys("\u0936\u0937\u0938", "s"),  # श ष स
}  # ञ is silent: it is written in ज्ञ, spelt "gy" ("Pragya", प्रज्ञा)
_NUKTA = "\u093c"
# A consonant with a separate nukta, as its precomposed letter: ड़ ढ़ क़ ख़ ग़ ज़ फ़.
_NUKTA_FORMS = {
    "\u0921": "\u095c", "\u0922": "\u095d", "\u0915": "\u0958", "\u0916": "\u0959",
    "\u0917": "\u095a", "\u091c": "\u095b", "\u092b": "\u095e",
}  # fmt: skip
# Latin spellings first rewritten to one letter per sound, in this order.
_LATIN_SOUNDS = (
    ("ch", "C"),  # upper case until the "c" that is "k" has been rewritten
    ("sh", "s"),
    ("ph", "p"),
    ("ck", "k"),
    ("qu", "k"),
    ("x", "ks"),
    ("c", "k"),  # after "ch": a "c" alone is "k" (Connect, कनेक्ट)
    ("q", "k"),
    ("g", "j"),
    ("z", "j"),
    ("f", "p"),
    ("w", "v"),
)
_LATIN_SILENT = re.compile(r"[aeiouyh]")
_DOUBLES = re.compile(r"(.)\1+")
# Skeletons shorter than this match too many names to say two are one.
MIN_LENGTH = 3


def has_devanagari(text: str) -> bool:
    return any("\u0900" <= c <= "\u097f" for c in text)


def skeleton(name: str) -> str:
    """``name``'s consonant skeleton (letters of either script; anything else is dropped)."""
    letters: list[str] = []
    latin: list[str] = []
    text = "".join(c if has_devanagari(c) else fold(c) for c in unicodedata.normalize("NFC", name))
    for i, c in enumerate(text):
        if "a" <= c.lower() <= "z":
            latin.append(c.lower())
            continue
        if latin:
            letters.append(_latin(latin))
            latin = []
        if c == _NUKTA:
            continue
        letter = _NUKTA_FORMS.get(c, c) if text[i + 1 : i + 2] == _NUKTA else c
        letters.append(_DEVANAGARI.get(letter, ""))
    if latin:
        letters.append(_latin(latin))
    return _DOUBLES.sub(r"\1", "".join(letters).lower())


def _latin(letters: list[str]) -> str:
    word = "".join(letters)
    for spelling, sound in _LATIN_SOUNDS:
        word = word.replace(spelling, sound)
    return _LATIN_SILENT.sub("", word)


def same_name(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` spell one name in different scripts (one of them Devanagari)."""
    if has_devanagari(a) == has_devanagari(b):
        return False
    first = skeleton(a)
    return len(first) >= MIN_LENGTH and first == skeleton(b)
