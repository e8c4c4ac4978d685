"""staff roles, the hash-chained audit log, reports

Roles replace the ``users.admin`` flag: Moderator, Admin and Owner are made
with Mastodon's ids and permissions, and every account that was an
administrator gets the Owner role (it could do everything, and so can the
Owner). The flag is dropped.

The permission masks are written out here, not imported, so that this
migration does what it did on the day it was written.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 01:30:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()
_SEALED = roost.db.types.Sealed()

# (id, name, color, permissions, highlighted, position), as Mastodon seeds them.
_BUILT_IN = (
    (1, "Moderator", "", 0x4 | 0x8 | 0x10 | 0x100 | 0x400, False, 10),
    (
        2,
        "Admin",
        "",
        0x4
        | 0x8
        | 0x10
        | 0x20
        | 0x40
        | 0x80
        | 0x100
        | 0x200
        | 0x400
        | 0x800
        | 0x1000
        | 0x2000
        | 0x4000
        | 0x8000
        | 0x20000
        | 0x40000
        | 0x80000,
        True,
        100,
    ),
    (3, "Owner", "", 0x1, True, 1000),
)
_OWNER = 3


def _account_fk(table: str, column: str, ondelete: str = "CASCADE") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        column,
        _ID,
        sa.ForeignKey("accounts.id", name=f"fk_{table}_{column}_accounts", ondelete=ondelete),
        nullable=ondelete != "CASCADE",
    )


def upgrade() -> None:
    roles = op.create_table(
        "roles",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("color", sa.String(length=16), nullable=False),
        sa.Column("permissions", sa.BigInteger(), nullable=False),
        sa.Column("highlighted", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("name", name=op.f("uq_roles_name")),
    )
    op.create_table(
        "account_roles",
        _account_fk("account_roles", "account_id"),
        sa.Column(
            "role_id",
            _ID,
            sa.ForeignKey("roles.id", name="fk_account_roles_role_id_roles", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("granted_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_roles")),
    )
    op.create_index("ix_account_roles_role_id", "account_roles", ["role_id"])
    now = datetime.now(UTC)
    op.bulk_insert(
        roles,
        [
            {
                "id": id_,
                "name": name,
                "color": color,
                "permissions": permissions,
                "highlighted": highlighted,
                "position": position,
                "created_at": now,
            }
            for id_, name, color, permissions, highlighted, position in _BUILT_IN
        ],
    )
    bind = op.get_bind()
    admins = bind.execute(sa.text("SELECT account_id FROM users WHERE admin")).scalars().all()
    account_roles = sa.table(
        "account_roles",
        sa.column("account_id", _ID),
        sa.column("role_id", _ID),
        sa.column("granted_at", _AT),
    )
    if admins:
        op.bulk_insert(
            account_roles,
            [{"account_id": a, "role_id": _OWNER, "granted_at": now} for a in admins],
        )
    # users.admin stays (expand only): release 0.1.0 reads and writes it while
    # servers are upgraded one at a time. This release neither reads nor
    # writes it, so new rows take the default; a later release drops it.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "admin", existing_type=sa.Boolean(), server_default=sa.false(), existing_nullable=False
        )

    op.create_table(
        "audit_entries",
        sa.Column("seq", _ID, autoincrement=False, nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("permission", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("personal_digest", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_entries_prev_hash")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_entries_hash")),
    )
    op.create_table(
        "audit_personal",
        sa.Column(
            "seq",
            _ID,
            sa.ForeignKey(
                "audit_entries.seq",
                name="fk_audit_personal_seq_audit_entries",
                ondelete="CASCADE",
            ),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("actor_account_id", _ID, nullable=True),
        sa.Column("target_account_id", _ID, nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=True),
        sa.Column("erased_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_personal")),
    )
    op.create_index("ix_audit_personal_actor_account_id", "audit_personal", ["actor_account_id"])
    op.create_index("ix_audit_personal_target_account_id", "audit_personal", ["target_account_id"])

    op.create_table(
        "reports",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        _account_fk("reports", "account_id"),
        _account_fk("reports", "target_account_id"),
        sa.Column("comment", _SEALED, nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("forward", sa.Boolean(), nullable=False),
        sa.Column("assigned_account_id", _ID, nullable=True),
        sa.Column("action_taken_at", _AT, nullable=True),
        sa.Column("action_taken_by_account_id", _ID, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    op.create_index("ix_reports_target_account_id", "reports", ["target_account_id"])
    op.create_index("ix_reports_account_id", "reports", ["account_id"])
    op.create_table(
        "report_rules",
        sa.Column(
            "report_id",
            _ID,
            sa.ForeignKey(
                "reports.id", name="fk_report_rules_report_id_reports", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column(
            "rule_id",
            _ID,
            sa.ForeignKey(
                "instance_rules.id",
                name="fk_report_rules_rule_id_instance_rules",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("report_id", "rule_id", name=op.f("pk_report_rules")),
    )
    op.create_table(
        "report_statuses",
        sa.Column(
            "report_id",
            _ID,
            sa.ForeignKey(
                "reports.id", name="fk_report_statuses_report_id_reports", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("status_id", _ID, autoincrement=False, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("content", _SEALED, nullable=False),
        sa.Column("spoiler_text", _SEALED, nullable=False),
        sa.Column("media", _SEALED, nullable=False),
        sa.Column("visibility", sa.Integer(), nullable=False),
        sa.Column("posted_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("report_id", "status_id", name=op.f("pk_report_statuses")),
    )
    op.create_index("ix_report_statuses_status_id", "report_statuses", ["status_id"])
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_id", _ID, nullable=True))
        batch_op.create_foreign_key(
            "fk_notifications_report_id_reports",
            "reports",
            ["report_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE report_id IS NOT NULL")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint("fk_notifications_report_id_reports", type_="foreignkey")
        batch_op.drop_column("report_id")
    op.drop_index("ix_report_statuses_status_id", table_name="report_statuses")
    op.drop_table("report_statuses")
    op.drop_table("report_rules")
    op.drop_index("ix_reports_account_id", table_name="reports")
    op.drop_index("ix_reports_target_account_id", table_name="reports")
    op.drop_table("reports")
    op.drop_index("ix_audit_personal_target_account_id", table_name="audit_personal")
    op.drop_index("ix_audit_personal_actor_account_id", table_name="audit_personal")
    op.drop_table("audit_personal")
    op.drop_table("audit_entries")
    op.execute(
        "UPDATE users SET admin = TRUE WHERE account_id IN (SELECT account_id FROM account_roles"
        " JOIN roles ON roles.id = account_roles.role_id WHERE roles.permissions % 2 = 1)"
    )
    op.drop_index("ix_account_roles_role_id", table_name="account_roles")
    op.drop_table("account_roles")
    op.drop_table("roles")
