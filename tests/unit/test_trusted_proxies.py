"""Which proxies the servers trust: named addresses and networks only, read from the
environment as an operator writes them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infra.settings import Settings
from workers.cli.console import proxy_options


def _settings(monkeypatch: pytest.MonkeyPatch, value: str) -> Settings:
    monkeypatch.setenv("BULKGUARD_TRUSTED_PROXIES", value)
    return Settings()


def test_proxies_are_read_as_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, " 10.0.0.5, 10.0.0.0/24,,fd00::1 ")
    assert settings.trusted_proxies == ("10.0.0.5", "10.0.0.0/24", "fd00::1")
    assert proxy_options(settings) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["10.0.0.5", "10.0.0.0/24", "fd00::1"],
    }


def test_none_named_means_the_forwarded_headers_are_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Compose passes an unset variable as an empty string.
    assert proxy_options(_settings(monkeypatch, "")) == {"proxy_headers": False}
    monkeypatch.delenv("BULKGUARD_TRUSTED_PROXIES")
    assert proxy_options(Settings()) == {"proxy_headers": False}


@pytest.mark.parametrize("value", ["*", "proxy.internal", "10.0.0.0/33", "10.0.0.5 10.0.0.6"])
def test_anything_but_addresses_and_networks_is_refused_with_the_setting_named(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    with pytest.raises(ValidationError, match="BULKGUARD_TRUSTED_PROXIES"):
        _settings(monkeypatch, value)
