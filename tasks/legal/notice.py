"""Rendering a notice from its template."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined

from tasks.legal.policy import Eligibility

_env = Environment(
    loader=PackageLoader("tasks.legal", "templates"),
    undefined=StrictUndefined,  # a missing field is a bug, not an empty line in a legal letter
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,  # plain-text letters, never rendered as HTML  # noqa: S701
)


@dataclass(frozen=True)
class CompanyView:
    id: int
    name: str


@dataclass(frozen=True)
class EvidenceView:
    url: str | None
    excerpt: str


def render(
    *,
    company: CompanyView,
    domains: Sequence[str],
    eligibility: Eligibility,
    evidence: Mapping[int, EvidenceView],
    linked_accounts: Sequence[str],
    policy_version: str,
) -> str:
    return _env.get_template("notice.txt.j2").render(
        notice_ref=f"{company.id:06d}",
        company=company,
        domains=list(domains),
        eligibility=eligibility,
        evidence=evidence,
        linked_accounts=list(linked_accounts),
        policy_version=policy_version,
    )
