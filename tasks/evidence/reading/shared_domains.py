"""Domains and hosts shared by unrelated parties: never a company key.

Two reviewed lists: ``data/shared_domains.txt``, registered domains (platforms, hosting, free
mail, CDNs, documentation domains), and ``data/link_hosts.txt``, hosts where anyone has a chat
link, a short link, a profile, a listing, a store page or a checkout (``wa.me``,
``grabnest.gumroad.com``, ``pay.hotmart.com``). A page reports the second kind in its own field.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def shared_domains() -> frozenset[str]:
    """Platforms, shorteners, hosting, marketplaces, free mail and example domains."""
    text = resources.files("tasks.evidence.reading").joinpath("data/shared_domains.txt").read_text()
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


@cache
def link_hosts() -> frozenset[str]:
    """Hosts (each with its subdomains) where anyone may have a page or a link."""
    text = resources.files("tasks.evidence.reading").joinpath("data/link_hosts.txt").read_text()
    lines = (line.split("#", 1)[0].strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line)


def is_link_host(host: str) -> bool:
    """Whether ``host`` is a listed link host or a subdomain of one."""
    return _listed(host, link_hosts())


def is_shared(domain: str) -> bool:
    """Whether ``domain`` (a registered domain, or any host under one) is a shared domain or a
    link host: nobody's company key either way."""
    return _listed(domain, shared_domains()) or is_link_host(domain)


def _listed(host: str, known: frozenset[str]) -> bool:
    parts = host.lower().strip(".").split(".")
    return any(".".join(parts[i:]) in known for i in range(len(parts) - 1))
