"""Database errors reach logs (Celery's retry and failure lines, the shell's own warnings): they
carry no statement parameters, and what PostgreSQL quotes in its details is masked there."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint, insert
from sqlalchemy.exc import IntegrityError

from infra.db.session import make_engine
from infra.redaction import redact

EMAIL = "owner@zyxwv-mass-messaging.example"
NAME = "Zyxwv Mass Messaging Holdings"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_constraint_error_shows_no_personal_data(
    backend: str, request: pytest.FixtureRequest, tmp_path
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'errors.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_database")
    engine = make_engine(url, pooled=False)
    metadata = MetaData()
    contacts = Table(
        "contacts",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(200)),
        Column("email", String(320)),
        UniqueConstraint("name", "email"),
    )
    metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(contacts), [{"name": NAME, "email": EMAIL}])
        with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
            conn.execute(insert(contacts), [{"name": NAME, "email": EMAIL}])
    finally:
        engine.dispose()
    text = str(caught.value)
    assert "parameters hidden" in text
    if backend == "postgresql":
        assert NAME in text  # PostgreSQL's DETAIL quotes the key, parameters hidden or not
    logged = redact(text)
    assert EMAIL not in logged
    assert NAME not in logged
