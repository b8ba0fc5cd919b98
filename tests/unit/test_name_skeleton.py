"""Names compared across Devanagari and Latin letters by their consonant skeletons."""

from __future__ import annotations

import unicodedata

import pytest

from tasks.evidence.reading.skeleton import same_name, skeleton


@pytest.mark.parametrize(
    ("latin", "devanagari"),
    [
        ("PrachaarPro", "प्रचार प्रो"),  # aspiration, long vowels and a space
        ("Pankh Connect", "पंख कनेक्ट"),  # anusvara for n, "c" for क
        ("Kshitij Cloud", "क्षितिज क्लाउड"),  # a conjunct
        ("messagemitra", "मैसेज मित्र"),  # a domain label: "g" spelt ज
        ("Indu Jewellers", "इंदु ज्वेलर्स"),  # w for व, a double letter
        ("Pragya", "प्रज्ञा"),  # ज्ञ spelt "gy"
        ("Kalam", "क़लम"),  # a nukta, precomposed or not
        ("Kalam", unicodedata.normalize("NFD", "क़लम")),
    ],
)
def test_one_name_in_two_scripts(latin: str, devanagari: str) -> None:
    assert skeleton(latin) == skeleton(devanagari)
    assert same_name(latin, devanagari)


def test_different_names_and_short_ones_are_not_the_same() -> None:
    assert not same_name("Kiran SMS", "किरण मेल")
    assert not same_name("Om", "ओम")  # too short to say
    assert not same_name("Om Sahayak", "Om Sahayak")  # one script: compared as written
