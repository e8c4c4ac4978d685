"""Migration 0009: tags keyed as the one lookup keys them, duplicates merged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from roost.clock import utcnow
from roost.db.tables import followed_tags, status_tags, tags
from roost.domain.tags.lookup import tag_ids
from tests.conftest import Roost


def _migrate(roost: Roost, revision: str) -> None:
    """Move the schema to ``revision`` as `roost db upgrade|downgrade` does
    (roost/db/migrate.py): on SQLite a copy is changed with foreign keys off
    and swapped in, so a table rebuilt by a migration cascades nothing."""
    from roost.db import migrate

    async def go() -> None:
        if revision == "head":
            await migrate.upgrade(roost.db)
        else:
            await migrate.downgrade(roost.db, revision)

    roost.run(go)


def test_given_tags_keyed_the_old_way_when_migrated_then_each_is_one_tag_with_all_its_links(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    first = int(alice.post_status("one")["id"])
    second = int(alice.post_status("two")["id"])
    _migrate(roost, "0010")
    now = utcnow()
    old = [  # (id, name, key): keys as the lookup before 0011 made them
        (1, "Cafe", "cafe"),
        (2, "\uff23\uff21\uff26\uff25", "\uff43\uff41\uff46\uff45"),  # full-width
        (3, "cafe\u0301", "cafe\u0301"),  # followed with a combining accent
        (4, "Café", "café"),
        (5, "roost", "roost"),
    ]

    async def seed() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                insert(tags),
                [{"id": i, "name": n, "name_key": k, "created_at": now} for i, n, k in old],
            )
            links = [(first, 1), (first, 2), (second, 2), (first, 4), (second, 5)]
            await tx.execute(insert(status_tags), [{"status_id": s, "tag_id": t} for s, t in links])
            follows = [(10, int(bob.id), 2), (11, int(bob.id), 3), (12, int(alice.id), 4)]
            await tx.execute(
                insert(followed_tags),
                [{"id": i, "account_id": a, "tag_id": t, "created_at": now} for i, a, t in follows],
            )

    roost.run(seed)
    _migrate(roost, "head")

    async def read() -> tuple[list[Any], list[Any], list[Any], dict[str, int]]:
        async with roost.db.read() as conn:
            keys = await conn.execute(select(tags.c.id, tags.c.name_key).order_by(tags.c.id))
            linked = await conn.execute(select(status_tags).order_by(status_tags.c.status_id))
            followed = await conn.execute(
                select(followed_tags.c.account_id, followed_tags.c.tag_id)
            )
            found_keys, found_links, found_follows = keys.all(), linked.all(), followed.all()
        async with roost.db.write() as tx:
            looked_up = await tag_ids(tx, ["\uff43\uff41\uff46\uff45", "cafe\u0301"])
        return found_keys, found_links, found_follows, looked_up

    found_keys, found_links, found_follows, looked_up = roost.run(read)
    assert [tuple(r) for r in found_keys] == [(1, "cafe"), (3, "café"), (5, "roost")]
    assert sorted((r.status_id, r.tag_id) for r in found_links) == sorted(
        [(first, 1), (first, 3), (second, 1), (second, 5)]
    )
    assert sorted(tuple(r) for r in found_follows) == sorted(
        [(int(bob.id), 1), (int(bob.id), 3), (int(alice.id), 3)]
    )
    assert looked_up == {"cafe": 1, "café": 3}
