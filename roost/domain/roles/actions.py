"""Making roles and giving them to accounts, each change in the audit log.

``by`` is the staff member acting (``Staff``): through the API or with
``--as``, their own role must grant ``manage_roles`` and rank above the role
they give, take or make (Mastodon's rule: roles below theirs), unless it
grants ``administrator``. The operator at the console (``CONSOLE``) may do
anything: whoever holds the data directory could edit the database anyway.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import account_roles, accounts, roles
from roost.domain.audit.chain import Staff, record
from roost.domain.roles.permissions import BUILT_IN, Permission, grants, key
from roost.domain.roles.queries import Role, role_named, role_of
from roost.errors import Conflict, Forbidden, NotFound, RuleBroken
from roost.ids import new_id

MANAGE = Permission.MANAGE_ROLES


async def _check_may_manage(tx: Tx, by: Staff, role: Role | None) -> None:
    if by.account_id is None:
        return
    own = await role_of(tx.conn, by.account_id)
    if own is None or not grants(own.permissions, MANAGE):
        raise Forbidden("This action is not allowed")
    if grants(own.permissions, Permission.ADMINISTRATOR):
        return
    if role is not None and role.position >= own.position:
        raise Forbidden("Only roles below your own can be given, taken or made")


async def do_create_role(
    tx: Tx,
    *,
    name: str,
    permissions: int,
    by: Staff,
    color: str = "",
    highlighted: bool = False,
    position: int = 0,
) -> Role:
    name = name.strip()
    if not 0 < len(name) <= 100:
        raise RuleBroken("a role's name is 1 to 100 characters")
    if await role_named(tx.conn, name) is not None:
        raise Conflict(f"there is already a role named {name}")
    now = utcnow()
    role = Role(new_id(), name, color, int(permissions), highlighted, position, now)
    await _check_may_manage(tx, by, role)
    if by.account_id is not None:
        own = await role_of(tx.conn, by.account_id)
        limited = own is not None and not grants(own.permissions, Permission.ADMINISTRATOR)
        if limited and own is not None and permissions & ~own.permissions:
            raise Forbidden("A role cannot grant what your own does not")
    await tx.execute(
        roles.insert().values(
            id=role.id,
            name=role.name,
            color=role.color,
            permissions=role.permissions,
            highlighted=role.highlighted,
            position=role.position,
            created_at=now,
        )
    )
    await record(
        tx,
        action="role.create",
        permission=key(MANAGE),
        by=by,
        subject_type="role",
        subject_id=role.id,
        details={"name": role.name, "permissions": role.permissions, "position": position},
    )
    return role


async def _account(tx: Tx, username: str) -> int:
    account_id = (
        await tx.execute(
            select(accounts.c.id).where(accounts.c.username_key == username.lower().lstrip("@"))
        )
    ).scalar_one_or_none()
    if account_id is None:
        raise NotFound(f"no account named {username}")
    return int(account_id)


async def do_grant_role(tx: Tx, *, account_id: int, role_name: str, by: Staff) -> Role:
    """Give the account ``role_name``, in place of any role it held."""
    role = await role_named(tx.conn, role_name)
    if role is None:
        raise NotFound(f"no role named {role_name}")
    await _check_may_manage(tx, by, role)
    exists = (
        await tx.execute(select(accounts.c.id).where(accounts.c.id == account_id))
    ).scalar_one_or_none()
    if exists is None:
        raise NotFound()
    previous = await role_of(tx.conn, account_id)
    if previous is not None:
        await _check_may_manage(tx, by, previous)
        if previous.id == role.id:
            return role
    await tx.execute(delete(account_roles).where(account_roles.c.account_id == account_id))
    await tx.execute(
        account_roles.insert().values(account_id=account_id, role_id=role.id, granted_at=utcnow())
    )
    await record(
        tx,
        action="role.grant",
        permission=key(MANAGE),
        by=by,
        subject_type="role",
        subject_id=role.id,
        target_account_id=account_id,
        details={"role": role.name, "previous": previous.name if previous else None},
    )
    return role


async def do_revoke_role(tx: Tx, *, account_id: int, by: Staff) -> Role | None:
    """Take the account's role away; the role it held (None: it held none)."""
    previous = await role_of(tx.conn, account_id)
    if previous is None:
        return None
    await _check_may_manage(tx, by, previous)
    await tx.execute(delete(account_roles).where(account_roles.c.account_id == account_id))
    await record(
        tx,
        action="role.revoke",
        permission=key(MANAGE),
        by=by,
        subject_type="role",
        subject_id=previous.id,
        target_account_id=account_id,
        details={"role": previous.name},
    )
    return previous


async def account_named(tx: Tx, username: str) -> int:
    return await _account(tx, username)


async def do_restore_built_in_roles(tx: Tx) -> int:
    """Make any built-in role that is missing (an emptied database); how many."""
    present = set((await tx.execute(select(roles.c.id))).scalars())
    now = utcnow()
    made = 0
    for role_id, name, permissions, highlighted, position in BUILT_IN:
        if role_id in present:
            continue
        await tx.execute(
            roles.insert().values(
                id=role_id,
                name=name,
                color="",
                permissions=permissions,
                highlighted=highlighted,
                position=position,
                created_at=now,
            )
        )
        made += 1
    return made
