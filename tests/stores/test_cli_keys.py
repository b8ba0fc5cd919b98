"""``bulkguard keys rotate-data-hash`` on a real database: refused until the key being rotated
out is set, then re-keys every account in chunks, as an admin, and lookups by number follow."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from infra.db.models import Account
from infra.db.session import session_scope
from infra.number_hash import NumberKeys
from infra.settings import get_settings
from tasks.subject.find import subject
from tests.people import cli_env
from tests.seed import review_cases, review_phone
from workers.cli.main import main

OLD, NEW = "bulkguard-data-ref", "a new data key of the deployment's"


def _rotate(env: dict[str, str], who: str = "dpo") -> tuple[int, str]:
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            main, ["keys", "rotate-data-hash", "--chunk", "2", "--json", "--as", who], env=env
        )
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.output


def test_an_admin_rotates_the_data_key(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope() as session:
        review_cases(session, 5)
    as_admin = cli_env("dpo", "admin")

    code, output = _rotate({**as_admin, "BULKGUARD_DATA_HASH_KEY": NEW})
    assert code == 1
    assert "refused" in output
    assert "BULKGUARD_DATA_HASH_PREVIOUS_KEY" in output

    code, output = _rotate(
        {**as_admin, "BULKGUARD_DATA_HASH_KEY": NEW, "BULKGUARD_DATA_HASH_PREVIOUS_KEY": OLD}
    )
    assert code == 0, output
    assert json.loads(output) == {"rekeyed": 5, "unlinkable": 0, "remaining": 0, "finished": True}
    new = NumberKeys(NEW.encode())
    with session_scope() as session:
        assert set(session.scalars(select(Account.phone_key))) == {new.current_id}
        assert subject(session, phone=review_phone(3), keys=new).account_ids == ("rev-3",)

    code, output = _rotate({**cli_env("rita", "reviewer"), "BULKGUARD_DATA_HASH_KEY": NEW}, "rita")
    assert code != 0
    assert "admin" in output
