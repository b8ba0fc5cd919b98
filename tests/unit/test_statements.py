"""Statements of reasons rendered from their templates: English and Slovak, every fact a model
feature can stand for written in both, and the language chosen as the platform gives it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tasks.enforcement.statements import FACTS, NO_FACTS, Grounds, facts_of, language_for, render
from tasks.scoring.features import FEATURES

GROUNDS = Grounds(
    action="restrict",
    starts_at=dt.datetime(2026, 12, 7, 15, 30, tzinfo=dt.UTC),
    expires_at=dt.datetime(2026, 12, 14, 15, 30, tzinfo=dt.UTC),
    by_person=False,
    detection_point="messaging",
    rule="restrict-band",
    policy_version="2026-12-07.1",
    repeat=False,
    facts=("many_messages", "no_typing"),
    appeal_reference="BG-42",
)


def test_english() -> None:
    text = render(GROUNDS, "en")
    assert "Your account is restricted from 7 December 2026, 15:30 UTC until 14 December" in text
    assert "By automated means" in text
    assert "from the way the account sends messages" in text
    assert 'Enforcement policy 2026-12-07.1, rule "restrict-band".' in text
    assert "- Its messages were sent without being typed in the app." in text
    assert "quoting the reference BG-42" in text


def test_slovak() -> None:
    text = render(GROUNDS, "sk")
    assert "Váš účet je obmedzený od 7. decembra 2026, 15:30 UTC do 14. decembra 2026" in text
    assert "Automatizovane" in text
    assert "zo spôsobu, akým účet posiela správy" in text
    assert "Pravidlá presadzovania 2026-12-07.1, pravidlo „restrict-band“." in text
    assert "- Jeho správy boli odoslané bez toho, aby boli v aplikácii napísané." in text
    assert "uviesť číslo BG-42" in text


@pytest.mark.parametrize("language", ["en", "sk"])
@pytest.mark.parametrize("point", ["registration", "messaging", "feedback"])
def test_every_fact_and_detection_point_is_written_in_each_language(
    language: str, point: str
) -> None:
    every = (*dict.fromkeys(FACTS.values()), NO_FACTS)
    ban = dataclasses.replace(
        GROUNDS, action="ban", expires_at=None, detection_point=point, repeat=True, facts=every
    )
    text = render(ban, language)  # a fact without a sentence fails (StrictUndefined)
    assert text.count("\n- ") == len(every)
    person = render(dataclasses.replace(ban, by_person=True), language)
    assert ("A person on our review team" in person) == (language == "en")
    assert ("rozhodol človek" in person) == (language == "sk")


def test_every_feature_but_the_stage_is_a_fact() -> None:
    assert set(FEATURES) - set(FACTS) == {"stage"}
    assert set(FACTS) <= set(FEATURES)


def test_facts_strongest_first_each_once_never_a_value() -> None:
    reasons = [
        {"feature": "msgs_last_hour", "value": 950.0, "contribution": 2.1},
        {"feature": "peak_msgs_15s", "value": 40.0, "contribution": 1.2},
        {"feature": "network_ban_rate", "value": 0.4, "contribution": 0.7},
        {"feature": "stage", "value": 1.0, "contribution": 0.3},
    ]
    assert facts_of(reasons) == ("many_messages", "shared_origin")
    assert facts_of(None) == facts_of([]) == (NO_FACTS,)


@pytest.mark.parametrize(
    ("tag", "country", "language"),
    [
        ("sk", None, "sk"),
        ("sk-SK", "US", "sk"),
        ("en-GB", "SK", "en"),
        ("de-AT", "SK", "sk"),  # no German template: the number's country speaks
        ("de", "AT", "en"),
        (None, "SK", "sk"),
        (None, None, "en"),
    ],
)
def test_language(tag: str | None, country: str | None, language: str) -> None:
    assert language_for(tag, country) == language
