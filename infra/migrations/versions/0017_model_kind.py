"""models of more than one kind in the registry: account models and the evidence reader's, each
with its own active and shadow version

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE_INDEXES = {"uq_model_versions_one_active": "active", "uq_model_versions_one_shadow": "shadow"}


def upgrade() -> None:
    # Every version registered so far scores accounts.
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="account", nullable=False)
        )
    _role_indexes(["kind", "role"])


def downgrade() -> None:
    # One active and one shadow model overall again, and every version an account model: the
    # other kinds' versions cannot be told apart from them any more, so they go.
    op.execute("DELETE FROM model_versions WHERE kind <> 'account'")
    _role_indexes(["role"])
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_column("kind")


def _role_indexes(columns: list[str]) -> None:
    """The one-active and one-shadow indexes, rebuilt over ``columns``."""
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        for name, role in ROLE_INDEXES.items():
            where = sa.text(f"role = '{role}'")
            batch_op.drop_index(name, sqlite_where=where, postgresql_where=where)
            batch_op.create_index(
                name, columns, unique=True, sqlite_where=where, postgresql_where=where
            )
