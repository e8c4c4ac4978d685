"""Giving test accounts staff roles through the real actions."""

from __future__ import annotations

from roost.domain.audit.chain import CONSOLE
from roost.domain.roles import actions
from roost.domain.roles.permissions import Permission
from tests.conftest import Roost, User

ADMIN_SCOPES = "read write follow admin:read admin:write"


def make_role(roost: Roost, name: str, permissions: int, position: int = 5) -> None:
    async def create() -> None:
        async with roost.db.write() as tx:
            await actions.do_create_role(
                tx, name=name, permissions=permissions, by=CONSOLE, position=position
            )

    roost.run(create)


def grant(roost: Roost, user: User, role_name: str) -> None:
    async def give() -> None:
        async with roost.db.write() as tx:
            await actions.do_grant_role(
                tx, account_id=int(user.id), role_name=role_name, by=CONSOLE
            )

    roost.run(give)


def staff_with(roost: Roost, name: str, permissions: int, scopes: str = ADMIN_SCOPES) -> User:
    """An account holding a new role of exactly ``permissions``."""
    role = f"role-{name}"
    make_role(roost, role, permissions)
    user = roost.account(name, scopes=scopes)
    grant(roost, user, role)
    return user


def everything_but(permission: Permission) -> int:
    from roost.domain.roles.permissions import ALL

    return int(ALL & ~permission & ~Permission.ADMINISTRATOR)
