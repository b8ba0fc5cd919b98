"""Statements of reasons: what the account holder reads about a ban or restriction.

Each ban or restriction carries one, written when the action is recorded, kept with it
(``enforcement_actions.statement``) and delivered with it to the platform: what was decided and
until when, whether a machine decided it (and at which detection point) or a person, the policy
rule and the term of use it applies, the facts in plain words, and the reference to appeal
with. In the account's language when the platform gave one bulkguard has a template for, else in
the language of the number's country, else English. When an appeal overturns the action, the
statement kept and delivered with the lift is noted so (``lift_on_appeal``).

The facts come from the decision's top feature contributions, each feature mapped to a plain
sentence: the statement never quotes a score, a feature's value, a model's internals or
anything about another account (the neighbourhood features become one sentence that names no
one). The sentences themselves live in the templates, one per language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Account, EnforcementAction, Score
from tasks.accounts.signals import AccountSignals
from tasks.templating import LANGUAGES, country_language, environment

STATED = ("ban", "restrict")
# Each model feature, as the fact it stands for. Several features can tell one fact (three
# message counts are "many messages"); a feature that is not a fact about the account's conduct
# (the detection point itself) has none.
FACTS: dict[str, str] = {
    "number_voip": "internet_number",
    "number_fixed_line": "fixed_line_number",
    "number_unusual": "unusual_number",
    "ip_country_mismatch": "foreign_network",
    "client_modified": "modified_client",
    "client_web": "web_client",
    "client_business": "business_client",
    "account_age_hours": "new_account",
    "peak_msgs_15s": "many_messages",
    "msgs_last_hour": "many_messages",
    "msgs_last_day": "many_messages",
    "minutes_to_first_burst": "early_burst",
    "unique_recipients_day": "many_recipients",
    "recipients_reached": "many_recipients",
    "non_contact_ratio": "strangers",
    "reply_ratio": "few_replies",
    "typing_ratio": "no_typing",
    "groups_created_day": "groups",
    "group_members_added_day": "groups",
    "send_interval_cv": "regular_timing",
    "identical_content_ratio": "identical_content",
    "blocks": "blocked",
    "block_rate": "blocked",
    "reports": "reported",
    "report_rate": "reported",
    # Neighbourhoods: said of where the account came from, never of whom else came from there.
    "block_ban_rate": "shared_origin",
    "block_report_rate": "shared_origin",
    "network_ban_rate": "shared_origin",
    "network_report_rate": "shared_origin",
    "device_ban_rate": "shared_origin",
    "device_report_rate": "shared_origin",
    "network_regs_1h": "registration_burst",
    "device_regs_1h": "registration_burst",
}
# Said when no contribution is known (a decision recorded without its feature row).
NO_FACTS = "overall_pattern"

_env = environment("tasks.enforcement")


@dataclass(frozen=True)
class Grounds:
    """What a statement says, in no language yet."""

    action: str  # ban | restrict
    starts_at: dt.datetime  # when it is put in force: at once, or at its release
    expires_at: dt.datetime | None
    by_person: bool  # a reviewer decided it; otherwise the classifier did
    detection_point: str  # registration | messaging | feedback
    rule: str  # the enforcement policy's rule, as the action carries it
    policy_version: str
    repeat: bool  # a ban because the account's restrictions ran out (``rule:repeat``)
    facts: tuple[str, ...]
    appeal_reference: str


def appeal_reference(action_id: int) -> str:
    """The reference the account holder quotes to appeal: the platform's appeal service files
    the appeal against this action (``enforcement.file_appeal``, ``action_id``)."""
    return f"BG-{action_id}"


def facts_of(reasons: Sequence[dict[str, Any]] | None) -> tuple[str, ...]:
    """The facts the decision's contributions stand for, strongest first, each once. Only
    contributions toward abuse count (the model's explanation keeps no other)."""
    facts: list[str] = []
    for reason in reasons or ():
        fact = FACTS.get(str(reason.get("feature")))
        if fact is not None and float(reason.get("contribution") or 0) > 0 and fact not in facts:
            facts.append(fact)
    return tuple(facts) or (NO_FACTS,)


def language_for(tag: str | None, country: str | None) -> str:
    """The statement's language: the platform's tag for the account where a template exists
    for it ("sk-SK" is Slovak), else the number's country's language."""
    if tag:
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return country_language(country)


def render(grounds: Grounds, language: str) -> str:
    template = _env.get_template(f"statement.{language}.txt.j2")
    return template.render(s=grounds)


def statement(grounds: Grounds, language: str) -> dict[str, str]:
    """The statement as it is kept with the action and delivered with it."""
    return {
        "language": language,
        "text": render(grounds, language),
        "appeal_reference": grounds.appeal_reference,
    }


def lift_on_appeal(action: EnforcementAction, at: dt.datetime) -> None:
    """Annotate ``action``'s statement: overturned on appeal and lifted ``at``. The statement as
    first given stays whole below the note, in its language, so that the account holder reads
    what was decided and that it no longer applies; ``lifted_at`` says when, for the platform.
    An action with no statement (recorded before statements) gets none; once noted, it stays."""
    given = action.statement
    if given is None or given.get("lifted_at") is not None:
        return
    language = given.get("language", "en")
    note = _env.get_template(f"statement_lifted.{language}.txt.j2").render(
        action=action.action, lifted_at=at
    )
    action.statement = {**given, "text": note + given["text"], "lifted_at": at.isoformat()}


def needing(actions: Iterable[EnforcementAction]) -> list[EnforcementAction]:
    """The bans and restrictions among ``actions`` that have no statement yet."""
    return [a for a in actions if a.action in STATED and a.statement is None]


def attach(
    session: Session,
    actions: Iterable[EnforcementAction],
    records: Mapping[int, AccountSignals],
) -> None:
    """Write the statement of each ban and restriction among ``actions`` that has none, from
    ``records`` (the scored record of each, by action id): the detection point from its score,
    the language from the record (where the platform gave one) or the number's country."""
    todo = needing(actions)
    if not todo:
        return
    stages: dict[int, str] = dict(
        session.execute(
            select(Score.id, Score.stage).where(Score.id.in_({a.score_id for a in todo}))
        ).all()
    )
    countries: dict[str, str | None] = dict(
        session.execute(
            select(Account.account_id, Account.country).where(
                Account.account_id.in_({a.account_id for a in todo})
            )
        ).all()
    )
    for action in todo:
        record = records.get(action.id)
        language = language_for(
            record.language if record else None, countries.get(action.account_id)
        )
        action.statement = statement(grounds_of(action, stages[action.score_id]), language)
    session.flush()


def grounds_of(action: EnforcementAction, detection_point: str) -> Grounds:
    rule = action.rule or ""
    return Grounds(
        action=action.action,
        starts_at=action.release_at or action.created_at,
        expires_at=action.expires_at,
        by_person=action.origin_id is not None,
        detection_point=detection_point,
        rule=rule,
        policy_version=action.policy_version,
        repeat=rule.endswith(":repeat"),
        facts=facts_of(action.reasons),
        appeal_reference=appeal_reference(action.id),
    )


def of_account(session: Session, account_id: str) -> list[EnforcementAction]:
    """The bans and restrictions of ``account_id``, oldest first, each with the statement kept
    with it (None for one recorded before statements were written)."""
    return list(
        session.scalars(
            select(EnforcementAction)
            .where(
                EnforcementAction.account_id == account_id,
                EnforcementAction.action.in_(STATED),
            )
            .order_by(EnforcementAction.id)
        )
    )
