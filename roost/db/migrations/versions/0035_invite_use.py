"""invite use: which invite an account signed up with

``users.invite_id`` is the invite link an account used at sign-up (none for
accounts made otherwise), so staff can list the accounts someone's invites
brought in (the admin API's ``invited_by``). The invite outlives its maker's
erasure (its ``created_by`` is cleared), and an account's erasure removes
its ``users`` row with the link.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06 13:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invite_id", _ID, nullable=True))
        batch_op.create_foreign_key(
            "fk_users_invite_id_invites", "invites", ["invite_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index("ix_users_invite_id", ["invite_id"])


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_invite_id")
        batch_op.drop_constraint("fk_users_invite_id_invites", type_="foreignkey")
        batch_op.drop_column("invite_id")
