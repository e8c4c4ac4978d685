"""Collections: accounts their owner recommends, each featured with its consent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from roost.db.tables import accounts
from tests.conftest import Roost, User


def _made(user: User, **fields: Any) -> dict[str, Any]:
    response = user.post("/api/v1/collections", json={"name": "Nice people", **fields})
    assert response.status_code == 200, response.text
    made: dict[str, Any] = response.json()["collection"]
    return made


def _feature(owner: User, collection: dict[str, Any], other: User) -> dict[str, Any]:
    response = owner.post(
        f"/api/v1/collections/{collection['id']}/items", json={"account_id": other.id}
    )
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()["collection_item"]
    return item


def _states(user: User | None, roost: Roost, collection_id: str) -> dict[str, str]:
    path = f"/api/v1/collections/{collection_id}"
    response = user.get(path) if user else roost.client.get(path)
    assert response.status_code == 200, response.text
    return {i["account_id"]: i["state"] for i in response.json()["collection"]["items"]}


def test_given_a_collection_when_created_shown_changed_and_deleted_then_each_step_shows(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    made = _made(
        alice,
        description="Well <worth> following",
        language="en",
        tag_name="#Discovery",
        sensitive=False,
        discoverable=True,
    )
    assert made["account_id"] == alice.id and made["local"] is True
    assert made["description"] == "Well &lt;worth&gt; following"
    assert made["tag"] == {"name": "Discovery", "url": f"{roost.settings.base_url}/tags/discovery"}
    assert made["items"] == [] and made["item_count"] == 0
    shown = roost.client.get(f"/api/v1/collections/{made['id']}").json()
    assert shown["collection"] == made
    assert [a["id"] for a in shown["accounts"]] == [alice.id]
    changed = alice.patch(
        f"/api/v1/collections/{made['id']}", data={"name": "Nicer people", "sensitive": "true"}
    ).json()["collection"]
    assert changed["name"] == "Nicer people" and changed["sensitive"] is True
    assert changed["description"] == made["description"]
    listed = roost.client.get(f"/api/v1/accounts/{alice.id}/collections").json()
    assert [c["id"] for c in listed["collections"]] == [made["id"]]
    assert alice.get(f"/api/v1/{alice.id}/collections").json() == listed
    assert alice.delete(f"/api/v1/collections/{made['id']}").json() == {}
    assert alice.get(f"/api/v1/collections/{made['id']}").status_code == 404


def test_given_bad_input_or_another_owner_when_changing_then_422_403_and_404(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    long_name = alice.post("/api/v1/collections", json={"name": "x" * 41})
    assert long_name.status_code == 422
    assert long_name.json()["details"]["name"][0]["error"] == "ERR_TOO_LONG"
    assert alice.post("/api/v1/collections", json={"name": " "}).status_code == 422
    assert (
        alice.post("/api/v1/collections", json={"name": "a", "tag_name": "#a b"}).status_code == 422
    )
    made = _made(alice)
    assert bob.patch(f"/api/v1/collections/{made['id']}", json={"name": "mine"}).status_code == 403
    assert bob.delete(f"/api/v1/collections/{made['id']}").status_code == 403
    assert (
        bob.post(f"/api/v1/collections/{made['id']}/items", json={"account_id": bob.id}).status_code
        == 403
    )
    assert alice.post(f"/api/v1/collections/{made['id']}/items", json={}).status_code == 422
    assert (
        alice.post(
            f"/api/v1/collections/{made['id']}/items", json={"account_id": "4242"}
        ).status_code
        == 422
    )
    assert (
        alice.post(
            f"/api/v1/collections/{made['id']}/items", json={"account_id": alice.id}
        ).status_code
        == 422
    )
    assert roost.client.get("/api/v1/collections/4242").status_code == 404
    assert roost.client.post("/api/v1/collections", json={"name": "x"}).status_code == 401


def test_given_an_account_featured_by_a_stranger_then_it_waits_until_accepted(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    made = _made(alice)
    item = _feature(alice, made, bob)
    assert item["state"] == "pending" and item["account_id"] == bob.id
    # Given pending: the owner and bob see it; others do not.
    assert _states(alice, roost, made["id"]) == {bob.id: "pending"}
    assert _states(bob, roost, made["id"]) == {bob.id: "pending"}
    assert _states(carol, roost, made["id"]) == {}
    assert _states(None, roost, made["id"]) == {}
    mine = bob.get(f"/api/v1/accounts/{bob.id}/in_collections").json()["collections"]
    assert [c["id"] for c in mine] == [made["id"]]
    assert roost.client.get(f"/api/v1/accounts/{bob.id}/in_collections").json() == {
        "collections": []
    }
    # Only bob may answer for bob.
    path = f"/api/v1/collections/{made['id']}/items/{item['id']}"
    assert carol.post(f"{path}/accept").status_code == 403
    assert alice.post(f"{path}/revoke").status_code == 403
    assert bob.post(f"{path}/accept").json() == {}
    assert _states(None, roost, made["id"]) == {bob.id: "accepted"}
    shown = roost.client.get(f"/api/v1/collections/{made['id']}").json()
    assert [a["id"] for a in shown["accounts"]] == [alice.id, bob.id]
    outside = roost.client.get(f"/api/v1/accounts/{bob.id}/in_collections").json()
    assert [c["id"] for c in outside["collections"]] == [made["id"]]
    # Then bob withdraws: revoked, shown to the owner only.
    assert bob.post(f"{path}/revoke").json() == {}
    assert _states(alice, roost, made["id"]) == {bob.id: "revoked"}
    assert _states(carol, roost, made["id"]) == {}
    # And featuring bob again is refused; the owner may take the item out.
    assert (
        alice.post(
            f"/api/v1/collections/{made['id']}/items", json={"account_id": bob.id}
        ).status_code
        == 422
    )
    assert bob.delete(path).status_code == 403
    assert alice.delete(path).json() == {}
    assert _states(alice, roost, made["id"]) == {}


def test_given_a_pending_item_when_the_featured_account_revokes_then_it_is_rejected(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    made = _made(alice)
    item = _feature(alice, made, bob)
    assert bob.post(f"/api/v1/collections/{made['id']}/items/{item['id']}/revoke").json() == {}
    assert _states(alice, roost, made["id"]) == {bob.id: "rejected"}
    assert _states(None, roost, made["id"]) == {}


def test_given_an_account_that_follows_the_owner_when_featured_then_accepted_at_once(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    bob.follow(alice)
    response = alice.post(
        "/api/v1/collections", json={"name": "Friends", "account_ids": [bob.id, carol.id]}
    )
    assert response.status_code == 200, response.text
    made = response.json()["collection"]
    assert {i["account_id"]: i["state"] for i in made["items"]} == {
        bob.id: "accepted",
        carol.id: "pending",
    }
    assert _states(None, roost, made["id"]) == {bob.id: "accepted"}


def test_given_a_block_either_way_then_featuring_is_refused_and_a_later_block_revokes(
    roost: Roost,
) -> None:
    alice, bob, carol, dave = (roost.account(n) for n in ("alice", "bob", "carol", "dave"))
    made = _made(alice)
    carol.post(f"/api/v1/accounts/{alice.id}/block")
    alice.post(f"/api/v1/accounts/{dave.id}/block")
    for blocked in (carol, dave):
        refused = alice.post(
            f"/api/v1/collections/{made['id']}/items", json={"account_id": blocked.id}
        )
        assert refused.status_code == 422, refused.text
    bob.follow(alice)
    _feature(alice, made, bob)
    assert _states(None, roost, made["id"]) == {bob.id: "accepted"}
    # When bob blocks the owner, each is hidden from the other, and the owner's
    # collections from him; lifting the block shows his item revoked.
    bob.post(f"/api/v1/accounts/{alice.id}/block")
    assert _states(alice, roost, made["id"]) == {}
    assert bob.get(f"/api/v1/collections/{made['id']}").status_code == 404
    assert bob.get(f"/api/v1/accounts/{alice.id}/collections").json() == {"collections": []}
    bob.post(f"/api/v1/accounts/{alice.id}/unblock")
    assert _states(alice, roost, made["id"]) == {bob.id: "revoked"}
    assert _states(None, roost, made["id"]) == {}


def test_given_a_featured_account_that_blocks_the_viewer_then_it_is_left_out(
    roost: Roost,
) -> None:
    alice, bob, eve = roost.account("alice"), roost.account("bob"), roost.account("eve")
    bob.follow(alice)
    made = _made(alice, account_ids=[bob.id])
    bob.post(f"/api/v1/accounts/{eve.id}/block")
    assert _states(eve, roost, made["id"]) == {}
    assert [a["id"] for a in eve.get(f"/api/v1/collections/{made['id']}").json()["accounts"]] == [
        alice.id
    ]
    assert _states(None, roost, made["id"]) == {bob.id: "accepted"}


def test_given_a_suspended_owner_or_a_remote_account_then_hidden_or_refused(
    roost: Roost,
) -> None:
    admin = roost.account("admin", admin=True, scopes="read write admin:read admin:write")
    alice, bob, remote = roost.account("alice"), roost.account("bob"), roost.account("faraway")

    async def make_remote(tx: Any) -> None:
        await tx.execute(
            update(accounts).where(accounts.c.id == int(remote.id)).values(domain="far.example")
        )

    roost.run(lambda: _write(roost, make_remote))
    made = _made(alice)
    refused = alice.post(f"/api/v1/collections/{made['id']}/items", json={"account_id": remote.id})
    assert refused.status_code == 422 and "other servers" in refused.json()["error"]
    suspended = admin.post(f"/api/v1/admin/accounts/{alice.id}/action", data={"type": "suspend"})
    assert suspended.status_code == 200, suspended.text
    assert bob.get(f"/api/v1/collections/{made['id']}").status_code == 404
    assert roost.client.get(f"/api/v1/accounts/{alice.id}/collections").status_code == 404


async def _write(roost: Roost, body: Any) -> None:
    async with roost.db.write() as tx:
        await body(tx)


def test_given_many_collections_when_paged_by_offset_then_link_headers_follow(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    ids = [_made(alice, name=f"c{n}")["id"] for n in range(3)]
    first = roost.client.get(f"/api/v1/accounts/{alice.id}/collections?limit=2")
    assert [c["id"] for c in first.json()["collections"]] == ids[::-1][:2]
    assert 'rel="next"' in first.headers["Link"] and "offset=2" in first.headers["Link"]
    second = roost.client.get(f"/api/v1/accounts/{alice.id}/collections?limit=2&offset=2")
    assert [c["id"] for c in second.json()["collections"]] == [ids[0]]
    assert 'rel="next"' not in second.headers["Link"] and 'rel="prev"' in second.headers["Link"]


def test_given_a_token_without_the_collection_scopes_then_writes_are_refused(
    roost: Roost,
) -> None:
    reader = roost.account("reader", scopes="read:collections")
    assert reader.post("/api/v1/collections", json={"name": "x"}).status_code == 403
    writer = roost.account("writer", scopes="write:collections")
    assert writer.post("/api/v1/collections", json={"name": "x"}).status_code == 200
