"""Rebuilding the index from the posts, on either engine."""

from __future__ import annotations

from sqlalchemy import text

from roost.search.index import index_for
from tests.conftest import Roost


def test_given_a_lost_index_when_rebuilt_then_search_finds_every_post_again(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    posts = [alice.post_status(f"Lantern number {n}") for n in range(3)]
    boost = alice.post(f"/api/v1/statuses/{posts[0]['id']}/reblog")
    assert boost.status_code == 200
    roost.drain_jobs()

    async def wipe() -> None:
        async with roost.db.write() as tx:
            await tx.execute(text("DELETE FROM search_statuses"))

    async def rebuild() -> int:
        return await index_for(roost.db.engine.dialect.name).rebuild(roost.db)

    roost.run(wipe)
    found = alice.get("/api/v2/search", params={"q": "lantern", "type": "statuses"})
    assert found.json()["statuses"] == []
    # Boosts are not indexed: their original is.
    assert roost.run(rebuild) == 3
    found = alice.get("/api/v2/search", params={"q": "lantern", "type": "statuses"})
    assert [s["id"] for s in found.json()["statuses"]] == [p["id"] for p in reversed(posts)]
