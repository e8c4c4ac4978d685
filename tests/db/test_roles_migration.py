"""Migration 0016: administrators become Owners; the flag goes, and comes
back on a downgrade for those whose role grants ``administrator``."""

from __future__ import annotations

from sqlalchemy import text

from roost.domain.roles.queries import role_of
from tests.conftest import Roost
from tests.db.test_tag_keys_migration import _migrate


def test_given_administrators_before_roles_when_migrated_then_they_hold_the_owner_role(
    roost: Roost,
) -> None:
    boss, member = roost.account("boss"), roost.account("member")
    _migrate(roost, "0015")

    async def flag_boss() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                text("UPDATE users SET admin = :yes WHERE account_id = :id"),
                {"yes": True, "id": int(boss.id)},
            )

    roost.run(flag_boss)
    _migrate(roost, "head")

    async def roles() -> tuple[str | None, str | None]:
        async with roost.db.read() as conn:
            held = await role_of(conn, int(boss.id))
            other = await role_of(conn, int(member.id))
        return (held.name if held else None), (other.name if other else None)

    assert roost.run(roles) == ("Owner", None)
    answer = roost.client.get("/api/v1/accounts/" + boss.id).json()
    assert answer["roles"] == [{"id": "3", "name": "Owner", "color": ""}]

    _migrate(roost, "0015")

    async def flags() -> list[tuple[int, bool]]:
        async with roost.db.read() as conn:
            rows = await conn.execute(text("SELECT account_id, admin FROM users"))
            return sorted((int(r[0]), bool(r[1])) for r in rows)

    assert roost.run(flags) == sorted([(int(boss.id), True), (int(member.id), False)])
    _migrate(roost, "head")
