"""Who acts at the console, and the one permission each staff command needs.

A staff command runs as the operator (whoever holds the data directory and its
settings, recorded in the audit log as ``console``), or with ``--as NAME`` as
that staff member: then their role must grant the command's permission, and
the audit log names them. ``STAFF_COMMANDS`` lists every staff command with
its permission (tests/cli/test_staff_commands.py holds it to the commands that
exist). Every command that changes the instance (rules, emoji, announcements,
jobs, invites, e-mail domain blocks, suggestions, trends, besides accounts,
roles and lawful requests) appends its audit entry (``audited``) in the
transaction that makes the change.
"""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import Tx
from roost.domain.accounts.queries import account_id_for_username
from roost.domain.audit.chain import CONSOLE, Staff, record
from roost.domain.roles.permissions import Permission, grants, key
from roost.domain.roles.queries import role_of
from roost.errors import Forbidden, NotFound

STAFF_COMMANDS: dict[str, Permission] = {
    "accounts approve": Permission.MANAGE_USERS,
    "accounts erase": Permission.DELETE_USER_DATA,
    "accounts suspend": Permission.MANAGE_USERS,
    "accounts unsuspend": Permission.MANAGE_USERS,
    "roles create": Permission.MANAGE_ROLES,
    "roles grant": Permission.MANAGE_ROLES,
    "roles revoke": Permission.MANAGE_ROLES,
    "audit list": Permission.VIEW_AUDIT_LOG,
    "audit verify": Permission.VIEW_AUDIT_LOG,
    "tokens revoke-all": Permission.MANAGE_USER_ACCESS,
    "lawful list": Permission.MANAGE_USERS,
    "lawful show": Permission.MANAGE_USERS,
    "lawful create": Permission.MANAGE_USERS,
    "lawful approve": Permission.MANAGE_USERS,
    "lawful refuse": Permission.MANAGE_USERS,
    "lawful package": Permission.MANAGE_USERS,
    "ip-blocks add": Permission.MANAGE_BLOCKS,
    "ip-blocks remove": Permission.MANAGE_BLOCKS,
    "domain-blocks add": Permission.MANAGE_FEDERATION,
    "domain-blocks remove": Permission.MANAGE_FEDERATION,
    "domain-allows add": Permission.MANAGE_FEDERATION,
    "domain-allows remove": Permission.MANAGE_FEDERATION,
    "appeals list": Permission.MANAGE_APPEALS,
    "appeals accept": Permission.MANAGE_APPEALS,
    "appeals reject": Permission.MANAGE_APPEALS,
    "rules add": Permission.MANAGE_RULES,
    "rules remove": Permission.MANAGE_RULES,
    "warning-presets create": Permission.MANAGE_SETTINGS,
    "warning-presets remove": Permission.MANAGE_SETTINGS,
    "emoji add": Permission.MANAGE_CUSTOM_EMOJIS,
    "emoji remove": Permission.MANAGE_CUSTOM_EMOJIS,
    "announcements add": Permission.MANAGE_ANNOUNCEMENTS,
    "announcements remove": Permission.MANAGE_ANNOUNCEMENTS,
    "jobs retry": Permission.DEVOPS,
    "jobs discard": Permission.DEVOPS,
    "invites create": Permission.MANAGE_INVITES,
    "invites revoke": Permission.MANAGE_INVITES,
    "email-domains block": Permission.MANAGE_BLOCKS,
    "email-domains unblock": Permission.MANAGE_BLOCKS,
    "suggestions feature": Permission.MANAGE_TAXONOMIES,
    "suggestions unfeature": Permission.MANAGE_TAXONOMIES,
    "trends approve": Permission.MANAGE_TAXONOMIES,
    "trends reject": Permission.MANAGE_TAXONOMIES,
    "spam clusters": Permission.MANAGE_REPORTS,
    "spam show": Permission.MANAGE_REPORTS,
    # Suspending a cluster's accounts also needs manage_users (checked by
    # roost/domain/spam/actions.py).
    "spam act": Permission.MANAGE_REPORTS,
}


def as_option() -> str | None:
    return typer.Option(  # type: ignore[no-any-return]
        None,
        "--as",
        help="Act as this staff member (their role must allow it; the audit log names them)",
    )


async def acting(conn: AsyncConnection, name: str | None, command: str) -> Staff:
    """The actor for ``command``: the console, or ``name`` if their role allows it."""
    if name is None:
        return CONSOLE
    needed = STAFF_COMMANDS[command]
    account_id = await account_id_for_username(conn, name)
    if account_id is None:
        raise NotFound(f"no account named {name}")
    held = await role_of(conn, account_id)
    if held is None or not grants(held.permissions, needed):
        raise Forbidden(
            f"@{name.lstrip('@')}'s role does not grant {key(needed)}, "
            f"which `roost {command}` needs"
        )
    return Staff(account_id, "console")


async def audited(
    tx: Tx,
    by: Staff,
    command: str,
    *,
    action: str,
    subject_type: str,
    subject_id: int | str | None = None,
    target_account_id: int | None = None,
    details: dict[str, Any] | None = None,
    personal: dict[str, Any] | None = None,
) -> None:
    """The audit entry of a console command that changed the instance, in its
    transaction: who (``by``), with the permission the command needs."""
    await record(
        tx,
        action=action,
        permission=key(STAFF_COMMANDS[command]),
        by=by,
        subject_type=subject_type,
        subject_id=subject_id,
        target_account_id=target_account_id,
        details=details,
        personal=personal,
    )
