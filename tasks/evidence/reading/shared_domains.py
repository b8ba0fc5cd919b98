"""Domains shared by unrelated parties (``data/shared_domains.txt``): never a company key."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def shared_domains() -> frozenset[str]:
    """Platforms, shorteners, hosting, marketplaces, free mail and example domains."""
    text = resources.files("tasks.evidence.reading").joinpath("data/shared_domains.txt").read_text()
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_shared(domain: str) -> bool:
    """Whether ``domain`` (a registered domain, or any host under one) is a shared domain."""
    domain = domain.lower().strip(".")
    known = shared_domains()
    parts = domain.split(".")
    return any(".".join(parts[i:]) in known for i in range(len(parts) - 1))
