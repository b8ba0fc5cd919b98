"""accounts keep a keyed hash of the phone number, not the number

Revision ID: 0022
Revises: 0020
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from infra.number_hash import NumberKeys
from infra.settings import get_settings

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# Rows converted per read and write: a bounded transaction's worth of memory on any table size.
_CHUNK = 5000

_accounts = sa.table(
    "accounts",
    sa.column("account_id", sa.String),
    sa.column("phone", sa.String),
    sa.column("phone_hash", sa.String),
    sa.column("phone_key", sa.String),
    sa.column("phone_block", sa.String),
)


def upgrade() -> None:
    # The hashes are made under the data key of whoever runs this (BULKGUARD_DATA_HASH_KEY): the
    # workers' key, or lookups by number find none of these rows until a rotation re-keys them.
    keys = NumberKeys.from_settings(get_settings())
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("phone_key", sa.String(length=8), nullable=True))
    connection = op.get_bind()
    after = ""
    while True:
        rows = connection.execute(
            sa.select(_accounts.c.account_id, _accounts.c.phone)
            .where(_accounts.c.account_id > after)
            .order_by(_accounts.c.account_id)
            .limit(_CHUNK)
        ).all()
        if not rows:
            break
        connection.execute(
            sa.update(_accounts)
            .where(_accounts.c.account_id == sa.bindparam("id"))
            .values(phone_hash=sa.bindparam("h"), phone_key=sa.bindparam("k")),
            [{"id": a, "h": keys.hash(phone), "k": keys.current_id} for a, phone in rows],
        )
        after = rows[-1][0]
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_phone")
        batch_op.drop_column("phone")
        batch_op.create_index(batch_op.f("ix_accounts_phone_hash"), ["phone_hash"], unique=False)


def downgrade() -> None:
    # A hash cannot be turned back into its number. The column comes back holding each number's
    # 1,000-block (all but its last three digits), which the row still has: lookups by number of
    # the earlier release (linking a company's published number, subject requests) then find
    # none of these accounts. Records in the snapshots still hold their numbers whole.
    log.warning(
        "accounts.phone cannot be restored from keyed hashes: it is set to the number's block"
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
    op.execute(sa.update(_accounts).values(phone=_accounts.c.phone_block))
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column("phone", existing_type=sa.String(length=20), nullable=False)
        batch_op.drop_index(batch_op.f("ix_accounts_phone_hash"))
        batch_op.drop_column("phone_key")
        batch_op.drop_column("phone_hash")
        batch_op.create_index(batch_op.f("ix_accounts_phone"), ["phone"], unique=False)
